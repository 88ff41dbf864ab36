"""The table of applications: a name, the task module, the CLI module, the names older runs used.

An explicit table, not a directory scan: adding an app is one line here, and a folder that is not
an app (``vision``, the pieces the video and caption apps share) is simply not listed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

__all__ = ["APPS", "AppEntry", "app_names", "get_app", "resolve_app"]


@dataclass(frozen=True)
class AppEntry:
    name: str  # `rnnkit train NAME`, runs/NAME-TIMESTAMP, run.json "task"
    task_module: str
    cli_module: str
    help: str
    aliases: tuple[str, ...] = ()  # names written by older rnnkit versions in run.json

    @property
    def task(self) -> ModuleType:
        return importlib.import_module(self.task_module)

    @property
    def cli(self) -> ModuleType:
        return importlib.import_module(self.cli_module)


APPS: tuple[AppEntry, ...] = (
    AppEntry("textgen", "rnnkit.apps.textgen.task", "rnnkit.apps.textgen.cli",
             "text generation: a character language model (CPython's docs or your text)"),
    AppEntry("forecast", "rnnkit.apps.forecast.pipeline", "rnnkit.apps.forecast.cli",
             "time-series forecasting with backtests against ETS/ARIMA/Theta (built-in series or your CSV)"),
    AppEntry("classify", "rnnkit.apps.classify.pipeline", "rnnkit.apps.classify.cli",
             "text classification / sentiment (Rotten Tomatoes or your labelled file)"),
    AppEntry("translate", "rnnkit.apps.translate.pipeline", "rnnkit.apps.translate.cli",
             "encoder-decoder translation with attention (English-Spanish Bible or your pairs)",
             aliases=("translation",)),
    AppEntry("speech", "rnnkit.apps.speech.pipeline", "rnnkit.apps.speech.cli",
             "speech recognition: conv + biGRU + CTC (espeak-ng digits or your recordings)"),
    AppEntry("video", "rnnkit.apps.video.task", "rnnkit.apps.video.cli",
             "video activity recognition and clip captioning (moving real digits or your clips)"),
    AppEntry("caption", "rnnkit.apps.caption.task", "rnnkit.apps.caption.cli",
             "image captioning (strips of real digits or your images)"),
    AppEntry("music", "rnnkit.apps.music.pipeline", "rnnkit.apps.music.cli",
             "music composition: an event LSTM on melodies (Bach chorales or your MIDI)"),
    AppEntry("longrange", "rnnkit.apps.longrange", "rnnkit.apps.longrange.cli",
             "long-range tasks (adding, copy, sequential MNIST) across cells and lengths"),
    AppEntry("overfit", "rnnkit.apps.overfit.task", "rnnkit.apps.overfit.cli",
             "the overfitting study: every regulariser against plain training on a small corpus"),
)


def app_names() -> list[str]:
    return [a.name for a in APPS]


def resolve_app(name: str) -> AppEntry | None:
    """The entry for ``name`` or one of its older aliases, else None."""
    for a in APPS:
        if name == a.name or name in a.aliases:
            return a
    return None


def get_app(name: str) -> AppEntry:
    entry = resolve_app(name)
    if entry is None:
        raise ValueError(f"unknown application {name!r}; available: {', '.join(app_names())}")
    return entry
