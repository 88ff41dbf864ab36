"""The task-free training loop: :class:`Trainer` with ``fit``, ``evaluate`` and ``predict``.

The trainer knows no task; see the package docstring (:mod:`rnnkit.train`) for the objective
protocol (``loss_fn``), truncated BPTT, the run folder and exact resume.
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset, IterableDataset

from . import distributed as D
from . import run_state
from .atomic import clean_stale_temporaries, resolve_dir
from .batches import (
    concat_outputs,
    default_batch_size,
    default_inputs,
    detach_state,
    map_tensors,
    split_time,
    time_length,
    to_device,
)
from .callbacks import Callback, EarlyStopping, MetricMonitor
from .checkpoint import WEIGHTS_FILE, nonfinite_tensors, save_checkpoint
from .config import TrainConfig
from .metrics import WeightedMeans, metric_floats
from .metrics_log import MetricsLog
from .optim import build_optimizer, build_scheduler
from .plots import plot_curves
from .progress import Progress
from .rng import loader_generators, seed_everything
from .run_lock import run_folder_lock

__all__ = ["NonFiniteLossError", "Trainer", "TrainingDiverged"]

LossFn = Callable[..., Any]


class TrainingDiverged(RuntimeError):
    """Training stopped because it went wrong (a non-finite loss or gradient, or a loss far above
    its start); no checkpoint was written from the bad weights.

    ``checkpoint`` is the last good checkpoint (its weights are finite), or None.
    """

    def __init__(self, what: str, epoch: int, step: int, checkpoint: Path | None, advice: str) -> None:
        self.epoch, self.step, self.checkpoint = epoch, step, checkpoint
        where = (f"last good checkpoint: {checkpoint} (--resume continues from it)" if checkpoint
                 else "no checkpoint was written")
        super().__init__(f"{what} at epoch {epoch}, step {step}; training stopped before the bad update "
                         f"reached a checkpoint ({where}). {advice}")


class NonFiniteLossError(TrainingDiverged):
    """The loss or the gradient became NaN or infinite; the update was not applied."""

    def __init__(self, value: float, epoch: int, step: int, checkpoint: Path | None,
                 what: str = "non-finite loss", advice: str = "") -> None:
        self.value = value
        super().__init__(f"{what} ({value})", epoch, step, checkpoint, advice)


def _resolve_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("TrainConfig.device='cuda' but CUDA is not available")
        if D.is_distributed():  # under torchrun each process drives its own GPU
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", D.rank() % torch.cuda.device_count())))
            torch.cuda.set_device(device)  # NCCL object collectives use the current device
            return device
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


class Trainer:
    """Trains any ``nn.Module`` with a caller-supplied objective.

    Args:
        model: the module; moved to the configured device.
        loss_fn: ``loss_fn(model, batch) -> loss | (loss, metrics)``, or with ``tbptt_steps > 0``
            ``loss_fn(model, chunk, state) -> (loss, metrics, new_state)``.
        config: a :class:`TrainConfig` (defaults if None).
        run_dir: folder for config.json, command.txt, metrics.csv, checkpoints/, curves.png and
            tensorboard/; None writes nothing (and cannot resume).
        callbacks: :class:`Callback` objects; an :class:`EarlyStopping` is added when
            ``config.patience > 0``.
        config_dict: the caller's own resolved config (JSON-serialisable), stored beside
            TrainConfig in config.json and every checkpoint.
        batch_size_fn: ``batch -> int``, the weight of a batch in metric averages (default: dim 0
            of the first tensor).
        tokens_fn: ``batch -> int``; when given, throughput is reported in tokens/s.
        collate_fn: used only when fit/evaluate/predict get a Dataset.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        loss_fn: LossFn,
        config: TrainConfig | None = None,
        *,
        run_dir: str | Path | None = None,
        callbacks: Sequence[Callback] = (),
        config_dict: dict[str, Any] | None = None,
        batch_size_fn: Callable[[Any], int] | None = None,
        tokens_fn: Callable[[Any], int] | None = None,
        collate_fn: Callable | None = None,
    ) -> None:
        self.config = config if config is not None else TrainConfig()
        cfg = self.config
        self.device = _resolve_device(cfg.device)
        self.model = model.to(self.device)
        self.loss_fn = loss_fn
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.config_dict = dict(config_dict or {})
        self.batch_size_fn = batch_size_fn or default_batch_size
        self.tokens_fn = tokens_fn
        self.collate_fn = collate_fn
        self.callbacks: list[Callback] = list(callbacks)
        if cfg.patience > 0:
            self.callbacks.append(EarlyStopping(cfg.monitor, cfg.mode, cfg.patience, cfg.min_delta))
        self.best = MetricMonitor(cfg.monitor, cfg.mode, cfg.min_delta)
        self.optimizer = build_optimizer(self.model, cfg)
        self.scheduler: torch.optim.lr_scheduler.LambdaLR | None = None
        self.epoch = 0  # completed epochs
        self.step = 0  # batches trained on since the start of the run
        self.history: list[dict[str, float]] = []
        self.stop_training = False
        self.stop_reason: str | None = None
        self.start_loss: float | None = None  # first update's loss, for the divergence check
        self._above_start = 0  # consecutive updates far above start_loss
        self._best_weights: dict[str, torch.Tensor] | None = None
        self._wrapped: torch.nn.Module | None = None
        self._train_generators: list[torch.Generator] = []
        self._autocast = cfg.amp == "bf16" and self.device.type == "cuda"
        if cfg.amp == "bf16" and not self._autocast:
            warnings.warn(
                "TrainConfig.amp='bf16' needs a CUDA device; on CPU the trainer runs in float32",
                UserWarning,
                stacklevel=2,
            )
        self.log = MetricsLog(self.run_dir if D.is_main() else None, cfg.tensorboard)

    # ------------------------------------------------------------------ public API
    @property
    def checkpoint_root(self) -> Path | None:
        return self.run_dir / "checkpoints" if self.run_dir is not None else None

    def fit(
        self,
        train_data: Iterable[Any] | Dataset,
        val_data: Iterable[Any] | Dataset | None = None,
        *,
        resume: bool = False,
        resume_from: str | Path | None = None,
    ) -> list[dict[str, float]]:
        """Train until ``config.epochs`` epochs are done (fewer if stopped); return the history.

        Epochs count from the start of the run, so calling ``fit`` again on a trainer that has
        finished does nothing unless ``config.epochs`` was raised. ``resume=True`` continues from
        ``run_dir/checkpoints/latest`` when it exists (and starts fresh otherwise);
        ``resume_from`` names a checkpoint directory that must exist.
        """
        with run_folder_lock(self.run_dir if D.is_main() else None):  # one writer per run folder
            if self.run_dir is not None and D.is_main():
                clean_stale_temporaries(self.run_dir)  # left by a killed writer; we hold the lock
            return self._fit_locked(train_data, val_data, resume, resume_from)

    def _fit_locked(self, train_data, val_data, resume: bool, resume_from) -> list[dict[str, float]]:
        cfg = self.config
        train_loader = self._as_loader(train_data, train=True)
        val_loader = self._as_loader(val_data, train=False) if val_data is not None else None
        self._train_generators = loader_generators(train_loader)
        if self.scheduler is None:  # built once: a second fit call keeps the schedule position
            self.scheduler = build_scheduler(self.optimizer, cfg, self._total_steps(train_loader))
        self.stop_training, self.stop_reason = False, None

        source = run_state.find_resume_source(self.run_dir, resume, resume_from)
        if source is not None:
            run_state.restore(self, source)
        elif self.step == 0:  # a fresh run
            if self.checkpoint_root is not None and resolve_dir(self.checkpoint_root / "latest").exists():
                warnings.warn(
                    f"{self.run_dir} already holds checkpoints; this fresh run overwrites them "
                    "(pass resume=True to continue instead)", UserWarning, stacklevel=3,  # the caller of fit
                )
            seed_everything(cfg.seed + D.rank())
        run_state.write_run_files(self, resumed=source is not None)
        self._wrap_ddp()

        for cb in self.callbacks:
            cb.on_fit_start(self)
        try:
            while self.epoch < cfg.epochs and not self.stop_training:
                self._fit_epoch(train_loader, val_loader)
            if cfg.restore_best and self._best_weights is not None:
                self.model.load_state_dict(self._best_weights)
            if self.run_dir is not None and D.is_main() and cfg.plots:
                plot_curves(self.log.rows, self.run_dir / "curves.png")
            for cb in self.callbacks:
                cb.on_fit_end(self)
        finally:
            self.log.close()
        return self.history

    @torch.no_grad()
    def evaluate(self, data: Iterable[Any] | Dataset) -> dict[str, float]:
        """Metrics of ``loss_fn`` averaged over ``data``, weighted by batch size (all ranks)."""
        loader = self._as_loader(data, train=False)
        was_training = self.model.training
        self.model.eval()
        avg = WeightedMeans()
        try:
            for batch in loader:
                batch = to_device(batch, self.device)
                n = self.batch_size_fn(batch)
                if self.config.tbptt_steps:
                    state = None
                    for chunk in split_time(batch, self.config.tbptt_steps):
                        loss, metrics, state = self._call_loss(self.model, chunk, state)
                        avg.add(metric_floats(loss, metrics), n * self._chunk_len(chunk))
                else:
                    loss, metrics, _ = self._call_loss(self.model, batch, None)
                    avg.add(metric_floats(loss, metrics), n)
        finally:
            self.model.train(was_training)
        return avg.reduce(self.device)

    @torch.no_grad()
    def predict(self, data: Iterable[Any] | Dataset, fn: Callable[[torch.nn.Module, Any], Any] | None = None) -> Any:
        """Outputs of ``fn(model, batch)`` (default ``model(batch[0])``) concatenated on dim 0, on CPU.

        Under torch.distributed each rank predicts its own shard; nothing is gathered.
        """
        fn = fn or (lambda model, batch: model(default_inputs(batch)))
        loader = self._as_loader(data, train=False)
        was_training = self.model.training
        self.model.eval()
        outputs = []
        try:
            for batch in loader:
                with self._autocast_ctx():
                    out = fn(self.model, to_device(batch, self.device))
                outputs.append(map_tensors(out, lambda t: t.detach().cpu()))
        finally:
            self.model.train(was_training)
        return concat_outputs(outputs) if outputs else []

    # ------------------------------------------------------------------ one epoch
    def _fit_epoch(self, train_loader: Iterable[Any], val_loader: Iterable[Any] | None) -> None:
        cfg = self.config
        epoch = self.epoch + 1
        for cb in self.callbacks:
            cb.on_epoch_start(self, epoch)
        train_metrics, rate = self._train_epoch(train_loader, epoch)
        record: dict[str, float] = {"epoch": epoch, "step": self.step}
        record.update({f"train_{k}": v for k, v in train_metrics.items()})
        lr = self.optimizer.param_groups[0]["lr"]
        self.log.log(epoch, self.step, "train", {**train_metrics, "lr": lr, rate[0]: rate[1]})
        if val_loader is not None:
            val_metrics = self.evaluate(val_loader)
            record.update({f"val_{k}": v for k, v in val_metrics.items()})
            self.log.log(epoch, self.step, "val", val_metrics)
        record["lr"] = lr
        self.history.append(record)

        improved = self.best.update(record, epoch)
        if improved:
            self._best_weights = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
        for cb in self.callbacks:
            cb.on_epoch_end(self, epoch, record)
        self.epoch = epoch

        last = self.epoch >= cfg.epochs or self.stop_training
        if self.run_dir is not None:
            periodic = cfg.checkpoint_every and epoch % cfg.checkpoint_every == 0
            # latest is also written whenever best is, so latest never lags behind best.
            if periodic or last or improved:
                self._save("latest")
            if improved:
                self._save("best")
            if D.is_main() and cfg.plots and cfg.plot_every and epoch % cfg.plot_every == 0:
                plot_curves(self.log.rows, self.run_dir / "curves.png")

    def _train_epoch(self, loader: Iterable[Any], epoch: int) -> tuple[dict[str, float], tuple[str, float]]:
        cfg = self.config
        self.model.train()
        for sampler in self._samplers(loader):
            sampler.set_epoch(epoch)
        avg, window = WeightedMeans(), WeightedMeans()
        total = len(loader) if hasattr(loader, "__len__") else None  # type: ignore[arg-type]
        progress = Progress(total, f"epoch {epoch}/{cfg.epochs}", cfg.progress and D.is_main(), self.tokens_fn is not None)
        try:
            for batch in loader:
                for cb in self.callbacks:
                    cb.on_train_batch_start(self, batch)
                batch = to_device(batch, self.device)
                n = self.batch_size_fn(batch)
                metrics = self._train_batch(batch, epoch)
                self.step += 1
                self.scheduler.step()  # type: ignore[union-attr]
                avg.add(metrics, n)
                window.add(metrics, n)
                progress.update(n, self.tokens_fn(batch) if self.tokens_fn else 0, metrics["loss"])
                if cfg.log_every and self.step % cfg.log_every == 0:
                    self.log.log(epoch, self.step, "train_step", {**window.local(), "lr": self.optimizer.param_groups[0]["lr"]})
                    window = WeightedMeans()
                for cb in self.callbacks:
                    cb.on_train_batch_end(self, metrics)
                if self.stop_training:
                    break
        finally:
            progress.close()
        return avg.reduce(self.device), progress.rate()

    def _train_batch(self, batch: Any, epoch: int) -> dict[str, float]:
        model = self._wrapped or self.model
        k = self.config.tbptt_steps
        if not k:
            loss, metrics, _ = self._call_loss(model, batch, None)
            return metric_floats(loss, metrics, self._update(loss, epoch))
        # Truncated BPTT: one update per chunk; the state crosses chunks detached, so each
        # backward stops at its chunk's start and the graph (memory) is bounded by tbptt_steps.
        avg = WeightedMeans()
        state = None
        for chunk in split_time(batch, k):
            loss, metrics, state = self._call_loss(model, chunk, state)
            extra = self._update(loss, epoch)
            avg.add(metric_floats(loss, metrics, extra), self._chunk_len(chunk))
            state = detach_state(state)
        return avg.local()

    def _update(self, loss: torch.Tensor, epoch: int) -> dict[str, float]:
        """Check the loss, backward, check the gradient, clip, step.

        Returns extra metrics (grad_norm when clipping). A non-finite loss or gradient, or a loss
        that stays far above its start (:meth:`_check_divergence`), stops training before the
        optimizer step, so the weights (and every checkpoint) stay finite.
        """
        value = self._check_finite(loss, epoch)
        self._check_divergence(value, epoch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        extra = {}
        grads = [p.grad for p in self.model.parameters() if p.grad is not None]
        if self.config.grad_clip > 0:
            norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
            extra["grad_norm"] = float(norm)  # before clipping: shows how often and how hard it clips
        else:
            norm = (torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach().float()) for g in grads]))
                    if grads else torch.zeros(()))
        # Under DDP the gradients are already all-reduced, so every rank takes the same branch.
        if not math.isfinite(float(norm)):
            raise NonFiniteLossError(float(norm), epoch, self.step + 1, self._last_good_checkpoint(),
                                     what="non-finite gradient norm", advice=self._advice())
        for cb in self.callbacks:
            cb.on_before_optimizer_step(self)
        self.optimizer.step()
        return extra

    def _advice(self) -> str:
        cfg = self.config
        clip = f"train.grad_clip=1.0 (now {cfg.grad_clip:g})" if cfg.grad_clip == 0 else f"a lower train.grad_clip (now {cfg.grad_clip:g})"
        return f"Try a lower train.lr (now {cfg.lr:g}), {clip}, or check the data of this batch."

    def _last_good_checkpoint(self) -> Path | None:
        """``checkpoints/latest`` when one exists (only finite weights are ever written)."""
        if self.checkpoint_root is None:
            return None
        latest = resolve_dir(self.checkpoint_root / "latest")
        return latest if (latest / WEIGHTS_FILE).exists() else None

    def _stop(self, err: TrainingDiverged) -> None:
        self.log.close()
        raise err

    def _check_finite(self, loss: torch.Tensor, epoch: int) -> float:
        value = float(loss.detach())
        bad = 0.0 if math.isfinite(value) else 1.0
        # Every rank must take the same branch, or the healthy ranks would wait forever in the
        # gradient all-reduce of a backward the failing rank never runs.
        if D.is_distributed():
            bad = D.all_reduce_sum([bad], self.device)[0]
        if bad:
            self._stop(NonFiniteLossError(value, epoch, self.step + 1, self._last_good_checkpoint(),
                                          advice=self._advice()))
        return value

    def _check_divergence(self, value: float, epoch: int) -> None:
        """Stop when the loss stays above its start by ``divergence_factor`` for
        ``divergence_steps`` updates in a row.

        The start is the first update's loss of this run (kept across resume); "above by a factor"
        is ``loss > start + factor * max(|start|, 1)``, which also works for losses near zero or
        negative (a Gaussian NLL). 0 turns the check off.
        """
        cfg = self.config
        if cfg.divergence_factor <= 0:
            return
        if self.start_loss is None:
            self.start_loss = value
            return
        limit = self.start_loss + cfg.divergence_factor * max(abs(self.start_loss), 1.0)
        self._above_start = self._above_start + 1 if value > limit else 0
        bad = float(self._above_start >= cfg.divergence_steps)
        if D.is_distributed():
            bad = D.all_reduce_sum([bad], self.device)[0]
        if bad:
            self._stop(TrainingDiverged(
                f"training diverged: the loss ({value:.4g}) has stayed above {limit:.4g} (its start "
                f"{self.start_loss:.4g} + {cfg.divergence_factor:g} x max(|start|, 1)) for "
                f"{self._above_start} updates", epoch, self.step + 1, self._last_good_checkpoint(),
                self._advice() + " (train.divergence_factor=0 turns this check off)"))

    # ------------------------------------------------------------------ objective protocol
    def _autocast_ctx(self):
        if self._autocast:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _call_loss(self, model: torch.nn.Module, batch: Any, state: Any) -> tuple[torch.Tensor, dict, Any]:
        tbptt = bool(self.config.tbptt_steps)
        with self._autocast_ctx():
            out = self.loss_fn(model, batch, state) if tbptt else self.loss_fn(model, batch)
        if tbptt:
            if not (isinstance(out, tuple) and len(out) == 3):
                raise TypeError("with tbptt_steps > 0, loss_fn(model, chunk, state) must return (loss, metrics, new_state)")
            return out
        if isinstance(out, torch.Tensor):
            return out, {}, None
        if isinstance(out, tuple) and len(out) == 2:
            return out[0], out[1], None
        raise TypeError("loss_fn(model, batch) must return a loss tensor or (loss, metrics_dict)")

    @staticmethod
    def _chunk_len(chunk: Any) -> int:
        return time_length(chunk)

    # ------------------------------------------------------------------ data
    def _as_loader(self, data: Any, train: bool) -> Iterable[Any]:
        if isinstance(data, Dataset) and not isinstance(data, IterableDataset):
            return D.make_loader(data, self.config.batch_size, train=train, seed=self.config.seed, collate_fn=self.collate_fn)
        if train and D.is_distributed() and not self._samplers(data):
            warnings.warn(
                "torch.distributed is initialised but the training loader has no sampler with set_epoch: "
                "every rank will see the same batches. Use DistributedSampler or pass a Dataset.",
                UserWarning,
                stacklevel=3,
            )
        return data

    @staticmethod
    def _samplers(loader: Any) -> list[Any]:
        found: list[Any] = []
        for s in (getattr(loader, "sampler", None), getattr(getattr(loader, "batch_sampler", None), "sampler", None)):
            if s is not None and hasattr(s, "set_epoch") and all(s is not f for f in found):
                found.append(s)
        return found

    def _total_steps(self, loader: Any) -> int:
        cfg = self.config
        if cfg.total_steps or cfg.schedule in ("constant", "step"):
            return cfg.total_steps
        try:
            return cfg.epochs * len(loader)
        except TypeError:
            raise ValueError(
                f"schedule {cfg.schedule!r} needs the run length: give the training loader a __len__ "
                "or set TrainConfig.total_steps"
            ) from None

    # ------------------------------------------------------------------ checkpoints
    def _save(self, name: str) -> None:
        bad = nonfinite_tensors(self.model.state_dict())
        if bad:  # belt and braces: the update checks should have stopped before this
            self._stop(NonFiniteLossError(float("nan"), self.epoch, self.step, self._last_good_checkpoint(),
                                          what=f"non-finite weights in {bad[0]}", advice=self._advice()))
        state = run_state.capture(self)  # collective under DDP: every rank takes part, rank 0 writes
        if D.is_main():
            save_checkpoint(self.checkpoint_root / name, self.model, config=run_state.resolved_config(self), state=state)

    def _wrap_ddp(self) -> None:
        if not D.is_distributed() or self._wrapped is not None:
            return
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        self._wrapped = DistributedDataParallel(
            self.model, device_ids=ids, find_unused_parameters=self.config.ddp_find_unused_parameters
        )
