"""translate: ``POST /api/{run}/predict`` with ``{"texts": [...]}`` (or ``{"text": "..."}``) gives
each translation with the decoder's attention over the source pieces, for the page's heatmap:
``attention[i][j]`` is how much target piece i (the last row is the end-of-sentence token when
the translation finished) looked at source piece j.

Requests that arrive together and ask for the same search settings are decoded in one call
(the run's decoder searches each row on its own, so batching does not change a translation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Optional

from fastapi import HTTPException, Request
from pydantic import Field, model_validator

from .base import Service, StrictModel, bad_input

MAX_BEAM = 16


class TranslateRequest(StrictModel):
    texts: Optional[list[str]] = Field(None, min_length=1)
    text: Optional[str] = None
    strategy: Optional[Literal["greedy", "beam"]] = Field(None, description="none = the run's own setting")
    beam_size: Optional[int] = Field(None, ge=1, le=MAX_BEAM)

    example: ClassVar[dict] = {"text": "the lord god", "strategy": "beam", "beam_size": 5}

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
    search: object


class TranslateService(Service):
    app_name = "translate"
    page = "translate"

    def __init__(self, *args):
        super().__init__(*args)
        self.model = self.run.model
        self.src_tok = self.run.preprocessing["source_tokenizer"]
        self.tgt_tok = self.run.preprocessing["target_tokenizer"]
        self.batch = self.batcher(self._run_batch)

    def info(self) -> dict:
        s = self.run.config.search
        return {**super().info(), "search": {"strategy": s.strategy, "beam_size": s.beam_size},
                "attention": self.run.config.model.attention, "max_beam_size": MAX_BEAM,
                "example": self._example()}

    def _example(self) -> str:
        cfg = self.run.config.data
        return "the lord god" if getattr(cfg, "path", None) else "In the beginning God created the heaven and the earth."

    async def predict(self, request: Request):
        req = await self.read_json(request, TranslateRequest)
        texts, s = req.all_texts(), self.settings
        if len(texts) > s.max_texts:
            raise HTTPException(422, f"texts: {len(texts)} texts; the limit is {s.max_texts} (rnnkit serve --max-texts)")
        for i, t in enumerate(texts):
            if len(t) > s.max_text_chars:
                raise HTTPException(422, f"texts.{i}: {len(t):,} characters; the limit is {s.max_text_chars:,} "
                                         "(rnnkit serve --max-text-chars)")
            if not t.strip():
                raise HTTPException(422, f"texts.{i}: the text is empty")
        changes = {k: v for k, v in (("strategy", req.strategy), ("beam_size", req.beam_size)) if v is not None}
        try:
            search = self.run.config.search.replace(**changes)
        except ValueError as err:
            raise bad_input(err) from err
        return {"translations": await self.batch.submit(_Item(texts, search)), "search": {
            "strategy": search.strategy, "beam_size": search.beam_size}}

    def _run_batch(self, items: list[_Item]) -> list[list[dict]]:
        from rnnkit.apps.translate.pipeline import decode

        groups: dict[tuple, list[int]] = {}
        for i, it in enumerate(items):
            groups.setdefault(tuple(sorted(vars(it.search).items())), []).append(i)
        out: list[list[dict]] = [[] for _ in items]
        for idx in groups.values():
            texts = [t for i in idx for t in items[i].texts]
            decoded = decode(self.model, self.src_tok, self.tgt_tok, texts, items[idx[0]].search)
            at = 0
            for i in idx:
                out[i] = [self._answer(d) for d in decoded[at:at + len(items[i].texts)]]
                at += len(items[i].texts)
        return out

    def _answer(self, d: dict) -> dict:
        src = [self.src_tok.id_to_piece(t) for t in d["src_ids"]]
        tgt = [self.tgt_tok.id_to_piece(t) for t in d["ids"]] + ["</s>"] * bool(d["finished"])
        attn = d["attention"]
        rows = [] if attn is None else [[round(float(v), 5) for v in row] for row in attn[:len(tgt)].tolist()]
        return {"text": d["text"], "source_tokens": src, "target_tokens": tgt[:len(rows)] if rows else tgt,
                "attention": rows, "score": float(d["score"]), "finished": bool(d["finished"])}
