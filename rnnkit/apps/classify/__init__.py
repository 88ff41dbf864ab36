"""Text classification (many-to-one): sentiment analysis and any labelled-text task.

Modules: ``data`` (CSV/TSV/JSONL reading with counted skips and clear errors, the built-in
Rotten Tomatoes snippets, seeded stratified splits), ``tokenizers`` (word vocabulary or
sentencepiece), ``model`` (ManyToOne with dropout), ``batches``, ``metrics`` (accuracy, macro F1,
confusion matrix), ``baseline`` (TF-IDF + logistic regression), ``report``, ``pipeline``
(train / evaluate / predict). The CLI is ``rnnkit classify``; see docs/sentiment.md.
"""

from rnnkit.apps.classify.data import (
    LabelledTexts,
    load_rotten_tomatoes,
    read_labelled,
    read_texts,
)
from rnnkit.apps.classify.pipeline import (
    NAME,
    PRESETS,
    ClassifierRun,
    ClassifyConfig,
    ClassifyDataConfig,
    default_config,
    evaluate,
    load_data,
    load_run,
    predict,
    predict_file,
    summary_lines,
    train,
)

__all__ = ["NAME", "PRESETS", "ClassifierRun", "ClassifyConfig", "ClassifyDataConfig", "LabelledTexts",
           "default_config", "evaluate", "load_data", "load_rotten_tomatoes", "load_run", "predict",
           "predict_file", "read_labelled", "read_texts", "summary_lines", "train"]
