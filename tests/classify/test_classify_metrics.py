"""Metrics against scikit-learn, the TF-IDF baseline, and the classifier model's masking."""

import numpy as np
import pytest
import torch

from rnnkit.apps.classify.baseline import tfidf_logreg
from rnnkit.apps.classify.metrics import (
    classification_metrics,
    confusion_matrix,
    plot_confusion,
)
from rnnkit.apps.classify.model import ClassifierModelConfig, build_model


def test_metrics_match_scikit_learn():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 500)
    p = np.where(rng.random(500) < 0.6, y, rng.integers(0, 4, 500))
    p[p == 3] = 2                                  # class 3 is never predicted: its F1 is 0
    m = classification_metrics(y, p, ["a", "b", "c", "d"])
    assert m["confusion"] == sk.confusion_matrix(y, p).tolist()
    assert m["accuracy"] == pytest.approx(sk.accuracy_score(y, p))
    assert m["macro_f1"] == pytest.approx(sk.f1_score(y, p, average="macro", zero_division=0))
    assert m["per_class"]["b"]["recall"] == pytest.approx(sk.recall_score(y, p, average=None)[1])
    assert m["per_class"]["d"]["f1"] == 0.0 and m["per_class"]["d"]["support"] == int((y == 3).sum())


def test_confusion_matrix_checks_ids_and_plots(tmp_path):
    assert confusion_matrix([0, 1, 1], [0, 0, 1], 2).tolist() == [[1, 0], [1, 1]]
    with pytest.raises(ValueError, match="outside"):
        confusion_matrix([0, 2], [0, 1], 2)
    plot_confusion([[5, 1], [2, 7]], ["neg", "pos"], tmp_path / "cm.png", "test")
    assert (tmp_path / "cm.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.learning
def test_tfidf_baseline_learns_word_polarity():
    pos = ["a superb and moving film", "truly superb work", "moving, superb acting", "a moving story"]
    neg = ["a dull and clumsy film", "truly dull work", "clumsy, dull acting", "a clumsy story"]
    texts, y = pos + neg, [1] * 4 + [0] * 4
    # scikit-learn, not torch: the same predictions under the four rounding settings
    out = tfidf_logreg(texts, y, texts, y, ["superb", "clumsy and dull", "moving"])
    assert out["test_pred"] == [1, 0, 1]
    assert out["val_accuracy"] == 1.0 and out["solver"] == "liblinear"
    three = tfidf_logreg(texts + ["so so"] * 3, y + [2] * 3, texts, y, ["so so", "dull"])
    assert three["test_pred"] == [2, 0] and three["solver"] == "lbfgs"


@pytest.mark.parametrize("pooling", ["attention", "mean", "last"])
def test_classifier_padding_never_changes_a_prediction(pooling):
    cfg = ClassifierModelConfig(embed_size=8, hidden_size=6, attention_size=5, pooling=pooling)
    model = build_model(cfg, vocab_size=20, num_classes=3).eval()
    a, b = torch.tensor([[4, 5, 6, 7, 8]]), torch.tensor([[9, 3]])
    batch = torch.tensor([[4, 5, 6, 7, 8], [9, 3, 0, 0, 0]])
    out = model(batch, torch.tensor([5, 2]))
    torch.testing.assert_close(out[0], model(a, torch.tensor([5]))[0])
    torch.testing.assert_close(out[1], model(b, torch.tensor([2]))[0])
    if pooling == "attention":
        _, w = model(batch, torch.tensor([5, 2]), return_attention=True)
        torch.testing.assert_close(w.sum(1), torch.ones(2))
        assert torch.all(w[1, 2:] == 0)
    # dropout is active in training only: two training passes differ, eval passes agree
    model.train()
    assert not torch.equal(model(batch, torch.tensor([5, 2])), model(batch, torch.tensor([5, 2])))


def test_nb_log_count_ratios_match_the_formula_and_feed_the_model():
    from rnnkit.apps.classify.model import nb_log_count_ratios

    # class 0 texts contain token 4 twice over (presence counts once), class 1 texts token 5
    ids, y = [[4, 4, 6], [4, 1], [5, 6], [5, 5, 7]], [0, 0, 1, 1]
    r = nb_log_count_ratios(ids, y, vocab_size=8, num_classes=2).double()
    n0 = torch.tensor([0, 1, 0, 0, 2, 0, 1, 0.]) + 1      # texts of class 0 holding v (unk 1 too), + alpha
    n1 = torch.tensor([0, 0, 0, 0, 0, 2, 1, 1.]) + 1
    want = (n0 / n0.sum()).log() - (n1 / n1.sum()).log()
    want[:4] = 0                                           # specials carry no polarity
    torch.testing.assert_close(r[:, 0], want.double())
    torch.testing.assert_close(r[:, 1], -want.double())     # two classes: one against the rest is symmetric
    cfg = ClassifierModelConfig(embed_size=6, hidden_size=5, lexicon_features=True)
    model = build_model(cfg, vocab_size=8, num_classes=2).eval()
    model.set_lexicon(r.float())
    assert "inputs.embed.0.table" in model.state_dict()      # saved with the weights
    e = model.inputs(torch.tensor([[4, 5]]))
    torch.testing.assert_close(e[0, :, 6:], r[[4, 5]].float())
    with pytest.raises(ValueError, match="lexicon_features"):
        build_model(ClassifierModelConfig(embed_size=6, hidden_size=5, lexicon_features=False), 8, 2).set_lexicon(r)
