"""forecast: ``POST /api/{run}/predict`` with a CSV upload (multipart field ``file``, the same
columns as the run's training data) forecasts the ``horizon`` steps after the end of every
series, with the run's prediction interval; a JSON body ``{"csv": "date,sales\\n..."}`` does the
same, and ``{}`` forecasts the run's own data.

By default the saved model forecasts (fast: the server answers in well under a second);
``refit=true`` first trains the run's configuration again on the uploaded data up to its end, as
``rnnkit predict RUN`` does by default (seconds to minutes). The answer has each series' recent
history beside its forecast, for the page's chart.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar, Optional

from fastapi import HTTPException, Request
from pydantic import Field

from .base import Service, StrictModel


class ForecastRequest(StrictModel):
    csv: Optional[str] = Field(None, description="the data as CSV text; none = the run's own data")
    refit: bool = Field(False, description="train the run's configuration again on this data first")
    history: int = Field(120, ge=0, le=100_000, description="past points per series to return for the chart")

    example: ClassVar[dict] = {"csv": "date,sales\n2020-01-01,12.5\n...", "refit": False}


def _time(t) -> str:
    if hasattr(t, "strftime"):
        return t.strftime("%Y-%m-%d") if (t.hour, t.minute, t.second) == (0, 0, 0) else t.strftime("%Y-%m-%d %H:%M:%S")
    return str(t)


def _num(v) -> Optional[float]:
    v = float(v)
    return None if math.isnan(v) or math.isinf(v) else v


class ForecastService(Service):
    app_name = "forecast"
    page = "forecast"

    def info(self) -> dict:
        cfg = self.run.config
        fc = self.run.preprocessing["forecaster"]
        return {**super().info(), "interval": cfg.backtest.interval, "horizon": fc.layout.horizon,
                "columns": {"time": cfg.data.time_col, "id": cfg.data.id_col, "target": list(cfg.data.target or ()),
                            "past": list(cfg.data.past_covariates or ()),
                            "future": list(cfg.data.future_covariates or ())},
                "data": cfg.data.path or f"built-in {cfg.data.dataset}"}

    async def predict(self, request: Request):
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "multipart/form-data":
            name, data, fields = await self.read_upload(request)
            try:
                req = self.validate({"refit": fields.get("refit", "false").lower() in ("1", "true", "yes", "on"),
                                     "history": int(fields.get("history", 120))}, ForecastRequest)
            except ValueError:
                raise HTTPException(422, "history: must be a whole number") from None
        else:
            req = await self.read_json(request, ForecastRequest)
            name, data = "data.csv", (req.csv.encode("utf-8") if req.csv is not None else None)
        suffix = (name.rsplit(".", 1)[-1].lower() if "." in name else "csv")
        if suffix not in ("csv", "tsv", "txt", "parquet", "pq", "xlsx", "xlsm", "json", "jsonl", "ndjson", "zip", "gz",
                          "bz2", "xz"):
            raise HTTPException(415, f"{name}: send a .csv, .tsv, .xlsx, .parquet or .json file (or one zipped or "
                                     "compressed)")
        return await self.call(self._forecast, data, suffix, req)

    def _forecast(self, data: bytes | None, suffix: str, req: ForecastRequest) -> dict:
        from rnnkit.apps.forecast.datasets import load_series

        cfg = self.run.config
        quiet = lambda *a, **k: None  # noqa: E731
        with self.temp_dir() as tmp:
            path = None
            if data is not None:
                if cfg.data.path is None:
                    raise ValueError(f"this run was trained on the built-in {cfg.data.dataset} dataset: "
                                     "it forecasts that dataset only (send {} for it)")
                path = self.temp_file(f"data.{suffix}", data, tmp)
            dcfg = dataclasses.replace(cfg.data, truncate=0, path=str(path) if path else cfg.data.path)
            try:
                sset = load_series(dcfg)
                frame = self.run.predict(data=path, use_backtest_model=not req.refit, echo=quiet)
            except (KeyError, TypeError) as err:
                raise ValueError(f"the data does not fit this run: {err}") from err
        series = []
        for s in sset.series:
            rows = frame[frame["series"] == s.name]
            if rows.empty:
                continue
            n = min(req.history, s.length)
            series.append({
                "name": str(s.name),
                "history": {"time": [_time(t) for t in s.times[s.length - n:s.length]],
                            "value": [_num(v) for v in s.target[s.length - n:s.length]]},
                "forecast": {"time": [_time(t) for t in rows["time"]], "point": [_num(v) for v in rows["point"]],
                             "lo": [_num(v) for v in rows["lo"]], "hi": [_num(v) for v in rows["hi"]]},
            })
        return {"series": series, "interval": cfg.backtest.interval,
                "horizon": int(self.run.preprocessing["forecaster"].layout.horizon),
                "model": "refit on this data" if req.refit else "saved model", "target": sset.target_name}
