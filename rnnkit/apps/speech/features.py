"""Audio in, log-mel filterbank features out; SpecAugment masking for training.

Pipeline of one utterance (waveform ``y`` of N samples at ``sample_rate``):

1. ``load_audio``: any file libsndfile reads (WAV, FLAC, OGG, raw PCM with ``raw=True``), mixed to
   mono, resampled to ``sample_rate`` (librosa/soxr) when the file's rate differs.
2. ``log_mel``: ``M = mel_basis @ |STFT(y)|^2``, librosa's STFT (Hann window of ``n_fft``) and
   librosa's mel filterbank of ``n_mels`` triangles on ``[fmin, fmax]`` (what
   ``librosa.feature.melspectrogram(power=2)`` computes), then ``X = log(M + floor)``.
   Shape ``(T, F)`` with ``T = 1 + N // hop_length`` (centred frames) and ``F = n_mels``.
3. ``normalize_utterance``: per mel band, over the utterance's frames,
   ``X[:, f] = (X[:, f] - mean_t X[:, f]) / (std_t X[:, f] + eps)``, which removes the channel
   (microphone, loudness) and leaves what changes in time.

Features are computed by librosa, the well-kept library this module wraps; nothing is
hand-written but the normalisation and the masks, and tests compare against librosa called
directly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

__all__ = [
    "AudioError",
    "LogMelConfig",
    "SpecAugment",
    "SpecAugmentConfig",
    "load_audio",
    "log_mel",
    "normalize_utterance",
    "utterance_features",
]


class AudioError(ValueError):
    """An audio file cannot be used; the message names the file."""


@dataclass
class LogMelConfig:
    """Log-mel filterbank settings. Defaults: 25 ms windows every 10 ms at 16 kHz, 64 bands."""

    sample_rate: int = 16000
    n_fft: int = 400
    hop_length: int = 160
    n_mels: int = 64
    fmin: float = 20.0
    fmax: float = 7600.0
    log_floor: float = 1e-6
    normalize: bool = True

    def __post_init__(self) -> None:
        if self.sample_rate <= 0 or self.n_fft <= 0 or self.hop_length <= 0 or self.n_mels <= 0:
            raise ValueError(f"LogMelConfig: sizes must be positive, got {self}")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise ValueError(f"LogMelConfig: need 0 <= fmin < fmax <= sample_rate/2, got fmin={self.fmin}, "
                             f"fmax={self.fmax}, sample_rate={self.sample_rate}")


def load_audio(path: str | Path, sample_rate: int, raw: bool = False) -> np.ndarray:
    """Mono float32 waveform in [-1, 1] at ``sample_rate``.

    ``raw=True`` reads headerless 16-bit little-endian mono PCM at ``sample_rate`` (the ``.raw``
    files of pocketsphinx's test data). Raises :class:`AudioError` naming the file when it is
    missing, unreadable, empty or silent-length (fewer samples than one 25 ms window).
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such audio file")
    try:
        if raw:
            y, sr = sf.read(str(path), samplerate=sample_rate, channels=1, subtype="PCM_16",
                            format="RAW", endian="LITTLE", dtype="float32", always_2d=True)
        else:
            y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, TypeError, ValueError, OSError) as err:  # LibsndfileError is a RuntimeError
        raise AudioError(f"{path}: cannot read audio ({type(err).__name__}: {err})") from None
    y = y.mean(axis=1)  # (N, channels) -> mono
    if sr != sample_rate:
        import librosa

        y = librosa.resample(y, orig_sr=sr, target_sr=sample_rate, res_type="soxr_hq")
    if y.size < sample_rate // 40:
        raise AudioError(f"{path}: audio too short ({y.size} samples at {sample_rate} Hz)")
    if not np.isfinite(y).all():
        raise AudioError(f"{path}: audio holds NaN or infinite samples")
    return np.ascontiguousarray(y, dtype=np.float32)


@functools.lru_cache(maxsize=8)
def _mel_basis(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)


