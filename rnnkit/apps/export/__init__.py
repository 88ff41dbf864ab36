"""``rnnkit export RUN --format onnx|pt2``: a trained run as a graph a server can stream with.

    from rnnkit.apps.export import export_run
    out = export_run("runs/textgen-...", format="onnx")     # -> runs/textgen-.../export/onnx/
    # out/model.onnx (inputs ids, h0, c0; outputs logits, h_n, c_n) and out/export.json

Each exported graph takes the app's tensor inputs plus the recurrent state and returns the next
state with its outputs, with dynamic batch and time axes (feed a chunk, keep the state, feed the
next chunk). It is exported with the dynamo-based exporters (``torch.export.export`` with ``Dim``s,
and ``torch.onnx.export(..., dynamo=True)`` of that program), the recurrent loop as one ``scan``
per layer and direction (:mod:`rnnkit.apps.export.scan`). ``export.json`` beside it lists each
graph's inputs and outputs (names, dtypes, shapes with named dynamic axes) and the preprocessing
(vocabularies, labels, scalers), so the files are usable without rnnkit. What each app exports:
docs/export.md.
"""

from __future__ import annotations

from pathlib import Path

from rnnkit.apps.export.core import FORMATS, MANIFEST, Graph, Plan, export_plan

__all__ = ["FORMATS", "MANIFEST", "Graph", "Plan", "export_run", "exportable_apps", "plan_run"]


def exportable_apps() -> list[str]:
    from rnnkit.apps.export.apps import PLANS

    return list(PLANS)


def plan_run(run_dir: str | Path):
    """The :class:`Plan` of a run folder (its graphs as modules, not yet exported) and the
    :class:`rnnkit.apps.loading.LoadedRun` it came from."""
    import rnnkit
    from rnnkit.apps.export.apps import plan_for

    run = rnnkit.load(run_dir)
    return plan_for(run), run


def export_run(run_dir: str | Path, format: str = "onnx", out: str | Path | None = None) -> Path:
    """Export the run's model to ``out`` (default ``RUN/export/FORMAT``); returns that folder,
    which holds one file per graph (``model.onnx``, or ``encoder.onnx`` and ``decoder.onnx``) and
    ``export.json``."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    run_dir = Path(run_dir)
    plan, _ = plan_run(run_dir)
    out_dir = Path(out) if out is not None else run_dir / "export" / format
    return export_plan(plan, format, out_dir, run_dir)
