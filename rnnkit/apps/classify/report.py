"""The run report: report.json, report.md, confusion matrices and attention heatmaps.

Files written in the run folder:

- ``report.json``: every figure (model and baseline, test and validation), data counts, skips.
- ``report.md``: the comparison table, per-class scores, the attention examples.
- ``confusion.png`` (the RNN) and ``confusion_baseline.png`` (TF-IDF + logistic regression).
- ``attention.png`` and ``attention.html`` (attention pooling only): the weight ``a_t`` each
  token got when the model pooled a few test sentences, one row per sentence; the HTML shades
  each token by ``a_t / max_t a_t`` and shows ``a_t`` on hover.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from rnnkit.apps.classify.metrics import plot_confusion
from rnnkit.train import atomic_path, atomic_write_json, atomic_write_text

__all__ = ["attention_html", "plot_attention", "write_report"]


def plot_attention(examples: Sequence[dict], path: Path) -> None:
    """One heatmap row per example: its tokens along x, shaded by attention weight."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    width = max(len(e["pieces"]) for e in examples)
    fig, axes = plt.subplots(len(examples), 1, figsize=(max(6.0, 0.42 * width + 1), 1.25 * len(examples) + 0.4),
                             squeeze=False)
    for ax, e in zip(axes[:, 0], examples):
        w = np.asarray(e["weights"])[None, :]
        ax.imshow(w, cmap="Reds", vmin=0, vmax=max(float(w.max()), 1e-9), aspect="auto")
        ax.set_xticks(range(len(e["pieces"])), e["pieces"], rotation=60, ha="right", fontsize=8)
        ax.set_yticks([])
        mark = "ok" if e["true"] == e["pred"] else "WRONG"
        ax.set_title(f"true {e['true']} / predicted {e['pred']} ({e['prob']:.2f}) {mark}", fontsize=8, loc="left")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def attention_html(examples: Sequence[dict]) -> str:
    """A self-contained HTML page: each token shaded by its weight relative to the sentence's max."""
    rows = []
    for e in examples:
        top = max(e["weights"]) or 1.0
        spans = "".join(
            f'<span title="{w:.3f}" style="background: rgba(220,30,30,{w / top:.2f}); padding:1px 2px">'
            f"{html.escape(p)}</span> " for p, w in zip(e["pieces"], e["weights"]))
        rows.append(f"<p><b>true {html.escape(e['true'])}, predicted {html.escape(e['pred'])} "
                    f"({e['prob']:.2f})</b><br>{spans}</p>")
    return ("<!doctype html><meta charset='utf-8'><title>attention</title>"
            "<body style='font-family: sans-serif; max-width: 60em'>"
            "<h3>Attention pooling weights over test sentences (hover a token for its weight)</h3>"
            + "\n".join(rows) + "</body>")


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def write_report(run_dir: Path, result: dict, examples: Sequence[dict]) -> None:
    run_dir = Path(run_dir)
    names = result["labels"]
    plot_confusion(result["test"]["confusion"], names, run_dir / "confusion.png",
                   f"RNN, test split: accuracy {_pct(result['test']['accuracy'])}")
    if result.get("baseline"):
        plot_confusion(result["baseline"]["test"]["confusion"], names, run_dir / "confusion_baseline.png",
                       f"TF-IDF + logistic regression, test: accuracy {_pct(result['baseline']['test']['accuracy'])}")
    if examples:
        plot_attention(examples, run_dir / "attention.png")
        atomic_write_text(run_dir / "attention.html", attention_html(examples))
    atomic_write_json(run_dir / "report.json", {**result, "attention_examples": list(examples)})

    d = result["data"]
    lines = [
        "# Text classification report", "",
        (f"Data: {d['source']}; train/validation/test {d['train']:,}/{d['val']:,}/{d['test']:,} texts; "
         f"labels {names}; tokeniser {result['tokenizer']} ({result['vocab_size']:,} ids)."),
    ]
    if d.get("skipped"):
        counts = "; ".join(f"{src}: " + ", ".join(f"{n:,} {why}" for why, n in per.items())
                           for src, per in d["skipped"].items())
        lines.append(f"Skipped while reading (counted, not lost): {counts}.")
    if d.get("truncated"):
        lines.append(f"Texts cut to data.max_len tokens: {d['truncated']}.")
    lines += ["", "| model (test split) | accuracy | macro F1 | validation accuracy |", "|---|---|---|---|",
              (f"| {result['model_name']} | {_pct(result['test']['accuracy'])} | {result['test']['macro_f1']:.4f} "
               f"| {_pct(result['val']['accuracy'])} |")]
    if result.get("baseline"):
        b = result["baseline"]
        lines.append(f"| TF-IDF {tuple(b['ngram_range'])}-grams + logistic regression (C={b['C']:g}) "
                     f"| {_pct(b['test']['accuracy'])} | {b['test']['macro_f1']:.4f} | {_pct(b['val_accuracy'])} |")
    lines.append(f"| majority class ({result['majority_label']}) | {_pct(result['majority_accuracy'])} | | |")
    if result.get("baseline"):
        verdict = "at or above" if result["beats_baseline"] else "BELOW"
        gap = result["test"]["accuracy"] - result["baseline"]["test"]["accuracy"]
        lines += ["", f"RNN test accuracy is {verdict} the TF-IDF baseline ({gap:+.2%})."]
    lines += ["", "## Per class (RNN, test)", "", "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for name, m in result["test"]["per_class"].items():
        lines.append(f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
    lines += ["", "![confusion](confusion.png)"]
    if result.get("baseline"):
        lines.append("![confusion, baseline](confusion_baseline.png)")
    if examples:
        lines += ["", "## Attention over test sentences", "",
                  ("Weights of the attention pooling (they sum to 1 over a sentence); the three largest "
                   "in bold. Heatmaps: attention.png, attention.html."), "",
                  "| true | predicted | sentence (attention weight) |", "|---|---|---|"]
        for e in examples:
            top = sorted(range(len(e["weights"])), key=lambda i: -e["weights"][i])[:3]
            words = " ".join(f"**{p}**({e['weights'][i]:.2f})" if i in top else p
                             for i, p in enumerate(e["pieces"])).replace("|", "\\|")
            lines.append(f"| {e['true']} | {e['pred']} ({e['prob']:.2f}) | {words} |")
    atomic_write_text(run_dir / "report.md", "\n".join(lines) + "\n")
