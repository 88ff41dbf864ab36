"""Speech recognition as a task of the generic CLI (`rnnkit train speech`, `rnnkit evaluate RUN`);
the pipeline lives in rnnkit.speech and `rnnkit speech` has more actions (transcribe, synth)."""

from rnnkit.speech.pipeline import (  # noqa: F401
    NAME,
    PRESETS,
    default_config,
    evaluate,
    summary_lines,
    train,
)
