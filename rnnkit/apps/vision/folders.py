"""The user's own images and videos: reading them, checking them, naming the file at fault.

Image captions: a folder with images and a captions file (default ``captions.tsv``)::

    # file<TAB>caption          (blank lines and lines starting with # are skipped)
    beach.png	a dog runs on the beach
    beach.png	a brown dog on sand          (a second reference for the same image)

Video labels: a folder with a labels file (default ``labels.tsv``)::

    # clip<TAB>label[<TAB>caption]
    wave01.gif	waving	a man waves his hand
    jump03/	jumping                       (a folder of frame images, read in name order)

A clip is a video file read with imageio (GIF with Pillow; MP4/AVI/WebM need a video plugin,
``pip install imageio[pyav]``) or a folder of frame images. A GIF whose frames are all grey (its
palette has R = G = B) is read as 1 channel, an opaque alpha channel is dropped. Clips longer than ``max_frames`` are
subsampled evenly to ``max_frames`` frames; shorter ones are padded and carry their length.

Rules (each broken rule is a ``ValueError``/``FileNotFoundError`` naming the file and line):
every listed file must exist; every image and frame must have the same height, width and number
of channels as the first one (grey 1, RGB 3, RGBA 4; palette images count as RGB), so a wrong
size or channel count is reported, never silently resized; a list with no entries is an error.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import numpy as np
import torch

__all__ = ["IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "read_image", "read_tsv", "load_caption_folder",
           "load_video_folder", "read_clip", "ImageShape"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm")
VIDEO_SUFFIXES = (".gif", ".mp4", ".avi", ".mov", ".mkv", ".webm", ".mpg", ".mpeg")


class ImageShape:
    """The (channels, height, width) every image of a data set must share; set by the first."""

    def __init__(self, expected: Optional[tuple[int, int, int]] = None, what: str = "image"):
        self.expected, self.first, self.what = expected, None, what

    def check(self, array: np.ndarray, path: Path) -> None:
        chw = (array.shape[2], array.shape[0], array.shape[1])
        if self.expected is None:
            self.expected, self.first = chw, path
            return
        if chw != self.expected:
            c, h, w = chw
            ce, he, we = self.expected
            since = f" (as {self.first})" if self.first is not None else ""
            raise ValueError(
                f"{path}: {self.what} of {w}x{h} pixels with {c} channel(s), but this data set's "
                f"{self.what}s are {we}x{he} with {ce} channel(s){since}; resize or convert it "
                f"(grey = 1 channel, RGB = 3, RGBA = 4)")


def _as_hwc(array: np.ndarray, path: Path) -> np.ndarray:
    """An image array as uint8 (H, W, C)."""
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ValueError(f"{path}: cannot read an image of array shape {array.shape}")
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    elif array.dtype != np.uint8:
        hi = float(array.max()) if array.size else 1.0
        array = np.clip(array.astype(np.float64) / (hi if hi > 0 else 1.0) * 255, 0, 255).round().astype(np.uint8)
    return np.ascontiguousarray(array)


def read_image(path: Path) -> np.ndarray:
    """One image file -> uint8 ``(H, W, C)``. Palette images become RGB(A), 1-bit images grey."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    try:
        with Image.open(path) as img:
            if img.mode == "P":
                img = img.convert("RGBA" if "transparency" in img.info else "RGB")
            elif img.mode in ("1", "I", "I;16", "F"):
                img = img.convert("L")
            elif img.mode == "LA":
                img = img.convert("RGBA")
            elif img.mode not in ("L", "RGB", "RGBA"):
                img = img.convert("RGB")
            array = np.array(img)  # a writable copy (asarray of a PIL image is read-only)
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"{path}: not a readable image ({err})") from err
    return _as_hwc(array, path)


def read_tsv(path: Path, min_fields: int, max_fields: int, what: str) -> list[tuple[int, list[str]]]:
    """Lines of a tab-separated file as ``(line number, fields)``; comments and blanks skipped."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} file not found: {path}")
    rows = []
    for number, line in enumerate(_read_utf8(path).splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if not min_fields <= len(fields) <= max_fields or not all(fields[:min_fields]):
            want = str(min_fields) if min_fields == max_fields else f"{min_fields} or {max_fields}"
            raise ValueError(f"{path}:{number}: expected {want} tab-separated fields, got {line!r}")
        rows.append((number, fields))
    if not rows:
        raise ValueError(f"{path} lists no {what} entries")
    return rows


def _read_utf8(path: Path) -> str:
    """A UTF-8 text file; bytes that are not UTF-8 are a ValueError naming the file, line and column."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        col = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise ValueError(f"{path}:{line}: not valid UTF-8 (byte 0x{raw[err.start]:02x} at column {col}); "
                         "re-save the file as UTF-8") from None


def _folder(path: Path, list_file: str) -> Path:
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"data folder not found: {folder}")
    if not (folder / list_file).is_file():
        found = sorted(p.name for p in folder.iterdir())[:5]
        raise FileNotFoundError(f"{folder} has no {list_file} (found: {', '.join(found) or 'nothing'}); "
                                f"see docs/vision.md for the folder layout")
    return folder


