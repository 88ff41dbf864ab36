"""Moving-digit clips: real handwritten digits that move, bounce, rotate or zoom, from a seed.

Every clip shows one digit image (from :mod:`rnnkit.apps.vision.digits`) on a dark ``S x S`` canvas for
T frames. Its motion is one of :data:`MOTIONS`:

=========  ===========================================================  ==============================
motion     what happens over the T frames                               caption
=========  ===========================================================  ==============================
left ...   constant velocity along one axis, staying inside the frame   "a seven moves left"
bounce     moves towards a wall, hits it between 30% and 70% of the      "a seven moves up then bounces"
           clip and comes back (reflection)
rotate     turns 90-180 degrees about a fixed centre                    "a seven rotates clockwise"
zoom       grows from about 0.5x to 1.3x its size, or shrinks           "an eight zooms in"
=========  ===========================================================  ==============================

Positions are drawn so the digit's box stays inside the frame (the bounce wall is the frame edge
minus half the digit). Translations and bounces also vary the digit's size (0.9-1.1x); every pixel
gets Gaussian noise of std ``noise`` before clipping to [0, 1]. Frames are stored as uint8.

The clip parameters come from ``numpy.random.default_rng([seed, split])`` and the drawing from
:func:`rnnkit.apps.vision.render.render_affine`, so a seed gives the same clips bit for bit on any run.
Generating 4,500 clips of 10 frames of 32x32 takes about a second, so nothing is cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import torch

from rnnkit.apps.vision.digits import DIGIT_WORDS, DigitImages
from rnnkit.apps.vision.render import render_affine

__all__ = ["MOTIONS", "DIRECTIONS", "VideoClips", "ClipSpec", "make_moving_digits", "digit_phrase"]

MOTIONS = ("left", "right", "up", "down", "bounce", "rotate", "zoom")
DIRECTIONS = ("left", "right", "up", "down")
_AXIS_SIGN = {"left": (0, -1.0), "right": (0, 1.0), "up": (1, -1.0), "down": (1, 1.0)}


@dataclass
class VideoClips:
    """A set of clips.

    frames ``(N, T, C, H, W)`` uint8, zero after each clip's length; lengths ``(N,)``;
    labels ``(N,)`` indices into ``label_names``; digits ``(N,)`` (built-in clips only, else None);
    captions: one string per clip or None; names: an id per clip (file name for user clips).
    """

    frames: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor
    label_names: tuple[str, ...]
    digits: Optional[torch.Tensor] = None
    captions: Optional[list[str]] = None
    names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, index) -> "VideoClips":
        index = torch.as_tensor(index, dtype=torch.long)
        idx = index.tolist()
        return VideoClips(self.frames[index], self.lengths[index], self.labels[index], self.label_names,
                          None if self.digits is None else self.digits[index],
                          None if self.captions is None else [self.captions[i] for i in idx],
                          [self.names[i] for i in idx] if self.names else [])


@dataclass
class ClipSpec:
    """How the built-in clips look: T frames of ``frame_size`` pixels, the digit ``digit_size``
    pixels wide at scale 1, pixel noise std ``noise``."""

    frames: int = 10
    frame_size: int = 32
    digit_size: float = 12.0
    noise: float = 0.05

    def __post_init__(self):
        if self.frames < 3:
            raise ValueError(f"clips need at least 3 frames (a bounce needs a before and after), got {self.frames}")
        if not 4 <= self.digit_size <= self.frame_size / 1.5:
            raise ValueError(f"digit_size must be in [4, frame_size / 1.5 = {self.frame_size / 1.5:g}] so the "
                             f"digit can move and zoom inside the frame, got {self.digit_size}")


def digit_phrase(digit: int) -> str:
    """``"a seven"``, ``"an eight"``."""
    word = DIGIT_WORDS[int(digit)]
    return ("an " if word == "eight" else "a ") + word   # by sound: "a one", "an eight"


def _trajectories(motion: np.ndarray, rng: np.random.Generator, spec: ClipSpec):
    """Per clip and frame: centre x, y, angle, scale ``(N, T)`` each; and the caption suffix."""
    N, T, S, d = len(motion), spec.frames, float(spec.frame_size), float(spec.digit_size)
    t = np.arange(T, dtype=np.float64)
    cx = np.full((N, T), S / 2)
    cy = np.full((N, T), S / 2)
    angle = np.zeros((N, T))
    scale = np.ones((N, T))
    phrases: list[str] = []
    for n in range(N):
        m = MOTIONS[motion[n]]
        u = rng.random(8)  # a fixed number of draws per clip keeps every clip's stream aligned
        if m in DIRECTIONS or m == "bounce":
            s = 0.9 + 0.2 * u[0]
            half = d * s / 2
            lo, hi = half, S - half                     # allowed centre range
            if m == "bounce":
                direction = DIRECTIONS[int(u[1] * 4) % 4]
                axis, sign = _AXIS_SIGN[direction]
                t_hit = (0.3 + 0.4 * u[2]) * (T - 1)     # frame (fractional) of the wall contact
                v = (0.5 + 0.5 * u[3]) * (hi - lo) / (T - 1)
                wall = hi if sign > 0 else lo
                raw = wall + sign * v * (t - t_hit)      # straight line through the wall...
                pos = np.where(t <= t_hit, raw, 2 * wall - raw)   # ...folded back at it
                phrases.append(f"moves {direction} then bounces")
            else:
                axis, sign = _AXIS_SIGN[m]
                travel = (0.45 + 0.5 * u[3]) * (hi - lo)
                start = lo + u[2] * (hi - lo - travel)
                pos = start + travel * t / (T - 1)
                if sign < 0:
                    pos = lo + hi - pos
                phrases.append(f"moves {m}")
            other = lo + u[4] * (hi - lo)
            (cx if axis == 0 else cy)[n] = pos
            (cy if axis == 0 else cx)[n] = other
            scale[n] = s
        elif m == "rotate":
            clockwise = u[1] < 0.5
            total = np.deg2rad(90 + 90 * u[2]) * (1 if clockwise else -1)
            margin = d * 0.72                            # half the box diagonal
            cx[n] = margin + u[3] * (S - 2 * margin)
            cy[n] = margin + u[4] * (S - 2 * margin)
            angle[n] = total * t / (T - 1)
            phrases.append("rotates clockwise" if clockwise else "rotates anticlockwise")
        else:  # zoom
            zoom_in = u[1] < 0.5
            small, big = 0.45 + 0.15 * u[2], 1.2 + 0.15 * u[3]
            a, b = (small, big) if zoom_in else (big, small)
            scale[n] = a + (b - a) * t / (T - 1)
            half = d * big / 2
            cx[n] = half + u[4] * (S - 2 * half)
            cy[n] = half + u[5] * (S - 2 * half)
            phrases.append("zooms in" if zoom_in else "zooms out")
    return cx, cy, angle, scale, phrases


def make_moving_digits(pool: DigitImages, n: int, seed: int, spec: ClipSpec | None = None,
                       split: int = 0) -> VideoClips:
    """``n`` clips of digits drawn from ``pool``; motions and digits are balanced at random.

    ``split`` names the stream (0 train, 1 val, 2 test) so each split of one seed differs.
    """
    spec = spec or ClipSpec()
    if n < 1:
        raise ValueError(f"the number of clips must be >= 1, got {n}")
    if len(pool) == 0:
        raise ValueError("the digit pool is empty")
    rng = np.random.default_rng([int(seed), int(split)])
    which = rng.integers(0, len(pool), size=n)
    motion = rng.integers(0, len(MOTIONS), size=n)
    cx, cy, angle, scale, phrases = _trajectories(motion, rng, spec)
    T, S = spec.frames, spec.frame_size
    src = torch.from_numpy(pool.images[which]).repeat_interleave(T, dim=0)      # (n*T, h, w)
    frames = render_affine(src, cx.ravel(), cy.ravel(), angle.ravel(), scale.ravel(), spec.digit_size, (S, S))
    if spec.noise > 0:
        g = torch.Generator().manual_seed(int(rng.integers(0, 2**62)))  # torch's normal is faster
        frames = frames + torch.randn(frames.shape, generator=g) * spec.noise
    frames = (frames.clamp(0, 1) * 255).round().to(torch.uint8).view(n, T, 1, S, S)
    digits = pool.labels[which]
    captions = [f"{digit_phrase(dg)} {p}" for dg, p in zip(digits, phrases)]
    return VideoClips(frames=frames, lengths=torch.full((n,), T, dtype=torch.long),
                      labels=torch.from_numpy(motion.astype(np.int64)), label_names=MOTIONS,
                      digits=torch.from_numpy(digits.astype(np.int64)), captions=captions,
                      names=[f"clip{i:05d}" for i in range(n)])
