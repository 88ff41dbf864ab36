"""Shared fixtures: a few chorales parsed once per session into a private cache folder."""

from __future__ import annotations

import pytest

# Three chorales, each with a different layout: a plain SATB file, one whose first parts are
# horns (the soprano is found by name), and a humdrum file whose parts have no names.
LAYOUTS = ["bach/bwv269", "bach/bwv250", "bach/bwv277"]
#: The chorales the tiny pipeline tests read (the first ones of the Riemenschneider order).
FIRST = 10


@pytest.fixture(scope="session")
def cache_root(tmp_path_factory):
    """A private ``$RNNKIT_CACHE_DIR`` holding the parsed chorales of these tests."""
    from rnnkit.apps.music.data import load_chorales

    root = tmp_path_factory.mktemp("rnnkit-cache")
    load_chorales(limit=FIRST, cache_dir=root / "music", progress=False)
    load_chorales(names=LAYOUTS, cache_dir=root / "music", progress=False)
    return root


@pytest.fixture(scope="session")
def chorales(cache_root):
    """The first FIRST chorales as a MelodyCorpus (read back from the session cache)."""
    from rnnkit.apps.music.data import load_chorales

    return load_chorales(limit=FIRST, cache_dir=cache_root / "music", progress=False)
