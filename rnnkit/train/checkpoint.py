"""Checkpoints: a directory with the weights, the resolved config and the training state.

Layout of one checkpoint directory::

    model.safetensors   the model's state_dict (safetensors: no pickle, loads lazily)
    config.json         the resolved config (the trainer's TrainConfig and the caller's config)
    trainer_state.pt    optimizer, scheduler, RNG states, counters, best metric, callback states

The directory is assembled under a temporary name next to its destination and swapped in whole
(:func:`rnnkit.train.atomic.atomic_replace_dir`), so a crash mid-save leaves the previous
checkpoint complete. ``trainer_state.pt`` holds only tensors and plain Python values, so it loads
with ``torch.load(weights_only=True)``: opening a checkpoint never runs pickled code.

Tied weights (e.g. an embedding shared with the output projection) appear under several names in
a state_dict but share storage; safetensors refuses to store shared memory. Identical views are
stored once and the other names are recorded as aliases in the file's metadata, then restored on
load; tensors that share memory without being the same view are stored as independent copies.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .atomic import (
    DiskFullError,
    _is_disk_full,
    atomic_path,
    atomic_replace_dir,
    atomic_torch_save,
    atomic_write_json,
    new_temporary,
    resolve_dir,
)

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "NonFiniteWeightsError",
    "load_checkpoint",
    "load_weights",
    "nonfinite_tensors",
    "save_checkpoint",
    "save_weights",
]

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
STATE_FILE = "trainer_state.pt"
_ALIAS_KEY = "rnnkit.aliases"


class CheckpointError(ValueError):
    """A checkpoint file is damaged or not rnnkit's; the message names the file and what is wrong."""


class NonFiniteWeightsError(ValueError):
    """Refused to write a checkpoint whose tensors hold NaN or infinity."""


def nonfinite_tensors(state_dict: dict[str, torch.Tensor]) -> list[str]:
    """Names of the floating-point tensors of ``state_dict`` that hold a NaN or an infinity."""
    return [k for k, t in state_dict.items()
            if torch.is_tensor(t) and t.is_floating_point() and not bool(torch.isfinite(t).all())]


