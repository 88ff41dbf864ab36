"""music: ``POST /api/{run}/predict`` continues a primer (notes text, ``"C5/1 D5/1/2 r/1"``:
NAME/QUARTERS per event) with the run's event LSTM and returns the notes with their start times
for the page's piano roll; ``POST /api/{run}/midi`` turns notes text into a MIDI file to download.
"""

from __future__ import annotations

import random
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import ClassVar, Literal, Optional

from fastapi import HTTPException, Request
from fastapi.responses import Response
from pydantic import Field

from .base import Service, StrictModel


class ComposeRequest(StrictModel):
    primer: str = Field(min_length=1, description="notes to continue, NAME/QUARTERS each: 'C5/1 D5/1/2 r/1'")
    events: int = Field(48, ge=1, description="events (notes or rests) to add")
    strategy: Literal["sample", "greedy"] = "sample"
    temperature: float = Field(1.0, gt=0, le=10)
    top_k: int = Field(0, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    seed: Optional[int] = Field(None, description="repeatable sampling; none = a fresh random seed")

    example: ClassVar[dict] = {"primer": "C5/1 D5/1 E5/1", "events": 32, "seed": 1}


class MidiRequest(StrictModel):
    notes: str = Field(min_length=1, description="notes text, as predict returns it")
    bpm: float = Field(90.0, gt=10, le=400)

    example: ClassVar[dict] = {"notes": "C5/1 D5/1 E5/2", "bpm": 90}


class MusicService(Service):
    app_name = "music"
    page = "music"
    endpoints = ("predict", "midi")

    def __init__(self, *args):
        super().__init__(*args)
        self.codec = self.run.preprocessing["codec"]

    def _example_primer(self) -> str:
        from rnnkit.apps.music.events import TICKS_PER_QUARTER, format_notes

        c = self.codec
        dur = TICKS_PER_QUARTER if TICKS_PER_QUARTER in c.durations else c.durations[len(c.durations) // 2]
        mid = (c.lo + c.hi) // 2
        scale = [p for p in (mid, mid + 2, mid + 4, mid + 5) if c.lo <= p <= c.hi]
        return format_notes([(p, dur) for p in scale])

    def info(self) -> dict:
        from rnnkit.apps.music.events import TICKS_PER_QUARTER, pitch_name

        c = self.codec
        return {**super().info(), "example_primer": self._example_primer(), "bpm": self.run.config.sample.bpm,
                "pitch_range": [pitch_name(c.lo), pitch_name(c.hi)], "pitch_range_midi": [c.lo, c.hi],
                "durations": [str(Fraction(d, TICKS_PER_QUARTER)) for d in c.durations]}

    def _limits(self, text: str, field: str) -> None:
        if len(text) > self.settings.max_text_chars:
            raise HTTPException(422, f"{field}: {len(text):,} characters; the limit is {self.settings.max_text_chars:,} "
                                     "(rnnkit serve --max-text-chars)")

    async def predict(self, request: Request):
        req = await self.read_json(request, ComposeRequest)
        self._limits(req.primer, "primer")
        if req.events > self.settings.max_new_tokens:
            raise HTTPException(422, f"events: {req.events:,} is over the limit of {self.settings.max_new_tokens:,} "
                                     "(rnnkit serve --max-new-tokens)")
        seed = req.seed if req.seed is not None else random.randrange(2**31)
        notes = await self.call(self.run.predict, req.primer, events=req.events, strategy=req.strategy,
                                temperature=req.temperature, top_k=req.top_k, top_p=req.top_p, seed=seed)
        return self._roll(notes, req.primer, seed)

    def _roll(self, notes: str, primer: str, seed: int) -> dict:
        from rnnkit.apps.music.events import REST, TICKS_PER_QUARTER, normalize, parse_notes, pitch_name

        n_primer = len(normalize(parse_notes(primer)))
        events, t = [], 0
        for i, (pitch, ticks) in enumerate(parse_notes(notes)):
            events.append({"pitch": None if pitch == REST else pitch, "name": pitch_name(pitch),
                           "start": t / TICKS_PER_QUARTER, "duration": ticks / TICKS_PER_QUARTER,
                           "primer": i < n_primer})
            t += ticks
        return {"notes": notes, "events": events, "primer_events": n_primer, "quarters": t / TICKS_PER_QUARTER,
                "seed": seed, "bpm": self.run.config.sample.bpm}

    async def midi(self, request: Request):
        from rnnkit.apps.music.events import parse_notes
        from rnnkit.apps.music.midi_io import write_midi

        req = await self.read_json(request, MidiRequest)
        self._limits(req.notes, "notes")

        def render() -> bytes:
            events = parse_notes(req.notes)
            with tempfile.TemporaryDirectory(prefix="rnnkit-serve-") as tmp:
                return write_midi(events, Path(tmp) / "melody.mid", bpm=req.bpm).read_bytes()

        data = await self.call(render)
        return Response(data, media_type="audio/midi",
                        headers={"Content-Disposition": f'attachment; filename="{self.name}.mid"'})


