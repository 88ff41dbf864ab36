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
