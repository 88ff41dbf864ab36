"""The run's metric log: ``metrics.csv`` (always) and TensorBoard events (when installed).

Every row has ``epoch``, ``step`` and ``split`` followed by metric columns in order of first
appearance. ``split`` is ``train_step`` (a running average over the last ``log_every`` batches),
``train`` or ``val`` (epoch averages; ``train`` rows add ``lr`` and throughput). Rows are appended as
they come so the file can be followed live; when a new metric name appears the file is rewritten
atomically with the wider header. On resume the rows after the resumed step are dropped, so a run
interrupted mid-epoch leaves no duplicate rows.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from pathlib import Path
from typing import Any

from .atomic import atomic_write_text

__all__ = ["MetricsLog"]

_KEYS = ("epoch", "step", "split")


def read_metrics(path: str | Path) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns and rows of a ``metrics.csv`` as :class:`MetricsLog` logged them (numbers as
    numbers, empty cells left out; rows without a step skipped)."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = list(reader.fieldnames or _KEYS)
        rows = []
        for r in reader:
            if not r.get("step"):
                continue
            row: dict[str, Any] = {"epoch": int(r["epoch"]), "step": int(r["step"]), "split": r["split"]}
            row.update({k: float(v) for k, v in r.items() if k not in _KEYS and v not in ("", None)})
            rows.append(row)
    return columns, rows


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else str(v)
    return str(v)


class MetricsLog:
    """Collects metric rows; writes them when ``run_dir`` is set (on rank 0 only)."""

    def __init__(self, run_dir: str | Path | None, tensorboard: bool = True) -> None:
        self.rows: list[dict[str, Any]] = []
        self.columns: list[str] = list(_KEYS)
        self.path = Path(run_dir) / "metrics.csv" if run_dir is not None else None
        self._tb_wanted = tensorboard and run_dir is not None
        self._tb = None
        self._tb_dir = Path(run_dir) / "tensorboard" if run_dir is not None else None
        self._purge_step: int | None = None

    # -- CSV ---------------------------------------------------------------------------------
    def _render(self, rows: list[dict[str, Any]], header: bool) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        if header:
            w.writerow(self.columns)
        for r in rows:
            w.writerow([_fmt(r[c]) if c in r else "" for c in self.columns])
        return buf.getvalue()

    def _rewrite(self) -> None:
        if self.path is not None:
            atomic_write_text(self.path, self._render(self.rows, header=True))

    def log(self, epoch: int, step: int, split: str, metrics: dict[str, float]) -> None:
        """Add one row (and its TensorBoard scalars under ``split/name``)."""
        row = {"epoch": epoch, "step": step, "split": split, **metrics}
        self.rows.append(row)
        new = [k for k in metrics if k not in self.columns]
        if self.path is not None:
            if new or not self.path.exists():
                self.columns += new
                self._rewrite()
            else:
                with open(self.path, "a", encoding="utf-8") as f:
                    f.write(self._render([row], header=False))
        else:
            self.columns += new
        writer = self._writer(step)
        if writer is not None:
            for k, v in metrics.items():
                writer.add_scalar(f"{split}/{k}", v, step)

    def restore(self, step: int) -> None:
        """Reload ``metrics.csv`` keeping rows up to ``step`` (for resume) and rewrite it."""
        if self.path is None or not self.path.exists():
            return
        self.columns, rows = read_metrics(self.path)
        self.rows = [r for r in rows if r["step"] <= step]
        self._rewrite()
        self._purge_step = step + 1

    # -- TensorBoard ------------------------------------------------------------------------
    def _writer(self, step: int):
        if not self._tb_wanted:
            return None
        if self._tb is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is optional
                self._tb_wanted = False
                return None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                # purge_step drops events a crashed run wrote after its last checkpoint.
                self._tb = SummaryWriter(str(self._tb_dir), purge_step=self._purge_step)
        return self._tb

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None
