"""One cache root for every pipeline that derives data: $RNNKIT_CACHE_DIR or ~/.cache/rnnkit."""

from pathlib import Path

from rnnkit.data.cache import cache_root
from rnnkit.apps.music import data as music_data
from rnnkit.apps.speech import synth
from rnnkit.apps.translate import data as translation_data


def test_env_var_moves_every_pipeline(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNKIT_CACHE_DIR", str(tmp_path))
    assert cache_root() == tmp_path
    assert music_data.cache_root() == tmp_path
    assert translation_data.cache_root() == tmp_path
    assert synth.cache_root() == tmp_path / "speech"


def test_default_is_home_cache(monkeypatch):
    monkeypatch.delenv("RNNKIT_CACHE_DIR", raising=False)
    assert cache_root() == Path.home() / ".cache" / "rnnkit"
    monkeypatch.setenv("RNNKIT_CACHE_DIR", "")  # empty counts as unset
    assert cache_root() == Path.home() / ".cache" / "rnnkit"
