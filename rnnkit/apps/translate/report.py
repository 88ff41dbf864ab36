"""Scores and report files of a translation run: sacreBLEU BLEU and chrF, a table, attention heatmaps.

BLEU and chrF are corpus-level, computed by sacrebleu on detokenised text with its default
settings (BLEU: 13a tokenisation, case-sensitive; chrF: character 6-grams, beta 2), one
reference per sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rnnkit.train import atomic_write_json, atomic_write_text

__all__ = ["plot_attention", "score", "summary_lines", "write_report"]


def score(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Corpus BLEU and chrF (0-100) of ``hypotheses`` against one reference each."""
    import sacrebleu

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    return {"bleu": float(sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score),
            "chrf": float(sacrebleu.corpus_chrf(list(hypotheses), [list(references)]).score)}


def _table(result: dict) -> list[str]:
    lines = ["| system (test split) | BLEU | chrF |", "|---|---|---|"]
    for name, label in (("beam", f"rnnkit seq2seq, beam {result['search']['beam_size']}"),
                        ("greedy", "rnnkit seq2seq, greedy"),
                        ("dictionary", "word-by-word dictionary (IBM model 1)"),
                        ("copy", "copy the source")):
        s = result["scores"][name]
        lines.append(f"| {label} | {s['bleu']:.2f} | {s['chrf']:.2f} |")
    return lines


def summary_lines(result: dict) -> list[str]:
    d = result["data"]
    lines = [f"test split: {d['test']} pairs; train {d['train']}, validation {d['val']}"] + _table(result)
    s = result["scores"]
    lines.append(f"beam beats greedy: {s['beam']['bleu'] > s['greedy']['bleu']}; model (beam) beats both "
                 f"baselines: {s['beam']['bleu'] > max(s['dictionary']['bleu'], s['copy']['bleu'])}")
    return lines


def write_report(run_dir: Path, result: dict, examples: Sequence[dict]) -> None:
    """``report.json`` (everything) and ``report.md`` (table, data, examples) in ``run_dir``."""
    atomic_write_json(run_dir / "report.json", result)
    d = result["data"]
    lines = ["# Translation report", "", *_table(result), "",
             (f"Data: {d['origin']}; pairs with at most {d['max_words'] or 'any number of'} words per side; "
              f"train/validation/test {d['train']}/{d['val']}/{d['test']}; skipped while reading: "
              f"{d['skipped'] or 'none'}."),
             f"Vocabulary: {result['vocab']}.",
             (f"Model: {result['parameters']:,} parameters, {result['epochs']} epochs, "
              f"{result['train_seconds']:.0f} s of training ({result['train_cpu_seconds']:.0f} s of CPU time, "
              f"{result['threads']} torch thread(s)); best validation loss {result['best_val_loss']:.3f}."),
             f"Decoding: {result['search']}.", "", "## Examples (test split)", ""]
    for ex in examples:
        lines += [f"- source: {ex['source']}", f"  - reference: {ex['reference']}",
                  f"  - beam: {ex['beam']}", f"  - greedy: {ex['greedy']}", f"  - dictionary: {ex['dictionary']}"]
    lines += ["", "Attention of the beam hypotheses: attention.png", ""]
    atomic_write_text(run_dir / "report.md", "\n".join(lines))


def plot_attention(path: Path, items: Sequence[dict]) -> Path | None:
    """One heatmap per item ``{"source": [pieces], "target": [pieces], "weights": (n, S) array}``.

    Rows are output pieces (EOS last when the hypothesis ended with it), columns source pieces;
    each row sums to one.
    """
    if not items:
        return None
    for it in items:
        if tuple(it["weights"].shape) != (len(it["target"]), len(it["source"])):
            raise ValueError(f"attention weights {tuple(it['weights'].shape)} do not match "
                             f"{len(it['target'])} output x {len(it['source'])} source pieces")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    widths = [max(3.0, 0.32 * len(it["source"]) + 1.5) for it in items]
    height = max(max(0.3 * len(it["target"]) + 1.8 for it in items), 3.0)
    fig = Figure(figsize=(sum(widths), height))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(items), gridspec_kw={"width_ratios": widths}, squeeze=False)[0]
    for ax, it in zip(axes, items):
        ax.imshow(it["weights"], cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_xticks(range(len(it["source"])), it["source"], rotation=90, fontsize=7)
        ax.set_yticks(range(len(it["target"])), it["target"], fontsize=7)
        ax.set_xlabel("source")
    axes[0].set_ylabel("output")
    fig.subplots_adjust(wspace=0.6)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    tmp.replace(path)
    return path
