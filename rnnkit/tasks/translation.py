"""The translation pipeline as a task of the generic CLI (`rnnkit train translation`,
`rnnkit evaluate RUN`); it lives in rnnkit.translation, and `rnnkit translate` also translates
new sentences and prints the data's provenance."""

from rnnkit.translation.pipeline import (  # noqa: F401
    NAME,
    PRESETS,
    default_config,
    evaluate,
    train,
)
from rnnkit.translation.report import summary_lines  # noqa: F401
