"""The run folder's pictures and ``report.md``: piano rolls, histograms, the NLL table.

Pictures use matplotlib's Agg backend (no display needed) and are written atomically.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rnnkit.apps.music.events import REST, TICKS_PER_QUARTER, Event, pitch_name
from rnnkit.apps.music.metrics import MAX_INTERVAL
from rnnkit.train import atomic_write_bytes, atomic_write_json, atomic_write_text

__all__ = ["nll_table", "plot_histograms", "plot_piano_roll", "write_report"]

_PC_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    atomic_write_bytes(path, buf.getvalue())


def plot_piano_roll(rows: Sequence[tuple[str, Sequence[Event], Sequence[Event]]], path: str | Path) -> Path:
    """One panel per ``(title, primer, continuation)``: notes as bars (time in quarters, MIDI
    pitch), the primer in grey and the continuation in blue; a dashed line where the model took
    over."""
    plt = _pyplot()
    fig, axes = plt.subplots(len(rows), 1, figsize=(11, 2.4 * len(rows)), squeeze=False)
    for ax, (title, prime, cont) in zip(axes[:, 0], rows):
        now = 0.0
        pitches = []
        for part, color in ((prime, "0.55"), (cont, "tab:blue")):
            for p, t in part:
                q = t / TICKS_PER_QUARTER
                if p != REST:
                    ax.add_patch(plt.Rectangle((now, p - 0.4), q, 0.8, color=color, ec="black", lw=0.3))
                    pitches.append(p)
                now += q
            if part is prime and cont:
                ax.axvline(now, color="tab:red", ls="--", lw=0.8)
        lo, hi = (min(pitches), max(pitches)) if pitches else (60, 72)
        ax.set_xlim(0, max(now, 1))
        ax.set_ylim(lo - 2, hi + 2)
        ticks = [p for p in range(lo - 1, hi + 2) if p % 12 in (0, 7)]
        ax.set_yticks(ticks, [pitch_name(p) for p in ticks])
        ax.set_xlabel("quarter notes")
        ax.set_title(title, fontsize=9)
        ax.grid(axis="x", lw=0.3)
    fig.tight_layout()
    path = Path(path)
    _save(fig, path)
    return path


def plot_histograms(hists: dict[str, dict[str, np.ndarray]], path: str | Path) -> Path:
    """Grouped bars: ``hists[source]["pitch_class" | "interval"]`` for each source."""
    plt = _pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 3.8))
    n = len(hists)
    width = 0.8 / n
    for k, (label, h) in enumerate(hists.items()):
        a.bar(np.arange(12) + (k - (n - 1) / 2) * width, h["pitch_class"], width, label=label)
        b.bar(np.arange(-MAX_INTERVAL, MAX_INTERVAL + 1) + (k - (n - 1) / 2) * width, h["interval"], width, label=label)
    a.set_xticks(range(12), _PC_NAMES)
    a.set_title("pitch classes (share of notes)")
    b.set_xticks(range(-MAX_INTERVAL, MAX_INTERVAL + 1, 2))
    b.set_title(f"melodic intervals in semitones (clipped to ±{MAX_INTERVAL})")
    a.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    _save(fig, path)
    return path


def nll_table(result: dict) -> list[str]:
    """Markdown rows: held-out NLL per event of the LSTM and the two baselines."""
    rows = ["| model | NLL per event (nats) | pitch part | duration part | perplexity |", "|---|---|---|---|---|"]
    for key, label in (("lstm", result["model_label"]), ("bigram", "bigram (interpolated, same run)"),
                       ("unigram", "unigram (same run)")):
        r = result["nll"][key]
        rows.append(f"| {label} | {r['nll']:.3f} | {r['pitch']:.3f} | {r['duration']:.3f} | {np.exp(r['nll']):.2f} |")
    return rows


def write_report(run_dir: Path, result: dict) -> None:
    """``report.json`` (everything) and ``report.md`` (tables, pictures, files, command)."""
    atomic_write_json(run_dir / "report.json", result)
    nll, d, gen = result["nll"], result["data"], result["generation"]
    beat = nll["lstm"]["nll"] < nll["bigram"]["nll"]
    keys = "transposed to C major / A minor" if d["transpose"] else "original keys"
    data = (f"Data: {d['source']}; {d['pieces']} melodies ({keys}); split by tune, seed {d['seed']}: "
            f"{d['train']}/{d['val']}/{d['test']} train/val/test pieces, {nll['lstm']['events']:,} held-out "
            "predicted events (N events + END per piece).")
    vocab = (f"Vocabulary: {d['codec']}. Held-out events outside it: {d['unknown']['unknown_pitch']} pitches, "
             f"{d['unknown']['unknown_duration']} durations (scored as UNK by every model). "
             f"Dropped while reading: {d['dropped'] or 'nothing'}.")
    bi, uni = result["baselines"]["bigram"], result["baselines"]["unigram"]
    goal = (f"Goal (LSTM below the bigram): {'met' if beat else 'NOT met'} ({nll['lstm']['nll']:.3f} vs "
            f"{nll['bigram']['nll']:.3f} nats per event). Smoothing chosen on validation: bigram "
            f"a={bi['alpha']}, l={bi['lambda']}; unigram a={uni['alpha']}.")
    how = (f"Each held-out piece primed with its first {gen['prime_events']} events and continued "
           f"{gen.get('repeats', 1)} times by each model, for as many events as it has (or until END); "
           f"{gen['decoding']}. Total variation distance to the held-out continuations (0 = same histogram):")
    floor = ("(`training melodies` is a reference floor: how far real melodies of other tunes are from the "
             "held-out ones.)")
    lines = ["# Music composition report", "", data, vocab, "", "## Held-out negative log-likelihood", "",
             *nll_table(result), "", goal, "", "## Generated music against held-out music", "", how, "",
             "| source | pitch-class TV | interval TV | events |", "|---|---|---|---|"]
    for name, r in result["histograms"].items():
        lines.append(f"| {name} | {r['pitch_class_tv']:.3f} | {r['interval_tv']:.3f} | {r['events']:,} |")
    lines += ["", floor, "", "![histograms](histograms.png)", "", "## Samples", "", "![piano roll](pianoroll.png)", ""]
    for s in result["samples"]:
        lines.append(f"- `{s['midi']}` ({s['title']}): primer `{s['prime']}`, then {s['events']} events")
    if d.get("skipped"):
        lines += ["", f"## Skipped files ({len(d['skipped'])})", ""]
        lines += [f"- {path}: {reason}" for path, reason in d["skipped"]]
    model = (f"Model: {result['parameters']:,} parameters, {result['epochs']} epochs (best validation epoch "
             f"restored). Command: `{result['command']}`")
    lines += ["", model, ""]
    atomic_write_text(run_dir / "report.md", "\n".join(lines))
