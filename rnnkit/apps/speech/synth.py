"""The built-in corpora: digit strings and a small word vocabulary spoken by Debian's espeak-ng.

A *speaker* is an English accent of espeak-ng (``en``, ``en-us``, ``en-gb-scotland``, ...) with a
voice variant (``+m3``, ``+f2``, ``+klatt2``, ...): 8 accents x 30 variants = 240 speakers. Every
utterance also draws its own speed (words per minute), pitch, gap between words, leading and
trailing silence, level, and a background noise (white, pink or brown) at a random SNR:

    y = g * s / max|s| + n,   n = noise scaled so that 10 log10(P_s / P_n) = SNR dB

where ``P_s`` is the mean power of the padded speech and ``g`` the level. Utterances go round-robin
over a seeded shuffle of the speakers, so every speaker has about the same number; the split into
train / validation / test is by speaker (see :func:`rnnkit.apps.speech.data.split_by_speaker`), so the
test voices are never heard in training.

Reproducible: the plan (texts, voices, settings) is drawn from ``seed`` up front, each utterance's
noise from ``(seed, index)``, and espeak-ng itself is deterministic, so the same config and
espeak-ng version give byte-identical WAV files in any thread order. A corpus is generated once,
in parallel subprocesses, into ``$RNNKIT_CACHE_DIR/speech/<name>`` (default ``~/.cache/rnnkit``):
``wavs/NNNNN.wav`` (16-bit PCM) and ``transcripts.tsv`` (``file<TAB>transcript<TAB>speaker``),
the same format a user's own folder uses.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from rnnkit.data.cache import cache_root as rnnkit_cache_root
from rnnkit.train.atomic import new_temporary

__all__ = [
    "ACCENTS",
    "COMMAND_WORDS",
    "DIGIT_WORDS",
    "INSTALL_HINT",
    "VARIANTS",
    "SynthConfig",
    "cache_root",
    "espeak_version",
    "plan_corpus",
    "require_espeak",
    "synthesize_corpus",
]

INSTALL_HINT = "apt-get install -y espeak-ng"
GENERATOR_VERSION = 1  # bump when the audio recipe changes, so old caches are not reused

# espeak-ng 1.51's English accents (``espeak-ng --voices=en``, the non-mbrola ones).
ACCENTS = ("en", "en-us", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029",
           "en-us-nyc")
# Voice variants (``espeak-ng-data/voices/!v``): the classic male/female ones, the Klatt
# synthesiser's, and named voices with other formants and breathiness. Whispered, croaking and
# robotic variants are left out: they are not what a digit recogniser meets.
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2",
            "klatt3", "adam", "anika", "aunty", "belinda", "david", "ed", "edward", "grandma", "grandpa",
            "john", "linda", "max", "paul", "quincy", "steph")

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# A small command vocabulary, in the spirit of the Speech Commands set.
COMMAND_WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "forward",
                 "backward", "follow", "learn", "bed", "bird", "cat", "dog", "happy", "house", "tree",
                 "wow", "red", "green", "blue", "black", "white", "open", "close", "start", "play",
                 "pause", "next", "back", "light", "music", "call", "home", "water", "visual")

NOISES = ("white", "pink", "brown")


@dataclass
class SynthConfig:
    """What to synthesise. Ranges are inclusive ``(low, high)``; ``max_words=0`` takes the
    corpus's own (7 digits, 4 words)."""

    corpus: Literal["digits", "words"] = "digits"
    utterances: int = 3000
    seed: int = 0
    sample_rate: int = 16000
    min_words: int = 1
    max_words: int = 0
    oh_fraction: float = 0.5  # share of zeros spoken "oh" rather than "zero" (digits)
    speed_wpm: tuple[int, int] = (130, 200)
    pitch: tuple[int, int] = (20, 80)
    word_gap: tuple[int, int] = (0, 2)  # espeak-ng -g, in 10 ms units
    silence_s: tuple[float, float] = (0.05, 0.3)
    level: tuple[float, float] = (0.2, 0.9)
    snr_db: tuple[float, float] = (10.0, 30.0)
    clean_fraction: float = 0.1
    accents: tuple[str, ...] = ACCENTS
    variants: tuple[str, ...] = VARIANTS
    workers: int = 0  # parallel espeak-ng processes (0 = CPU count)

    def __post_init__(self) -> None:
        if self.utterances < 1:
            raise ValueError(f"SynthConfig.utterances must be >= 1, got {self.utterances}")
        if not self.accents or not self.variants:
            raise ValueError("SynthConfig needs at least one accent and one variant")
        if not 1 <= self.min_words <= self.words_max:
            raise ValueError(f"SynthConfig: need 1 <= min_words <= max_words, got {self.min_words}, {self.words_max}")

    @property
    def words_max(self) -> int:
        return self.max_words or (7 if self.corpus == "digits" else 4)

    def identity(self) -> dict:
        """Everything that changes the audio (not ``workers``), with the generator's versions."""
        d = dataclasses.asdict(self)
        d.pop("workers")
        d["generator_version"] = GENERATOR_VERSION
        d["espeak_ng"] = espeak_version()
        return d

    def cache_name(self) -> str:
        digest = hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:10]
        return f"{self.corpus}-n{self.utterances}-seed{self.seed}-{digest}"


