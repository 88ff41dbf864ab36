"""``rnnkit.load(run_dir)``: one kind of object back from every app's run folder.

    run = rnnkit.load("runs/textgen-20261205-101500")
    run.app, run.config, run.model          # the model in eval mode (None for study apps)
    run.preprocessing                       # vocabulary, tokenizers, scalers ... by name
    run.predict("def ")                     # the app's own inputs, as `rnnkit predict RUN` takes them

What ``predict`` takes and returns, per app::

    textgen    prompt: str; max_new_tokens, strategy, temperature,   -> the prompt and its continuation
               top_k, top_p, seed
    classify   texts: list[str]                                     -> [{"label", "prob", "probs"}]
    translate  texts: list[str]; search options (beam_size ...)     -> translations: list[str]
    speech     files: audio paths; method, beam_width               -> [(file, transcript)]
    video      paths: clips or frame folders; beam_size             -> [{"path", "label", ...}]
    caption    paths: images; beam_size                             -> [(path, caption)]
    music      primer: notes text ("C5/1 D5/1"); events, strategy   -> notes text: primer + continuation
    forecast   data=None (the run's), future=None                   -> a DataFrame of forecasts

``longrange`` and ``overfit`` are studies (many models per run): ``load`` gives their config and
report, and ``predict`` says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

__all__ = ["LoadedRun", "load"]


@dataclass
class LoadedRun:
    """A trained run, reopened: see the module docstring for ``predict`` per app."""

    app: str
    run_dir: Path
    config: Any
    model: torch.nn.Module | None
    preprocessing: dict[str, Any] = field(default_factory=dict)
    _predict: Callable[..., Any] | None = field(default=None, repr=False)

    def predict(self, *inputs: Any, **options: Any) -> Any:
        if self._predict is None:
            raise ValueError(f"a {self.app} run is a study of many models; it has no predict "
                             f"(read {self.run_dir / 'report.md'})")
        return self._predict(*inputs, **options)


def load(run_dir: str | Path) -> LoadedRun:
    """Reopen a run folder made by ``rnnkit train APP`` (any app, any rnnkit version that wrote
    ``run.json``); the model comes back in eval mode with its best weights."""
    from rnnkit.apps.registry import get_app
    from rnnkit.train.run_folder import read_run_info

    run_dir = Path(run_dir)
    entry = get_app(read_run_info(run_dir)["task"])
    return _LOADERS[entry.name](run_dir)


def _textgen(run_dir: Path) -> LoadedRun:
    from rnnkit.apps.textgen import task
    from rnnkit.decoding import DecodingConfig

    cfg, vocab, model = task.load_run(run_dir)

    def predict(prompt: str, max_new_tokens: int = 300, strategy: str = "sample", temperature: float = 0.8,
                top_k: int = 0, top_p: float = 1.0, seed: int | None = 0) -> str:
        decoding = DecodingConfig(strategy=strategy, temperature=temperature, top_k=top_k, top_p=top_p,
                                  max_new_tokens=max_new_tokens, seed=seed)
        return task.sample_text(model, vocab, prompt, decoding)

    return LoadedRun("textgen", run_dir, cfg, model, {"vocab": vocab}, predict)


def _classify(run_dir: Path) -> LoadedRun:
    from rnnkit.apps.classify import pipeline

    run = pipeline.load_run(run_dir)
    return LoadedRun("classify", run_dir, run.cfg, run.model, {"tokenizer": run.tok, "labels": run.labels},
                     lambda texts: pipeline.predict(run, list(texts)))


def _translate(run_dir: Path) -> LoadedRun:
    from rnnkit.apps.translate import pipeline

    cfg, src_tok, tgt_tok, model = pipeline.load_run(run_dir)

    def predict(texts, **search_changes) -> list[str]:
        search = cfg.search.replace(**search_changes)
        return [d["text"] for d in pipeline.decode(model, src_tok, tgt_tok, list(texts), search)]

    return LoadedRun("translate", run_dir, cfg, model, {"source_tokenizer": src_tok, "target_tokenizer": tgt_tok},
                     predict)


def _speech(run_dir: Path) -> LoadedRun:
    from rnnkit.apps.speech import pipeline

    cfg, alphabet, model = pipeline.load_run(run_dir)
    return LoadedRun("speech", run_dir, cfg, model, {"alphabet": alphabet},
                     lambda files, **kw: pipeline.transcribe(run_dir, list(files), **kw))


def _video(run_dir: Path) -> LoadedRun:
    from rnnkit.apps.video import task

    cfg, meta, vocab, model = task.load_run(run_dir)
    return LoadedRun("video", run_dir, cfg, model, {"meta": meta, "caption_vocab": vocab},
                     lambda paths, beam_size=None: task.predict(run_dir, list(paths), beam_size))


def _caption(run_dir: Path) -> LoadedRun:
    from rnnkit.apps.caption import task

    cfg, meta, vocab, model = task.load_run(run_dir)
    return LoadedRun("caption", run_dir, cfg, model, {"meta": meta, "vocab": vocab},
                     lambda paths, beam_size=None: task.predict(run_dir, list(paths), beam_size))


def _music(run_dir: Path) -> LoadedRun:
    from rnnkit.apps.music import pipeline
    from rnnkit.apps.music.events import format_notes, normalize, parse_notes
    from rnnkit.decoding import DecodingConfig

    cfg, codec, model = pipeline.load_run(run_dir)

    def predict(primer: str, events: int = 64, strategy: str = "sample", temperature: float = 1.0,
                top_k: int = 0, top_p: float = 1.0, seed: int | None = 0) -> str:
        notes = normalize(parse_notes(primer))
        decoding = DecodingConfig(strategy=strategy, temperature=temperature, top_k=top_k, top_p=top_p,
                                  max_new_tokens=events, seed=seed)
        return format_notes(notes + pipeline.compose(model, codec, [notes], events, decoding)[0])

    return LoadedRun("music", run_dir, cfg, model, {"codec": codec}, predict)


def _forecast(run_dir: Path) -> LoadedRun:
    from rnnkit.apps.forecast import pipeline

    loaded = pipeline.load_run(run_dir)
    cfg, forecaster = loaded[0], loaded[1]
    nets = list(getattr(forecaster, "nets", []))  # an ensemble: one network per member
    model = nets[0] if len(nets) == 1 else torch.nn.ModuleList(nets) if nets else None
    if model is not None:
        model.eval()
    return LoadedRun("forecast", run_dir, cfg, model,
                     {"forecaster": forecaster},
                     lambda data=None, future=None, **kw: pipeline.predict(run_dir, data=data, future=future, **kw))


def _study(name: str):
    def loader(run_dir: Path) -> LoadedRun:
        from rnnkit import config as C
        from rnnkit.apps.registry import get_app
        from rnnkit.train.run_folder import read_run_info

        task = get_app(name).task
        cfg = C.from_dict(type(task.default_config()), read_run_info(run_dir)["config"])
        report = run_dir / "report.json"
        pre = {"report": json.loads(report.read_text("utf-8"))} if report.is_file() else {}
        return LoadedRun(name, run_dir, cfg, None, pre, None)

    return loader


_LOADERS: dict[str, Callable[[Path], LoadedRun]] = {
    "textgen": _textgen, "classify": _classify, "translate": _translate, "speech": _speech,
    "video": _video, "caption": _caption, "music": _music, "forecast": _forecast,
    "longrange": _study("longrange"), "overfit": _study("overfit"),
}
