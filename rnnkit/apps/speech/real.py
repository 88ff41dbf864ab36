"""Real recordings for a smoke test: the clips of Debian's ``pocketsphinx-testdata`` package.

``/usr/share/pocketsphinx/test/data`` holds a few 16 kHz recordings with transcripts:
``cards/00[1-5].wav`` (playing cards, "five five", "eight of spades four of clubs ..."),
``librivox/*.wav`` (five read sentences of *Sense and Sensibility*), and two headerless 16 kHz
PCM clips whose transcripts are the ones pocketsphinx's own tests expect: ``goforward.raw``
("go forward ten meters") and ``tidigits/dhd.2934z.raw`` ("two nine three four zero"). A model trained on synthetic
voices is not expected to do well on them; they show that the pipeline takes real audio.
"""

from __future__ import annotations

import re
from pathlib import Path

from rnnkit.apps.speech.data import Utterance

__all__ = ["INSTALL_HINT", "POCKETSPHINX_DATA", "pocketsphinx_utterances"]

POCKETSPHINX_DATA = Path("/usr/share/pocketsphinx/test/data")
INSTALL_HINT = "apt-get install -y pocketsphinx-testdata"

_EXTRA = {"goforward.raw": "go forward ten meters", "tidigits/dhd.2934z.raw": "two nine three four zero"}


def _sphinx_transcripts(path: Path) -> dict[str, str]:
    """``<s> ten of clubs </s> (001)`` lines -> {"001": "ten of clubs"}."""
    out = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = re.match(r"\s*(.*?)\s*\(([^()]+)\)\s*$", line)
        if m:
            words = [w for w in m.group(1).split() if w.lower() not in ("<s>", "</s>")]
            out[m.group(2)] = " ".join(words).lower()
    return out


def pocketsphinx_utterances(root: Path = POCKETSPHINX_DATA) -> list[Utterance]:
    """The package's transcribed clips that exist here; an empty list when it is not installed."""
    utts = []
    for folder, tfile in (("cards", "cards.transcription"), ("librivox", "transcription")):
        tpath = root / folder / tfile
        if tpath.is_file():
            for key, text in sorted(_sphinx_transcripts(tpath).items()):
                wav = root / folder / f"{key}.wav"
                if wav.is_file():
                    utts.append(Utterance(wav, text, "", f"{folder}/{tfile}"))
    for rel, text in _EXTRA.items():
        if (root / rel).is_file():
            utts.append(Utterance(root / rel, text, "", "rnnkit.apps.speech.real"))
    return utts
