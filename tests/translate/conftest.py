"""Shares tests/translate/_s2skit.py as the ``kit`` fixture.

The suite runs with ``--import-mode=importlib``, which does not put test folders on sys.path, so
the helper module is loaded by path.
"""

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("rnnkit_tests_s2skit", Path(__file__).with_name("_s2skit.py"))
_kit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_kit)


@pytest.fixture
def kit():
    return _kit
