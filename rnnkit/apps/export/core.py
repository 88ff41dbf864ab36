"""The export machinery shared by every app: a graph to export, how it is exported, the manifest.

An app's exporter (:mod:`rnnkit.apps.export.apps`) turns a loaded run into a :class:`Plan`: one
or more :class:`Graph` (a module whose inputs are the app's tensors plus the recurrent state,
whose outputs include the next state), and the preprocessing a caller needs without rnnkit
(vocabularies, label names, scalers). :func:`export_plan` exports each graph with the current
dynamo-based exporters: ``torch.export.export`` with ``Dim`` s for the batch and time axes
(``.pt2``, saved with ``torch.export.save``) and ``torch.onnx.export(..., dynamo=True)`` of that
same program (``.onnx``), and writes ``export.json``: what each graph takes and returns (names,
dtypes, shapes with the dynamic axes named) and the preprocessing.
"""

from __future__ import annotations

import json
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["FORMATS", "Graph", "Plan", "export_graph", "export_plan", "graph_file", "shape_names"]

FORMATS = ("onnx", "pt2")
MANIFEST = "export.json"
OPSET = 18


@dataclass
class Graph:
    """One exported graph. ``module(*example)`` must run; ``dynamic`` names the dynamic axes of
    each input (``{"ids": {0: "batch", 1: "time"}}``); axes of one name are one dimension."""

    name: str
    module: nn.Module
    example: tuple[Tensor, ...]
    input_names: list[str]
    output_names: list[str]
    dynamic: dict[str, dict[int, str]]
    doc: str = ""
    # the smallest size of each named axis the graph accepts (default 1)
    min_sizes: dict[str, int] = field(default_factory=dict)


@dataclass
class Plan:
    app: str
    graphs: list[Graph]
    preprocessing: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    # files written beside the graphs: name -> an object with .save(path) (a tokenizer)
    files: dict[str, Any] = field(default_factory=dict)


def graph_file(out_dir: Path, graph: str, fmt: str) -> Path:
    return Path(out_dir) / f"{graph}.{fmt}"


def _dims(graph: Graph) -> dict[str, Any]:
    from torch.export import Dim

    names = sorted({n for axes in graph.dynamic.values() for n in axes.values()})
    return {n: Dim(n, min=graph.min_sizes.get(n, 1)) for n in names}


def export_program(graph: Graph) -> torch.export.ExportedProgram:
    """``torch.export.export`` of the graph with its dynamic axes, traced strictly (through
    dynamo: the ``scan`` of :mod:`.scan` needs it for the parameters its step closes over)."""
    dims = _dims(graph)
    dynamic_shapes = tuple(
        {axis: dims[name] for axis, name in graph.dynamic.get(inp, {}).items()} or None
        for inp in graph.input_names)
    module, example = graph.module.eval(), graph.example
    if any(t is None for t in example):  # the program takes exactly the named inputs
        module = _Present(module, [t is not None for t in example])
        example = tuple(t for t in example if t is not None)
        dynamic_shapes = (dynamic_shapes,)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        return torch.export.export(module, example, dynamic_shapes=dynamic_shapes, strict=True)


class _Present(nn.Module):
    """``inner`` called with None at the positions of the optional arguments a graph leaves out,
    so the program's inputs are exactly the graph's named tensors."""

    def __init__(self, inner: nn.Module, present: list[bool]):
        super().__init__()
        self.inner = inner
        self.present = present

    def forward(self, *args):
        it = iter(args)
        return self.inner(*[next(it) if p else None for p in self.present])