def log_mel(y: np.ndarray, cfg: LogMelConfig) -> np.ndarray:
    """``(N,)`` waveform -> ``(T, n_mels)`` float32 log-mel energies, ``log(mel power + floor)``.

    The two steps of ``librosa.feature.melspectrogram(power=2)``, ``|librosa.stft(y)|^2`` and the
    ``librosa.filters.mel`` basis, called separately so the basis is built once per setting
    rather than per utterance (building it costs ~20x the STFT of a short clip). The product is
    ``np.einsum`` without ``optimize``, a single-threaded C loop: on a busy machine the spinning
    threads of OpenBLAS (``@``, and librosa's own product) or torch made this small product
    10-100x slower than the STFT.
    """
    import librosa

    power = np.abs(librosa.stft(y, n_fft=cfg.n_fft, hop_length=cfg.hop_length)) ** 2  # (1 + n_fft/2, T)
    basis = _mel_basis(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax)  # (n_mels, 1 + n_fft/2)
    mel = np.einsum("mf,ft->tm", basis, power.astype(basis.dtype, copy=False))  # (T, n_mels)
    return np.log(mel + cfg.log_floor).astype(np.float32)


def normalize_utterance(x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Per-band mean/variance normalisation over the utterance's frames: ``(T, F) -> (T, F)``."""
    mean = x.mean(axis=0, keepdims=True)
    std = x.std(axis=0, keepdims=True)
    return ((x - mean) / (std + eps)).astype(np.float32)


def utterance_features(y: np.ndarray, cfg: LogMelConfig) -> Tensor:
    """Waveform -> the model's input ``(T, F)``: log-mel, then per-utterance normalisation."""
    x = log_mel(y, cfg)
    if cfg.normalize:
        x = normalize_utterance(x)
    return torch.from_numpy(x)


# ---------------------------------------------------------------------------------- SpecAugment
@dataclass
class SpecAugmentConfig:
    """SpecAugment-style masks (Park et al., 2019), without time warping.

    freq_masks masks of up to ``freq_width`` bands, and time_masks masks of up to
    ``time_width`` frames, each capped at ``max_time_fraction`` of the utterance so short
    utterances keep most of their frames. Masked values become 0, the mean after normalisation.
    """

    enabled: bool = False
    freq_masks: int = 2
    freq_width: int = 10
    time_masks: int = 2
    time_width: int = 20
    max_time_fraction: float = 0.15


class SpecAugment(nn.Module):
    """Masks random bands and frame spans of ``x (B, T, F)`` in training mode; identity in eval.

    Each utterance gets its own masks, drawn from torch's global RNG (which the trainer seeds), and
    time masks fall inside each utterance's own length.
    """

    def __init__(self, cfg: SpecAugmentConfig) -> None:
        super().__init__()
        self.cfg = cfg

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        cfg = self.cfg
        if not (self.training and cfg.enabled):
            return x
        B, T, F = x.shape
        keep = torch.ones(B, T, F, dtype=torch.bool, device=x.device)
        frames = torch.arange(T, device=x.device)
        bands = torch.arange(F, device=x.device)
        for _ in range(cfg.freq_masks):
            width = torch.randint(0, cfg.freq_width + 1, (B, 1), device=x.device)
            start = (torch.rand(B, 1, device=x.device) * (F - width + 1)).long()
            band = (bands >= start) & (bands < start + width)  # (B, F)
            keep &= ~band[:, None, :]
        cap = (lengths.to(x.device).float() * cfg.max_time_fraction).long().clamp(max=cfg.time_width)
        for _ in range(cfg.time_masks):
            width = (torch.rand(B, device=x.device) * (cap + 1).float()).long()[:, None]
            start = (torch.rand(B, 1, device=x.device) * (lengths.to(x.device)[:, None] - width + 1).float()).long()
            span = (frames >= start) & (frames < start + width)  # (B, T)
            keep &= ~span[:, :, None]
        return x * keep.to(x.dtype)
