"""One service class per app: its request models, its batch function and its endpoints."""

from __future__ import annotations

import importlib

__all__ = ["SERVICES", "service_for"]

# app name -> "module:Class" (imported only when a run of that app is served)
SERVICES = {
    "textgen": "textgen:TextgenService",
    "classify": "classify:ClassifyService",
    "forecast": "forecast:ForecastService",
    "translate": "translate:TranslateService",
    "music": "music:MusicService",
    "caption": "vision:CaptionService",
    "video": "vision:VideoService",
    "speech": "speech:SpeechService",
}


def service_for(loaded):
    """The service class for a loaded run; study apps (longrange, overfit) cannot be served."""
    target = SERVICES.get(loaded.app)
    if target is None:
        served = ", ".join(SERVICES)
        raise ValueError(f"{loaded.run_dir}: a {loaded.app} run has no predict to serve (apps served: {served})")
    module, cls = target.split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)