@contextmanager
def _inference_only(module: nn.Module):
    """Parameters that do not require grad while an ONNX graph (inference only) is made: with none
    requiring it, the ONNX exporter's decomposition does not trace the ``scan`` 's backward (a
    joint graph per loop): about a fifth of the export's time, measured on four apps. Restored afterwards; the ``.pt2`` program
    keeps them as they are, for a user who fine-tunes it."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def export_graph(graph: Graph, fmt: str, path: Path) -> dict[str, Any]:
    """Export ``graph`` to ``path`` in ``fmt``; returns its manifest entry."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("tmp-" + path.name)
    if fmt == "pt2":
        ep = export_program(graph)
        torch.export.save(ep, tmp)
    else:
        import logging

        quiet = [logging.getLogger(n) for n in ("torch.onnx", "torch.onnx._internal.exporter._registration")]
        levels = [lg.level for lg in quiet]
        for lg in quiet:
            lg.setLevel(logging.ERROR)
        try:
            with warnings.catch_warnings(), _inference_only(graph.module):
                warnings.simplefilter("ignore")
                ep = export_program(graph)
                program = torch.onnx.export(ep, (), dynamo=True, input_names=graph.input_names,
                                            output_names=graph.output_names, opset_version=OPSET,
                                            verbose=False)
            _name_onnx_axes(program, shape_names(ep, graph))
            program.save(str(tmp))
        finally:
            for lg, lvl in zip(quiet, levels):
                lg.setLevel(lvl)
    tmp.replace(path)
    return {
        "file": path.name,
        "doc": graph.doc,
        "inputs": [_describe(n, t, graph.dynamic.get(n, {}))
                   for n, t in zip(graph.input_names, [t for t in graph.example if t is not None])],
        "outputs": _describe_outputs(ep, graph),
    }


def _name_onnx_axes(program, names: dict[str, str]) -> None:
    """Give the ONNX graph's symbolic axes the names of :class:`Graph` (``batch``, ``time``)
    instead of the tracer's ``s0``, ``s11`` (what onnxruntime reports as the input shapes)."""
    import re

    import onnx_ir as ir

    graph = program.model.graph
    for value in [*graph.inputs, *graph.outputs]:
        if value.shape is None:
            continue
        dims = []
        for d in value.shape:
            if isinstance(d, ir.SymbolicDim) and d.value is not None:
                text = re.sub(r"\bs\d+\b", lambda m: names.get(m.group(0), m.group(0)), d.value)
                dims.append(ir.SymbolicDim(text))
            else:
                dims.append(d)
        value.shape = ir.Shape(dims)


def _describe(name: str, t: Tensor, axes: dict[int, str]) -> dict[str, Any]:
    return {"name": name, "dtype": str(t.dtype).removeprefix("torch."),
            "shape": [axes.get(i, int(s)) for i, s in enumerate(t.shape)]}


def shape_names(ep: torch.export.ExportedProgram, graph: Graph) -> dict[str, str]:
    """symbol -> axis name, from the program's placeholders for the graph's inputs."""
    names: dict[str, str] = {}
    user_inputs = [n for n in ep.graph.nodes if n.op == "placeholder"][-len(graph.input_names):]
    for node, inp in zip(user_inputs, graph.input_names):
        val = node.meta.get("val")
        for axis, dim in graph.dynamic.get(inp, {}).items():
            if val is not None:
                names[str(val.shape[axis])] = dim
    return names


def _describe_outputs(ep, graph: Graph) -> list[dict[str, Any]]:
    import re

    names = shape_names(ep, graph)
    out_node = next(n for n in ep.graph.nodes if n.op == "output")
    described = []
    for name, node in zip(graph.output_names, out_node.args[0]):
        val = node.meta.get("val")
        shape = []
        for s in val.shape:
            text = str(s)
            if text.lstrip("-").isdigit():
                shape.append(int(text))
            else:
                shape.append(re.sub(r"\bs\d+\b", lambda m: names.get(m.group(0), m.group(0)), text))
        described.append({"name": name, "dtype": str(val.dtype).removeprefix("torch."), "shape": shape})
    return described


def export_plan(plan: Plan, fmt: str, out_dir: Path, run_dir: Path | None = None) -> Path:
    """Export every graph of ``plan`` into ``out_dir`` and write its ``export.json``; returns
    ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    graphs = {g.name: export_graph(g, fmt, graph_file(out_dir, g.name, fmt)) for g in plan.graphs}
    for name, obj in plan.files.items():
        obj.save(out_dir / name)
    manifest = {
        "format": fmt,
        "app": plan.app,
        "run": str(run_dir) if run_dir is not None else None,
        "torch": torch.__version__,
        "graphs": graphs,
        "preprocessing": plan.preprocessing,
        "notes": plan.notes,
    }
    if fmt == "onnx":
        manifest["opset"] = OPSET
    tmp = out_dir / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(out_dir / MANIFEST)
    return out_dir
