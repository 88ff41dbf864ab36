"""The applications: one folder each, found through the explicit table in :mod:`.registry`.

Every application folder ``rnnkit/apps/<name>/`` holds its task module (the one protocol every
app implements) and its command-line module ``cli.py``; its data handling, model and report live
beside them. The library (cells, functional, layers, kernels, models, decoding, train, data,
config) never imports from here; ``rnnkit.cli`` and ``rnnkit.load`` do.

Task protocol (the module named in the registry)
    ``NAME``; ``PRESETS`` (name -> list of ``key=value`` overrides); ``default_config()`` -> the
    app's config dataclass (with a ``train: TrainConfig`` field); ``train(cfg, run_dir,
    resume=False) -> result dict`` (writes ``run.json``, checkpoints and a report in ``run_dir``);
    ``summary_lines(result) -> list[str]``; ``evaluate(run_dir) -> dict``; ``load_run(run_dir)``;
    optional ``RESUME_FIXED`` (config prefixes a resumed run may not change, default
    ``("model.", "data.")``).

CLI protocol (``cli.py``; every name optional)
    ``add_train_args(parser)`` and ``train_overrides(args) -> list[str]``: the app's own train
    options, turned into config overrides (the common block, ``--preset``, ``--data``,
    ``--run-dir``, ``--resume``, ``--config`` ..., is rnnkit.cli's); ``add_evaluate_args(parser)`` and
    ``evaluate(args) -> int``; ``add_predict_args(parser)`` and ``predict(args) -> int`` (``rnnkit
    predict RUN ...``); ``TOOLS``: ``{verb: (help, add_args, run)}`` for extra commands
    ``rnnkit APP VERB`` (``run(args, rest) -> int``).
"""

from rnnkit.apps.registry import AppEntry, app_names, get_app, resolve_app

__all__ = ["AppEntry", "app_names", "get_app", "resolve_app"]