def _nbytes(state_dict: dict[str, torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in state_dict.values() if torch.is_tensor(t))


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns."""

    path: Path
    weights: dict[str, torch.Tensor]
    config: dict[str, Any]
    state: dict[str, Any]


def _dedupe_shared(state_dict: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Split a state_dict into tensors safetensors accepts and ``{alias: stored_name}``."""
    tensors: dict[str, torch.Tensor] = {}
    aliases: dict[str, str] = {}
    same_view: dict[tuple, str] = {}
    storages: set[int] = set()
    for name, t in state_dict.items():
        t = t.detach()
        if t.numel() > 0:
            ptr = t.untyped_storage().data_ptr()
            view = (ptr, t.device, t.dtype, t.storage_offset(), tuple(t.shape), tuple(t.stride()))
            if view in same_view:  # the same tensor under another name: a tie
                aliases[name] = same_view[view]
                continue
            same_view[view] = name
            shared = ptr in storages
            storages.add(ptr)
        else:
            shared = False
        # Copy when the storage is shared with a different view (or the view is not contiguous)
        # so the file holds exactly this tensor's elements.
        t = t.to("cpu")
        if shared or not t.is_contiguous() or t.untyped_storage().nbytes() != t.numel() * t.element_size():
            t = t.contiguous().clone()
        tensors[name] = t
    return tensors, aliases


def save_weights(path: str | os.PathLike, state_dict: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    """Write a state_dict to a safetensors file atomically (tied tensors stored once)."""
    tensors, aliases = _dedupe_shared(state_dict)
    meta = {"format": "pt", _ALIAS_KEY: json.dumps(aliases, sort_keys=True)}
    meta.update(metadata or {})
    with atomic_path(path, _nbytes(tensors)) as tmp:
        save_file(tensors, tmp, metadata=meta)


def load_weights(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Read a safetensors file written by :func:`save_weights`, aliases restored.

    A truncated or foreign file (a pickle renamed ``.safetensors``, say) raises
    :class:`CheckpointError` naming it; safetensors never executes what it reads.
    """
    out: dict[str, torch.Tensor] = {}
    try:
        with safe_open(os.fspath(path), framework="pt", device=str(device)) as f:
            meta = f.metadata() or {}
            for key in f.keys():  # noqa: SIM118 (safe_open is not a dict)
                out[key] = f.get_tensor(key)
        aliases = json.loads(meta.get(_ALIAS_KEY, "{}"))
    except FileNotFoundError:
        raise
    except Exception as err:  # safetensors raises its own SafetensorError, or OSError/ValueError
        size = os.path.getsize(path) if os.path.exists(path) else 0
        raise CheckpointError(
            f"{path} is damaged or not a safetensors file ({size:,} bytes; {type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else 'unreadable'})") from None
    for alias, name in aliases.items():
        out[alias] = out[name]
    return out


def load_state(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a ``trainer_state.pt`` with ``weights_only=True``: pickled code is refused, never run."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:  # UnpicklingError for foreign objects, RuntimeError for truncation
        raise CheckpointError(
            f"{path} is damaged or holds objects rnnkit does not load ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else 'unreadable'})") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} holds a {type(state).__name__}, not rnnkit's trainer state (a dict)")
    return state


def save_checkpoint(
    directory: str | os.PathLike,
    model: torch.nn.Module | dict[str, torch.Tensor],
    *,
    config: dict[str, Any] | None = None,
    state: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint directory atomically and return its path.

    ``model`` is a module or a state_dict. ``config`` must be JSON-serialisable; ``state`` must be
    tensors and plain Python values (it is read back with ``weights_only=True``).
    """
    directory = Path(directory)
    state_dict = model.state_dict() if isinstance(model, torch.nn.Module) else model
    bad = nonfinite_tensors(state_dict)
    if bad:  # a checkpoint is a promise that the weights are usable
        raise NonFiniteWeightsError(
            f"refused to write {directory}: {len(bad)} tensor(s) hold NaN or infinity (first: {bad[0]})")
    needed = 3 * _nbytes(state_dict)  # weights, plus optimizer moments of about twice their size
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(new_temporary(directory.parent, prefix=f".{directory.name}.tmp-", directory=True)[0])
    except OSError as err:
        if _is_disk_full(err, directory.parent, needed):
            raise DiskFullError(directory / WEIGHTS_FILE, needed) from None
        raise
    try:
        save_weights(tmp / WEIGHTS_FILE, state_dict)
        atomic_write_json(tmp / CONFIG_FILE, config or {})
        atomic_torch_save(state or {}, tmp / STATE_FILE, needed)
        atomic_replace_dir(tmp, directory)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(err, DiskFullError):  # name the checkpoint, not its temporary folder
            raise DiskFullError(directory / Path(err.path).name, needed) from None
        if _is_disk_full(err, directory.parent, needed):
            raise DiskFullError(directory / WEIGHTS_FILE, needed) from None
        raise
    return directory


def load_checkpoint(
    directory: str | os.PathLike,
    model: torch.nn.Module | None = None,
    *,
    map_location: str | torch.device = "cpu",
    strict: bool = True,
) -> Checkpoint:
    """Read a checkpoint directory; when ``model`` is given, load the weights into it."""
    path = resolve_dir(directory)
    if not (path / WEIGHTS_FILE).exists():
        raise FileNotFoundError(f"no checkpoint at {directory} (missing {WEIGHTS_FILE})")
    weights = load_weights(path / WEIGHTS_FILE, device=map_location)
    config_path = path / CONFIG_FILE
    try:
        config = json.loads(config_path.read_text()) if config_path.exists() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{config_path} is damaged (not JSON: {err})") from None
    state_path = path / STATE_FILE
    state = load_state(state_path, map_location) if state_path.exists() else {}
    if model is not None:
        try:
            model.load_state_dict(weights, strict=strict)
        except RuntimeError as err:  # missing/unexpected keys or a size mismatch
            first = [ln.strip() for ln in str(err).splitlines()[1:] if ln.strip()][:1]
            raise CheckpointError(
                f"{path / WEIGHTS_FILE} does not fit this model ({first[0] if first else err}); the run's "
                "model or data settings differ from the ones that saved it") from None
    return Checkpoint(path=path, weights=weights, config=config, state=state)
