"""The task-free training loop: :class:`Trainer` with ``fit``, ``evaluate`` and ``predict``.

The trainer knows no task; see the package docstring (:mod:`rnnkit.train`) for the objective
protocol (``loss_fn``), truncated BPTT, gradient accumulation, mixed precision, the run folder and
exact resume. :meth:`Trainer.state_dict` / :meth:`Trainer.load_state_dict` are the contract of a
trainer's state; :mod:`.run_state` writes and reads it in checkpoints through them.
"""

from __future__ import annotations

import contextlib
import copy
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
from .rng import get_rng_state, loader_generators, seed_everything, set_rng_state
from .run_lock import run_folder_lock

__all__ = ["NonFiniteLossError", "Trainer", "TrainingDiverged"]

LossFn = Callable[..., Any]

STATE_FORMAT = 1  # of Trainer.state_dict(); keys added since are optional on load
_END = object()  # end of a loader, for the one-batch look-ahead of gradient accumulation


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


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    """Plain mean of each key over ``rows`` (the optimizer steps of one batch)."""
    if len(rows) == 1:
        return rows[0]
    keys = {k for r in rows for k in r}
    return {k: sum(r[k] for r in rows if k in r) / sum(k in r for r in rows) for k in sorted(keys)}


def _loss_first(metrics: dict[str, float]) -> dict[str, float]:
    """Keys in alphabetical order with "loss" first, as :meth:`WeightedMeans.reduce` gives them."""
    return dict(sorted(metrics.items(), key=lambda kv: (kv[0] != "loss", kv[0])))


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
        remember_checkpoints: with ``run_dir=None``, keep in memory the checkpoints a run folder
            would receive (the last ``latest`` and ``best``), so :meth:`save_run` can write that
            folder after training: a model chosen among several trained in memory then needs no
            second training to get its run folder. Costs two copies of the weights and the
            optimizer state.

    Public state: ``model``, ``optimizer``, ``scheduler`` (built by the first ``fit``),
    ``scaler`` (the ``torch.amp.GradScaler`` of ``amp="fp16"`` on CUDA, else None), ``epoch``
    (completed epochs), ``step`` (batches trained on since the start of the run), ``history``,
    ``best`` (the monitored metric), ``start_loss``, ``callbacks``, ``stop_training``.
    :meth:`state_dict` / :meth:`load_state_dict` carry all of it but the model's weights.
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
        remember_checkpoints: bool = False,
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
        self._skipped_steps = 0  # consecutive optimizer steps the GradScaler skipped
        self._best_weights: dict[str, torch.Tensor] | None = None
        self._wrapped: torch.nn.Module | None = None
        self._train_generators: list[torch.Generator] = []
        self._pending_scheduler: dict[str, Any] | None = None  # loaded before the scheduler exists
        self._pending_loader_rng: list[torch.Tensor] | None = None  # applied when fit sees the loader
        self._paused_rng: dict[str, Any] | None = None  # the global RNG states at a pause_after
        self._group_batches = 0  # batches whose gradients wait for the next optimizer step
        self._grads_pending = False  # the .grad fields hold gradients of the current group
        self._autocast_dtype: torch.dtype | None = None
        self.scaler: torch.amp.GradScaler | None = None
        if cfg.amp != "off":
            if self.device.type == "cuda":
                self._autocast_dtype = torch.bfloat16 if cfg.amp == "bf16" else torch.float16
                if cfg.amp == "fp16":  # fp16's narrow range needs loss scaling; bf16's does not
                    self.scaler = torch.amp.GradScaler("cuda")
            else:
                warnings.warn(
                    f"TrainConfig.amp={cfg.amp!r} needs a CUDA device; on CPU the trainer runs in float32",
                    UserWarning,
                    stacklevel=2,
                )
        self.log = MetricsLog(self.run_dir if D.is_main() else None, cfg.tensorboard)
        self._curves_rows = -1  # len(self.log.rows) when curves.png was last drawn (-1: not yet)
        # checkpoint name -> (weights, state): what _save would have written, when run_dir is None
        self._remembered: dict[str, tuple[dict[str, torch.Tensor], dict[str, Any]]] | None = (
            {} if remember_checkpoints and self.run_dir is None else None)

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
        pause_after: int | None = None,
    ) -> list[dict[str, float]]:
        """Train until ``config.epochs`` epochs are done (fewer if stopped); return the history.

        Epochs count from the start of the run, so calling ``fit`` again on a trainer that has
        finished does nothing unless ``config.epochs`` was raised. ``resume=True`` continues from
        ``run_dir/checkpoints/latest`` when it exists (and starts fresh otherwise);
        ``resume_from`` names a checkpoint directory that must exist.

        ``pause_after=E``: return once epoch E is done, without ending the fit: the model keeps
        its latest weights (the best are not restored) and :attr:`paused` is True. The next ``fit``
        call, with the same loaders, goes on bit for bit as one call would have, even when other
        training ran in between: the global RNG states of the pause are kept and put back (what
        successive halving needs: many models trained a few epochs, the best continued). One
        process only (the states of other ranks are not kept).
        """
        if pause_after is not None and pause_after < 1:
            raise ValueError(f"pause_after must be >= 1 epoch, got {pause_after}")
        with run_folder_lock(self.run_dir if D.is_main() else None):  # one writer per run folder
            if self.run_dir is not None and D.is_main():
                clean_stale_temporaries(self.run_dir)  # left by a killed writer; we hold the lock
            return self._fit_locked(train_data, val_data, resume, resume_from, pause_after)

    @property
    def best_weights(self) -> dict[str, torch.Tensor] | None:
        """A CPU copy of the weights of the best epoch so far (None before the first)."""
        return self._best_weights

    @property
    def paused(self) -> bool:
        """Whether the last ``fit`` stopped at its ``pause_after`` epoch with training left to do."""
        return self._paused_rng is not None

    def _fit_locked(self, train_data, val_data, resume: bool, resume_from, pause_after=None) -> list[dict[str, float]]:
        cfg = self.config
        train_loader = self._as_loader(train_data, train=True)
        val_loader = self._as_loader(val_data, train=False) if val_data is not None else None
        self._train_generators = loader_generators(train_loader)
        if self.scheduler is None:  # built once: a second fit call keeps the schedule position
            self.scheduler = build_scheduler(self.optimizer, cfg, self._total_steps(train_loader))
            if self._pending_scheduler is not None:  # load_state_dict came before the first fit
                self.scheduler.load_state_dict(self._pending_scheduler)
                self._pending_scheduler = None
                # Building the scheduler set the lr to its position 0; put back the loaded one.
                for group, lr in zip(self.optimizer.param_groups, self.scheduler.get_last_lr()):
                    group["lr"] = lr
        self.stop_training, self.stop_reason = False, None

        source = run_state.find_resume_source(self.run_dir, resume, resume_from)
        if source is not None:
            run_state.restore(self, source)
            self._paused_rng = None
        elif self._paused_rng is not None:  # a paused fit goes on: the generators as they were then
            set_rng_state(self._paused_rng)
            self._paused_rng = None
        elif self.step == 0:  # a fresh run
            if self.checkpoint_root is not None and resolve_dir(self.checkpoint_root / "latest").exists():
                warnings.warn(
                    f"{self.run_dir} already holds checkpoints; this fresh run overwrites them "
                    "(pass resume=True to continue instead)", UserWarning, stacklevel=3,  # the caller of fit
                )
            seed_everything(cfg.seed + D.rank())
        self._apply_loader_rng()
        run_state.write_run_files(self, resumed=source is not None)
        self._wrap_ddp()

        for cb in self.callbacks:
            cb.on_fit_start(self)
        try:
            while self.epoch < cfg.epochs and not self.stop_training:
                if pause_after is not None and self.epoch >= pause_after:
                    self._paused_rng = get_rng_state()
                    for cb in self.callbacks:
                        cb.on_fit_end(self)
                    return self.history
                self._fit_epoch(train_loader, val_loader)
            if cfg.restore_best and self._best_weights is not None:
                self.model.load_state_dict(self._best_weights)
            if self.run_dir is not None and D.is_main() and cfg.plots and self._curves_rows != len(self.log.rows):
                self._draw_curves()  # unless the last epoch drew these very rows (plot_every=1 did)
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

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Everything a continued run depends on, except the model's weights (``model.state_dict()``).

        Keys: ``format``; ``epoch`` (completed) and ``step`` (batches); ``optimizer``,
        ``scheduler`` (None before the first fit) and ``scaler`` (None without fp16 on CUDA) state
        dicts; ``rng``, the python/numpy/torch(/cuda) generator states of every rank (a list in
        rank order); ``loader_rng``, the states of the training loader's ``torch.Generator``
        objects; ``best`` (the monitored metric's best value, epoch and epochs since) and
        ``best_weights`` (a CPU copy of that epoch's weights, or None); ``callbacks`` (each
        callback's class name and ``state_dict()``); ``history``; ``start_loss``,
        ``above_start`` and ``skipped_steps`` (the divergence checks' counters); ``config`` (the
        TrainConfig, for reference: :meth:`load_state_dict` does not apply it).

        Only tensors and plain values, so ``torch.save`` / ``torch.load(weights_only=True)``
        round-trip it. It describes the trainer between optimizer steps (checkpoints are taken at
        the end of an epoch, when no accumulated gradient is pending). As with torch's own
        state_dicts, tensors are references (the optimizer's moments change with the next step):
        ``copy.deepcopy`` it to keep a snapshot while training goes on. Collective under
        torch.distributed (every rank must call it: the RNG states are gathered).
        """
        return {
            "format": STATE_FORMAT,
            "epoch": self.epoch,
            "step": self.step,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "rng": D.gather_objects(get_rng_state()),  # one entry per rank
            "loader_rng": [g.get_state() for g in self._train_generators],
            "best": self.best.state_dict(),
            "best_weights": dict(self._best_weights) if self._best_weights is not None else None,
            "callbacks": [{"name": type(cb).__name__, "state": cb.state_dict()} for cb in self.callbacks],
            "history": [dict(r) for r in self.history],
            "start_loss": self.start_loss,
            "above_start": self._above_start,
            "skipped_steps": self._skipped_steps,
            "config": self.config.to_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put back a :meth:`state_dict` (the model's weights are loaded separately).

        A trainer built like the one that saved the state (same model, config, callbacks and
        loader), given the same weights and this state, continues bit for bit as the original
        would have. Call it before ``fit``: the scheduler's state waits for the scheduler that the
        first ``fit`` builds, and the loader generators' states for the loader that ``fit`` gets.
        The global RNG states are set at once (this rank's entry). Callback states are matched by
        class name in order; a saved non-empty state no callback takes gives a warning. Keys
        missing from an older state (``scaler``, ``best_weights``, ``above_start``,
        ``skipped_steps``) take their fresh values; a ``best`` of None forgets the best epoch.
        """
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"trainer state format {state.get('format')!r}, expected {STATE_FORMAT}")
        self.optimizer.load_state_dict(state["optimizer"])
        if state.get("scheduler") is not None:
            if self.scheduler is not None:
                self.scheduler.load_state_dict(state["scheduler"])
            else:
                self._pending_scheduler = state["scheduler"]
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        self.history = [dict(r) for r in state["history"]]
        self.start_loss = state.get("start_loss")
        self._above_start = int(state.get("above_start", 0))
        self._skipped_steps = int(state.get("skipped_steps", 0))
        cfg = self.config
        self.best = MetricMonitor(cfg.monitor, cfg.mode, cfg.min_delta)
        if state.get("best") is not None:
            self.best.load_state_dict(state["best"])
        best_weights = state.get("best_weights")
        self._best_weights = dict(best_weights) if best_weights is not None else None
        self._load_callbacks(state.get("callbacks", []))
        rngs = state["rng"]
        if len(rngs) != D.world_size():
            warnings.warn(f"resume: checkpoint has RNG states of {len(rngs)} ranks, running {D.world_size()}",
                          UserWarning, stacklevel=2)
        set_rng_state(rngs[D.rank() % len(rngs)])
        self._pending_loader_rng = list(state.get("loader_rng", []))
        self._group_batches, self._grads_pending = 0, False

    def _load_callbacks(self, saved: list[dict[str, Any]]) -> None:
        # Matched by class name in order, so adding or dropping a stateless callback (a logger, a
        # crash simulator) between runs does not lose the others' state.
        unused = list(saved)
        for cb in self.callbacks:
            match = next((c for c in unused if c["name"] == type(cb).__name__), None)
            if match is not None:
                unused.remove(match)
                cb.load_state_dict(match["state"])
        lost = [c["name"] for c in unused if c["state"]]
        if lost:
            warnings.warn(f"resume: no callback to take the saved state of {lost}", UserWarning, stacklevel=3)

    def _apply_loader_rng(self) -> None:
        """Give the training loader's generators the states of the last :meth:`load_state_dict`."""
        states, self._pending_loader_rng = self._pending_loader_rng, None
        if states is None:
            return
        if len(states) == len(self._train_generators):
            for g, s in zip(self._train_generators, states):
                g.set_state(s.cpu())
        else:
            warnings.warn("resume: the training loader's generators differ from the checkpoint's; "
                          "the data order will not match the interrupted run", UserWarning, stacklevel=4)

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
        if self.run_dir is not None or self._remembered is not None:
            periodic = cfg.checkpoint_every and epoch % cfg.checkpoint_every == 0
            # latest is also written whenever best is, so latest never lags behind best.
            if periodic or last or improved:
                self._save("latest")
            if improved:
                self._save("best")
            if self.run_dir is not None and D.is_main() and cfg.plots and cfg.plot_every and epoch % cfg.plot_every == 0:
                self._draw_curves()

    def _draw_curves(self) -> None:
        """curves.png from the rows logged so far (a plot costs 0.3-0.5 s: drawn once per rows)."""
        plot_curves(self.log.rows, self.run_dir / "curves.png")
        self._curves_rows = len(self.log.rows)

    def _train_epoch(self, loader: Iterable[Any], epoch: int) -> tuple[dict[str, float], tuple[str, float]]:
        cfg = self.config
        self.model.train()
        for sampler in self._samplers(loader):
            sampler.set_epoch(epoch)
        self._group_batches, self._grads_pending = 0, False  # groups never span epochs
        avg, window = WeightedMeans(), WeightedMeans()  # batch metrics, weighted by batch size
        steps, step_window = WeightedMeans(), WeightedMeans()  # optimizer-step metrics (grad_norm), one weight per step
        total = len(loader) if hasattr(loader, "__len__") else None  # type: ignore[arg-type]
        progress = Progress(total, f"epoch {epoch}/{cfg.epochs}", cfg.progress and D.is_main(), self.tokens_fn is not None)
        try:
            for batch, group_end in self._grouped(loader):
                for cb in self.callbacks:
                    cb.on_train_batch_start(self, batch)
                batch = to_device(batch, self.device)
                n = self.batch_size_fn(batch)
                metrics, step_metrics = self._train_batch(batch, epoch, group_end)
                self.step += 1
                if group_end:
                    self._advance_schedule()
                for m in step_metrics:
                    steps.add(m, 1.0)
                    step_window.add(m, 1.0)
                avg.add(metrics, n)
                window.add(metrics, n)
                progress.update(n, self.tokens_fn(batch) if self.tokens_fn else 0, metrics["loss"])
                if cfg.log_every and self.step % cfg.log_every == 0:
                    self.log.log(epoch, self.step, "train_step",
                                 {**window.local(), **step_window.local(), "lr": self.optimizer.param_groups[0]["lr"]})
                    window, step_window = WeightedMeans(), WeightedMeans()
                batch_metrics = {**metrics, **_mean(step_metrics)}
                for cb in self.callbacks:
                    cb.on_train_batch_end(self, batch_metrics)
                if self.stop_training:
                    break
            if self._grads_pending:  # stopped inside a group: its batches still make a step
                steps.add(self._finish_group(epoch), 1.0)
        finally:
            progress.close()
        return _loss_first({**avg.reduce(self.device), **steps.reduce(self.device)}), progress.rate()

    def _grouped(self, loader: Iterable[Any]) -> Iterable[tuple[Any, bool]]:
        """``(batch, group_end)``: group_end marks the batches after which the optimizer steps.

        With ``grad_accum_steps = k > 1`` every k-th batch of the epoch and its last batch (found
        by looking one batch ahead, so loaders without ``__len__`` work too).
        """
        k = self.config.grad_accum_steps
        if k == 1:
            for batch in loader:
                yield batch, True
            return
        it = iter(loader)
        ahead, i = next(it, _END), 0
        while ahead is not _END:
            batch, ahead = ahead, next(it, _END)
            i += 1
            yield batch, ahead is _END or i % k == 0

    def _train_batch(self, batch: Any, epoch: int, group_end: bool) -> tuple[dict[str, float], list[dict[str, float]]]:
        """Forward and backward of one batch, and the optimizer step(s) it completes.

        Returns the batch's metrics and the metrics of each optimizer step it took (grad_norm).
        """
        model = self._wrapped or self.model
        k, tbptt = self.config.grad_accum_steps, self.config.tbptt_steps
        if not tbptt:
            with self._no_sync(not group_end):
                loss, metrics, _ = self._call_loss(model, batch, None)
                self._backward(loss, epoch, divisor=k)
            self._group_batches += 1
            return metric_floats(loss, metrics), ([self._step(epoch, self.step + 1)] if group_end else [])
        # Truncated BPTT: the state crosses chunks detached, so each backward stops at its chunk's
        # start and the graph (memory) is bounded by tbptt_steps. k = 1: one update per chunk;
        # k > 1: every chunk's gradient (weighted by its share of the batch's time steps) adds to
        # the group's, and the update comes after the last chunk of the group's last batch.
        avg, steps = WeightedMeans(), []
        chunks = split_time(batch, tbptt)
        total = sum(self._chunk_len(c) for c in chunks)
        state = None
        for j, chunk in enumerate(chunks):
            length = self._chunk_len(chunk)
            if k == 1:
                loss, metrics, state = self._call_loss(model, chunk, state)
                self._backward(loss, epoch)
                steps.append(self._step(epoch, self.step + 1))
            else:
                with self._no_sync(not (group_end and j == len(chunks) - 1)):
                    loss, metrics, state = self._call_loss(model, chunk, state)
                    self._backward(loss, epoch, weight=length / total, divisor=k)
            avg.add(metric_floats(loss, metrics), length)
            state = detach_state(state)
        if k > 1:
            self._group_batches += 1
            if group_end:
                steps.append(self._step(epoch, self.step + 1))
        return avg.local(), steps

    def _no_sync(self, skip: bool):
        """DDP's ``no_sync()`` around a forward/backward that is not the last before a step."""
        if skip and self._wrapped is not None:
            return self._wrapped.no_sync()
        return contextlib.nullcontext()

    def _backward(self, loss: torch.Tensor, epoch: int, weight: float = 1.0, divisor: int = 1) -> None:
        """Check the loss, then add the gradient of ``loss * weight / divisor`` to the group's.

        A non-finite loss, or a loss that stays far above its start (:meth:`_check_divergence`),
        stops training before any update, so the weights (and every checkpoint) stay finite.
        """
        value = self._check_finite(loss, epoch)
        self._check_divergence(value, epoch)
        if not self._grads_pending:  # the first backward of a group
            self.optimizer.zero_grad(set_to_none=True)
            self._grads_pending = True
        if weight != 1.0:
            loss = loss * weight
        if divisor != 1:
            loss = loss / divisor
        if self.scaler is not None:
            loss = self.scaler.scale(loss)
        loss.backward()

    def _step(self, epoch: int, step: int) -> dict[str, float]:
        """Unscale, average a short group, check the gradient, clip, step.

        Returns the step's metrics (grad_norm when clipping). Without a GradScaler a non-finite
        gradient stops training before the optimizer step. With one (fp16 on CUDA), inf/NaN
        gradients are expected now and then: the scaler skips that step and lowers its scale, and
        only ``divergence_steps`` skipped steps in a row stop training.
        """
        cfg = self.config
        k, r = cfg.grad_accum_steps, self._group_batches
        self._group_batches, self._grads_pending = 0, False
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)  # clipping and the check see the true gradient
        if 0 < r < k:  # the epoch's last group is short: the mean is over its r batches, not k
            for p in self.model.parameters():
                if p.grad is not None:
                    p.grad.mul_(k / r)
        extra = {}
        if cfg.grad_clip > 0:
            norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        else:
            grads = [p.grad for p in self.model.parameters() if p.grad is not None]
            norm = (torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach().float()) for g in grads]))
                    if grads else torch.zeros(()))
        # Under DDP the gradients are already all-reduced, so every rank takes the same branch.
        value = float(norm)
        if math.isfinite(value):
            self._skipped_steps = 0
            if cfg.grad_clip > 0:
                extra["grad_norm"] = value  # before clipping: shows how often and how hard it clips
        elif self.scaler is None:
            raise NonFiniteLossError(value, epoch, step, self._last_good_checkpoint(),
                                     what="non-finite gradient norm", advice=self._advice())
        else:  # scaler.step below skips this update and scaler.update lowers the scale
            self._skipped_steps += 1
            if self._skipped_steps >= cfg.divergence_steps:
                self._stop(NonFiniteLossError(
                    value, epoch, step, self._last_good_checkpoint(),
                    what=f"non-finite gradient norm in {self._skipped_steps} optimizer steps in a row, all "
                         f"skipped by the fp16 GradScaler (scale now {self.scaler.get_scale():g})",
                    advice=self._advice() + " amp='bf16' has float32's range and needs no scaling."))
        for cb in self.callbacks:
            cb.on_before_optimizer_step(self)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        return extra

    def _advance_schedule(self) -> None:
        """One schedule position per optimizer step, taken or skipped by the GradScaler."""
        if self.scaler is None or self.scheduler.last_epoch != 0:  # type: ignore[union-attr]
            self.scheduler.step()  # type: ignore[union-attr]
            return
        with warnings.catch_warnings():  # torch warns when the very first step was skipped: intended here
            warnings.filterwarnings("ignore", "Detected call of `lr_scheduler.step", UserWarning)
            self.scheduler.step()  # type: ignore[union-attr]

    def _finish_group(self, epoch: int) -> dict[str, float]:
        """Step on a group that a stop cut short (its gradients may be unsynchronised under DDP)."""
        if self._wrapped is not None:  # accumulated under no_sync: average them as DDP would
            import torch.distributed as dist

            for p in self.model.parameters():
                if p.grad is not None:
                    dist.all_reduce(p.grad)
                    p.grad.div_(D.world_size())
        extra = self._step(epoch, self.step)
        self._advance_schedule()
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
        if self._autocast_dtype is not None:
            return torch.autocast("cuda", dtype=self._autocast_dtype)
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
            return cfg.epochs * math.ceil(len(loader) / cfg.grad_accum_steps)
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
        if self._remembered is not None:  # copies: training goes on changing the weights and moments in place
            weights = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
            self._remembered[name] = (weights, copy.deepcopy(state))
        elif D.is_main():
            save_checkpoint(self.checkpoint_root / name, self.model, config=run_state.resolved_config(self), state=state)

    def save_run(self, run_dir: str | Path, plots: bool | None = None) -> None:
        """Write into ``run_dir`` what a ``fit`` into that folder would have left at its end:
        config.json, command.txt, metrics.csv (and TensorBoard events when ``config.tensorboard``),
        curves.png (when ``config.plots``, or ``plots`` when given) and checkpoints/latest and best,
        for a trainer built with ``remember_checkpoints=True`` that has trained. The trainer then belongs to ``run_dir``
        (a later ``fit`` writes there), and ``fit(resume=True)`` by a new trainer continues from
        it exactly as from a run trained in the folder."""
        if not self._remembered:
            raise RuntimeError("save_run needs a trainer built with run_dir=None and remember_checkpoints=True "
                               "that has trained (fit) at least one epoch")
        run_dir = Path(run_dir)
        with run_folder_lock(run_dir):
            clean_stale_temporaries(run_dir)
            self.run_dir = run_dir
            run_state.write_run_files(self, resumed=False)
            log = MetricsLog(run_dir, self.config.tensorboard)
            for row in self.log.rows:  # replayed in order: the same columns, rows and TensorBoard steps
                log.log(row["epoch"], row["step"], row["split"],
                        {k: v for k, v in row.items() if k not in ("epoch", "step", "split")})
            log.close()
            self.log = log
            config = run_state.resolved_config(self)
            for name in ("latest", "best"):  # the order fit writes them in
                if name in self._remembered:
                    weights, state = self._remembered[name]
                    save_checkpoint(self.checkpoint_root / name, weights, config=config, state=state)
            if self.config.plots if plots is None else plots:
                self._draw_curves()
        self._remembered = None

    def _wrap_ddp(self) -> None:
        if not D.is_distributed() or self._wrapped is not None:
            return
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        self._wrapped = DistributedDataParallel(
            self.model, device_ids=ids, find_unused_parameters=self.config.ddp_find_unused_parameters
        )
