"""Error rates (jiwer), the run's report (``report.md`` / ``report.json``) and its figure.

Word error rate over a set of utterances is ``WER = (S + D + I) / N``: substitutions, deletions
and insertions of the minimum edit alignment of each hypothesis to its reference, summed over
the set, over the N reference words; CER is the same over characters (spaces included). Both
are computed by jiwer on the whole set at once (not averaged per utterance).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rnnkit.train import atomic_path, atomic_write_json, atomic_write_text

__all__ = ["error_rates", "plot_log_mel", "rates_by", "write_report"]


def error_rates(refs: Sequence[str], hyps: Sequence[str]) -> dict:
    """``{"wer", "cer", "utterances", "words", "sentence_error"}`` over the set (jiwer)."""
    import jiwer

    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    if not refs:
        raise ValueError("no utterances to score")
    words = jiwer.process_words(list(refs), list(hyps))
    chars = jiwer.process_characters(list(refs), list(hyps))
    return {"wer": float(words.wer), "cer": float(chars.cer), "utterances": len(refs),
            "words": int(sum(len(r.split()) for r in refs)),
            "sentence_error": float(np.mean([r != h for r, h in zip(refs, hyps)]))}


def rates_by(keys: Sequence[str], refs: Sequence[str], hyps: Sequence[str]) -> dict[str, dict]:
    """Error rates of each group of utterances sharing a key (e.g. an accent), sorted by key."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        groups[k].append(i)
    return {k: error_rates([refs[i] for i in idx], [hyps[i] for i in idx]) for k, idx in sorted(groups.items())}


def plot_log_mel(path: Path, features: np.ndarray, log_probs: np.ndarray, symbols: Sequence[str], reference: str,
                 hypothesis: str, title: str = "") -> Path:
    """Two panels: the log-mel features ``(T, F)`` and the CTC posteriors ``(T', V)`` under them,
    titled with the reference and the hypothesis. Written atomically as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(2, 1, figsize=(10, 6), sharex=False, gridspec_kw={"height_ratios": [3, 2]})
    a.imshow(features.T, origin="lower", aspect="auto", cmap="magma", interpolation="nearest")
    a.set_ylabel("mel band")
    a.set_xlabel("frame (10 ms)")
    a.set_title(f"{title}\nreference: {reference!r}\nhypothesis: {hypothesis!r}", fontsize=9, loc="left")
    b.imshow(np.exp(log_probs).T, origin="lower", aspect="auto", cmap="Greys", interpolation="nearest", vmin=0, vmax=1)
    b.set_yticks(range(len(symbols)))
    b.set_yticklabels(["_" if s == "<blank>" else ("sp" if s == " " else s) for s in symbols], fontsize=5)
    b.set_ylabel("CTC posterior")
    b.set_xlabel("output frame")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return path


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def write_report(run_dir: Path, result: dict) -> None:
    """``report.json`` (everything) and ``report.md`` (the tables) in ``run_dir``."""
    atomic_write_json(run_dir / "report.json", result)
    data = result["data"]
    lines = ["# Speech recognition report", "",
             f"Data: {data['source']}. Train / validation / test utterances: "
             f"{data['train']} / {data['val']} / {data['test']}; "
             + (f"speakers {data['train_speakers']} / {data['val_speakers']} / {data['test_speakers']}, "
                "the test speakers never heard in training." if data["by_speaker"]
                else "split by utterance (no speaker column), so test voices may be heard in training."), "",
             f"Model: {result['model']} ({result['parameters']:,} parameters), {result['epochs']} epochs.", "",
             "## Held-out test set", "", "| decoding | WER | CER | sentence error | utterances |", "|---|---|---|---|---|"]
    for name, r in result["test"].items():
        lines.append(f"| {name} | {_pct(r['wer'])} | {_pct(r['cer'])} | {_pct(r['sentence_error'])} | {r['utterances']} |")
    if result.get("by_group"):
        lines += ["", f"## Test WER by {result['group_name']} (greedy)", "", "| group | WER | CER | utterances |",
                  "|---|---|---|---|"]
        lines += [f"| {k} | {_pct(r['wer'])} | {_pct(r['cer'])} | {r['utterances']} |" for k, r in result["by_group"].items()]
    lines += ["", "## Examples (test, greedy)", "", "| speaker | reference | hypothesis |", "|---|---|---|"]
    lines += [f"| {e['speaker']} | {e['reference']} | {e['hypothesis']} |" for e in result["examples"]]
    real = result.get("real_speech")
    if real:
        lines += ["", "## Real recordings (pocketsphinx-testdata)", "",
                  (f"A model trained on synthetic speech only, on {real['utterances']} real clips: "
                   f"WER {_pct(real['wer'])}, CER {_pct(real['cer'])} (greedy)."), "",
                  "| clip | reference | hypothesis |", "|---|---|---|"]
        lines += [f"| {e['file']} | {e['reference']} | {e['hypothesis']} |" for e in real["clips"]]
    skipped = result.get("skipped", {})
    lines += ["", "## Skipped utterances", ""]
    if not any(skipped.values()):
        lines.append("None.")
    for split, items in skipped.items():
        if items:
            lines.append(f"- {split}: {len(items)} skipped")
            lines += [f"  - {reason}" for _, reason in items[:10]]
            if len(items) > 10:
                lines.append(f"  - ... and {len(items) - 10} more (all listed in report.json)")
    lines += ["", "![log-mel features and CTC posteriors of a test utterance](logmel.png)", ""]
    atomic_write_text(run_dir / "report.md", "\n".join(lines))
