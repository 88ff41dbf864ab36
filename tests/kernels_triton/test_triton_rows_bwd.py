"""The rows backward (rnnkit/kernels/lstm/triton_rows_bwd.py, rnnkit/kernels/gru/triton_rows_bwd.py):
every gradient of ``kernel="rows"`` against autograd through the float64 eager loop (and the twin
in the same dtype), with lengths, the recurrent dropout mask, initial states present and absent,
one and several programs (a partial last tile, two batch blocks); which backward each ``kernel``
runs; the launch plans for H = 768 and 1024 on a 132-SM card; ``auto`` unchanged.
Runs under the Triton interpreter on CPU (conftest.py; its bf16 arithmetic is wrong, so bf16 runs
only on a GPU), compiled on CUDA."""

from functools import partial

import pytest
import torch

from rnnkit.kernels import persistent
from rnnkit.kernels.gru import op as gru_op
from rnnkit.kernels.gru.reference import gru_sequence_ref
from rnnkit.kernels.gru.triton_rows_bwd import _gru_rows_bwd_kernel
from rnnkit.kernels.gru.triton_split_bwd import _gru_split_bwd_kernel
from rnnkit.kernels.lstm import split as lstm_split
from rnnkit.kernels.lstm.op import choose_kernel, lstm_forward, lstm_sequence_forward
from rnnkit.kernels.lstm.reference import lstm_sequence_ref
from rnnkit.kernels.lstm.triton_rows_bwd import _lstm_rows_bwd_kernel
from rnnkit.kernels.lstm.triton_split_bwd import _lstm_split_bwd_kernel

f16, f32, f64, bf16 = torch.float16, torch.float32, torch.float64, torch.bfloat16
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # as conftest.py: compiled or interpreted
CPU = torch.device("cpu")
LSTM_NAMES = ("y", "h_n", "c_n", "grad gi", "grad w_hh", "grad h0", "grad c0")
GRU_NAMES = ("y", "h_n", "grad gi", "grad w_hh", "grad b_hn", "grad h0")


def _randn(g, *shape, scale=1.0):
    return (torch.randn(*shape, generator=g, dtype=f64) * scale).to(DEVICE)


def _mask(B, H, seed):
    g = torch.Generator().manual_seed(seed)
    return ((torch.rand(B, H, generator=g) > 0.3).double() / 0.7).to(DEVICE)


def _grads(fn, inputs, dtype, outs_seed=100):
    """Outputs of ``fn(*inputs in dtype)`` and the gradients of L = sum <r_k, out_k> (fixed random
    r_k) with respect to every input that is not None."""
    xs = [None if x is None else x.to(dtype).requires_grad_() for x in inputs]
    outs = fn(*xs)
    g = torch.Generator().manual_seed(outs_seed)
    loss = sum((o.double() * _randn(g, *o.shape)).sum() for o in outs)
    return list(outs) + list(torch.autograd.grad(loss, [x for x in xs if x is not None]))


def _check(got, twin, oracle, names, dtype, kt):
    """fp32: the twin's tolerance against the float64 oracle; fp16/bf16: the low-precision rule."""
    for name, g, t, o in zip(names, got, twin, oracle, strict=True):
        assert g.dtype == dtype, name
        if dtype == f32:
            torch.testing.assert_close(g.double(), o, **kt.tol[f32], msg=name)
        kt.rule(g, t, o, dtype, name)


# B, T, H, units per program (None: the plan's choice), initial states, lengths, recurrent mask, dtypes.
# H=24: one program of 32 units (8 masked); H=70: two of 64, the last partial, B=17: two batch blocks;
# H=40 with 16 units: three programs, the last half empty; H=48 with 16: three full ones.
LSTM_CASES = [
    (3, 7, 24, None, True, None, False, (f32, f16)),
    (17, 6, 70, None, True, [6, 1, 3] * 5 + [6, 2], True, (f32,)),
    (2, 9, 40, (16,), False, [9, 4], False, (f32, f16)),
    (3, 5, 48, (16,), True, None, True, (f32,)),
    (2, 9, 40, (16,), True, [3, 9], True, (f16,)),
]
LSTM_PARAMS = [pytest.param(*case[:7], dt, id=f"B{case[0]}-T{case[1]}-H{case[2]}-J{case[3]}-{i}-{str(dt)[6:]}")
               for i, case in enumerate(LSTM_CASES) for dt in case[7]]


