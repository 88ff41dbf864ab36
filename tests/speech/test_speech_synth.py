"""The built-in espeak-ng corpus: reproducible from its seed, speakers balanced, noise at its SNR."""

import hashlib
import shutil

import numpy as np
import pytest
import soundfile as sf

from rnnkit.apps.speech.synth import (
    COMMAND_WORDS,
    DIGIT_WORDS,
    SynthConfig,
    coloured_noise,
    finish_audio,
    plan_corpus,
    synthesize_corpus,
)

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed: apt-get install -y espeak-ng")


def _digest(folder):
    files = sorted(folder.rglob("*.wav")) + [folder / "transcripts.tsv"]
    return {f.relative_to(folder).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


@needs_espeak
def test_same_seed_gives_identical_files_other_seed_differs(tmp_path):
    cfg = SynthConfig(utterances=6, seed=11, workers=2)
    quiet = {"echo": lambda *_: None, "progress": lambda *_: None}
    a = synthesize_corpus(cfg, tmp_path / "a", **quiet)
    b = synthesize_corpus(SynthConfig(utterances=6, seed=11, workers=1), tmp_path / "b", **quiet)
    assert a.name == b.name  # workers do not change the corpus
    da, db = _digest(a), _digest(b)
    assert len(da) == 7 and da == db
    c = synthesize_corpus(SynthConfig(utterances=6, seed=12), tmp_path / "a", **quiet)
    assert c != a and _digest(c) != da
    # a second call finds the cached corpus and writes nothing
    mtime = (a / "transcripts.tsv").stat().st_mtime_ns
    assert synthesize_corpus(cfg, tmp_path / "a", **quiet) == a
    assert (a / "transcripts.tsv").stat().st_mtime_ns == mtime
    y, sr = sf.read(a / "wavs" / "00000.wav")
    assert sr == 16000 and 0.3 < y.size / sr < 8 and np.abs(y).max() <= 1.0
    assert not list(tmp_path.glob("a/.*"))  # no temporary folder left behind


def test_plan_is_seeded_balanced_over_speakers_and_in_vocabulary():
    cfg = SynthConfig(utterances=480, seed=3)
    plans = plan_corpus(cfg)
    assert plans == plan_corpus(SynthConfig(utterances=480, seed=3))
    assert plans != plan_corpus(SynthConfig(utterances=480, seed=4))
    counts = np.unique([p.speaker for p in plans], return_counts=True)[1]
    assert len(counts) == len(cfg.accents) * len(cfg.variants) and counts.min() == counts.max() == 2
    words = {w for p in plans for w in p.text.split()}
    assert words <= set(DIGIT_WORDS) | {"oh"} and {"oh", "zero"} <= words
    assert all(1 <= len(p.text.split()) <= 7 for p in plans)
    assert all(cfg.speed_wpm[0] <= p.speed <= cfg.speed_wpm[1] for p in plans)
    noisy = np.mean([p.noise != "none" for p in plans])
    assert 0.8 < noisy < 0.97
    wplans = plan_corpus(SynthConfig(corpus="words", utterances=50))
    assert {w for p in wplans for w in p.text.split()} <= set(COMMAND_WORDS)
    assert max(len(p.text.split()) for p in wplans) <= 4


def test_noise_is_added_at_the_planned_snr():
    cfg = SynthConfig(utterances=40, seed=0)
    rng = np.random.default_rng(0)
    speech = np.sin(np.linspace(0, 400, 16000)) * rng.uniform(0.2, 1.0, 16000)
    for plan in [p for p in plan_corpus(cfg) if p.noise != "none"][:6]:
        noisy = finish_audio(speech, plan, cfg).astype(np.float64)
        clean = finish_audio(speech, _without_noise(plan), cfg).astype(np.float64)
        snr = 10 * np.log10(np.mean(clean ** 2) / np.mean((noisy - clean) ** 2))
        assert snr == pytest.approx(plan.snr_db, abs=0.2)  # float32 rounding and rare clipping


def _without_noise(plan):
    import dataclasses

    return dataclasses.replace(plan, noise="none")


@pytest.mark.parametrize("kind,slope", [("white", 0.0), ("pink", -1.0), ("brown", -2.0)])
def test_coloured_noise_has_its_spectral_slope(kind, slope):
    n = 2 ** 16
    x = coloured_noise(np.random.default_rng(0), n, kind)
    assert np.sqrt(np.mean(x ** 2)) == pytest.approx(1.0)
    power = np.abs(np.fft.rfft(x)) ** 2
    f = np.arange(power.size)
    band = (f > 30) & (f < n // 4)
    fitted = np.polyfit(np.log(f[band]), np.log(power[band]), 1)[0]
    assert fitted == pytest.approx(slope, abs=0.1)
