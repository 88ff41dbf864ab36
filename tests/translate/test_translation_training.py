"""Training pieces of the pipeline: the scheduled-sampling schedule reaches the model, and an
interrupted run resumed from its checkpoint ends exactly where an uninterrupted one does."""

import pytest
import torch

from rnnkit import config as C
from rnnkit.apps.translate import pipeline as P


def test_scheduled_sampling_schedule_and_callback(kit):
    s = P.ScheduledSamplingConfig(max_prob=0.3, start_epoch=2, ramp_epochs=3)
    assert [round(s.prob(e), 6) for e in range(1, 7)] == [0.0, 0.1, 0.2, 0.3, 0.3, 0.3]
    assert P.ScheduledSamplingConfig().prob(5) == 0.0  # off by default
    model = kit.make_model()
    callback = P.ScheduledSampling(model, s)
    callback.on_epoch_start(None, 3)
    assert model.sampling_prob == pytest.approx(0.2)


def _cfg(tsv, epochs):
    return C.apply_overrides(P.default_config(), [*P.PRESETS["tiny"], f"data.path={tsv}", "data.max_words=0",
                                                  "data.val_fraction=0.15", "data.test_fraction=0.15",
                                                  "vocab.size=280", f"train.epochs={epochs}",
                                                  "sampling.max_prob=0.5", "sampling.start_epoch=2",
                                                  "train.restore_best=false",
                                                  # a cosine schedule's length would differ with train.epochs
                                                  "train.schedule=constant"])


def test_resumed_run_equals_uninterrupted_run(kit, tmp_path):
    tsv = tmp_path / "numbers.tsv"
    tsv.write_text("".join(f"{en}\t{es}\n" for en, es in kit.number_pairs()), encoding="utf-8")
    straight = P.train(_cfg(tsv, 3), tmp_path / "straight", echo=lambda *a: None)
    P.train(_cfg(tsv, 1), tmp_path / "resumed", echo=lambda *a: None)  # "interrupted" after one epoch
    resumed = P.train(_cfg(tsv, 3), tmp_path / "resumed", resume=True, echo=lambda *a: None)
    assert resumed["scores"] == straight["scores"]
    a = P.load_run(tmp_path / "straight")[3].state_dict()
    b = P.load_run(tmp_path / "resumed")[3].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
