"""Text classification (many-to-one): train, evaluate and predict, for any labelled text file.

Data: the built-in Rotten Tomatoes snippets (12,752 unique, fresh vs rotten) or the user's
CSV/TSV/JSONL with a text and a label column (binary or multi-class). Unless separate validation
and test files are given, one seeded stratified split (80/10/10 by default) is made; the same
``data.split_seed`` always gives the same split, so every run and the baseline see the same rows.

Pipeline: tokeniser trained on the training split (word vocabulary or sentencepiece) ->
embedding, beside each token's naive-Bayes log-count ratios (``model.lexicon_features``) ->
(bi)LSTM/GRU -> pooling (last/mean/max/attention) -> linear -> softmax over K classes; cross-entropy, AdamW, early stopping on validation accuracy, best epoch restored.
Every run also fits TF-IDF + logistic regression on the same split and reports both on the
test split: accuracy, macro F1, confusion matrices, and the attention weights over a few test
sentences.

Python API::

    from rnnkit.apps.classify import default_config, train, load_run
    cfg = default_config()                       # built-in data; or cfg.data.path = "reviews.csv"
    result = train(cfg, Path("runs/sentiment"))
    run = load_run("runs/sentiment")
    run.predict(["A triumph.", "Two hours I will never get back."])   # ['fresh', 'rotten']
    run.predict_proba([...])                     # (N, K) numpy array, columns = run.labels
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from rnnkit import config as C
from rnnkit.train.run_folder import load_model_weights, read_run_info, write_run_info
from rnnkit.apps.classify.baseline import tfidf_logreg
from rnnkit.apps.classify.batches import (
    EncodedTexts,
    classification_loss,
    collate,
    encode_texts,
)
from rnnkit.apps.classify.data import (
    BUILTIN,
    LabelledTexts,
    LabelSet,
    read_labelled,
    read_texts,
    stratified_split,
)
from rnnkit.apps.classify.metrics import classification_metrics
from rnnkit.apps.classify.model import (
    ClassifierModelConfig,
    TextClassifier,
    build_model,
    nb_log_count_ratios,
)
from rnnkit.apps.classify.report import write_report
from rnnkit.apps.classify.tokenizers import (
    TokenizerConfig,
    build_tokenizer,
    load_tokenizer,
    save_tokenizer,
)
from rnnkit.train import TrainConfig, Trainer, atomic_write_json

NAME = "classify"
LABELS_FILE = "labels.json"

__all__ = [
    "NAME",
    "PRESETS",
    "ClassifierRun",
    "ClassifyConfig",
    "ClassifyDataConfig",
    "default_config",
    "evaluate",
    "load_data",
    "load_run",
    "predict",
    "predict_file",
    "summary_lines",
    "train",
]


@dataclass
class ClassifyDataConfig:
    """builtin: corpus used when ``path`` is empty (``rotten_tomatoes``).

    path / val_path / test_path: labelled files; without val_path/test_path, ``path`` is split
    (stratified, ``split_seed``) into train/validation/test by the two fractions.
    text_column, label_column, format (``auto`` from the extension), encoding: how to read them.
    dedupe: drop repeated texts (counted) so a text never sits in two splits.
    max_len: tokens kept per text (longer ones are cut, and counted).
    """

    builtin: str = "rotten_tomatoes"
    path: str | None = None
    val_path: str | None = None
    test_path: str | None = None
    text_column: str = "text"
    label_column: str = "label"
    format: str = "auto"
    encoding: str = "utf-8"
    dedupe: bool = True
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    split_seed: int = 0
    max_len: int = 128


def _default_train() -> TrainConfig:
    return TrainConfig(epochs=15, lr=2e-3, weight_decay=0.01, grad_clip=1.0, monitor="val_acc", mode="max",
                       patience=3, batch_size=32, log_every=50)


@dataclass
class ClassifyConfig:
    data: ClassifyDataConfig = field(default_factory=ClassifyDataConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    model: ClassifierModelConfig = field(default_factory=ClassifierModelConfig)
    train: TrainConfig = field(default_factory=_default_train)
    baseline: bool = True
    attention_examples: int = 6


# `--preset NAME` applies these overrides before the user's own.
PRESETS: dict[str, list[str]] = {
    # The documented sentiment run (docs/sentiment.md): a couple of minutes on 2 CPU cores.
    "default": [],
    # Subword tokens instead of words.
    "subword": ["tokenizer.kind=subword"],
    # Seconds: tests and smoke runs.
    "tiny": ["model.embed_size=16", "model.hidden_size=16", "model.attention_size=16", "train.epochs=2",
             "train.patience=0", "train.plot_every=0", "train.tensorboard=false", "attention_examples=2"],
    # Bigger model, for a GPU or a longer CPU run.
    "large": ["model.embed_size=300", "model.hidden_size=256", "model.num_layers=2", "model.dropout=0.5",
              "model.embed_dropout=0.4", "train.epochs=30", "train.patience=5"],
}


def default_config() -> ClassifyConfig:
    return ClassifyConfig()


# ---------------------------------------------------------------------------------- data
def _read(cfg: ClassifyDataConfig, path: str) -> LabelledTexts:
    return read_labelled(path, cfg.text_column, cfg.label_column, cfg.format, cfg.encoding, dedupe=cfg.dedupe)


def load_data(cfg: ClassifyDataConfig) -> tuple[LabelledTexts, LabelledTexts, LabelledTexts, dict]:
    """(train, val, test, info): the configured data, split; info has the source and skip counts."""
    if cfg.path:
        full = _read(cfg, cfg.path)
    else:
        if cfg.builtin not in BUILTIN:
            raise ValueError(f"unknown built-in corpus {cfg.builtin!r}; available: {', '.join(BUILTIN)} "
                             f"(or give your own file with data.path / --data)")
        if cfg.val_path or cfg.test_path:
            raise ValueError("data.val_path / data.test_path need data.path (your own training file)")
        full = BUILTIN[cfg.builtin]()
    skipped = {full.source: dict(full.skipped)} if full.skipped else {}
    if not len(full):
        raise ValueError(f"{full.source}: no labelled rows ({full.skip_summary() or 'empty file'})")
    val_frac = 0.0 if cfg.val_path else cfg.val_fraction
    test_frac = 0.0 if cfg.test_path else cfg.test_fraction
    tr, va, te = stratified_split(full.labels, val_frac, test_frac, cfg.split_seed)
    train_set, val_set, test_set = full.subset(tr), full.subset(va), full.subset(te)
    for name, path in (("val", cfg.val_path), ("test", cfg.test_path)):
        if path:
            part = _read(cfg, path)
            if part.skipped:
                skipped[part.source] = dict(part.skipped)
            if name == "val":
                val_set = part
            else:
                test_set = part
    for name, part in (("validation", val_set), ("test", test_set)):
        if not len(part):
            raise ValueError(f"the {name} split is empty ({len(full)} labelled rows in {full.source}); "
                             f"give more data or a separate file (data.val_path / data.test_path)")
    info = {"source": cfg.path or cfg.builtin, "skipped": skipped, "skip_summary": full.skip_summary()}
    return train_set, val_set, test_set, info


# ---------------------------------------------------------------------------------- model + run
class ClassifierRun:
    """A trained classifier: tokeniser, label set and model, reopened from a run folder."""

    def __init__(self, cfg: ClassifyConfig, tok, labels: Sequence[str], model: TextClassifier):
        self.cfg, self.tok, self.labels, self.model = cfg, tok, list(labels), model.eval()

    def _batches(self, texts: Sequence[str], batch_size: int = 256):
        ids, _ = encode_texts(self.tok, texts, self.cfg.data.max_len)
        # Sorting by length keeps padding small; results go back to the input order.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            batch_ids, lengths, _ = collate([(ids[i], -1) for i in chunk])
            yield chunk, batch_ids, lengths

    @torch.no_grad()
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(N, K)`` class probabilities, columns in the order of ``self.labels``."""
        self.model.eval()
        device = next(self.model.parameters()).device
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        for chunk, ids, lengths in self._batches(texts):
            probs = torch.softmax(self.model(ids.to(device), lengths.to(device)).float(), dim=-1)
            out[chunk] = probs.cpu().numpy()
        return out

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self.labels[i] for i in self.predict_proba(texts).argmax(1)]

    @torch.no_grad()
    def attention(self, texts: Sequence[str]) -> list[tuple[list[str], list[float]]]:
        """Each text's tokens (as the model saw them) and their attention-pooling weights."""
        if self.model.attention is None:
            raise ValueError(f"attention weights need model.pooling=attention, this run uses {self.model.pooling!r}")
        self.model.eval()
        out = []
        for text in texts:
            ids, _ = encode_texts(self.tok, [text], self.cfg.data.max_len)
            x = torch.tensor(ids, dtype=torch.long)
            _, a = self.model(x, torch.tensor([x.shape[1]]), return_attention=True)
            pieces = self.tok.pieces(text)[:x.shape[1]] or ["<unk>"]
            out.append((pieces, a[0].tolist()))
        return out