@dataclass
class UtterancePlan:
    index: int
    text: str
    accent: str
    variant: str
    speed: int
    pitch: int
    gap: int
    lead_s: float
    trail_s: float
    level: float
    noise: str  # "none" | one of NOISES
    snr_db: float

    @property
    def speaker(self) -> str:
        return f"{self.accent}+{self.variant}"

    @property
    def file(self) -> str:
        return f"wavs/{self.index:05d}.wav"


def cache_root() -> Path:
    """``$RNNKIT_CACHE_DIR/speech`` or ``~/.cache/rnnkit/speech``."""
    return rnnkit_cache_root() / "speech"


def espeak_version() -> str | None:
    """espeak-ng's version line, or None when it is not installed."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False).stdout
    return out.split("Data at")[0].strip() or "unknown"


def require_espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise FileNotFoundError(
            f"the built-in speech corpus is synthesised with espeak-ng, which is not installed: run "
            f"`{INSTALL_HINT}` (Debian/Ubuntu), or train on your own folder with data.path=DIR")
    return exe


# ---------------------------------------------------------------------------------- the plan
def _text(rng: np.random.Generator, cfg: SynthConfig) -> str:
    n = int(rng.integers(cfg.min_words, cfg.words_max + 1))
    if cfg.corpus == "digits":
        digits = rng.integers(0, 10, size=n)
        ohs = rng.random(n) < cfg.oh_fraction
        return " ".join("oh" if d == 0 and oh else DIGIT_WORDS[d] for d, oh in zip(digits, ohs))
    return " ".join(COMMAND_WORDS[i] for i in rng.integers(0, len(COMMAND_WORDS), size=n))


def plan_corpus(cfg: SynthConfig) -> list[UtterancePlan]:
    """Every utterance's text, voice and settings, drawn from ``cfg.seed`` alone."""
    rng = np.random.default_rng(cfg.seed)
    speakers = [(a, v) for a in cfg.accents for v in cfg.variants]
    order = rng.permutation(len(speakers))
    plans = []
    for i in range(cfg.utterances):
        accent, variant = speakers[order[i % len(speakers)]]
        noisy = rng.random() >= cfg.clean_fraction
        plans.append(UtterancePlan(
            index=i, text=_text(rng, cfg), accent=accent, variant=variant,
            speed=int(rng.integers(cfg.speed_wpm[0], cfg.speed_wpm[1] + 1)),
            pitch=int(rng.integers(cfg.pitch[0], cfg.pitch[1] + 1)),
            gap=int(rng.integers(cfg.word_gap[0], cfg.word_gap[1] + 1)),
            lead_s=float(rng.uniform(*cfg.silence_s)), trail_s=float(rng.uniform(*cfg.silence_s)),
            level=float(rng.uniform(*cfg.level)),
            noise=str(NOISES[rng.integers(len(NOISES))]) if noisy else "none",
            snr_db=float(rng.uniform(*cfg.snr_db)),
        ))
    return plans


# ---------------------------------------------------------------------------------- the audio
def coloured_noise(rng: np.random.Generator, n: int, kind: str) -> np.ndarray:
    """Unit-RMS noise of ``n`` samples with power spectrum ~ 1/f^alpha (white 0, pink 1, brown 2)."""
    alpha = {"white": 0.0, "pink": 1.0, "brown": 2.0}[kind]
    if not alpha:
        white = rng.standard_normal(n)
    else:
        from scipy.fft import irfft, next_fast_len, rfft

        m = next_fast_len(n, real=True)  # an FFT of a prime length is slow: shape a longer draw
        spec = rfft(rng.standard_normal(m))
        f = np.arange(spec.size, dtype=np.float64)
        f[0] = 1.0
        white = irfft(spec / f ** (alpha / 2), m)[:n]
    return white / (np.sqrt(np.mean(white ** 2)) + 1e-12)