@pytest.mark.parametrize("B,T,H,block_j,states,lengths,use_mask,dtype", LSTM_PARAMS)
def test_lstm_rows_backward_every_gradient(B, T, H, block_j, states, lengths, use_mask, dtype, monkeypatch, kt):
    if block_j is not None:
        monkeypatch.setattr(persistent, "ROWS_BWD_BLOCK_J", block_j)
    cfg = choose_kernel(B, H, dtype, torch.device(DEVICE), "rows")["bwd"]
    assert cfg["kind"] == "rows" and (block_j is None or cfg["BLOCK_J"] == block_j[0])
    g = torch.Generator().manual_seed(B * 1000 + H)
    gi, w = _randn(g, B, T, 4 * H), _randn(g, 4 * H, H, scale=1.5 / H ** 0.5)  # the recurrence matters
    h0, c0 = (_randn(g, B, H, scale=0.5), _randn(g, B, H)) if states else (None, None)
    lens = torch.tensor(lengths, device=DEVICE) if lengths else None
    m = _mask(B, H, seed=H) if use_mask else None

    def fused(*xs):
        y, (h, c) = lstm_sequence_forward(*xs, lens, kernel="rows", hmask=m)
        return y, h, c

    def ref(*xs):
        y, (h, c) = lstm_sequence_ref(*xs, lens, hmask=m)
        return y, h, c

    names = LSTM_NAMES if states else LSTM_NAMES[:5]
    got = _grads(fused, (gi, w, h0, c0), dtype)
    _check(got, _grads(ref, (gi, w, h0, c0), dtype), _grads(ref, (gi, w, h0, c0), f64), names, dtype, kt)
    for b, n in enumerate(lengths or []):  # no gradient into padded steps
        assert torch.count_nonzero(got[3][b, n:]) == 0


def test_lstm_rows_backward_through_the_layer_with_biases(kt):
    """lstm_forward from torch-named weights: dL/dx, dW_ih, dW_hh, db_ih, db_hh, dh0, dc0 of the
    rows backward against autograd through the float64 loop (lengths and the mask included)."""
    B, T, D, H = 3, 6, 5, 20
    g = torch.Generator().manual_seed(11)
    x, w_ih, w_hh = _randn(g, B, T, D), _randn(g, 4 * H, D, scale=0.5), _randn(g, 4 * H, H, scale=0.35)
    b_ih, b_hh, h0, c0 = _randn(g, 4 * H), _randn(g, 4 * H), _randn(g, B, H), _randn(g, B, H)
    lens, m = torch.tensor([6, 2, 4], device=DEVICE), _mask(B, H, seed=3)

    def fused(x, w_ih, w_hh, b_ih, b_hh, h0, c0):
        y, (h, c) = lstm_forward(x, w_ih, w_hh, b_ih, b_hh, h0, c0, lens, kernel="rows", hmask=m)
        return y, h, c

    def ref(x, w_ih, w_hh, b_ih, b_hh, h0, c0):
        y, (h, c) = lstm_sequence_ref(x @ w_ih.t() + b_ih + b_hh, w_hh, h0, c0, lens, hmask=m)
        return y, h, c

    inputs = (x, w_ih, w_hh, b_ih, b_hh, h0, c0)
    names = ("y", "h_n", "c_n", "dx", "dW_ih", "dW_hh", "db_ih", "db_hh", "dh0", "dc0")
    _check(_grads(fused, inputs, f32), _grads(ref, inputs, f32), _grads(ref, inputs, f64), names, f32, kt)


def _recording(module, monkeypatch):
    """Replaces ``module.launch`` with a wrapper that records each launched kernel."""
    seen, real = [], module.launch

    def spy(kernel, *args, **kwargs):
        seen.append(kernel)
        return real(kernel, *args, **kwargs)

    monkeypatch.setattr(module, "launch", spy)
    return seen


@pytest.mark.parametrize("kernel,backward", [("rows", _lstm_rows_bwd_kernel), ("auto", _lstm_split_bwd_kernel),
                                             ("split", _lstm_split_bwd_kernel)])
def test_lstm_kernel_names_choose_the_backward(kernel, backward, monkeypatch):
    seen = _recording(lstm_split, monkeypatch)
    gi = torch.randn(2, 3, 4 * 8, device=DEVICE, requires_grad=True)
    y, _ = lstm_sequence_forward(gi, torch.randn(4 * 8, 8, device=DEVICE), kernel=kernel)
    y.sum().backward()
    assert seen[-1] is backward and len(seen) == 2


# B, T, H, units per program, h0, lengths, recurrent mask, dtype (the LSTM's cases, three gates)
GRU_CASES = [
    (17, 6, 70, None, True, None, False, f32),
    (2, 9, 40, (16,), True, [9, 4], True, f32),
    (3, 7, 40, (16,), False, [2, 7, 5], False, f16),
    (3, 5, 24, None, True, None, True, f16),
]


