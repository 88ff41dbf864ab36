"""Shares tests/train/_trainkit.py as the ``kit`` fixture.

The suite runs with ``--import-mode=importlib``, which does not put test folders on sys.path, so
the helper module is loaded by path. The DDP worker script imports it directly (its own folder
is sys.path[0] when it runs as a script).
"""

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("rnnkit_tests_trainkit", Path(__file__).with_name("_trainkit.py"))
_kit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_kit)


@pytest.fixture
def kit():
    return _kit