def _attention_examples(run: ClassifierRun, test: LabelledTexts, pred: Sequence[int], probs: np.ndarray,
                        n: int) -> list[dict]:
    """Up to n short test sentences: about half the model got right, half it got wrong."""
    if n <= 0 or run.model.attention is None:
        return []
    right, wrong = [], []
    for i, (text, label) in enumerate(zip(test.texts, test.labels)):
        if 5 <= len(run.tok.encode(text)) <= 22:
            (right if run.labels[pred[i]] == label else wrong).append(i)
    pick = sorted(right[:n - min(len(wrong), n // 2)] + wrong[:n // 2])
    examples = []
    for i, (pieces, weights) in zip(pick, run.attention([test.texts[i] for i in pick])):
        examples.append({"text": test.texts[i], "pieces": pieces, "weights": weights, "true": test.labels[i],
                         "pred": run.labels[pred[i]], "prob": float(probs[i].max())})
    return examples


def _score(run: ClassifierRun, data: LabelledTexts, label_set: LabelSet) -> tuple[dict, np.ndarray]:
    y = label_set.encode(data)
    probs = run.predict_proba(data.texts)
    return classification_metrics(y, probs.argmax(1), run.labels), probs


def train(cfg: ClassifyConfig, run_dir: Path, resume: bool = False, echo=print) -> dict:
    """Train on the configured data, score the test split against the baseline, write the report."""
    start = time.perf_counter()
    run_dir = Path(run_dir)
    train_set, val_set, test_set, info = load_data(cfg.data)
    label_set = LabelSet(train_set.labels)
    if len(label_set) < 2:
        raise ValueError(f"the training split has a single label {label_set.names}: nothing to classify")
    y_train, y_val, y_test = label_set.encode(train_set), label_set.encode(val_set), label_set.encode(test_set)

    tok = build_tokenizer(cfg.tokenizer, train_set.texts)
    write_run_info(run_dir, NAME, C.to_dict(cfg))
    save_tokenizer(tok, run_dir)
    atomic_write_json(run_dir / LABELS_FILE, label_set.to_list())
    ids = {}
    truncated = 0
    for name, part in (("train", train_set), ("val", val_set), ("test", test_set)):
        ids[name], cut = encode_texts(tok, part.texts, cfg.data.max_len)
        truncated += cut
    echo(f"data: {info['source']}; train/val/test {len(train_set):,}/{len(val_set):,}/{len(test_set):,}; "
         f"labels {label_set.names}; {cfg.tokenizer.kind} vocabulary {len(tok):,}"
         + (f"; skipped {info['skip_summary']}" if info["skip_summary"] else ""))

    torch.manual_seed(cfg.train.seed)  # the initial weights, not only the training order, follow the seed
    model = build_model(cfg.model, len(tok), len(label_set), padding_idx=tok.pad_id)
    if cfg.model.lexicon_features:
        model.set_lexicon(nb_log_count_ratios(ids["train"], y_train, len(tok), len(label_set)))
    trainer = Trainer(model, classification_loss, cfg.train, run_dir=run_dir, config_dict=C.to_dict(cfg),
                      collate_fn=collate)
    trainer.fit(EncodedTexts(ids["train"], y_train), EncodedTexts(ids["val"], y_val), resume=resume)

    # Score the reloaded best checkpoint, exactly what `evaluate` and `predict` will see later.
    run = load_run(run_dir)
    test_metrics, probs = _score(run, test_set, label_set)
    val_metrics, _ = _score(run, val_set, label_set)
    majority = Counter(train_set.labels).most_common(1)[0][0]
    result = {
        "labels": label_set.to_list(),
        "data": {"source": info["source"], "train": len(train_set), "val": len(val_set), "test": len(test_set),
                 "skipped": info["skipped"], "truncated": truncated},
        "tokenizer": cfg.tokenizer.kind, "vocab_size": len(tok),
        "model_name": (f"{'bi' if cfg.model.bidirectional else ''}{cfg.model.cell.upper()} {cfg.model.hidden_size}"
                       f"{' + lexicon features' if cfg.model.lexicon_features else ''}, {cfg.model.pooling} pooling"),
        "parameters": sum(p.numel() for p in model.parameters()),
        "epochs": trainer.epoch, "best_epoch": trainer.best.best_epoch,
        "test": test_metrics, "val": val_metrics,
        "majority_label": majority,
        "majority_accuracy": sum(lab == majority for lab in test_set.labels) / len(test_set),
    }
    if cfg.baseline:
        b = tfidf_logreg(train_set.texts, y_train, val_set.texts, y_val, test_set.texts, seed=cfg.train.seed)
        result["baseline"] = {"test": classification_metrics(y_test, b.pop("test_pred"), run.labels), **b}
        result["beats_baseline"] = test_metrics["accuracy"] >= result["baseline"]["test"]["accuracy"]
    result["seconds"] = time.perf_counter() - start
    pred = probs.argmax(1)
    write_report(run_dir, result, _attention_examples(run, test_set, pred, probs, cfg.attention_examples))
    return result


def load_run(run_dir: str | Path) -> ClassifierRun:
    info = read_run_info(run_dir)
    if info["task"] != NAME:
        raise ValueError(f"{run_dir} is a {info['task']!r} run, not {NAME!r}")
    cfg = C.from_dict(ClassifyConfig, info["config"])
    tok = load_tokenizer(cfg.tokenizer, Path(run_dir))
    labels = json.loads((Path(run_dir) / LABELS_FILE).read_text(encoding="utf-8"))
    model = build_model(cfg.model, len(tok), len(labels), padding_idx=tok.pad_id)
    load_model_weights(model, run_dir)
    return ClassifierRun(cfg, tok, labels, model)


def evaluate(run_dir: str | Path, path: str | None = None) -> dict:
    """Accuracy and macro F1 of a saved run on its own test split, or on the labelled file ``path``
    (read with the run's column names; labels the run never saw are an error)."""
    run = load_run(run_dir)
    if path:
        data = read_labelled(path, run.cfg.data.text_column, run.cfg.data.label_column, "auto",
                             run.cfg.data.encoding, dedupe=False)
        if not len(data):
            raise ValueError(f"{path}: no labelled rows ({data.skip_summary() or 'empty file'})")
    else:
        _, _, data, _ = load_data(run.cfg.data)
    metrics, _ = _score(run, data, LabelSet.from_names(run.labels))
    out = {"examples": metrics["n"], "accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
           "confusion": metrics["confusion"], "labels": run.labels}
    if data.skipped:
        out["skipped"] = data.skip_summary()
    return out


def predict(run: ClassifierRun | str | Path, texts: Sequence[str]) -> list[dict]:
    """``[{"label", "prob", "probs": {label: p}}]`` for each text; ``run`` a loaded run or its folder."""
    run = run if isinstance(run, ClassifierRun) else load_run(run)
    probs = run.predict_proba(texts)
    return [{"label": run.labels[int(p.argmax())], "prob": float(p.max()),
             "probs": {lab: float(v) for lab, v in zip(run.labels, p)}} for p in probs]


def predict_file(run: ClassifierRun | str | Path, path: str) -> tuple[LabelledTexts, list[dict]]:
    """Read texts from ``path`` (``.txt`` one per line, or the text column of CSV/TSV/JSONL) and
    predict them; the returned data has each text's line and the counted skips."""
    run = run if isinstance(run, ClassifierRun) else load_run(run)
    data = read_texts(path, run.cfg.data.text_column, "auto", run.cfg.data.encoding)
    return data, predict(run, data.texts)


def summary_lines(result: dict) -> list[str]:
    t = result["test"]
    lines = [(f"test accuracy {t['accuracy']:.4f}, macro F1 {t['macro_f1']:.4f} "
              f"({result['model_name']}, best epoch {result['best_epoch']} of {result['epochs']})")]
    if result.get("baseline"):
        b = result["baseline"]["test"]
        lines.append(f"TF-IDF + logistic regression: test accuracy {b['accuracy']:.4f}, macro F1 {b['macro_f1']:.4f}"
                     f"  -> RNN {'at or above' if result['beats_baseline'] else 'BELOW'} the baseline")
    lines.append(f"majority class: {result['majority_accuracy']:.4f}; {result['seconds']:.0f} s in all")
    return lines