@pytest.mark.parametrize("B,T,H,block_j,state,lengths,use_mask,dtype", GRU_CASES)
def test_gru_rows_backward_every_gradient(B, T, H, block_j, state, lengths, use_mask, dtype, monkeypatch, kt):
    if block_j is not None:
        monkeypatch.setattr(persistent, "ROWS_BWD_BLOCK_J", block_j)
    cfg = gru_op.choose_layout(B, H, dtype, torch.device(DEVICE), kernel="rows")["bwd"]
    assert cfg["kind"] == "rows" and (block_j is None or cfg["BLOCK_J"] == block_j[0])
    g = torch.Generator().manual_seed(B * 1000 + H + 1)
    gi, w, b_hn = _randn(g, B, T, 3 * H), _randn(g, 3 * H, H, scale=1.5 / H ** 0.5), _randn(g, H, scale=0.5)
    h0 = _randn(g, B, H, scale=0.5) if state else None
    lens = torch.tensor(lengths, device=DEVICE) if lengths else None
    m = _mask(B, H, seed=H + 1) if use_mask else None
    fused = partial(gru_op.gru_sequence_forward, lengths=lens, hmask=m, kernel="rows")
    ref = partial(gru_sequence_ref, lengths=lens, hmask=m)
    names = GRU_NAMES if state else GRU_NAMES[:5]
    got = _grads(fused, (gi, w, b_hn, h0), dtype)
    _check(got, _grads(ref, (gi, w, b_hn, h0), dtype), _grads(ref, (gi, w, b_hn, h0), f64), names, dtype, kt)
    for b, n in enumerate(lengths or []):
        assert torch.count_nonzero(got[2][b, n:]) == 0


@pytest.mark.parametrize("kernel,backward", [("rows", _gru_rows_bwd_kernel), ("auto", _gru_split_bwd_kernel),
                                             ("split", _gru_split_bwd_kernel)])
def test_gru_kernel_names_choose_the_backward(kernel, backward, monkeypatch):
    seen = _recording(gru_op, monkeypatch)
    gi = torch.randn(2, 3, 3 * 8, device=DEVICE, requires_grad=True)
    y, _ = gru_op.gru_sequence_forward(gi, torch.randn(3 * 8, 8, device=DEVICE), kernel=kernel)
    y.sum().backward()
    assert seen[-1] is backward and len(seen) == 2


@pytest.fixture
def h100(monkeypatch):
    """Plans as on an H100/H200: 132 multiprocessors (computed, nothing launched)."""
    monkeypatch.setattr(persistent, "sm_count", lambda device: 132)


