"""Where rnnkit keeps derived data (parsed corpora, synthesised speech): outside the repository.

Every pipeline that derives data puts it under one root, so a user moves all of it with one
variable: ``$RNNKIT_CACHE_DIR`` when set and non-empty, else ``~/.cache/rnnkit``. Each pipeline
uses its own subfolder (``bible/``, ``speech/``, ``music/``) and rebuilds it reproducibly from a
seed when it is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_root"]


def cache_root() -> Path:
    """``$RNNKIT_CACHE_DIR`` or ``~/.cache/rnnkit`` (read at each call, so tests can redirect it)."""
    return Path(os.environ.get("RNNKIT_CACHE_DIR") or Path.home() / ".cache" / "rnnkit")
