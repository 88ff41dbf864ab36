"""The baseline computed in every run, on the same split: TF-IDF features + logistic regression.

Features: word uni- or uni+bi-grams (scikit-learn's default token pattern, lower-cased),
``tf = 1 + log(count)`` (sublinear), idf-weighted, rows L2-normalised, fitted on the training split.
Model: L2-regularised logistic regression: liblinear for two classes (an order of magnitude
faster there than lbfgs on sparse n-grams), multinomial lbfgs for more. The n-gram range and the inverse
regularisation strength C are chosen on the validation split, exactly as the RNN's settings and
epoch are, so neither side gets the test split's help and the baseline gets a fair best shot.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

__all__ = ["C_GRID", "NGRAMS", "tfidf_logreg"]

C_GRID = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
NGRAMS = ((1, 1), (1, 2))
_INSTALL = "pip install scikit-learn  (or: pip install 'rnnkit[language]')"


def tfidf_logreg(train_texts: Sequence[str], train_y: Sequence[int], val_texts: Sequence[str],
                 val_y: Sequence[int], test_texts: Sequence[str], seed: int = 0) -> dict:
    """Fit on train, pick (n-grams, C) by validation accuracy, predict test.

    Returns ``{"test_pred": [...], "val_accuracy", "ngram_range", "C", "seconds"}``.
    """
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError as err:
        raise ImportError(f"the TF-IDF baseline needs scikit-learn: {_INSTALL}") from err
    import numpy as np

    start = time.perf_counter()
    val_y = np.asarray(val_y)
    solver = "liblinear" if len(set(train_y)) <= 2 else "lbfgs"
    best = None
    for ngram in NGRAMS:
        vec = TfidfVectorizer(ngram_range=ngram, sublinear_tf=True, lowercase=True)
        x_train = vec.fit_transform(train_texts)
        x_val = vec.transform(val_texts)
        for c in C_GRID:
            clf = LogisticRegression(C=c, solver=solver, max_iter=2000, random_state=seed).fit(x_train, train_y)
            acc = float((clf.predict(x_val) == val_y).mean()) if len(val_y) else 0.0
            if best is None or acc > best[0]:  # ties keep the simpler (earlier) setting
                best = (acc, ngram, c, vec, clf)
    acc, ngram, c, vec, clf = best
    return {
        "test_pred": clf.predict(vec.transform(test_texts)).tolist(),
        "val_accuracy": acc,
        "ngram_range": list(ngram),
        "C": c,
        "solver": solver,
        "seconds": time.perf_counter() - start,
    }