def load_caption_folder(path: str | Path, captions_file: str = "captions.tsv"):
    """The user's images and captions -> :class:`rnnkit.apps.caption.strips.ImageCaptions`.

    Lines naming the same image give it several reference captions (kept in file order).
    """
    from rnnkit.apps.caption.strips import ImageCaptions

    folder = _folder(Path(path), captions_file)
    list_path = folder / captions_file
    order: list[str] = []
    refs: dict[str, list[str]] = {}
    for number, (name, caption) in read_tsv(list_path, 2, 2, "caption"):
        image = folder / name
        if not image.is_file():
            raise FileNotFoundError(f"{list_path}:{number}: image {name!r} not found ({image})")
        if name not in refs:
            order.append(name)
            refs[name] = []
        refs[name].append(" ".join(caption.lower().split()))
    shape = ImageShape()
    arrays = []
    for name in order:
        array = read_image(folder / name)
        shape.check(array, folder / name)
        arrays.append(array)
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    return ImageCaptions(images, [refs[n] for n in order], order)


def _even_subsample(frames: list, max_frames: int) -> list:
    if len(frames) <= max_frames:
        return frames
    keep = np.linspace(0, len(frames) - 1, max_frames).round().astype(int)
    return [frames[i] for i in keep]


def _gif_channels(video: np.ndarray) -> np.ndarray:
    """GIF frames come back RGB(A) whatever their palette: an opaque alpha is dropped, and frames
    whose red, green and blue agree everywhere are grey (1 channel), as they were drawn."""
    if video.shape[-1] == 4 and np.all(video[..., 3] == 255):
        video = video[..., :3]
    if video.shape[-1] == 3 and np.array_equal(video[..., 0], video[..., 1]) and np.array_equal(video[..., 0], video[..., 2]):
        video = video[..., :1]
    return video


def read_clip(path: Path, shape: ImageShape, max_frames: int) -> list[np.ndarray]:
    """A video file or a folder of frame images -> a list of uint8 ``(H, W, C)`` frames."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"{path}: frame folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
        files = _even_subsample(files, max_frames)
        frames = []
        for f in files:
            array = read_image(f)
            shape.check(array, f)
            frames.append(array)
        return frames
    if not path.is_file():
        raise FileNotFoundError(f"clip not found: {path}")
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise ValueError(f"{path}: not a video ({', '.join(VIDEO_SUFFIXES)}) or a folder of frames")
    try:
        import imageio.v3 as iio
    except ImportError as err:
        raise ValueError(f"{path}: reading video files needs imageio: pip install imageio "
                         "(or give a folder of frame images)") from err
    try:
        with warnings.catch_warnings():  # imageio warns about plugins it merely tried
            warnings.simplefilter("ignore", DeprecationWarning)
            video = np.asarray(iio.imread(path, index=None))
    except Exception as err:  # imageio raises many types (plugin missing, corrupt file)
        raise ValueError(f"{path}: cannot read the video ({type(err).__name__}: {err}); for MP4 "
                         "and similar: pip install imageio[pyav]") from err
    if video.ndim == 3:  # grey frames (T, H, W)
        video = video[:, :, :, None]
    if path.suffix.lower() == ".gif" and video.ndim == 4:
        video = _gif_channels(video)
    if video.ndim != 4 or video.shape[0] == 0:
        raise ValueError(f"{path}: expected frames (T, H, W[, C]), got array shape {video.shape}")
    frames = [_as_hwc(f, path) for f in _even_subsample(list(video), max_frames)]
    for f in frames:
        shape.check(f, path)
    return frames


def load_video_folder(path: str | Path, labels_file: str = "labels.tsv", max_frames: int = 32):
    """The user's clips and labels -> :class:`rnnkit.apps.video.clips.VideoClips` (label names sorted).

    Captions are optional, but all or none: a file where only some lines have one is an error.
    """
    from rnnkit.apps.video.clips import VideoClips

    if max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")
    folder = _folder(Path(path), labels_file)
    list_path = folder / labels_file
    rows = read_tsv(list_path, 2, 3, "clip")
    for number, fields in rows:
        if not (folder / fields[0]).exists():
            raise FileNotFoundError(f"{list_path}:{number}: clip {fields[0]!r} not found ({folder / fields[0]})")
    shape = ImageShape(what="frame")
    # read the clips only after every name checked out, so a typo fails before slow decoding
    clips = [read_clip(folder / fields[0], shape, max_frames) for _, fields in rows]
    label_names = tuple(sorted({fields[1] for _, fields in rows}))
    T = max(len(c) for c in clips)
    C, H, W = shape.expected
    frames = torch.zeros(len(clips), T, C, H, W, dtype=torch.uint8)
    for i, clip in enumerate(clips):
        frames[i, :len(clip)] = torch.from_numpy(np.stack(clip)).permute(0, 3, 1, 2)
    with_caption = [len(fields) == 3 and bool(fields[2]) for _, fields in rows]
    if any(with_caption) and not all(with_caption):
        number = rows[with_caption.index(False)][0]
        raise ValueError(f"{list_path}:{number}: no caption, but other lines have one (give every "
                         "clip a caption, or none)")
    captions = [" ".join(fields[2].lower().split()) for _, fields in rows] if all(with_caption) else None
    return VideoClips(frames=frames, lengths=torch.tensor([len(c) for c in clips]),
                      labels=torch.tensor([label_names.index(fields[1]) for _, fields in rows]),
                      label_names=label_names, digits=None, captions=captions,
                      names=[fields[0] for _, fields in rows])
