"""Helpers that look inside a batch without knowing what it means.

A batch is any nesting of tuples, lists and dicts with tensors (and other values) at the leaves.
The trainer only ever moves it to a device, reads its size, splits it along time for truncated
BPTT, and detaches recurrent state between chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch

__all__ = ["default_batch_size", "detach_state", "first_tensor", "map_tensors", "split_time", "time_length", "to_device"]


def map_tensors(obj: Any, fn: Callable[[torch.Tensor], Any]) -> Any:
    """Apply ``fn`` to every tensor in a nested tuple/list/dict, keeping the structure."""
    if isinstance(obj, torch.Tensor):
        return fn(obj)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # namedtuple
        return type(obj)(*(map_tensors(v, fn) for v in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(map_tensors(v, fn) for v in obj)
    if isinstance(obj, dict):
        return type(obj)((k, map_tensors(v, fn)) for k, v in obj.items())
    return obj


def _tensors(obj: Any) -> Iterator[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for v in obj:
            yield from _tensors(v)
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _tensors(v)


def to_device(batch: Any, device: torch.device) -> Any:
    """Move every tensor of a batch to ``device`` (non-blocking: pinned host memory overlaps)."""
    return map_tensors(batch, lambda t: t.to(device, non_blocking=True))


def first_tensor(batch: Any) -> torch.Tensor | None:
    """The first tensor met depth-first, or None."""
    return next(_tensors(batch), None)


def default_batch_size(batch: Any) -> int:
    """Size of dim 0 of the first tensor in the batch: the weight of its metrics in averages."""
    t = first_tensor(batch)
    if t is None or t.dim() == 0:
        raise ValueError("cannot infer the batch size: no tensor with a batch dimension; pass batch_size_fn")
    return int(t.shape[0])


def time_length(batch: Any) -> int:
    """Length of dim 1 (time) of the tensors with >= 2 dims; they must agree."""
    lengths = {int(t.shape[1]) for t in _tensors(batch) if t.dim() >= 2}
    if not lengths:
        raise ValueError("tbptt_steps is set but the batch has no tensor with a time dimension (dim 1)")
    if len(lengths) > 1:
        raise ValueError(f"TBPTT needs one time length for all tensors with >= 2 dims, got {sorted(lengths)}")
    return lengths.pop()


def split_time(batch: Any, steps: int) -> list[Any]:
    """Split every tensor with >= 2 dims along dim 1 (time) into chunks of ``steps``.

    Tensors with fewer than two dimensions (labels, lengths) and non-tensors are passed whole to
    every chunk. All split tensors must share the same length T; the last chunk may be shorter.
    """
    total = time_length(batch)
    return [
        map_tensors(batch, lambda t, s=start: t[:, s : s + steps] if t.dim() >= 2 else t)
        for start in range(0, total, steps)
    ]


def detach_state(state: Any) -> Any:
    """Cut the graph behind a recurrent state (tensor, tuple/list/dict of tensors, or None)."""
    return map_tensors(state, lambda t: t.detach())


def default_inputs(batch: Any) -> Any:
    """What ``Trainer.predict`` feeds the model when no ``fn`` is given: the batch, or its first element."""
    if isinstance(batch, torch.Tensor):
        return batch
    if isinstance(batch, (tuple, list)) and batch:
        return batch[0]
    raise TypeError("predict: cannot guess the model input of this batch; pass fn=lambda model, batch: ...")


def concat_outputs(outputs: list[Any]) -> Any:
    """Concatenate per-batch outputs along dim 0, keeping tuple/list/dict structure."""
    first = outputs[0]
    if isinstance(first, torch.Tensor):
        return torch.cat([o if o.dim() else o.reshape(1) for o in outputs])
    if isinstance(first, (tuple, list)):
        return type(first)(concat_outputs([o[i] for o in outputs]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: concat_outputs([o[k] for o in outputs]) for k in first}
    return outputs
