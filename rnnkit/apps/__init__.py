"""The applications: one folder each, found through the explicit table in :mod:`.registry`.

Every application folder ``rnnkit/apps/<name>/`` holds its task module (the one protocol every
app implements) and its command-line module ``cli.py``; its data handling, model and report live
beside them. The library (cells, functional, layers, kernels, models, decoding, train, data,
config) never imports from here; ``rnnkit.cli`` and ``rnnkit.load`` do.

Task protocol (the module named in the registry)::

    NAME                      the app's name (run.json "task")
    PRESETS                   {preset name: ["key=value", ...]}
    default_config()          the app's config dataclass, with a ``train: TrainConfig`` field
    train(cfg, run_dir, resume=False) -> dict
                              writes run.json, checkpoints and a report in run_dir
    summary_lines(result)     -> list[str], printed after training
    evaluate(run_dir)         -> dict of held-out metrics
    load_run(run_dir)         the app's own reopening (rnnkit.load wraps it: apps/loading.py)
    RESUME_FIXED (optional)   config prefixes a resumed run may not change (default model., data.)
    OLD_NAMES (optional)      names older rnnkit versions wrote in run.json
    DISTRIBUTED (optional)    True when train() shards its data under torchrun

CLI protocol (``cli.py``; every name optional)::

    add_train_args(parser), train_overrides(args) -> ["key=value", ...]
                              the app's own train options (the common block, --preset --data
                              --config --run-dir --resume --overwrite --print-config, is in
                              rnnkit.apps.actions)
    resolve_config(args, overrides)
                              a new run's config when its defaults depend on the options (forecast)
    add_evaluate_args(parser), evaluate(args) -> exit code
    add_predict_args(parser), predict(args) -> exit code      (rnnkit predict RUN ...)
    TOOLS = {verb: (help, add_args, run)}                      (rnnkit APP VERB; run(args, rest))
"""

from rnnkit.apps.registry import AppEntry, app_names, get_app, resolve_app

__all__ = ["AppEntry", "app_names", "get_app", "resolve_app"]
