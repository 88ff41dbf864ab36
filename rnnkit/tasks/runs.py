"""Run folders moved to :mod:`rnnkit.train.run_folder`; these names stay importable from here."""

from rnnkit.train.run_folder import (  # noqa: F401
    RUN_FILE,
    best_weights_path,
    default_run_dir,
    load_model_weights,
    read_run_info,
    write_run_info,
)
