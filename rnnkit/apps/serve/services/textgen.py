"""textgen: ``POST /api/{run}/generate`` streams the continuation as Server-Sent Events, one event
per character; ``POST /api/{run}/predict`` returns the whole text. Both micro-batch.

A batch runs the prompts through the model together (padded, with their lengths), then steps all
rows at once; each row draws its next character from its own seeded generator with its own
settings, so a request gets exactly the text it would get alone (and the text
``rnnkit.load(run).predict(prompt, seed=...)`` gives).
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Optional

import torch
from fastapi import HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import Field

from rnnkit.decoding import DecodingConfig, make_generator

from .base import Service, StrictModel, bad_input


class GenerateRequest(StrictModel):
    prompt: str = Field(min_length=1, description="the text to continue")
    max_new_tokens: int = Field(200, ge=1, description="characters to generate")
    strategy: Literal["sample", "greedy"] = "sample"
    temperature: float = Field(0.8, gt=0, le=10)
    top_k: int = Field(0, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    seed: Optional[int] = Field(None, description="repeatable sampling; none = a fresh random seed")

    example: ClassVar[dict] = {"prompt": "The ", "max_new_tokens": 100, "temperature": 0.8, "seed": 1}


@dataclass
class _Item:
    prompt: str
    decoding: DecodingConfig
    seed: int
    emit: Optional[callable] = None        # called on the worker thread with each new character
    cancelled: threading.Event = field(default_factory=threading.Event)


class TextgenService(Service):
    app_name = "textgen"
    page = "textgen"
    endpoints = ("generate", "predict")

    def __init__(self, *args):
        super().__init__(*args)
        self.model, self.vocab = self.run.model, self.run.preprocessing["vocab"]
        self.batch = self.batcher(self._run_batch)

    def info(self) -> dict:
        sample = self.run.config.sample
        return {**super().info(), "defaults": {"prompt": self.run.config.prompt, "max_new_tokens": 200,
                                               "temperature": sample.temperature, "strategy": sample.strategy},
                "vocabulary": len(self.vocab)}

    # ------------------------------------------------------------------ requests
    def _item(self, req: GenerateRequest) -> _Item:
        s = self.settings
        if len(req.prompt) > s.max_text_chars:
            raise HTTPException(422, f"prompt: {len(req.prompt):,} characters; the limit is {s.max_text_chars:,} "
                                     "(rnnkit serve --max-text-chars)")
        if req.max_new_tokens > s.max_new_tokens:
            raise HTTPException(422, f"max_new_tokens: {req.max_new_tokens:,} is over the limit of "
                                     f"{s.max_new_tokens:,} (rnnkit serve --max-new-tokens)")
        seed = req.seed if req.seed is not None else random.randrange(2**31)
        try:
            decoding = DecodingConfig(strategy=req.strategy, temperature=req.temperature, top_k=req.top_k,
                                      top_p=req.top_p, max_new_tokens=req.max_new_tokens, seed=seed)
        except ValueError as err:
            raise bad_input(err) from err
        return _Item(req.prompt, decoding, seed)

    async def predict(self, request: Request):
        req = await self.read_json(request, GenerateRequest)
        item = self._item(req)
        start = time.perf_counter()
        text = await self.batch.submit(item)
        return {"text": text, "prompt": req.prompt, "new_tokens": len(text) - len(req.prompt), "seed": item.seed,
                "seconds": round(time.perf_counter() - start, 4)}

    async def generate(self, request: Request):
        req = await self.read_json(request, GenerateRequest)
        item = self._item(req)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        item.emit = lambda piece: loop.call_soon_threadsafe(queue.put_nowait, piece)
        start = time.perf_counter()
        task = asyncio.ensure_future(self.batch.submit(item))
        task.add_done_callback(lambda _t: queue.put_nowait(None))

        async def events():
            n = 0
            try:
                yield _sse({"seed": item.seed, "prompt": req.prompt}, "start")
                while True:
                    piece = await queue.get()
                    if piece is None:
                        break
                    n += 1
                    yield _sse({"token": piece})
                try:
                    text = await task
                except Exception as err:  # noqa: BLE001 - reported in the stream: headers are sent
                    yield _sse({"detail": f"{type(err).__name__}: {err}"}, "error")
                    return
                yield _sse({"text": text, "new_tokens": n, "seed": item.seed,
                            "seconds": round(time.perf_counter() - start, 4)}, "done")
            finally:
                item.cancelled.set()  # the client went away: its row stops at the next step

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    # ------------------------------------------------------------------ the batch (worker thread)
    @torch.no_grad()
    def _run_batch(self, items: list[_Item]) -> list[str]:
        model, vocab = self.model, self.vocab
        device = next(model.parameters()).device
        prompts = [vocab.encode(it.prompt) for it in items]
        lengths = torch.tensor([len(p) for p in prompts])
        B, T = len(items), int(lengths.max())
        x = torch.zeros(B, T, dtype=torch.long)
        for i, p in enumerate(prompts):
            x[i, :len(p)] = p
        same = bool((lengths == T).all())
        logits, state = model(x.to(device), lengths=None if same else lengths.to(device), return_state=True)
        last = logits[torch.arange(B), (lengths - 1).to(device)]
        gens = [make_generator(it.seed, device) for it in items]
        todo = [it.decoding.max_new_tokens for it in items]
        out: list[list[int]] = [[] for _ in items]
        for step in range(max(todo)):
            toks = torch.zeros(B, dtype=torch.long, device=device)
            active = False
            for i, it in enumerate(items):
                if len(out[i]) >= todo[i] or it.cancelled.is_set():
                    continue
                tok = it.decoding.sample(last[i:i + 1], generator=gens[i])
                toks[i] = tok[0]
                out[i].append(int(tok[0]))
                if it.emit is not None:
                    it.emit(vocab.decode(tok.cpu()))
                active = active or len(out[i]) < todo[i]
            if not active:
                break
            last, state = model.step(toks, state)
        return [it.prompt + vocab.decode(torch.tensor(o, dtype=torch.long)) for it, o in zip(items, out)]


def _sse(data: dict, event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False)}\n\n"
