"""The API reference builds from the docstrings (pdoc) with no warning.

``make docs-api`` runs the same build into ``build/api``: it takes its module list from this file
(``python3 tests/test_docs_build.py`` prints it), so the test and the target cannot drift apart.

Why a module list rather than ``pdoc rnnkit``: pdoc reaches a package's submodules through its
``__all__``, and rnnkit's packages list their public names there, not their modules, so ``pdoc
rnnkit`` would write one page. Every public module is named instead, in sorted order (a package
before its modules); after a package comes ``!^package\\.``, which drops what pdoc's own walk from
that package added, so no page is added twice (pdoc warns on that). A module that cannot be
imported because an optional dependency is missing (the Triton kernels without ``triton``, the
forecast app without ``pandas``) is left out with a note on stderr, and pdoc's "Couldn't import"
about it (on the page of a package without ``__all__``, which imports all its modules) is ignored
(:data:`PDOC_WARNING_FILTER`); any other import failure stays in the list, and pdoc stops on it with
an error, so the build fails.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "rnnkit"
# the one pdoc warning ignored (python -W, also in the Makefile): see the module docstring
PDOC_WARNING_FILTER = "ignore:Couldn't import rnnkit.:UserWarning"


def public_modules() -> list[tuple[str, bool]]:
    """``(module name, is a package)`` for every public module of rnnkit, from the files (sorted,
    a package before its modules); ``__main__`` and ``_private`` modules are not documented."""
    found = []
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts):
            continue
        if not all((ROOT.joinpath(*parts[:i]) / "__init__.py").is_file() for i in range(1, len(parts))):
            continue  # not inside a package (a stray script)
        found.append((".".join(parts), is_pkg))
    return sorted(found)


def pdoc_specs(notes=sys.stderr) -> list[str]:
    """The module arguments of ``python3 -m pdoc``: see the module docstring."""
    specs: list[str] = []
    left_out: list[str] = []
    for name, is_pkg in public_modules():
        if any(name.startswith(p + ".") for p in left_out):
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # stdout is the list
                importlib.import_module(name)
        except ModuleNotFoundError as e:
            missing = (e.name or "").split(".")[0]
            if missing and missing != PACKAGE:
                print(f"docs-api: leaving out {name}: it needs {missing!r}, which is not installed",
                      file=notes)
                left_out.append(name)
                continue
        except Exception:  # noqa: BLE001 - pdoc reports it, and the build fails
            pass
        specs.append(name)
        if is_pkg:
            specs.append("!^" + re.escape(name + "."))
    return specs


def test_api_reference_builds_without_warnings(tmp_path):
    import pytest

    if importlib.util.find_spec("pdoc") is None:
        pytest.skip("pdoc is not installed (it is in the dev extra: pip install -e '.[dev]')")
    out = tmp_path / "api"
    # without the pages' source listings (``make docs-api`` writes them): pdoc warns while it reads
    # the modules, docstrings and signatures, and highlighting the source took half the test's 70 s.
    # The list and pdoc in one process (``--pdoc`` below): the modules are imported once, not twice
    # (9 s). In a fresh process, not this one: imported here, the Triton kernels would stay
    # imported without the interpreter the kernel tests of this worker set up.
    command = [sys.executable, "-W", PDOC_WARNING_FILTER, __file__, "--pdoc", "--no-show-source", "-o", str(out)]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    output = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 0, output
    warnings = [line for line in output.splitlines() if line.strip()]
    assert not warnings, "pdoc warned:\n" + "\n".join(warnings)
    for page in ("index.html", "rnnkit.html", "rnnkit/layers.html", "rnnkit/cells/convlstm.html",
                 "rnnkit/kernels/dispatch.html", "rnnkit/train/run_folder.html", "rnnkit/apps/loading.html"):
        assert (out / page).is_file(), f"{page} was not written"


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:2] == ["--pdoc"]:  # the test: pdoc's command line on the list, in this process
        from pdoc.__main__ import cli

        specs = pdoc_specs(notes=io.StringIO())  # a module left out is the list's business, not a warning
        assert "rnnkit.layers" in specs and "rnnkit.apps.loading" in specs, specs
        cli([*sys.argv[2:], *specs])
    else:
        print(" ".join(pdoc_specs()))
