"""ConvLSTM against a hand-written float64 loop, against torch.nn.LSTM, and through rnnkit's layer."""

import pytest
import torch
import torch.nn.functional as F

from rnnkit.layers import Recurrent
from rnnkit.models import ManyToOne
from rnnkit.cells.convlstm import ConvLSTMCell, convlstm_factory
from rnnkit.layers.convlstm import ConvLSTM


def hand_loop(x, lengths, w_ih, w_hh, b_ih, b_hh, K):
    """The ConvLSTM equations written out, one sequence and one step at a time, on 4-D maps."""
    B, T, _, H, W = x.shape
    pad = w_ih.shape[-1] // 2
    ys = torch.zeros(B, T, K, H, W, dtype=x.dtype)
    hs, cs = [], []
    for b in range(B):
        h = torch.zeros(1, K, H, W, dtype=x.dtype)
        c = torch.zeros(1, K, H, W, dtype=x.dtype)
        for t in range(int(lengths[b])):
            z = (F.conv2d(x[b, t:t + 1], w_ih, b_ih, padding=pad)
                 + F.conv2d(h, w_hh, b_hh, padding=pad))
            i, f, g, o = z[:, :K], z[:, K:2 * K], z[:, 2 * K:3 * K], z[:, 3 * K:]
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            ys[b, t] = h[0]
        hs.append(h[0])
        cs.append(c[0])
    return ys, torch.stack(hs), torch.stack(cs)


def test_convlstm_matches_hand_loop_float64_with_lengths():
    torch.manual_seed(0)
    B, T, C, K, H, W = 3, 5, 2, 3, 4, 6
    layer = ConvLSTM(C, K, (H, W), kernel_size=3).double()
    with torch.no_grad():   # non-zero biases so a bias mix-up would show
        for p in layer.parameters():
            p.uniform_(-0.5, 0.5)
    x = torch.randn(B, T, C, H, W, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([5, 2, 4])
    y, (h, c) = layer(x, lengths=lengths, return_state=True)
    cell = layer.layer.cells[0]
    y_ref, h_ref, c_ref = hand_loop(x, lengths, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh, K)
    torch.testing.assert_close(y, y_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(h[0], h_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(c[0], c_ref, rtol=1e-12, atol=1e-12)
    assert torch.all(y[1, 2:] == 0)   # padded steps are zero
    # gradients of the layer and of the hand loop agree too
    g = torch.randn_like(y)
    grads = torch.autograd.grad((y * g).sum(), [x, cell.weight_hh, cell.bias_ih])
    grads_ref = torch.autograd.grad((y_ref * g).sum(), [x, cell.weight_hh, cell.bias_ih])
    for a, b in zip(grads, grads_ref):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_convlstm_1x1_is_torch_lstm():
    """1x1 maps and a 1x1 kernel: the ConvLSTM is exactly an LSTM (same gate order i, f, g, o)."""
    torch.manual_seed(1)
    D, K = 5, 4
    ref = torch.nn.LSTM(D, K, batch_first=True).double()
    layer = ConvLSTM(D, K, (1, 1), kernel_size=1).double()
    cell = layer.layer.cells[0]
    with torch.no_grad():
        cell.weight_ih.copy_(ref.weight_ih_l0.view(4 * K, D, 1, 1))
        cell.weight_hh.copy_(ref.weight_hh_l0.view(4 * K, K, 1, 1))
        cell.bias_ih.copy_(ref.bias_ih_l0)
        cell.bias_hh.copy_(ref.bias_hh_l0)
    x = torch.randn(2, 7, D, dtype=torch.float64)
    y_ref, (h_ref, c_ref) = ref(x)
    y, (h, c) = layer(x.view(2, 7, D, 1, 1), return_state=True)
    torch.testing.assert_close(y.view(2, 7, K), y_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(h.view(1, 2, K), h_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(c.view(1, 2, K), c_ref, rtol=1e-12, atol=1e-12)


def test_convlstm_cell_protocol_step_and_stacking():
    """The cell runs inside rnnkit's Recurrent: step() by step equals forward, stacked and with state."""
    torch.manual_seed(2)
    H, W = 3, 3
    layer = Recurrent(convlstm_factory(2, (H, W)), input_size=3 * H * W, num_layers=2, batch_first=True)
    assert layer.cells[1].in_channels == 2       # the upper layer reads the lower one's maps
    x = torch.randn(2, 4, 3 * H * W)
    y, state = layer(x)
    s = None
    for t in range(4):
        y_t, s = layer.step(x[:, t], s)
        torch.testing.assert_close(y_t, y[:, t], rtol=1e-5, atol=1e-6)
    for a, b in zip(s, state):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_convlstm_bidirectional_reverse_equals_flipped_run():
    torch.manual_seed(3)
    layer = ConvLSTM(1, 2, (3, 4), bidirectional=True).double()
    x = torch.randn(2, 5, 1, 3, 4, dtype=torch.float64)
    y = layer(x)
    assert layer.out_channels == 4
    back = ConvLSTM(1, 2, (3, 4)).double()
    back.layer.cells[0].load_state_dict(layer.layer.cells[1].state_dict())
    torch.testing.assert_close(y[:, :, 2:], back(x.flip(1)).flip(1), rtol=1e-12, atol=1e-12)


def test_convlstm_inside_many_to_one_padded_equals_alone():
    torch.manual_seed(4)
    model = ManyToOne(hidden_size=1, num_outputs=3, input_size=2 * 4 * 4,
                      cell=convlstm_factory(3, (4, 4)), pooling="last")
    x = torch.randn(2, 6, 2 * 4 * 4)
    lengths = torch.tensor([6, 3])
    both = model(x, lengths=lengths)
    torch.testing.assert_close(both[1], model(x[1:, :3])[0], rtol=1e-5, atol=1e-6)


def test_convlstm_bad_arguments():
    with pytest.raises(ValueError, match="odd"):
        ConvLSTMCell(1, 2, (4, 4), kernel_size=2)
    with pytest.raises(ValueError, match=r"expects x \(B, T, 1, 4, 4\)"):
        ConvLSTM(1, 2, (4, 4))(torch.randn(2, 3, 1, 5, 4))
    with pytest.raises(ValueError, match="whole number"):
        convlstm_factory(2, (4, 4))(17)
