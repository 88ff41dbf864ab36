"""Shared pieces of the export tests: a trained tiny run of each app (made once per session),
exporting it, and running the exported graphs in onnxruntime and as a torch.export program.

``RNNKIT_EXPORT_RUNS=DIR`` reuses runs already made under ``DIR/APP/run`` (for working on the
exporters without training again)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
import torch

QUIET = ["train.progress=false", "train.tensorboard=false"]
# the export needs the trained network only: forecast skips the statistical baselines that take
# minutes (AutoARIMA with a season of 132 on sunspots)
EXTRA = {"forecast": ["baselines.models=naive"],
         # the vision apps: no figures (matplotlib's drawing is seconds of the run on a shared CPU)
         "caption": ["train.plots=false", "examples=0"],
         "video": ["train.plots=false", "examples=0"]}
_HERE = Path(__file__).resolve().parent


def _every_app_helpers():
    """tests/apps/test_every_app.py's small local data (``_args``)."""
    path = _HERE.parent / "apps" / "test_every_app.py"
    spec = importlib.util.spec_from_file_location("_every_app_for_export", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """``tiny_run(app) -> run folder``: ``rnnkit train APP --preset tiny`` on small local data."""
    made: dict[str, Path] = {}

    def make(app: str) -> Path:
        if app in made:
            return made[app]
        reuse = os.environ.get("RNNKIT_EXPORT_RUNS")
        if reuse and (Path(reuse) / app / "run" / "run.json").is_file():
            made[app] = Path(reuse) / app / "run"
            return made[app]
        from rnnkit.cli import main

        torch.set_num_threads(1)
        root = tmp_path_factory.mktemp(app)
        args = _every_app_helpers()._args(app, root)  # skips where the app's data source is missing
        run = root / "run"
        code = main(["train", app, "--preset", "tiny", *args, "--run-dir", str(run), *QUIET,
                     *EXTRA.get(app, [])])
        assert code == 0, f"training the tiny {app} run failed"
        made[app] = run
        return run

    return make


@pytest.fixture(scope="session")
def exported(tiny_run, tmp_path_factory):
    """``exported(app, fmt) -> export folder`` (made once per app and format)."""
    from rnnkit.apps.export import export_run

    done: dict[tuple[str, str], Path] = {}

    def make(app: str, fmt: str) -> Path:
        key = (app, fmt)
        if key not in done:
            torch.set_num_threads(1)
            out = tmp_path_factory.mktemp(f"{app}-{fmt}")
            done[key] = export_run(tiny_run(app), fmt, out)
        return done[key]

    return make


class OnnxGraph:
    """One exported ONNX graph in onnxruntime: ``g(**tensors) -> {output name: tensor}``."""

    def __init__(self, path: Path):
        ort = pytest.importorskip("onnxruntime")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.outputs = [o.name for o in self.session.get_outputs()]

    def __call__(self, **feeds):
        missing = set(self.inputs) - set(feeds)
        assert not missing, f"inputs not given: {missing}"
        arrays = {k: v.detach().cpu().numpy() for k, v in feeds.items() if k in self.inputs}
        out = self.session.run(None, arrays)
        return {n: torch.from_numpy(np.asarray(o)) for n, o in zip(self.outputs, out)}


class Pt2Graph:
    """One exported torch.export program: ``g(**tensors) -> {output name: tensor}``."""

    def __init__(self, path: Path, inputs: list[str], outputs: list[str]):
        self.module = torch.export.load(str(path)).module()
        self.inputs, self.outputs = inputs, outputs

    def __call__(self, **feeds):
        with torch.no_grad():
            out = self.module(*(feeds[n] for n in self.inputs))
        if isinstance(out, torch.Tensor):  # a program with one output returns it bare
            out = (out,)
        return dict(zip(self.outputs, out))


def load_graphs(folder: Path) -> dict:
    """The graphs of an export folder by name, each callable with keyword tensors."""
    import json

    manifest = json.loads((folder / "export.json").read_text("utf-8"))
    graphs = {}
    for name, g in manifest["graphs"].items():
        ins = [i["name"] for i in g["inputs"]]
        outs = [o["name"] for o in g["outputs"]]
        if manifest["format"] == "onnx":
            graph = OnnxGraph(folder / g["file"])
            assert graph.inputs == ins and graph.outputs == outs
        else:
            graph = Pt2Graph(folder / g["file"], ins, outs)
        graphs[name] = graph
    return graphs


def assert_close(got: torch.Tensor, want: torch.Tensor, what: str, atol: float = 1e-4, rtol: float = 1e-4):
    got, want = torch.as_tensor(got), torch.as_tensor(want)
    assert tuple(got.shape) == tuple(want.shape), f"{what}: shape {tuple(got.shape)} != {tuple(want.shape)}"
    if got.dtype.is_floating_point:
        err = (got.double() - want.double()).abs()
        finite = torch.isfinite(want.double())
        assert torch.equal(torch.isfinite(got.double()), finite), f"{what}: -inf/inf at other places"
        bad = err[finite] > atol + rtol * want.double()[finite].abs()
        assert not bad.any(), f"{what}: max abs error {err[finite].max().item():.3g}"
    else:
        assert torch.equal(got.to(want.dtype), want), f"{what}: values differ"