def finish_audio(speech: np.ndarray, plan: UtterancePlan, cfg: SynthConfig) -> np.ndarray:
    """Pad with silence, set the level, add the planned noise; float32 in [-1, 1]."""
    rng = np.random.default_rng([cfg.seed, plan.index])
    sr = cfg.sample_rate
    s = np.concatenate([np.zeros(int(plan.lead_s * sr)), speech.astype(np.float64), np.zeros(int(plan.trail_s * sr))])
    s = plan.level * s / (np.abs(s).max() + 1e-12)
    if plan.noise != "none":
        power = np.mean(s ** 2)
        s = s + coloured_noise(rng, s.size, plan.noise) * np.sqrt(power / 10 ** (plan.snr_db / 10))
    return np.clip(s, -1.0, 1.0).astype(np.float32)


def _synthesize_one(exe: str, plan: UtterancePlan, cfg: SynthConfig, out_dir: Path) -> None:
    import soundfile as sf
    import soxr  # librosa's own resampler, called directly: librosa.resample adds import time

    raw = out_dir / f"{plan.file}.espeak.wav"
    cmd = [exe, "-v", plan.speaker, "-s", str(plan.speed), "-p", str(plan.pitch), "-g", str(plan.gap),
           "-w", str(raw), plan.text]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not raw.is_file():
        raise RuntimeError(f"espeak-ng failed on {plan.text!r} with voice {plan.speaker}: {done.stderr.strip()}")
    speech, sr = sf.read(str(raw), dtype="float32")
    raw.unlink()
    if sr != cfg.sample_rate:
        speech = soxr.resample(speech, sr, cfg.sample_rate, quality="HQ")
    sf.write(str(out_dir / plan.file), finish_audio(speech, plan, cfg), cfg.sample_rate, subtype="PCM_16")


def synthesize_corpus(cfg: SynthConfig, root: str | Path | None = None, *,
                      progress: Callable[[int, int], None] | None = None, echo=print) -> Path:
    """The corpus folder for ``cfg``, generated on first use; later calls return the cached one.

    ``root`` overrides the cache folder (the corpus goes in ``root/<cache_name>``). The folder is
    built under a temporary name and renamed when complete, so an interrupted run leaves no
    half-made corpus behind. ``progress(done, total)`` is called as utterances finish.
    """
    exe = require_espeak()
    base = Path(root) if root is not None else cache_root()
    final = base / cfg.cache_name()
    if (final / "transcripts.tsv").is_file():
        return final
    base.mkdir(parents=True, exist_ok=True)
    plans = plan_corpus(cfg)
    tmp = Path(new_temporary(base, prefix=f".{final.name}.", directory=True)[0])  # 0755 as mkdir, not 0700
    try:
        (tmp / "wavs").mkdir()
        workers = cfg.workers or os.cpu_count() or 1
        echo(f"synthesising {len(plans)} utterances with espeak-ng ({workers} processes) into {final}")
        bar = _progress_bar(len(plans), progress)
        # Threads are enough: each one mostly waits on its espeak-ng subprocess; soxr and
        # libsndfile release the GIL while they work.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(lambda p: _synthesize_one(exe, p, cfg, tmp), plans):
                bar()
        lines = ["# file\ttranscript\tspeaker"] + [f"{p.file}\t{p.text}\t{p.speaker}" for p in plans]
        (tmp / "transcripts.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (tmp / "spec.json").write_text(json.dumps(
            {**cfg.identity(), "plans": [dataclasses.asdict(p) for p in plans]}, indent=1), encoding="utf-8")
        try:
            os.replace(tmp, final)
        except OSError:  # another process finished the same corpus first: keep theirs
            if not (final / "transcripts.tsv").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def _progress_bar(total: int, progress: Callable[[int, int], None] | None):
    """A tick function: calls ``progress`` when given, else advances a tqdm bar on stderr."""
    if progress is not None:
        count = [0]

        def tick() -> None:
            count[0] += 1
            progress(count[0], total)
        return tick
    import sys

    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc="espeak-ng", unit="utt", file=sys.stderr, dynamic_ncols=True)

    def tick() -> None:
        bar.update(1)
        if bar.n >= total:
            bar.close()
    return tick
