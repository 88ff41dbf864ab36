"""classify: ``POST /api/{run}/predict`` with ``{"texts": [...]}`` (or ``{"text": "..."}``) gives
each text's label, probabilities, and a weight per word for the page to highlight.

The weights are the model's own attention-pooling weights when the run uses
``model.pooling=attention`` (the default: :class:`rnnkit.apps.classify.model.TextClassifier`
returns them with ``return_attention=True``); for the other poolings the server computes
occlusion importance instead: how much the predicted label's probability drops when that one
word is left out (clipped at 0, scaled to sum to 1). ``explanation`` in the answer says which.

Requests that arrive together are scored in one padded forward pass (with lengths, so a text's
answer does not depend on what it was batched with).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional

import torch
from fastapi import HTTPException, Request
from pydantic import Field, model_validator

from .base import Service, StrictModel

CHUNK = 256  # texts per forward pass


class ClassifyRequest(StrictModel):
    texts: Optional[list[str]] = Field(None, min_length=1, description="texts to classify")
    text: Optional[str] = Field(None, description="one text (instead of texts)")
    explain: bool = Field(True, description="also return a weight per word")

    example: ClassVar[dict] = {"texts": ["a moving, beautiful film"]}

    @model_validator(mode="after")
    def _one_of(self):
        if (self.texts is None) == (self.text is None):
            raise ValueError("give either 'text' (one string) or 'texts' (a list of strings)")
        return self

    def all_texts(self) -> list[str]:
        return self.texts if self.texts is not None else [self.text]


@dataclass
class _Item:
    texts: list[str]
    explain: bool


class ClassifyService(Service):
    app_name = "classify"
    page = "classify"

    def __init__(self, *args):
        super().__init__(*args)
        self.model, self.tok = self.run.model, self.run.preprocessing["tokenizer"]
        self.labels = list(self.run.preprocessing["labels"])
        self.max_len = self.run.config.data.max_len
        self.explanation = "attention" if self.model.attention is not None else "occlusion"
        self.batch = self.batcher(self._run_batch)

    def info(self) -> dict:
        return {**super().info(), "labels": self.labels, "explanation": self.explanation,
                "pooling": self.model.pooling, "max_tokens": self.max_len}

    async def predict(self, request: Request):
        req = await self.read_json(request, ClassifyRequest)
        texts, s = req.all_texts(), self.settings
        if len(texts) > s.max_texts:
            raise HTTPException(422, f"texts: {len(texts)} texts; the limit is {s.max_texts} (rnnkit serve --max-texts)")
        for i, t in enumerate(texts):
            if len(t) > s.max_text_chars:
                raise HTTPException(422, f"texts.{i}: {len(t):,} characters; the limit is {s.max_text_chars:,} "
                                         "(rnnkit serve --max-text-chars)")
            if not t.strip():
                raise HTTPException(422, f"texts.{i}: the text is empty")
        preds = await self.batch.submit(_Item(texts, req.explain))
        return {"predictions": preds, "labels": self.labels, "explanation": self.explanation if req.explain else None}

    # ------------------------------------------------------------------ the batch (worker thread)
    def _encode(self, text: str) -> list[int]:
        ids = self.tok.encode(text) or [self.tok.unk_id]
        return ids[:self.max_len]

    @torch.no_grad()
    def _forward(self, seqs: list[list[int]], attention: bool):
        """Probabilities (N, K) and, with ``attention``, weights per row (lists), in input order."""
        from rnnkit.apps.classify.batches import collate

        device = next(self.model.parameters()).device
        probs = torch.zeros(len(seqs), len(self.labels))
        weights: list[list[float]] = [[] for _ in seqs]
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
        for start in range(0, len(order), CHUNK):
            chunk = order[start:start + CHUNK]
            ids, lengths, _ = collate([(seqs[i], -1) for i in chunk])
            if attention:
                logits, a = self.model(ids.to(device), lengths.to(device), return_attention=True)
            else:
                logits, a = self.model(ids.to(device), lengths.to(device)), None
            probs[chunk] = torch.softmax(logits.float(), dim=-1).cpu()
            if a is not None:
                for row, i in enumerate(chunk):
                    weights[i] = a[row, :len(seqs[i])].float().cpu().tolist()
        return probs, weights

    def _words(self, text: str, n: int) -> list[str]:
        """The n tokens the model read, as the user wrote them where the tokenizer can say so."""
        words = self.tok.tokenize(text)[:n] if hasattr(self.tok, "tokenize") else []
        if len(words) != n:
            words = [p.replace("\u2581", " ").strip() or p for p in self.tok.pieces(text)[:n]]
        return words if len(words) == n else ["<unk>"] * n

    def _occlusion(self, seq: list[int], label: int, p_full: float) -> list[float]:
        if len(seq) == 1:
            return [1.0]
        variants = [seq[:t] + seq[t + 1:] for t in range(len(seq))]
        probs, _ = self._forward(variants, attention=False)
        drop = (p_full - probs[:, label]).clamp(min=0)
        total = float(drop.sum())
        return (drop / total).tolist() if total > 0 else [1.0 / len(seq)] * len(seq)

    def _run_batch(self, items: list[_Item]) -> list[list[dict]]:
        texts = [t for it in items for t in it.texts]
        explain = [it.explain for it in items for _ in it.texts]
        seqs = [self._encode(t) for t in texts]
        attention = self.explanation == "attention" and any(explain)
        probs, weights = self._forward(seqs, attention)
        preds = []
        for i, (text, seq, p) in enumerate(zip(texts, seqs, probs)):
            k = int(p.argmax())
            d = {"label": self.labels[k], "prob": float(p[k]),
                 "probs": {lab: float(v) for lab, v in zip(self.labels, p)}}
            if explain[i]:
                w = weights[i] if attention else self._occlusion(seq, k, float(p[k]))
                d.update(tokens=self._words(text, len(seq)), weights=[round(float(x), 6) for x in w],
                         known=[tid != self.tok.unk_id for tid in seq])
            preds.append(d)
        out, at = [], 0
        for it in items:
            out.append(preds[at:at + len(it.texts)])
            at += len(it.texts)
        return out
