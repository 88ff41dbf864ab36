"""Generated clips and strips: the same seed gives the same data, and the data shows what it says."""

import numpy as np
import torch

from rnnkit.apps.video.clips import MOTIONS, ClipSpec, make_moving_digits
from rnnkit.apps.vision.digits import DIGIT_WORDS, DigitImages, split_digits
from rnnkit.apps.vision.render import render_affine
from rnnkit.apps.caption.strips import make_digit_strips


def test_clips_identical_for_same_seed(sk_digits):
    a = make_moving_digits(sk_digits, 40, seed=7)
    b = make_moving_digits(sk_digits, 40, seed=7)
    assert torch.equal(a.frames, b.frames) and torch.equal(a.labels, b.labels)
    assert torch.equal(a.digits, b.digits) and a.captions == b.captions
    c = make_moving_digits(sk_digits, 40, seed=8)
    assert not torch.equal(a.frames, c.frames)
    d = make_moving_digits(sk_digits, 40, seed=7, split=1)   # another split of the same seed
    assert not torch.equal(a.frames, d.frames)


def test_strips_identical_for_same_seed(sk_digits):
    a = make_digit_strips(sk_digits, 30, seed=3, noise=0.05)
    b = make_digit_strips(sk_digits, 30, seed=3, noise=0.05)
    assert torch.equal(a.images, b.images) and a.captions == b.captions
    assert not torch.equal(a.images, make_digit_strips(sk_digits, 30, seed=4).images)


def test_digit_split_is_disjoint_and_seeded(sk_digits):
    tr, va, te = split_digits(sk_digits, 0.15, 0.25, seed=0)
    assert len(tr) + len(va) + len(te) == len(sk_digits)
    flat = [x.images.reshape(len(x), -1) for x in (tr, va, te)]
    rows = {bytes(r.tobytes()) for r in flat[0]}
    # (a few sklearn digits are pixel-identical duplicates; allow for them, but not a shared pool)
    assert sum(bytes(r.tobytes()) in rows for r in flat[2]) <= 3
    assert np.array_equal(split_digits(sk_digits, 0.15, 0.25, seed=0)[2].labels, te.labels)


def _centroids(frames):
    """Ink centre (x, y) and mass of each frame, (N, T, 1, H, W) uint8 -> (N, T) each."""
    f = frames[:, :, 0].double()
    f = torch.where(f > 80, f, torch.zeros_like(f))   # ignore the noise floor
    H, W = f.shape[-2:]
    mass = f.sum((-1, -2))
    x = (f * torch.arange(W).double()).sum((-1, -2)) / mass
    y = (f * torch.arange(H).double().unsqueeze(1)).sum((-1, -2)) / mass
    return x, y, mass


def test_clips_move_as_labelled(sk_digits):
    clips = make_moving_digits(sk_digits, 210, seed=1, spec=ClipSpec(frames=10, frame_size=32, digit_size=12, noise=0.05))
    x, y, mass = _centroids(clips.frames)
    for i in range(len(clips)):
        m, cap = MOTIONS[int(clips.labels[i])], clips.captions[i]
        assert cap.split()[1] == DIGIT_WORDS[int(clips.digits[i])]
        dx, dy = float(x[i, -1] - x[i, 0]), float(y[i, -1] - y[i, 0])
        if m in ("left", "right", "up", "down"):
            along = {"left": -dx, "right": dx, "up": -dy, "down": dy}[m]
            assert along > 4 and abs(dy if m in ("left", "right") else dx) < 2, (i, cap, dx, dy)
            assert cap.endswith(f"moves {m}")
        elif m == "bounce":
            direction = cap.split()[3]
            axis = x[i] if direction in ("left", "right") else y[i]
            sign = 1 if direction in ("right", "down") else -1
            turn = int(torch.argmax(sign * axis))      # the frame nearest the wall
            assert 0 < turn < 9 and sign * (axis[turn] - axis[0]) > 1 and sign * (axis[turn] - axis[-1]) > 1, cap
        elif m == "rotate":   # turns about a fixed centre: the ink's centre stays within the digit
            assert abs(dx) < 6 and abs(dy) < 6, cap
            assert cap.endswith(("rotates clockwise", "rotates anticlockwise"))
        else:
            grow = float(mass[i, -1] / mass[i, 0])
            assert (grow > 2) if cap.endswith("zooms in") else (grow < 0.5), (cap, grow)


def test_render_places_and_turns_as_documented():
    img = torch.zeros(1, 8, 8)
    img[0, 0:2, 3:5] = 1                       # ink at the top centre of the digit
    one = np.ones(1)
    # (pixel i covers [i, i + 1): its centre is i + 0.5 in the renderer's coordinates)
    # no turn: a 16-pixel digit centred at (20, 12) puts that ink 6 pixels above the centre
    f = render_affine(img, one * 20, one * 12, one * 0, one, 16, (32, 32))
    x, y, _ = _centroids((f * 255).round().to(torch.uint8).view(1, 1, 1, 32, 32))
    assert abs(float(x) + 0.5 - 20) < 0.1 and abs(float(y) + 0.5 - 6) < 0.1
    # +90 degrees is clockwise on screen (y down): the top ink goes to the right of the centre
    f = render_affine(img, one * 16, one * 16, one * np.pi / 2, one, 16, (32, 32))
    x, y, _ = _centroids((f * 255).round().to(torch.uint8).view(1, 1, 1, 32, 32))
    assert abs(float(x) + 0.5 - 22) < 0.1 and abs(float(y) + 0.5 - 16) < 0.1
    # an 8-pixel digit at scale 2 is 16 pixels wide: the ink is again 6 pixels above the centre
    f = render_affine(img, one * 16, one * 16, one * 0, one * 2, 8, (32, 32))
    x, y, _ = _centroids((f * 255).round().to(torch.uint8).view(1, 1, 1, 32, 32))
    assert abs(float(x) + 0.5 - 16) < 0.1 and abs(float(y) + 0.5 - 10) < 0.1


def test_strips_place_the_captioned_digits_in_order():
    # one flat image per digit, of intensity (d + 1) / 10: a strip's columns then spell its caption
    images = np.stack([np.full((8, 8), (d + 1) / 10, np.float32) for d in range(10)])
    pool = DigitImages(images, np.arange(10), "synthetic")
    strips = make_digit_strips(pool, 50, seed=0, max_digits=4)
    for img, refs in zip(strips.images, strips.captions):
        col = img[0, 0].double() / 255   # top row: each digit's block is 8 equal columns
        levels, run = [], 0
        for v in col.tolist():
            if v > 0:
                run += 1
                if run == 8:
                    levels.append(round(v * 10) - 1)
                    run = 0
            else:
                assert run == 0, "a digit block was cut"
        assert " ".join(DIGIT_WORDS[d] for d in levels) == refs[0]
        assert 1 <= len(levels) <= 4
