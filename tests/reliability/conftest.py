"""Fixtures of the reliability suite: a small corpus and one finished run to copy."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from procs import TINY, rnnkit  # noqa: E402


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    """20,000 characters of CPython's docs: a user's own small text file."""
    from pydoc_data.topics import topics

    text = "\n".join(topics[k] for k in sorted(topics))[:20000]
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def trained(tmp_path_factory, corpus) -> Path:
    """A finished one-epoch textgen run; tests copy it rather than change it."""
    run = tmp_path_factory.mktemp("runs") / "base"
    rnnkit("train", "textgen", "--data", str(corpus), *TINY, "--run-dir", str(run))
    return run
