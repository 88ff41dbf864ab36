"""Random-number state: seeding, and capturing/restoring every generator a run depends on.

Exact resume needs the *same* random stream after a restart: dropout masks (torch, and numpy or
python ``random`` if a data pipeline uses them) and the shuffling order of the data loader. The
trainer stores these states in each checkpoint and puts them back on resume.

Data order: a ``DataLoader`` built with ``generator=g`` draws its permutation (and its workers'
base seed) from ``g``; a loader without a generator draws from the global torch RNG. Both are
captured: :func:`loader_generators` finds the loader's generators so their states go into the
checkpoint, and the global state is saved with the rest. Samplers with ``set_epoch`` (e.g.
``DistributedSampler``) derive their order from ``(seed, epoch)`` and need nothing saved.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

__all__ = ["get_rng_state", "loader_generators", "seed_everything", "set_rng_state"]


def seed_everything(seed: int) -> None:
    """Seed python ``random``, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def get_rng_state() -> dict[str, Any]:
    """States of the global generators, as tensors and plain values (``weights_only``-loadable)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`get_rng_state`."""
    py = state["python"]
    # weights_only loading may turn the inner tuple into a list; random.setstate wants tuples.
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = state["numpy"]
    np.random.set_state(
        (n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"])
    )
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def loader_generators(loader: Any) -> list[torch.Generator]:
    """The distinct ``torch.Generator`` objects a data loader draws its order from."""
    found: list[torch.Generator] = []
    candidates: Iterable[Any] = (
        getattr(loader, "generator", None),
        getattr(getattr(loader, "sampler", None), "generator", None),
        getattr(getattr(getattr(loader, "batch_sampler", None), "sampler", None), "generator", None),
    )
    for g in candidates:
        if isinstance(g, torch.Generator) and all(g is not h for h in found):
            found.append(g)
    return found
