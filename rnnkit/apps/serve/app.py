"""``create_app(run_dirs)``: one FastAPI application serving trained runs, their JSON API and pages.

    from rnnkit.apps.serve.app import create_app
    app = create_app(["runs/textgen-20261205-101500", "runs/reviews"])   # uvicorn.run(app, ...)

Each run is reopened with :func:`rnnkit.load` and served under its folder's name (``reviews``;
a second folder of the same name becomes ``reviews-2``):

=================================  ==========================================================
GET  /                             index page: the runs, each linking to its page
GET  /{run}                        the run's page (prompt box, sentiment box, CSV upload ...)
GET  /health                       ``{"status": "ok", "runs": {...}}``
GET  /metrics                      request counts and latencies per endpoint (Prometheus text)
GET  /api/runs                     the runs: name, app, endpoints
GET  /api/{run}                    one run: its app, labels/defaults and limits
POST /api/{run}/predict            the app's predict (JSON; uploads for forecast/caption/...)
POST /api/{run}/generate           textgen: tokens streamed as Server-Sent Events
POST /api/{run}/midi               music: notes text -> a MIDI file
=================================  ==========================================================

Every error is JSON ``{"detail": "one line"}``: 400 for a body that is not JSON, 404 for an
unknown run or an endpoint the run's app does not have, 413 for a body over the size limit,
415 for a wrong content type, 422 for a request that is JSON but not a valid input (unknown or
missing fields, values out of range, with the field named). A failing request never stops the
server. Classify and generate requests that arrive together run as one micro-batch
(:mod:`.batching`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from .metrics import Metrics, MetricsMiddleware

__all__ = ["ServeSettings", "create_app"]

log = logging.getLogger("rnnkit.serve")
PAGES = Path(__file__).with_name("pages")


@dataclass
class ServeSettings:
    """Limits and batching: every field is a ``rnnkit serve`` option of the same name."""

    max_batch: int = 8             # requests per micro-batch (classify, generate)
    batch_wait_ms: float = 5.0     # how long a batch waits for more requests after its first
    max_body_bytes: int = 64_000   # JSON request bodies (413 over it)
    max_upload_bytes: int = 10_000_000  # multipart uploads: CSV, audio, images, clips (413 over it)
    max_text_chars: int = 2_000    # one text, prompt or primer (422 over it)
    max_texts: int = 64            # texts in one classify/translate request
    max_new_tokens: int = 2_000    # generate: characters per request; music: events


def _run_name(path: Path, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", path.name or path.resolve().name).strip("-.") or "run"
    if base in {"api", "static", "health", "metrics", "favicon.ico"}:
        base = f"run-{base}"
    name, i = base, 2
    while name in taken:
        name, i = f"{base}-{i}", i + 1
    return name


def create_app(run_dirs: Sequence[str | Path], settings: ServeSettings | None = None) -> FastAPI:
    """The application for ``run_dirs`` (loaded now: a folder that is not a run is an error here)."""
    import rnnkit
    from .services import service_for

    settings = settings or ServeSettings()
    if not run_dirs:
        raise ValueError("rnnkit serve needs at least one run folder")
    metrics = Metrics()
    services: dict[str, Any] = {}
    for d in run_dirs:
        path = Path(d)
        if not (path / "run.json").is_file():
            raise FileNotFoundError(f"{path} is not a run folder (no run.json); `rnnkit runs` lists run folders")
        name = _run_name(path, set(services))
        loaded = rnnkit.load(path)
        services[name] = service_for(loaded)(name, loaded, settings, metrics)
        metrics.known_runs.add(name)
        log.info("serving %s (%s) as /%s", path, loaded.app, name)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        for s in services.values():
            s.close()

    # no /docs page: FastAPI's loads its scripts from a CDN, and these pages work offline
    app = FastAPI(title="rnnkit serve", version=rnnkit.__version__, docs_url=None, redoc_url=None,
                  openapi_url=None, lifespan=lifespan)
    app.state.services, app.state.settings, app.state.metrics = services, settings, metrics

    # ------------------------------------------------------------------ errors: one JSON line each
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        if exc.status_code == 404 and not request.url.path.startswith("/api/") and _wants_html(request):
            return HTMLResponse(_not_found_page(detail, services), status_code=404)
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": format_errors(exc.errors())}, status_code=422)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log.exception("error serving %s", request.url.path)
        return JSONResponse({"detail": f"internal error: {type(exc).__name__}: {_one_line(str(exc))}"},
                            status_code=500)

    def service(run_name: str):
        svc = services.get(run_name)
        if svc is None:
            raise HTTPException(404, f"no run named {run_name!r}; this server has: {', '.join(services)}")
        return svc

    # ------------------------------------------------------------------ service endpoints
    @app.get("/health")
    async def health():
        return {"status": "ok", "runs": {n: s.app_name for n, s in services.items()}}

    @app.get("/metrics", response_class=PlainTextResponse)
    async def metrics_text():
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/api/runs")
    async def list_runs():
        return {"runs": [s.summary() for s in services.values()]}

    @app.get("/api/{run_name}")
    async def run_info(run_name: str):
        return service(run_name).info()

    @app.post("/api/{run_name}/predict")
    async def predict(run_name: str, request: Request):
        return await service(run_name).predict(request)

    @app.post("/api/{run_name}/generate")
    async def generate(run_name: str, request: Request):
        svc = service(run_name)
        if not hasattr(svc, "generate"):
            raise HTTPException(404, f"{run_name!r} is a {svc.app_name} run: it has no generate endpoint "
                                f"(use POST /api/{run_name}/predict)")
        return await svc.generate(request)

    @app.post("/api/{run_name}/midi")
    async def midi(run_name: str, request: Request):
        svc = service(run_name)
        if not hasattr(svc, "midi"):
            raise HTTPException(404, f"{run_name!r} is a {svc.app_name} run: only music runs write MIDI")
        return await svc.midi(request)

    # ------------------------------------------------------------------ pages
    app.mount("/static", StaticFiles(directory=PAGES), name="static")

    @app.get("/", response_class=HTMLResponse)
    async def index():
        return FileResponse(PAGES / "index.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon():
        return PlainTextResponse("", status_code=204)

    @app.get("/{run_name}", response_class=HTMLResponse)
    async def page(run_name: str):
        svc = service(run_name)
        path = PAGES / f"{svc.page}.html"
        if not path.is_file():  # an install without the package data: the API still works
            raise HTTPException(500, f"{path} is missing: this rnnkit was installed without its serve pages")
        return FileResponse(path, media_type="text/html")

    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


def _wants_html(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def _not_found_page(detail: str, services: dict) -> str:
    import html

    links = "".join(f'<li><a href="/{n}">{html.escape(n)}</a> ({s.app_name})</li>' for n, s in services.items())
    return (f"<!doctype html><meta charset=utf-8><title>not found</title><link rel=stylesheet href=/static/common.css>"
            f"<main><h1>Not found</h1><p class=error>{html.escape(detail)}</p><ul>{links}</ul></main>")


def _one_line(s: str, limit: int = 300) -> str:
    s = " ".join(str(s).split())
    return s if len(s) <= limit else s[:limit - 3] + "..."


def format_errors(errors: Sequence[dict]) -> str:
    """Pydantic's error list as one line: ``texts.0: String should have at most 2000 characters``."""
    parts = []
    for e in errors[:3]:
        loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body",))
        msg = e.get("msg", "invalid")
        if e.get("type") == "extra_forbidden":
            msg = "unknown field"
        elif e.get("type") == "missing":
            msg = "required field is missing"
        parts.append(f"{loc}: {msg}" if loc else msg)
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return _one_line("; ".join(parts) + more, 500)
