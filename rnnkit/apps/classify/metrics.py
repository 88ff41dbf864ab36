"""Classification metrics from a confusion matrix, and its picture.

With ``C[i, j]`` = number of examples of true class i predicted as j (K classes)::

    accuracy    = sum_i C[i, i] / sum C
    precision_k = C[k, k] / sum_i C[i, k]      recall_k = C[k, k] / sum_j C[k, j]
    F1_k        = 2 P_k R_k / (P_k + R_k)      (0 when P_k + R_k = 0)
    macro F1    = mean_k F1_k                  every class counts the same, however rare

Classes that never occur and are never predicted are left out of the macro mean (as
scikit-learn does when they are absent from ``labels``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["classification_metrics", "confusion_matrix", "plot_confusion"]


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    """``(K, K)`` int64 counts; rows are true classes, columns predictions."""
    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {t.shape} vs {p.shape}")
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.size and (a.min() < 0 or a.max() >= num_classes):
            raise ValueError(f"{name} holds class ids outside [0, {num_classes})")
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int], names: Sequence[str]) -> dict:
    """accuracy, macro_f1, per-class precision/recall/f1/support and the confusion matrix (lists)."""
    cm = confusion_matrix(y_true, y_pred, len(names))
    if cm.sum() == 0:
        raise ValueError("no examples to score")
    tp = np.diag(cm).astype(float)
    pred, true = cm.sum(0).astype(float), cm.sum(1).astype(float)
    precision = np.divide(tp, pred, out=np.zeros_like(tp), where=pred > 0)
    recall = np.divide(tp, true, out=np.zeros_like(tp), where=true > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    present = (true + pred) > 0
    return {
        "accuracy": float(tp.sum() / cm.sum()),
        "macro_f1": float(f1[present].mean()),
        "per_class": {str(n): {"precision": float(precision[k]), "recall": float(recall[k]), "f1": float(f1[k]),
                               "support": int(true[k])} for k, n in enumerate(names)},
        "confusion": cm.tolist(),
        "n": int(cm.sum()),
    }


def plot_confusion(cm: Sequence[Sequence[int]], names: Sequence[str], path: Path, title: str) -> None:
    """A heatmap of the counts with each cell's count and its share of the true class (row)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnkit.train import atomic_path

    cm = np.asarray(cm)
    k = len(names)
    rows = cm.sum(1, keepdims=True).clip(min=1)
    fig, ax = plt.subplots(figsize=(1.2 * k + 2.5, 1.1 * k + 2))
    im = ax.imshow(cm / rows, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            share = cm[i, j] / rows[i, 0]
            ax.text(j, i, f"{cm[i, j]}\n{share:.0%}", ha="center", va="center",
                    color="white" if share > 0.6 else "black", fontsize=9)
    ax.set_xticks(range(k), names, rotation=45 if k > 3 else 0, ha="right" if k > 3 else "center")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.046, label="share of the true class")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
