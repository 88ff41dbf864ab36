"""Tiny trained runs (textgen, classify, forecast) made once per session, a server on a free
loopback port serving them all, and a headless Chromium for the page tests."""

from __future__ import annotations

import importlib.util
import math
import random
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="rnnkit serve needs its extra: pip install 'rnnkit[serve]'")
pytest.importorskip("uvicorn", reason="rnnkit serve needs its extra: pip install 'rnnkit[serve]'")

from rnnkit.cli import main  # noqa: E402

QUIET = ["train.progress=false", "train.tensorboard=false"]

# --import-mode=importlib puts no test folder on sys.path: the HTTP helper is loaded by path
_spec = importlib.util.spec_from_file_location("rnnkit_tests_serve_http", Path(__file__).with_name("_http.py"))
_http = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_http)


@pytest.fixture(scope="session")
def http():
    """tests/serve/_http.py: ``http.call(base_url, method, path, body)`` and friends."""
    return _http


def corpus_text() -> str:
    line = "the quick brown fox jumps over the lazy dog. pack my box with five dozen liquor jugs.\n"
    return line * 120


def reviews_csv_text(n: int = 300) -> str:
    rng = random.Random(0)
    good, bad = "great wonderful moving smart funny".split(), "awful dull boring flat tedious".split()
    rows = ["text,label"]
    for i in range(n):
        label = "pos" if i % 2 else "neg"
        words = [rng.choice(good if label == "pos" else bad) for _ in range(4)] + ["film"]
        rows.append(f"{' '.join(words)},{label}")
    return "\n".join(rows) + "\n"


def sales_csv_text(months: int = 72, seed: int = 0) -> str:
    rng = random.Random(seed)
    lines = ["date,sales"]
    for i in range(months):
        value = 50 + 10 * math.sin(2 * math.pi * i / 12) + 0.3 * i + rng.gauss(0, 1)
        lines.append(f"{2010 + i // 12}-{i % 12 + 1:02d}-01,{value:.3f}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def serve_data(tmp_path_factory):
    d = tmp_path_factory.mktemp("serve_data")
    (d / "corpus.txt").write_text(corpus_text(), encoding="utf-8")
    (d / "reviews.csv").write_text(reviews_csv_text(), encoding="utf-8")
    (d / "sales.csv").write_text(sales_csv_text(), encoding="utf-8")
    return d


def _train(args):
    assert main(["train", *args, *QUIET]) == 0


@pytest.fixture(scope="session")
def runs(tmp_path_factory, serve_data):
    """{app: run folder} for the apps these tests serve."""
    root = tmp_path_factory.mktemp("serve_runs")
    out = {"textgen": root / "poem", "classify": root / "reviews", "forecast": root / "sales"}
    _train(["textgen", "--preset", "tiny", "--data", str(serve_data / "corpus.txt"), "--run-dir",
            str(out["textgen"]), "train.epochs=2", "train.lr=1e-2"])
    _train(["classify", "--preset", "tiny", "--data", str(serve_data / "reviews.csv"), "--run-dir",
            str(out["classify"]), "baseline=false"])
    _train(["forecast", "--preset", "tiny", "--data", str(serve_data / "sales.csv"), "--time-col", "date",
            "--target", "sales", "--horizon", "6", "--run-dir", str(out["forecast"]), "train.epochs=2"])
    return out


@pytest.fixture(scope="session")
def server(runs):
    """(base URL, the FastAPI app) of one server for every session run, on a free loopback port."""
    from rnnkit.apps.serve.app import ServeSettings, create_app
    from rnnkit.apps.serve.browser import running_server

    app = create_app([runs[a] for a in ("textgen", "classify", "forecast")],
                     ServeSettings(max_batch=8, batch_wait_ms=20, max_body_bytes=20_000, max_text_chars=500))
    with running_server(app) as url:
        yield url, app


@pytest.fixture(scope="session")
def base_url(server):
    return server[0]


@pytest.fixture(scope="session")
def browser():
    from rnnkit.apps.serve.browser import browser_missing, chrome

    why = browser_missing()
    if why:
        pytest.skip(f"headless browser tests need Debian's chromium and chromium-driver: {why}")
    with chrome() as driver:
        yield driver
