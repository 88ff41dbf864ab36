"""Progress bars (tqdm): per epoch with the running loss and throughput (:class:`Progress`), and one
over a whole fit's epochs (:class:`EpochBar`)."""

from __future__ import annotations

import sys
import time

from .callbacks import Callback

__all__ = ["EpochBar", "Progress"]


class Progress:
    """Counts items (and tokens when a ``tokens_fn`` is given) and shows items/s or tokens/s.

    Throughput is measured whether or not the bar is shown, because it also goes to the metric
    log. The bar writes to stderr; the postfix is refreshed at most every ``mininterval`` seconds
    by tqdm itself, so updating it every batch costs nothing noticeable. Each epoch's bar stays on
    screen when done (``leave=True``): its final line is the epoch's loss and throughput.
    """

    def __init__(self, total: int | None, desc: str, enabled: bool, count_tokens: bool) -> None:
        self.items = 0
        self.tokens = 0
        self.count_tokens = count_tokens
        self.start = time.perf_counter()
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="batch", leave=True, file=sys.stderr, dynamic_ncols=True)

    def rate(self) -> tuple[str, float]:
        """("tokens_per_s" | "items_per_s", value) since the epoch started."""
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        if self.count_tokens:
            return "tokens_per_s", self.tokens / elapsed
        return "items_per_s", self.items / elapsed

    def update(self, items: int, tokens: int, loss: float) -> None:
        self.items += items
        self.tokens += tokens
        if self.bar is not None:
            name, value = self.rate()
            unit = "tok/s" if name == "tokens_per_s" else "items/s"
            self.bar.set_postfix({"loss": f"{loss:.4g}", unit: f"{value:,.0f}"}, refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class EpochBar(Callback):
    """A :class:`~rnnkit.train.Callback` that shows one bar over a fit's epochs (``desc``), the
    monitored metric as its postfix, and leaves one line when training stops (early or not). For
    training several small models in a row, such as forecasting's treatment candidates, where the
    trainer's own bar per epoch (``TrainConfig.progress``) would print hundreds of lines. Stateless:
    a resumed run without it loses nothing."""

    def __init__(self, desc: str, enabled: bool = True) -> None:
        self.desc, self.enabled, self.bar = desc, enabled, None

    def on_fit_start(self, trainer) -> None:
        if self.enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=trainer.config.epochs, initial=trainer.epoch, desc=self.desc, unit="epoch",
                            leave=True, file=sys.stderr, dynamic_ncols=True)

    def on_epoch_end(self, trainer, epoch: int, record: dict[str, float]) -> None:
        if self.bar is not None:
            name = trainer.config.monitor
            if name in record:
                self.bar.set_postfix({name: f"{record[name]:.4g}"}, refresh=False)
            self.bar.update(1)

    def on_fit_end(self, trainer) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
