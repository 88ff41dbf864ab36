"""caption and video: an uploaded image or clip (multipart field ``file``) is converted to the
run's channels and size (the models read images of one fixed size: a photo of another size is
resized, with ``resized`` in the answer saying from what), then captioned or labelled."""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np
import torch
from fastapi import HTTPException, Request

from .base import Service

_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def fit_image(array: np.ndarray, channels: int, size: tuple[int, int]) -> np.ndarray:
    """uint8 ``(H, W, C)`` -> uint8 ``(h, w, channels)`` for ``size = (h, w)``."""
    from PIL import Image

    src = array[:, :, 0] if array.shape[2] == 1 else array
    img = Image.fromarray(np.ascontiguousarray(src))
    img = img.convert(_MODES[channels])
    if img.size != (size[1], size[0]):
        img = img.resize((size[1], size[0]), Image.BILINEAR)
    out = np.array(img)
    return out[:, :, None] if out.ndim == 2 else out


def _beam(fields: dict[str, str]) -> Optional[int]:
    if not fields.get("beam_size"):
        return None
    try:
        k = int(fields["beam_size"])
    except ValueError:
        raise HTTPException(422, "beam_size: must be a whole number") from None
    if not 1 <= k <= 16:
        raise HTTPException(422, "beam_size: must be between 1 and 16")
    return k


class CaptionService(Service):
    app_name = "caption"
    page = "caption"

    def __init__(self, *args):
        super().__init__(*args)
        self.meta, self.vocab = self.run.preprocessing["meta"], self.run.preprocessing["vocab"]

    def info(self) -> dict:
        h, w = self.meta["image_size"]
        return {**super().info(), "image_size": [w, h], "channels": self.meta["channels"],
                "beam_size": self.run.config.decode.beam_size}

    async def predict(self, request: Request):
        name, data, fields = await self.read_upload(request)
        return await self.call(self._caption, name, data, _beam(fields))

    def _caption(self, name: str, data: bytes, beam_size: Optional[int]) -> dict:
        from rnnkit.apps.caption.task import caption_images
        from rnnkit.apps.vision.folders import read_image

        cfg = self.run.config
        with self.temp_dir() as tmp:
            array = read_image(self.temp_file(name, data, tmp))
        size = tuple(self.meta["image_size"])
        fitted = fit_image(array, self.meta["channels"], size)
        x = torch.from_numpy(fitted).permute(2, 0, 1).unsqueeze(0)
        k = cfg.decode.beam_size if beam_size is None else beam_size
        (caption,) = caption_images(self.run.model, x, self.vocab, cfg.decode.max_len, k, cfg.decode.alpha)
        resized = None if array.shape[:2] == size else f"{array.shape[1]}x{array.shape[0]}"
        return {"file": name, "caption": caption, "beam_size": k, "resized_from": resized,
                "model_size": f"{size[1]}x{size[0]}"}


class VideoService(Service):
    app_name = "video"
    page = "video"

    def __init__(self, *args):
        super().__init__(*args)
        self.meta, self.vocab = self.run.preprocessing["meta"], self.run.preprocessing["caption_vocab"]

    def info(self) -> dict:
        h, w = self.meta["frame_size"]
        return {**super().info(), "frame_size": [w, h], "channels": self.meta["channels"],
                "labels": self.meta["label_names"], "captions": bool(self.meta.get("captions"))}

    async def predict(self, request: Request):
        name, data, fields = await self.read_upload(request)
        return await self.call(self._label, name, data, _beam(fields))

    def _label(self, name: str, data: bytes, beam_size: Optional[int]) -> dict:
        from rnnkit.apps.video.task import DIGIT_WORDS, predict_clips
        from rnnkit.apps.vision.folders import VIDEO_SUFFIXES, ImageShape, read_clip

        cfg, meta = self.run.config, self.meta
        if not name.lower().endswith(VIDEO_SUFFIXES):
            raise ValueError(f"{name}: send a clip ({', '.join(VIDEO_SUFFIXES)})")
        max_frames = cfg.data.max_frames if cfg.data.path else cfg.data.frames
        with self.temp_dir() as tmp:
            clip = read_clip(self.temp_file(name, data, tmp), ImageShape(None, what="frame"), max_frames)
        size = tuple(meta["frame_size"])
        frames = np.stack([fit_image(f, meta["channels"], size) for f in clip])
        x = torch.from_numpy(frames).permute(0, 3, 1, 2).unsqueeze(0)
        decode = cfg.decode if beam_size is None else dataclasses.replace(cfg.decode, beam_size=beam_size)
        pred = predict_clips(self.run.model, x, torch.tensor([len(clip)]), self.vocab, decode)
        out = {"file": name, "frames": len(clip), "label": meta["label_names"][pred["motion"][0]],
               "probability": float(pred["motion_prob"][0]),
               "resized_from": None if clip[0].shape[:2] == size else f"{clip[0].shape[1]}x{clip[0].shape[0]}"}
        if pred["digit"]:
            out["digit"] = DIGIT_WORDS[pred["digit"][0]]
        if pred["greedy"]:
            out["caption"] = (pred["beam"] or pred["greedy"])[0]
        return out
