"""Features against librosa called directly; loading, normalisation, SpecAugment."""

import numpy as np
import pytest
import soundfile as sf
import torch

from rnnkit.apps.speech.features import (
    AudioError,
    LogMelConfig,
    SpecAugment,
    SpecAugmentConfig,
    load_audio,
    log_mel,
    normalize_utterance,
    utterance_features,
)

librosa = pytest.importorskip("librosa", reason="pip install librosa")


def _signal(sr=16000, seconds=1.3, seed=0):
    """A chirp plus a 1 kHz tone and a little noise: energy that moves across the bands."""
    t = np.arange(int(sr * seconds)) / sr
    rng = np.random.default_rng(seed)
    y = 0.3 * np.sin(2 * np.pi * (200 * t + 1500 * t ** 2)) + 0.2 * np.sin(2 * np.pi * 1000 * t)
    return (y + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.mark.parametrize("cfg", [LogMelConfig(), LogMelConfig(n_mels=40, n_fft=512, hop_length=128, fmin=0, fmax=8000)])
def test_log_mel_equals_librosa_called_directly(cfg):
    y = _signal()
    ours = log_mel(y, cfg)
    theirs = np.log(librosa.feature.melspectrogram(
        y=y, sr=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop_length, n_mels=cfg.n_mels,
        fmin=cfg.fmin, fmax=cfg.fmax, power=2.0) + cfg.log_floor).T
    assert ours.shape == (1 + y.size // cfg.hop_length, cfg.n_mels)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-5)


def test_a_tone_lands_in_the_mel_band_of_its_frequency():
    cfg = LogMelConfig()
    t = np.arange(16000) / 16000
    x = log_mel((0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), cfg)
    # Band centres: n_mels + 2 points from fmin to fmax; band k peaks at centre k + 1.
    centres = librosa.mel_frequencies(cfg.n_mels + 2, fmin=cfg.fmin, fmax=cfg.fmax)[1:-1]
    assert abs(centres[x[20:-20].mean(0).argmax()] - 1000) < 60


def test_normalisation_gives_zero_mean_unit_variance_per_band():
    x = log_mel(_signal(), LogMelConfig())
    z = normalize_utterance(x)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-3)
    # the same utterance 20 dB louder gives the same features (the gain is removed), where the
    # energies are far above the log floor
    quiet = LogMelConfig(log_floor=1e-12)
    np.testing.assert_allclose(normalize_utterance(log_mel(10 * _signal(), quiet)),
                               normalize_utterance(log_mel(_signal(), quiet)), atol=2e-3)
    assert torch.equal(utterance_features(_signal(), LogMelConfig()), torch.from_numpy(z))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # librosa.load imports audioread's aifc/sunau
def test_load_audio_mixes_to_mono_and_resamples_like_librosa_load(tmp_path):
    y = _signal(sr=22050)
    stereo = np.stack([y, 0.5 * y], axis=1)
    path = tmp_path / "stereo.wav"
    sf.write(path, stereo, 22050, subtype="FLOAT")
    ours = load_audio(path, 16000)
    theirs, sr = librosa.load(path, sr=16000, mono=True)
    assert sr == 16000 and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_raw_pcm_reads_like_the_same_samples_in_a_wav(tmp_path):
    y = (_signal() * 32767).astype("<i2")
    (tmp_path / "a.raw").write_bytes(y.tobytes())
    sf.write(tmp_path / "a.wav", y, 16000, subtype="PCM_16")
    np.testing.assert_array_equal(load_audio(tmp_path / "a.raw", 16000, raw=True), load_audio(tmp_path / "a.wav", 16000))


def test_bad_audio_files_raise_naming_the_file(tmp_path):
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")
    with pytest.raises(AudioError, match="corrupt.wav: cannot read audio"):
        load_audio(corrupt, 16000)
    with pytest.raises(AudioError, match="missing.wav: no such audio file"):
        load_audio(tmp_path / "missing.wav", 16000)
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(100, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match="short.wav: audio too short"):
        load_audio(short, 16000)


def test_config_rejects_fmax_above_nyquist():
    with pytest.raises(ValueError, match="fmax"):
        LogMelConfig(sample_rate=8000, fmax=7600)


def test_spec_augment_masks_within_lengths_only_in_training():
    cfg = SpecAugmentConfig(enabled=True, freq_masks=2, freq_width=8, time_masks=2, time_width=10)
    aug = SpecAugment(cfg)
    x = torch.randn(4, 120, 64) + 5.0  # no natural zeros
    lengths = torch.tensor([120, 90, 40, 7])
    valid = torch.arange(120)[None, :] < lengths[:, None]
    x = x * valid[..., None]
    aug.eval()
    assert torch.equal(aug(x, lengths), x)
    aug.train()
    torch.manual_seed(3)
    y = aug(x, lengths)
    masked = (y == 0) & valid[..., None]
    assert masked.any()
    for b, n in enumerate(lengths.tolist()):
        frames = masked[b, :n].all(dim=1)  # whole frames zeroed = time masks
        bands = masked[b, :n].all(dim=0)  # whole bands zeroed = frequency masks
        assert int(frames.sum()) <= 2 * min(cfg.time_width, int(n * cfg.max_time_fraction))
        assert int(bands.sum()) <= 2 * cfg.freq_width
        # every masked value lies in a masked frame or band; the rest is untouched
        assert torch.equal(masked[b, :n], frames[:, None] | bands[None, :])
        assert torch.equal(y[b, :n][~masked[b, :n]], x[b, :n][~masked[b, :n]])
    torch.manual_seed(3)
    assert torch.equal(aug(x, lengths), y)  # drawn from torch's seeded RNG
    assert torch.equal(SpecAugment(SpecAugmentConfig(enabled=False)).train()(x, lengths), x)
