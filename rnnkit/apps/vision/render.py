"""Draw digit images onto a blank canvas at any position, angle and scale, in one batched call.

Each output frame n is the digit image ``src[n]`` seen through an affine map: its centre at pixel
``(cx, cy)`` of the canvas, rotated by ``angle`` radians (positive = clockwise on screen, where y
points down), shown ``size * scale`` pixels wide. ``torch.nn.functional.grid_sample`` reads the
source bilinearly, so the digit moves and turns smoothly by fractions of a pixel.

Canvas pixel coordinates are continuous, pixel i covering ``[i, i + 1)``. With ``affine_grid``'s
normalised output coordinates ``p`` in [-1, 1] (``align_corners=False``) a canvas point is
``u = (p + 1) * (W, H) / 2``, and the source point it samples is

    q = R(-angle) (u - c) / (L / 2),        L = size * scale,  q in [-1, 1]^2 inside the digit

i.e. ``q = A p + b`` with ``A = R(-angle) diag(W, H) / L`` and ``b = R(-angle) (W/2 - cx, H/2 - cy) * 2 / L``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["render_affine"]


def render_affine(src: torch.Tensor, cx: np.ndarray, cy: np.ndarray, angle: np.ndarray,
                  scale: np.ndarray, size: float, canvas: tuple[int, int],
                  chunk: int = 4096) -> torch.Tensor:
    """``src (N, h, w)`` float -> frames ``(N, H, W)``; ``cx, cy, angle, scale`` are ``(N,)`` arrays.

    Pixels outside the digit are 0. Runs in chunks of ``chunk`` frames to bound the memory of the
    sampling grid (``N * H * W * 2`` floats).
    """
    H, W = canvas
    n = src.shape[0]
    if not (len(cx) == len(cy) == len(angle) == len(scale) == n):
        raise ValueError("render_affine: src, cx, cy, angle and scale must have the same length")
    cos, sin = np.cos(angle), np.sin(angle)
    L = size * np.asarray(scale, dtype=np.float64)
    # R(-a) = [[cos, sin], [-sin, cos]]
    theta = np.empty((n, 2, 3), dtype=np.float64)
    theta[:, 0, 0] = cos * W / L
    theta[:, 0, 1] = sin * H / L
    theta[:, 1, 0] = -sin * W / L
    theta[:, 1, 1] = cos * H / L
    dx, dy = (W / 2 - np.asarray(cx)) * 2 / L, (H / 2 - np.asarray(cy)) * 2 / L
    theta[:, 0, 2] = cos * dx + sin * dy
    theta[:, 1, 2] = -sin * dx + cos * dy
    theta_t = torch.from_numpy(theta.astype(np.float32))
    out = []
    for start in range(0, n, chunk):
        part = src[start:start + chunk].unsqueeze(1).float()
        grid = F.affine_grid(theta_t[start:start + chunk], [part.shape[0], 1, H, W], align_corners=False)
        out.append(F.grid_sample(part, grid, mode="bilinear", padding_mode="zeros",
                                 align_corners=False).squeeze(1))
    return torch.cat(out) if out else src.new_zeros(0, H, W)
