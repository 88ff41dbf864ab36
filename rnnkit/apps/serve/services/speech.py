"""speech: an uploaded recording (multipart field ``file``: WAV, FLAC, OGG, MP3 ... as the run's
audio loader reads them; resampled to the model's rate) is transcribed with the run's CTC model."""

from __future__ import annotations

from typing import Optional

from fastapi import HTTPException, Request

from .base import Service


class SpeechService(Service):
    app_name = "speech"
    page = "speech"

    def info(self) -> dict:
        cfg = self.run.config
        return {**super().info(), "sample_rate": cfg.features.sample_rate, "beam_width": cfg.decode.beam_width,
                "alphabet": "".join(getattr(self.run.preprocessing["alphabet"], "chars", "") or "")}

    async def predict(self, request: Request):
        name, data, fields = await self.read_upload(request)
        method = fields.get("method", "greedy")
        if method not in ("greedy", "beam"):
            raise HTTPException(422, "method: must be greedy or beam (CTC prefix beam search)")
        beam: Optional[int] = None
        if fields.get("beam_width"):
            try:
                beam = int(fields["beam_width"])
            except ValueError:
                raise HTTPException(422, "beam_width: must be a whole number") from None
        return await self.call(self._transcribe, name, data, method, beam)

    def _transcribe(self, name: str, data: bytes, method: str, beam: Optional[int]) -> dict:
        with self.temp_dir() as tmp:
            path = self.temp_file(name, data, tmp)
            try:
                ((_, text),) = self.run.predict([path], method=method, beam_width=beam)
            except (RuntimeError, OSError) as err:  # an unreadable file from the audio libraries
                raise ValueError(f"{name}: cannot read the audio ({type(err).__name__})") from err
        return {"file": name, "transcript": text, "method": method}
