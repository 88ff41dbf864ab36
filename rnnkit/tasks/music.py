"""Music composition as a task of the generic CLI (`rnnkit train music`, `rnnkit evaluate RUN`,
`rnnkit generate RUN`); the pipeline itself lives in rnnkit.music and `rnnkit music` has more options."""

from rnnkit.music.pipeline import (  # noqa: F401
    NAME,
    PRESETS,
    default_config,
    evaluate,
    generate,
    summary_lines,
    train,
)
