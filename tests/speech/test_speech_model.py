"""The acoustic model: padded batches equal each utterance alone; lengths; CTC learns."""

import pytest
import torch
import torch.nn.functional as F

from rnnkit.apps.speech.features import SpecAugmentConfig
from rnnkit.apps.speech.model import ConvFrontEnd, CTCSpeechModel, SpeechModelConfig


@pytest.mark.parametrize("stride", [1, 2, 4])
def test_output_lengths_match_the_convolutions(stride):
    fe = ConvFrontEnd(n_mels=20, channels=3, layers=2, time_stride=stride)
    for T in (1, 2, 5, 17, 64):
        h, n = fe(torch.randn(1, T, 20), torch.tensor([T]))
        assert h.shape[1] == int(n) == int(fe.output_lengths(torch.tensor([T]))) == -(-T // stride)
        assert h.shape[2] == fe.output_size == 3 * 5


@pytest.mark.parametrize("cell,bidirectional", [("gru", True), ("lstm", False)])
def test_padded_batch_equals_each_utterance_alone(cell, bidirectional):
    torch.manual_seed(0)
    cfg = SpeechModelConfig(channels=4, hidden_size=12, num_layers=2, cell=cell, bidirectional=bidirectional,
                            dropout=0.0, time_stride=2)
    model = CTCSpeechModel(16, 7, cfg, SpecAugmentConfig(enabled=True)).double().eval()
    lengths = torch.tensor([23, 9, 16])
    x = torch.randn(3, 23, 16, dtype=torch.float64)
    x = x * (torch.arange(23)[None, :, None] < lengths[:, None, None])
    lp, out_len = model(x, lengths)
    assert out_len.tolist() == [12, 5, 8]
    torch.testing.assert_close(lp.exp().sum(-1), torch.ones(3, 12, dtype=torch.float64))
    for b, n in enumerate(lengths.tolist()):
        alone, m = model(x[b:b + 1, :n], lengths[b:b + 1])
        torch.testing.assert_close(lp[b, :int(m)], alone[0], atol=1e-10, rtol=0)


def test_config_rejects_unsupported_strides():
    with pytest.raises(ValueError, match="time_stride"):
        SpeechModelConfig(time_stride=3)
    with pytest.raises(ValueError, match="conv layers"):
        SpeechModelConfig(time_stride=4, conv_layers=1)


@pytest.mark.learning
def test_ctc_training_fits_a_small_batch():
    """The model learns to emit two different label sequences from two input patterns."""
    torch.manual_seed(0)
    model = CTCSpeechModel(8, 4, SpeechModelConfig(channels=4, hidden_size=24, num_layers=1, dropout=0.0))
    x = 0.3 * torch.randn(2, 30, 8)  # normalised features are centred: noise around zero
    x[0, 5:12, :4] += 2.0  # pattern A then B for utterance 0, B then A for utterance 1
    x[0, 15:22, 4:] += 2.0
    x[1, 5:12, 4:] += 2.0
    x[1, 15:22, :4] += 2.0
    lengths = torch.tensor([30, 30])
    labels = torch.tensor([[1, 2], [2, 1]])
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses = []
    for _ in range(200):
        lp, n = model(x, lengths)
        loss = F.ctc_loss(lp.transpose(0, 1), labels, n, torch.tensor([2, 2]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.1 * losses[0]  # measured last/first 2.5e-4 to 3.9e-4 (4 seeds x 4 rounding settings)
    from rnnkit.apps.speech.ctc_decode import greedy_decode

    model.eval()
    lp, n = model(x, lengths)
    assert [greedy_decode(lp[b, :n[b]]) for b in range(2)] == [[1, 2], [2, 1]]
