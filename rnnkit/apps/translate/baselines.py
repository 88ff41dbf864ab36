"""Baselines a translation model must beat, learnt from the same training pairs in the same run.

Copy: the hypothesis is the source sentence itself (names, numbers and punctuation still match).

Word-by-word dictionary: IBM Model 1 (Brown et al. 1993) learns word translation probabilities
t(f | e) from sentence pairs alone, by EM over all alignments of each target word f_j to a source
word e_i or to NULL (e_0)::

    E-step   p(a_j = i | e, f) = t(f_j | e_i) / sum_{i'=0..m} t(f_j | e_i')
    M-step   t(f | e) = sum over pairs and positions of p(a_j = i) [f_j = f][e_i = e]
                        / the same sum over all f

Words are lower-cased runs of letters/digits (with inner apostrophes) and single punctuation
marks. Translation replaces each source word by its most probable target word
``argmax_f t(f | e)``, keeps the source word order, copies words never seen in training, and
restores an initial capital. The EM runs vectorised in numpy over every co-occurring (e, f) pair.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = ["WordDictionary", "copy_baseline", "detokenize", "words"]

_WORDS = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
_NO_SPACE_BEFORE = re.compile(r" ([.,;:!?)\]}»])")
_NO_SPACE_AFTER = re.compile(r"([¿¡(\[{«]) ")
NULL = "<null>"


def words(text: str) -> list[str]:
    return _WORDS.findall(text)


def detokenize(tokens: Sequence[str]) -> str:
    """Join words with spaces, then attach punctuation to its neighbour."""
    return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", " ".join(tokens)))


def copy_baseline(sources: Sequence[str]) -> list[str]:
    return list(sources)


class WordDictionary:
    """A source word -> target word table learnt with IBM Model 1; see the module docstring."""

    def __init__(self, table: dict[str, str]):
        self.table = dict(table)

    @classmethod
    def learn(cls, sources: Sequence[str], targets: Sequence[str], iterations: int = 5) -> WordDictionary:
        if len(sources) != len(targets) or not sources:
            raise ValueError("need the same, non-zero number of sources and targets")
        e_ids: dict[str, int] = {NULL: 0}
        f_ids: dict[str, int] = {}
        e_rows, f_rows = [], []
        for s, t in zip(sources, targets):
            e_rows.append(np.array([0] + [e_ids.setdefault(w, len(e_ids)) for w in words(s.lower())], dtype=np.int64))
            f_rows.append(np.array([f_ids.setdefault(w, len(f_ids)) for w in words(t.lower())], dtype=np.int64))
        Vf = max(len(f_ids), 1)
        # One entry per (target position j, source position i) of every pair.
        e_all = np.concatenate([np.tile(e, len(f)) for e, f in zip(e_rows, f_rows)])
        f_all = np.concatenate([np.repeat(f, len(e)) for e, f in zip(e_rows, f_rows)])
        sizes = np.concatenate([np.full(len(f), len(e)) for e, f in zip(e_rows, f_rows)]).astype(np.int64)
        group = np.repeat(np.arange(len(sizes)), sizes)  # which target position each entry belongs to
        pairs, pid = np.unique(e_all * Vf + f_all, return_inverse=True)
        del e_all, f_all
        e_of = pairs // Vf
        t = np.ones(len(pairs))  # uniform start: t(f | e) constant over co-occurring f
        for _ in range(iterations):
            q = t[pid]
            post = q / np.bincount(group, weights=q)[group]
            count = np.bincount(pid, weights=post, minlength=len(pairs))
            t = count / np.bincount(e_of, weights=count, minlength=len(e_ids))[e_of]
        order = np.lexsort((-t, e_of))  # by e, then by decreasing t(f | e)
        first = order[np.r_[True, e_of[order][1:] != e_of[order][:-1]]]
        e_words, f_words = list(e_ids), list(f_ids)
        return cls({e_words[int(pairs[k] // Vf)]: f_words[int(pairs[k] % Vf)] for k in first if e_of[k] != 0})

    def translate_words(self, text: str) -> list[str]:
        out = []
        for w in words(text):
            f = self.table.get(w.lower(), w)
            out.append(f[:1].upper() + f[1:] if w[:1].isupper() and f[:1].islower() else f)
        return out

    def translate(self, sentences: Sequence[str]) -> list[str]:
        return [detokenize(self.translate_words(s)) for s in sentences]
