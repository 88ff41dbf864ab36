"""Long-range evidence: the adding problem, copy memory and sequential digits across cells and T.

    rnnkit train longrange                                   # the default sweep (docs/long_sequences.md)
    rnnkit train longrange data.tasks=adding data.lengths=1000 model.cells=mingru,lstm
    rnnkit longrange run --tasks adding,copy --lengths 100,1000 --cells lstm,gru,rnn,mingru,minlstm
    rnnkit longrange tbptt --lengths 10000,40000,160000      # TBPTT memory on a growing stream

Modules: :mod:`.problems` (objectives, baselines), :mod:`.model`, :mod:`.sweep` (training),
:mod:`.report` (table, figure), :mod:`.tbptt` (saved-activation bytes per update).
"""

from rnnkit.tasks.longrange.sweep import (
    NAME,
    PRESETS,
    LongRangeConfig,
    default_config,
    evaluate,
    run_one,
    train,
)


def summary_lines(result: dict) -> list[str]:
    return list(result["table"])


__all__ = ["NAME", "PRESETS", "LongRangeConfig", "default_config", "evaluate", "run_one", "summary_lines", "train"]
