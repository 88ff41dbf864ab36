"""What every app's service shares: reading a request within its size limit, validating it with a
pydantic model into a one-line 4xx, running model code off the event loop, micro-batchers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from fastapi import HTTPException, Request
from pydantic import BaseModel, ConfigDict, ValidationError

from ..batching import MicroBatcher

__all__ = ["Service", "StrictModel", "bad_input"]

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Request bodies: unknown fields are errors (a misspelt option must not be ignored)."""

    model_config = ConfigDict(extra="forbid")


def bad_input(err: Exception) -> HTTPException:
    """A ValueError from the app's own checks (an unknown column, an empty prompt ...) as a 422."""
    from ..app import _one_line

    return HTTPException(422, _one_line(str(err) or type(err).__name__, 500))


class Service:
    """One served run. Subclasses set ``app_name``/``page`` and implement ``predict(request)``."""

    app_name = "?"
    page = "generic"
    endpoints: tuple[str, ...] = ("predict",)

    def __init__(self, name: str, run, settings, metrics):
        self.name, self.run, self.settings, self.metrics = name, run, settings, metrics
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"rnnkit-{name}")
        self._batchers: list[MicroBatcher] = []

    # ------------------------------------------------------------------ description
    def summary(self) -> dict:
        return {"name": self.name, "app": self.app_name, "page": f"/{self.name}",
                "endpoints": [f"/api/{self.name}/{e}" for e in self.endpoints], "run_dir": str(self.run.run_dir)}

    def info(self) -> dict:
        s = self.settings
        return {**self.summary(), "limits": {"max_body_bytes": s.max_body_bytes, "max_upload_bytes": s.max_upload_bytes,
                                             "max_text_chars": s.max_text_chars, "max_texts": s.max_texts,
                                             "max_new_tokens": s.max_new_tokens}}

    # ------------------------------------------------------------------ running model code
    def batcher(self, run_batch: Callable[[Sequence[Any]], Sequence[Any]], label: str = "") -> MicroBatcher:
        b = MicroBatcher(run_batch, self.settings.max_batch, self.settings.batch_wait_ms,
                         name=f"{self.name}{label}", on_batch=self.metrics.record_batch)
        b.executor.shutdown(wait=False)
        b.executor = self.executor  # one thread per run: the model is never used by two threads at once
        self._batchers.append(b)
        return b

    async def call(self, fn: Callable, *args, **kwargs):
        """``fn(*args, **kwargs)`` on the run's worker thread; ValueError becomes a 422."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, lambda: fn(*args, **kwargs))
        except (ValueError, KeyError) as err:
            raise bad_input(err) from err

    def close(self) -> None:
        for b in self._batchers:
            b.close()
        self.executor.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ reading requests
    async def read_body(self, request: Request, limit: int, option: str = "--max-body-bytes") -> bytes:
        """The body, refused with 413 as soon as it passes ``limit`` bytes (announced or streamed)."""
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise HTTPException(413, f"request body is {int(declared):,} bytes; the limit is {limit:,} bytes "
                                     f"(rnnkit serve {option})")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HTTPException(413, f"request body is over {size - len(chunk):,} bytes; the limit is "
                                         f"{limit:,} bytes (rnnkit serve {option})")
            chunks.append(chunk)
        return b"".join(chunks)

    async def read_json(self, request: Request, model: type[M]) -> M:
        ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        # curl -d sends application/x-www-form-urlencoded unless told otherwise: read it as JSON too
        if ctype not in ("application/json", "text/plain", "application/x-www-form-urlencoded", ""):
            raise HTTPException(415, f"send JSON (Content-Type: application/json), not {ctype}")
        body = await self.read_body(request, self.settings.max_body_bytes)
        try:
            data = json.loads(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise HTTPException(400, "request body is not UTF-8 text") from None
        except json.JSONDecodeError as err:
            raise HTTPException(400, f"request body is not valid JSON: {err.msg} at line {err.lineno} "
                                     f"column {err.colno}") from None
        return self.validate(data, model)

    def validate(self, data: Any, model: type[M]) -> M:
        from ..app import format_errors

        if not isinstance(data, dict):
            example = json.dumps(getattr(model, "example", {}))
            raise HTTPException(422, f"the body must be a JSON object such as {example}, "
                                     f"not a {type(data).__name__}")
        try:
            return model.model_validate(data)
        except ValidationError as err:
            raise HTTPException(422, format_errors(err.errors())) from None

    async def read_upload(self, request: Request, field: str = "file") -> tuple[str, bytes, dict[str, str]]:
        """A multipart upload: (file name, its bytes, the other form fields)."""
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "multipart/form-data":
            raise HTTPException(415, f"upload the file as multipart/form-data with field {field!r}"
                                     f" (curl -F {field}=@PATH), not {ctype or 'no content type'}")
        body = await self.read_body(request, self.settings.max_upload_bytes, "--max-upload-bytes")

        async def replay():
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            form = await Request(request.scope, replay).form(max_files=1, max_fields=20,
                                                              max_part_size=self.settings.max_upload_bytes)
        except Exception as err:  # noqa: BLE001 - malformed multipart
            raise HTTPException(400, f"could not read the multipart form: {err}") from None
        upload = form.get(field)
        if upload is None or isinstance(upload, str):
            raise HTTPException(422, f"{field}: required file is missing (multipart field {field!r})")
        data = await upload.read()
        if not data:
            raise HTTPException(422, f"{field}: the uploaded file is empty")
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        return Path(upload.filename or "upload").name, data, fields

    @staticmethod
    def temp_file(name: str, data: bytes, tmp: str) -> Path:
        path = Path(tmp) / (Path(name).name or "upload")
        path.write_bytes(data)
        return path

    @staticmethod
    @contextlib.contextmanager
    def temp_dir():
        """A temporary folder for an upload; errors that name a file in it name the upload instead."""
        with tempfile.TemporaryDirectory(prefix="rnnkit-serve-") as tmp:
            try:
                yield tmp
            except ValueError as err:
                msg = str(err)
                if tmp in msg:
                    raise ValueError(re.sub(re.escape(tmp) + r"/?", "", msg)) from err
                raise
