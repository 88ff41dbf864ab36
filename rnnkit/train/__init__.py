"""Task-free training: :class:`Trainer` (fit / evaluate / predict), checkpoints, callbacks, logs.

The trainer knows no task. The caller brings the model, the data and the objective.

Objective protocol
------------------
``loss_fn(model, batch) -> loss`` or ``-> (loss, metrics)``
    ``loss`` is a scalar tensor (the mean over the batch); ``metrics`` maps names to floats or
    0-d tensors (e.g. ``{"acc": ...}``), also means over the batch. The trainer reports
    ``loss`` and each metric averaged over an epoch, weighted by ``batch_size_fn(batch)``
    (default: size of dim 0 of the first tensor in the batch), prefixed ``train_`` / ``val_`` in
    the history, so ``TrainConfig.monitor`` can name e.g. ``"val_loss"`` or ``"val_acc"``.
    During training ``model`` is the DistributedDataParallel wrapper under torch.distributed:
    call it (``model(x)``) rather than other methods, or use ``model.module`` for those.

Truncated BPTT (``TrainConfig.tbptt_steps = k > 0``)
    ``loss_fn(model, chunk, state) -> (loss, metrics, new_state)``. Each batch is split along
    dim 1 (time) of every tensor with two or more dims into chunks of ``k`` steps (the last may
    be shorter); tensors with fewer dims (labels, lengths) go whole to every chunk. ``state`` is
    None for the first chunk of each batch, then the ``new_state`` of the previous chunk,
    detached: a tensor, a tuple/list/dict of tensors, or None. Each chunk gets its own backward
    (and, without gradient accumulation, its own optimizer step), so gradients stop at the chunk
    boundary and memory is bounded by ``k``. The lr schedule advances once per batch (once per
    group of batches with accumulation); chunk metrics are weighted by chunk length. ``evaluate`` uses the same protocol, carrying the state
    without gradients.

Optimizers, accumulation, mixed precision (see :class:`TrainConfig` for every rule)
    ``optimizer = "adamw" | "adam" | "sgd"`` (SGD with ``momentum`` and ``nesterov``); weight
    decay never touches 0-D/1-D parameters. ``grad_accum_steps = k`` steps the optimizer every
    k batches on their mean gradient (DDP's ``no_sync()`` on the others; the last, shorter group
    of an epoch still steps; the schedule counts optimizer steps; with TBPTT the groups are of
    whole batches, every chunk still running its own backward). ``amp = "bf16" | "fp16"``
    autocasts on CUDA (a warning and float32 on CPU); fp16 adds a ``torch.amp.GradScaler`` whose
    skipped steps (inf/NaN gradients after scaling) are not failures unless they keep coming.

Data
    Any iterable of batches (a batch is a tensor or a tuple/list/dict nesting of them). A
    map-style ``Dataset`` is also accepted: the trainer then builds the loader itself with
    ``TrainConfig.batch_size`` (per process) and a sampler sharded over torch.distributed ranks.

Trainer state and exact resume
    ``Trainer.state_dict()`` is the trainer's whole state apart from the model's weights: epoch
    and step counters, optimizer, scheduler and GradScaler states, the python/numpy/torch(/cuda)
    RNG states of every rank, the state of the training loader's ``torch.Generator`` (a shuffled
    ``DataLoader(..., generator=g)`` draws its order from it), best metric and best weights,
    callback states, history and the divergence checks' counters; ``load_state_dict`` puts it
    back into a trainer built the same way. A checkpoint is the model's weights plus that state
    (its best weights stored once, in ``checkpoints/best``). Samplers with ``set_epoch`` get the
    epoch number, so their order depends only on ``(seed, epoch)``. ``fit(..., resume=True)``
    therefore reproduces an uninterrupted run bit for bit on the same machine and settings.

Run folder (``run_dir``, rank 0 only)
    ``config.json`` (TrainConfig + the caller's ``config_dict``), ``command.txt`` (sys.argv),
    ``metrics.csv`` (epoch, step, split, metrics...), ``curves.png``, ``tensorboard/`` (if
    tensorboard is installed), ``checkpoints/latest`` and ``checkpoints/best``, each a directory
    of ``model.safetensors``, ``config.json`` and ``trainer_state.pt``. Every file is written
    atomically (temporary file in the same directory, fsync, ``os.replace``). ``fit`` holds
    the folder's lock (``.lock``, see :mod:`.run_lock`): a second process training into the
    same folder gets :class:`RunFolderBusy` instead of overwriting the first one's checkpoints.
"""

from .atomic import (
    atomic_path,
    atomic_replace_dir,
    atomic_torch_save,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
)
from .callbacks import Callback, EarlyStopping, MetricMonitor
from .checkpoint import (
    Checkpoint,
    load_checkpoint,
    load_weights,
    save_checkpoint,
    save_weights,
)
from .config import TrainConfig
from .progress import EpochBar
from .rng import seed_everything
from .run_lock import RunFolderBusy, run_folder_lock
from .trainer import NonFiniteLossError, Trainer, TrainingDiverged

__all__ = [
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "EpochBar",
    "MetricMonitor",
    "NonFiniteLossError",
    "RunFolderBusy",
    "TrainConfig",
    "Trainer",
    "TrainingDiverged",
    "atomic_path",
    "atomic_replace_dir",
    "atomic_torch_save",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "load_checkpoint",
    "load_weights",
    "run_folder_lock",
    "save_checkpoint",
    "save_weights",
    "seed_everything",
]
