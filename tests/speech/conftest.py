"""Shared fixtures of the speech tests: a tiny espeak-ng corpus and a tiny trained run.

Tests that synthesise speech skip, naming the install command, only where espeak-ng is absent.
"""

import os
import shutil
from pathlib import Path

import pytest

ESPEAK_MISSING = shutil.which("espeak-ng") is None


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory):
    """A private RNNKIT_CACHE_DIR for the session, so tests never touch the user's cache."""
    root = tmp_path_factory.mktemp("rnnkit_cache")
    old = os.environ.get("RNNKIT_CACHE_DIR")
    os.environ["RNNKIT_CACHE_DIR"] = str(root)
    yield root
    if old is None:
        os.environ.pop("RNNKIT_CACHE_DIR", None)
    else:
        os.environ["RNNKIT_CACHE_DIR"] = old


def _tiny_config(*extra: str):
    from rnnkit import config as C
    from rnnkit.apps.speech import pipeline as sp

    cfg = C.apply_overrides(sp.default_config(), sp.PRESETS["tiny"])
    return C.apply_overrides(cfg, ["train.progress=false", *extra])


@pytest.fixture(scope="session")
def tiny_config():
    """``tiny_config(*overrides)``: the tiny preset, quiet, with extra overrides."""
    return _tiny_config


@pytest.fixture(scope="session")
def tiny_corpus(speech_cache) -> Path:
    """The tiny preset's digit corpus (48 utterances), synthesised once per session."""
    if ESPEAK_MISSING:
        pytest.skip("espeak-ng is not installed: apt-get install -y espeak-ng")
    from rnnkit.apps.speech.synth import synthesize_corpus

    return synthesize_corpus(_tiny_config().synth, echo=lambda *_: None, progress=lambda *_: None)


@pytest.fixture(scope="session")
def tiny_run(tiny_corpus, tmp_path_factory):
    """(run folder, result) of the tiny preset trained for 4 epochs."""
    import torch

    from rnnkit.apps.speech import pipeline as sp

    torch.manual_seed(0)
    run_dir = tmp_path_factory.mktemp("speech_run")
    cfg = _tiny_config("train.epochs=4", "train.lr=3e-3")
    result = sp.train(cfg, run_dir, echo=lambda *_: None)
    return run_dir, result
