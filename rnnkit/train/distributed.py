"""Data parallelism through torch.distributed, active only when a process group is initialised.

Launch with ``torchrun --nproc_per_node N script.py`` (or any launcher that calls
``torch.distributed.init_process_group``). The trainer then

- wraps the model in ``DistributedDataParallel`` (gradients are averaged across ranks);
- shards a ``Dataset`` it is given with a sampler per rank; an iterable of batches the caller
  passes is used as is, so the caller shards it (e.g. ``DataLoader(ds, sampler=DistributedSampler(ds))``;
  the trainer calls ``sampler.set_epoch``). Every rank must see the same number of training batches;
- all-reduces epoch metrics (weighted sums) and a per-batch "loss is finite" flag (the
  ``train_step`` rows of metrics.csv, logged every ``log_every`` batches, are rank 0's own);
- writes files and shows progress on rank 0 only; every rank reads checkpoints on resume, so
  the run folder must be on a filesystem all ranks see.

``evaluate`` is collective (all ranks must call it); ``predict`` is not (each rank predicts its
shard).

The per-process batch size is ``TrainConfig.batch_size``, so the global batch is world_size times it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import Dataset, DistributedSampler, Sampler

__all__ = ["ShardSampler", "all_reduce_sum", "barrier", "gather_objects", "is_distributed", "is_main", "rank", "world_size"]


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main() -> bool:
    return rank() == 0


def barrier() -> None:
    if is_distributed():
        dist.barrier()


def all_reduce_sum(values: list[float], device: torch.device) -> list[float]:
    """Sum a short vector of floats over ranks (float64 so weighted sums stay exact-ish)."""
    if not is_distributed():
        return list(values)
    # NCCL only reduces CUDA tensors; gloo reduces CPU ones.
    dev = device if dist.get_backend() == "nccl" else torch.device("cpu")
    t = torch.tensor(values, dtype=torch.float64, device=dev)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def gather_objects(obj: Any) -> list[Any]:
    """Every rank's ``obj``, in rank order (a one-element list when not distributed)."""
    if not is_distributed():
        return [obj]
    out: list[Any] = [None] * world_size()
    dist.all_gather_object(out, obj)
    return out


class ShardSampler(Sampler[int]):
    """Rank r takes indices r, r + W, r + 2W, ... in order: no shuffling and no padding.

    For evaluation, where ``DistributedSampler`` would repeat samples to even out the shards and
    so bias the averaged metrics.
    """

    def __init__(self, n: int, num_replicas: int, rank: int) -> None:
        self.n, self.num_replicas, self.rank = n, num_replicas, rank

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.n, self.num_replicas))

    def __len__(self) -> int:
        return max(0, math.ceil((self.n - self.rank) / self.num_replicas))


def make_loader(dataset: Dataset, batch_size: int, *, train: bool, seed: int, collate_fn=None) -> torch.utils.data.DataLoader:
    """A DataLoader over this rank's shard of a map-style dataset.

    Training uses ``DistributedSampler`` even in a single process (``num_replicas=1``): its order
    is a function of ``(seed, epoch)`` only, which makes resume exact without saving any generator,
    and it is the same global order for any world size, so an N-process run sees, batch for batch,
    the same samples as one process with an N times larger batch.
    """
    if train:
        sampler: Sampler[int] = DistributedSampler(dataset, num_replicas=world_size(), rank=rank(), shuffle=True, seed=seed)
    else:
        sampler = ShardSampler(len(dataset), world_size(), rank())  # type: ignore[arg-type]
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=sampler, collate_fn=collate_fn)
