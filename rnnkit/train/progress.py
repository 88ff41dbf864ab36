"""Per-epoch progress bar (tqdm) showing the running loss and throughput."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


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