@pytest.mark.parametrize("dtype", [bf16, f16])
@pytest.mark.parametrize("H", [768, 1024])
def test_rows_training_plan_fits_h768_and_h1024_on_one_card(H, dtype, h100):
    """B = 16: 16 units per program, 48 / 64 programs, each (4*16 + 16) x 1024 x 2 bytes of weight
    slice and one gradient tile + a 16 x 16 fp32 tile = 164,864 bytes (161 KiB) for the LSTM,
    (3*16 + 16) x 1024 x 2 + 1,024 = 132,096 (129 KiB) for the GRU; the limit is 224 KiB (227 usable)."""
    lstm = choose_kernel(16, H, dtype, CPU, "rows")
    gru = gru_op.choose_layout(16, H, dtype, CPU, kernel="rows")
    for layout, gates in ((lstm, 4), (gru, 3)):
        bwd = layout["bwd"]
        assert bwd["kind"] == "rows" and (bwd["BLOCK_J"], bwd["BLOCK_B"], bwd["BLOCK_K"]) == (16, 16, 1024)
        assert bwd["grid"] == (H // 16, 1)
        assert bwd["shared_bytes"] == (gates * 16 + 16) * 1024 * 2 + 16 * 16 * 4 <= 227 * 1024
    assert lstm["fwd"]["kind"] == "rows" and lstm["bwd"]["shared_bytes"] == 164_864
    with pytest.raises(ValueError, match=r"\(split layout\).*training.*256 KiB.*kernel='rows' trains it"):
        choose_kernel(16, H, dtype, CPU, "split")  # four gradient tiles: 256 KiB


@pytest.mark.parametrize("B,H,dtype,what", [(16, 768, f32, r"inference\) needs 320 KiB"),
                                            (128, 1024, bf16, r"inference\) needs 256 KiB"),
                                            (16, 2048, bf16, r"inference\) needs 320 KiB"),
                                            (320, 512, bf16, r"needs 160 resident programs.* 132 multi")])
def test_rows_plan_refuses_what_does_not_fit(B, H, dtype, what, h100):
    """Where the rows layout does not fit, a clear error from the plan, nothing launched. The rows
    backward needs at most 1 KiB more than the rows forward (one gradient tile as the forward's h
    tile, plus the fp32 margin), so what refuses training is the forward's figure or the SM count."""
    for choose in (partial(choose_kernel, kernel="rows"), partial(gru_op.choose_layout, kernel="rows")):
        with pytest.raises(ValueError, match=r"\(rows layout\).*" + what):
            choose(B, H, dtype, CPU)
    # the rows backward's own refusal: fp32 H = 1024, (4*16 + 16) x 1024 x 4 + 1,024 bytes
    assert "needs 321 KiB of shared memory" in persistent.plan(16, 1024, f32, CPU, training=True, kind="rows")


@pytest.mark.parametrize("dtype", [f32, f16, bf16])
@pytest.mark.parametrize("B,H", [(8, 256), (64, 512), (16, 128), (3, 24), (16, 1024)])
def test_auto_still_takes_the_rows_forward_with_the_split_backward(B, H, dtype, h100):
    """What auto chose before the rows backward existed, as the old code computed it: the rows
    forward plan and the split backward plan (LSTM), the split backward after the GRU's forward;
    a refusal where the old plans did not fit (bf16 H = 1024 training: only the rows backward
    fits, and auto still refuses, so the layers take cuDNN)."""
    for training in (False, True):
        old = {"fwd": persistent.plan(B, H, dtype, CPU, training=False, kind="rows"),
               "bwd": persistent.plan(B, H, dtype, CPU, training=True) if training else None}
        if any(isinstance(cfg, str) for cfg in old.values()):
            with pytest.raises(ValueError, match=r"\(rows layout\)"):
                choose_kernel(B, H, dtype, CPU, training=training)
        else:
            assert choose_kernel(B, H, dtype, CPU, training=training) == old
            assert not training or old["bwd"]["kind"] == "split"
        rows_fwd = persistent.plan(B, H, dtype, CPU, training=False, kind="rows", gates=4)
        old = {"fwd": rows_fwd if isinstance(rows_fwd, dict) else
               persistent.plan(B, H, dtype, CPU, training=False, kind="split", gates=3),
               "bwd": persistent.plan(B, H, dtype, CPU, training=True, gates=3) if training else None}
        if any(isinstance(cfg, str) for cfg in old.values()):
            with pytest.raises(ValueError, match="the fused GRU does not fit"):
                gru_op.choose_layout(B, H, dtype, CPU, training=training)
        else:
            assert gru_op.choose_layout(B, H, dtype, CPU, training=training) == old
    if (B, H, dtype) == (16, 1024, bf16):  # the goal shape: rows trains it, auto does not take it
        assert choose_kernel(B, H, dtype, CPU, "rows")["bwd"]["kind"] == "rows"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (bf16, H = 768/1024)")
@pytest.mark.parametrize("dtype", [bf16, f16])
@pytest.mark.parametrize("H", [768, 1024])
def test_gpu_rows_backward_trains_h768_h1024(H, dtype, monkeypatch, kt):
    """The goal shapes compiled: the rows backward launches (it fits), Triton's own shared memory
    is within the card's 227 KiB and the plan's figure, and every gradient obeys the rule."""
    seen, real = [], lstm_split.launch
    monkeypatch.setattr(lstm_split, "launch", lambda *a, **k: seen.append(real(*a, **k)) or seen[-1])
    B, T = 16, 64
    g = torch.Generator().manual_seed(H)
    gi, w = _randn(g, B, T, 4 * H), _randn(g, 4 * H, H, scale=1.5 / H ** 0.5)
    h0, c0 = _randn(g, B, H, scale=0.5), _randn(g, B, H)
    lens = torch.tensor([T, 17] * 8, device=DEVICE)

    def fused(*xs):
        y, (h, c) = lstm_sequence_forward(*xs, lens, kernel="rows")
        return y, h, c

    def ref(*xs):
        y, (h, c) = lstm_sequence_ref(*xs, lens)
        return y, h, c

    got = _grads(fused, (gi, w, h0, c0), dtype)
    _check(got, _grads(ref, (gi, w, h0, c0), dtype), _grads(ref, (gi, w, h0, c0), f64), LSTM_NAMES, dtype, kt)
    shared = seen[-1].metadata.shared
    planned = choose_kernel(B, H, dtype, torch.device(DEVICE), "rows")["bwd"]["shared_bytes"]
    print(f"rows backward H={H} {dtype}: Triton {shared} bytes of shared memory, plan {planned}")
    assert shared <= min(planned, 227 * 1024)
