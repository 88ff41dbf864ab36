"""Long-range evidence: the adding problem, copy memory and sequential digits across cells and T.

    rnnkit train longrange                                   # the default sweep (docs/long_sequences.md)
    rnnkit train longrange data.tasks=adding data.lengths=1000 model.cells=mingru,lstm
    rnnkit train longrange --tasks adding,copy --lengths 100,1000 --cells lstm,gru,rnn,mingru,minlstm
    rnnkit longrange tbptt --lengths 10000,40000,160000      # TBPTT memory on a growing stream

Modules: :mod:`.problems` (objectives, baselines), :mod:`.model`, :mod:`.sweep` (training),
:mod:`.report` (table, figure), :mod:`.tbptt` (saved-activation bytes per update).
"""

from rnnkit.apps.longrange.sweep import (
    NAME,
    PRESETS,
    LongRangeConfig,
    default_config,
    evaluate,
    run_one,
    train,
)


# A sweep's resume keeps the finished (task, T, cell) runs and trains the rest, so it may widen the
# sweep (more lengths, more cells): every key may change on resume.
RESUME_FIXED: tuple[str, ...] = ()


def summary_lines(result: dict) -> list[str]:
    return list(result["table"])


__all__ = ["NAME", "PRESETS", "RESUME_FIXED", "LongRangeConfig", "default_config", "evaluate", "run_one", "summary_lines", "train"]
