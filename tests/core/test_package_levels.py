"""Levels do not reach upward: no module under rnnkit/kernels imports rnnkit.layers (the masks and
the sequence reversal the kernels use live in rnnkit.functional)."""

import ast
from pathlib import Path

import rnnkit

PACKAGE = Path(rnnkit.__file__).parent


def _imports(path: Path) -> list[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = parts[:-1]  # a module's package; for __init__.py the package itself
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names.append(prefix)
            names += [f"{prefix}.{a.name}" for a in node.names]
    return names


def test_no_kernel_module_imports_layers():
    files = sorted((PACKAGE / "kernels").rglob("*.py"))
    assert len(files) > 10
    offenders = [(str(f.relative_to(PACKAGE)), name) for f in files for name in _imports(f)
                 if name == "rnnkit.layers" or name.startswith("rnnkit.layers.")]
    assert offenders == []


def test_the_check_sees_relative_and_plain_imports(monkeypatch):
    """The parser itself: both spellings of a forbidden import are found."""
    fake = PACKAGE / "kernels" / "_probe_for_test.py"
    source = "from ..layers import Recurrent\nimport rnnkit.layers.scan\nfrom rnnkit import layers\n"
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: source)
    names = _imports(fake)
    assert "rnnkit.layers" in names and "rnnkit.layers.scan" in names and "rnnkit.layers.Recurrent" in names


def _offenders(folder: str, forbidden: tuple[str, ...]) -> list[tuple[str, str]]:
    target = PACKAGE / folder
    files = sorted(target.rglob("*.py")) if target.is_dir() else [target.with_suffix(".py")]
    return [(str(f.relative_to(PACKAGE)), name) for f in files for name in _imports(f)
            if any(name == x or name.startswith(x + ".") for x in forbidden)]


def test_cells_know_no_sequences_and_functional_knows_no_modules():
    assert _offenders("cells", ("rnnkit.layers", "rnnkit.models", "rnnkit.kernels")) == []
    assert _offenders("functional", ("rnnkit.cells", "rnnkit.layers", "rnnkit.models")) == []


def test_the_library_never_imports_an_app():
    """rnnkit.apps may use the library; no level of the library may use an app (rnnkit/__init__.py's
    lazy ``load`` is the package's user-facing door, inside a function)."""
    for folder in ("functional", "cells", "layers", "kernels", "models", "data", "train", "config", "decoding"):
        assert _offenders(folder, ("rnnkit.apps", "rnnkit.cli")) == [], folder


def test_the_trainer_knows_no_app_and_no_model():
    assert _offenders("train", ("rnnkit.apps", "rnnkit.models", "rnnkit.layers")) == []


def test_the_top_level_help_imports_no_apps_heavy_libraries():
    """``rnnkit --help`` (a new user's first command) builds every app's part of the parser, importing
    each app's cli module; the forecasting package's names are found lazily, so that costs no
    pandas, pyarrow or statsforecast import (about a second of its 5-6 s). Checked in a fresh
    interpreter; the names still resolve."""
    import subprocess
    import sys

    probe = ("import sys\nfrom rnnkit.cli import _parser\n_parser(['--help'])\n"
             "print(sorted(m for m in ('pandas', 'pyarrow', 'statsforecast', 'statsmodels') if m in sys.modules))\n"
             "import rnnkit.apps.forecast as f\n"
             "print(f.train.__module__, f.mase.__module__, 'pandas' in sys.modules, len(set(f.__all__) - set(dir(f))))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["[]", "rnnkit.apps.forecast.pipeline rnnkit.apps.forecast.metrics True 0"]
