"""Shared helpers of the forecasting tests: small synthetic tables in the shapes users bring."""

import numpy as np
import pandas as pd
import pytest


def two_store_frame(n: int = 96, seed: int = 0) -> pd.DataFrame:
    """Long format: monthly dates, two stores, sales driven by a known-future promo flag, a past
    temperature covariate and a static region."""
    rng = np.random.default_rng(seed)
    rows = []
    for store, base, region in (("north", 50.0, "n"), ("south", 80.0, "s")):
        dates = pd.date_range("2010-01-01", periods=n, freq="MS")
        promo = rng.integers(0, 2, n).astype(float)
        temp = 10 + 8 * np.sin(2 * np.pi * np.arange(n) / 12) + rng.normal(0, 1, n)
        sales = base + 5 * np.sin(2 * np.pi * np.arange(n) / 12) + 12 * promo + rng.normal(0, 1, n)
        rows.append(pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "store": store, "sales": sales.round(3),
                                  "promo": promo, "temp": temp.round(3), "region": region}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture
def store_frame() -> pd.DataFrame:
    return two_store_frame()


@pytest.fixture(scope="session")
def make_store_frame():
    """The builder itself, for module-scoped fixtures and tests that vary the size."""
    return two_store_frame


@pytest.fixture(scope="session")
def interrupt_at():
    """``interrupt_at(n, fn)``: ``fn`` wrapped to raise KeyboardInterrupt (a Ctrl-C) at its n-th
    call; the calls before go through."""
    def wrap(n, fn):
        calls = []

        def wrapped(*args, **kwargs):
            calls.append(1)
            if len(calls) == n:
                raise KeyboardInterrupt
            return fn(*args, **kwargs)
        return wrapped
    return wrap
