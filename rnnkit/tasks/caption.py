"""The caption pipeline as a task of the generic CLI (`rnnkit train caption`, `rnnkit evaluate RUN`);
it lives in rnnkit.vision.caption_task, and `rnnkit caption` also predicts on new files."""

from rnnkit.vision.caption_task import (  # noqa: F401
    NAME,
    PRESETS,
    default_config,
    evaluate,
    summary_lines,
    train,
)
