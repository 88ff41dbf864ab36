"""The video pipeline as a task of the generic CLI (`rnnkit train video`, `rnnkit evaluate RUN`);
it lives in rnnkit.vision.video_task, and `rnnkit video` also predicts on new files."""

from rnnkit.vision.video_task import (  # noqa: F401
    NAME,
    PRESETS,
    default_config,
    evaluate,
    summary_lines,
    train,
)
