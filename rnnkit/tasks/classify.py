"""Text classification as an rnnkit task (``rnnkit train classify``, ``rnnkit evaluate RUN``).

The pipeline lives in :mod:`rnnkit.text_classification`; this module only exposes its task
protocol under the name ``classify``. ``rnnkit classify ...`` adds predict and more options.
"""

from rnnkit.text_classification.pipeline import (  # noqa: F401
    NAME,
    PRESETS,
    ClassifyConfig,
    default_config,
    evaluate,
    load_run,
    summary_lines,
    train,
)
