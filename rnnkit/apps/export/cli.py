"""``rnnkit export RUN --format onnx|pt2 [--out DIR]``: the run's model as a streaming graph.

Registered in rnnkit/cli.py as a subcommand::

    p = sub.add_parser("export", help="export a trained run to ONNX or a torch.export program (.pt2)")
    add_export_args(p)
    ...
    if args.command == "export":
        return export(args)
"""

from __future__ import annotations

import argparse
import json
import sys

from rnnkit.apps.export.core import FORMATS, MANIFEST

__all__ = ["add_export_args", "export"]


def add_export_args(p: argparse.ArgumentParser) -> None:
    from rnnkit.apps.export import exportable_apps

    p.add_argument("run", help="a run folder made by `rnnkit train APP`, APP one of: " + ", ".join(exportable_apps()))
    p.add_argument("--format", choices=FORMATS, default="onnx",
                   help="onnx (onnxruntime and other ONNX runtimes) or pt2 (torch.export.load); default onnx")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="folder to write the graph(s) and export.json into (default RUN/export/FORMAT)")


def export(args: argparse.Namespace) -> int:
    from rnnkit.apps.export import export_run

    try:
        out = export_run(args.run, args.format, args.out)
    except (ValueError, FileNotFoundError) as err:
        print(f"rnnkit export: {err}", file=sys.stderr)
        return 2
    manifest = json.loads((out / MANIFEST).read_text("utf-8"))
    for name, g in manifest["graphs"].items():
        ins = ", ".join(f"{i['name']} {tuple(i['shape'])}" for i in g["inputs"])
        outs = ", ".join(f"{o['name']} {tuple(o['shape'])}" for o in g["outputs"])
        print(f"{out / g['file']}: {ins} -> {outs}")
    print(f"{out / MANIFEST}: inputs, outputs and preprocessing")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m rnnkit.apps.export.cli RUN --format onnx`` (until rnnkit/cli.py registers it)."""
    p = argparse.ArgumentParser(prog="rnnkit export", description=__doc__.splitlines()[0])
    add_export_args(p)
    return export(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
