"""MinGRU / MinLSTM layers: lengths, bidirectional, step(), state, backends, bad input, no kernels."""

import os
import subprocess
import sys

import pytest
import torch

from rnnkit.layers import MinGRU, MinLSTM

f64 = torch.float64
LAYERS = [MinGRU, MinLSTM]
BACKENDS = ["chunked", "log", "loop"]


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_padded_batch_equals_each_sequence_alone(cls, backend):
    m = cls(4, 6, num_layers=2, bidirectional=True, backend=backend, batch_first=True).double()
    lengths = torch.tensor([5, 13, 1, 9])
    x = torch.randn(4, 13, 4, dtype=f64)
    x[torch.arange(13) >= lengths.unsqueeze(1)] = 7.0  # garbage in the padding must not matter
    h0 = torch.randn(4, 4, 6, dtype=f64)
    y, h = m(x, h0, lengths=lengths)
    for i, n in enumerate(lengths.tolist()):
        yi, hi = m(x[i:i + 1, :n], h0[:, i:i + 1].contiguous())
        torch.testing.assert_close(y[i:i + 1, :n], yi)
        torch.testing.assert_close(h[:, i:i + 1], hi)
        assert torch.count_nonzero(y[i, n:]) == 0


@pytest.mark.parametrize("cls", LAYERS)
def test_bidirectional_equals_reversed_run(cls):
    bi = cls(3, 5, bidirectional=True, batch_first=True).double()
    fwd, bwd = cls(3, 5, batch_first=True).double(), cls(3, 5, batch_first=True).double()
    sd = bi.state_dict()
    fwd.load_state_dict({k: v for k, v in sd.items() if not k.endswith("_reverse")})
    bwd.load_state_dict({k[: -len("_reverse")]: v for k, v in sd.items() if k.endswith("_reverse")})
    x = torch.randn(2, 12, 3, dtype=f64)
    y, h = bi(x)
    yb, hb = bwd(x.flip(1))
    torch.testing.assert_close(y[..., :5], fwd(x)[0])
    torch.testing.assert_close(y[..., 5:], yb.flip(1))
    torch.testing.assert_close(h[1], hb[0])
    # with lengths the reverse direction starts at each sequence's own last step
    lengths = torch.tensor([12, 7])
    y, _ = bi(x, lengths=lengths)
    torch.testing.assert_close(y[1:, :7, 5:], bwd(x[1:, :7].flip(1))[0].flip(1))


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_step_equals_parallel_pass(cls, backend):
    m = cls(3, 4, num_layers=3, residual=True, backend=backend, batch_first=True).double()
    x = torch.randn(2, 20, 3, dtype=f64)
    h0 = torch.randn(3, 2, 4, dtype=f64)
    y, h = m(x, h0)
    state = h0
    for t in range(20):
        y_t, state = m.step(x[:, t], state)
        torch.testing.assert_close(y_t, y[:, t])
    torch.testing.assert_close(state, h)
    # and from a zero state (state=None on the first step)
    y0, _ = m(x)
    state = None
    for t in range(20):
        y_t, state = m.step(x[:, t], state)
    torch.testing.assert_close(y_t, y0[:, -1])


@pytest.mark.parametrize("cls", LAYERS)
def test_state_carries_across_calls_and_batch_first_false(cls):
    m = cls(3, 4, num_layers=2, batch_first=True).double()
    x = torch.randn(2, 30, 3, dtype=f64)
    y, h = m(x)
    y1, h1 = m(x[:, :11])
    y2, h2 = m(x[:, 11:], h1)
    torch.testing.assert_close(torch.cat([y1, y2], 1), y)
    torch.testing.assert_close(h2, h)
    tm = cls(3, 4, num_layers=2).double()  # batch_first=False, torch's default
    tm.load_state_dict(m.state_dict())
    y_t, h_t = tm(x.transpose(0, 1))
    torch.testing.assert_close(y_t.transpose(0, 1), y)
    torch.testing.assert_close(h_t, h)


@pytest.mark.parametrize("cls", LAYERS)
def test_float32_backends_agree_on_a_long_sequence(cls):
    """float32 at T=2048 against the float64 pass: chunked within 2x the loop's own error; the
    log-space form loses more (its cumulative sums cancel, docs/scan.md) but stays within 1e-3."""
    m = cls(8, 16, backend="loop", batch_first=True)
    x = torch.randn(2, 2048, 8)
    with torch.no_grad():
        want = m.double()(x.double())[0]
        m.float()
        err = {}
        for backend in ("loop", "chunked", "log"):
            m.backend = backend
            err[backend] = float((m(x)[0].double() - want).abs().max())
    assert err["chunked"] <= 2 * err["loop"] + 1e-7, err
    assert err["log"] <= 1e-3 * float(want.abs().max()), err


def test_dropout_between_layers_only_in_training():
    m = MinGRU(3, 8, num_layers=2, dropout=0.5)
    x = torch.randn(10, 2, 3)
    m.eval()
    torch.testing.assert_close(m(x)[0], m(x)[0])
    m.train()
    torch.manual_seed(1)
    a, _ = m(x)
    torch.manual_seed(2)
    assert not torch.allclose(a, m(x)[0])


def test_state_dict_names_and_repr():
    m = MinLSTM(3, 4, num_layers=2, bidirectional=True, max_len=100)
    assert sorted(m.state_dict()) == sorted(
        f"{w}_l{k}{r}" for w in ("weight_ih", "bias_ih") for k in (0, 1) for r in ("", "_reverse"))
    assert m.state_dict()["weight_ih_l1"].shape == (12, 8)
    assert "max_len=100" in repr(m) and "backend='auto'" in repr(m)


def test_bad_input_gives_clear_errors():
    with pytest.raises(ValueError, match="backend must be one of"):
        MinGRU(3, 4, backend="native")
    with pytest.raises(ValueError, match="dropout must be in"):
        MinGRU(3, 4, dropout=1.0)
    with pytest.raises(ValueError, match="max_len"):
        MinGRU(3, 4, max_len=0)
    m = MinGRU(3, 4, max_len=16, batch_first=True)
    with pytest.raises(ValueError, match="more than max_len=16"):
        m(torch.randn(1, 17, 3))
    with pytest.raises(ValueError, match="more than max_len=16"):
        MinGRU(3, 4, max_len=16)(torch.randn(17, 1, 3))  # (T, B, D)
    with pytest.raises(ValueError, match="more than max_len=16"):
        m(torch.randn(17, 3))  # unbatched (T, D)
    for bad in (float("nan"), float("inf"), -float("inf")):
        x = torch.randn(2, 5, 3)
        x[1, 2, 0] = bad
        with pytest.raises(ValueError, match="non-finite values in the recurrence"):
            m(x)
        with pytest.raises(ValueError, match="non-finite values in the recurrence"):
            MinLSTM(3, 4, bidirectional=True, backend="log", batch_first=True)(x)
    x = torch.randn(2, 5, 3)
    x[1, 3:] = float("nan")  # garbage in the padding is fine
    assert torch.isfinite(m(x, lengths=[5, 3])[0]).all()
    with pytest.raises(ValueError, match="lengths must be in"):
        m(torch.randn(2, 5, 3), lengths=[5, 6])
    with pytest.raises(ValueError, match="state must have shape"):
        m(torch.randn(2, 5, 3), torch.zeros(1, 3, 4))
    with pytest.raises(RuntimeError, match="bidirectional"):
        MinGRU(3, 4, bidirectional=True).step(torch.randn(2, 3))


def test_works_without_the_kernels_folder(tmp_path):
    """Without rnnkit/kernels (every import of it fails, as if deleted), MinGRU still runs,
    through the functional loop, and gives the same outputs and gradients."""
    torch.manual_seed(0)
    m = MinGRU(3, 5, num_layers=2, bidirectional=True, batch_first=True).double()
    x = torch.randn(2, 9, 3, dtype=f64, requires_grad=True)
    y, _ = m(x, lengths=torch.tensor([9, 4]))
    (gx,) = torch.autograd.grad(y.square().sum(), x)
    torch.save({"sd": m.state_dict(), "x": x.detach(), "y": y.detach(), "gx": gx}, tmp_path / "case.pt")
    script = (
        "import sys, importlib.abc\n"
        "class NoKernels(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'rnnkit.kernels' or name.startswith('rnnkit.kernels.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NoKernels())\n"
        "import torch\n"
        "import rnnkit.layers.parallel as P\n"
        "from rnnkit.layers import MinGRU\n"
        "assert P._kernel_scan is None and not any(k.startswith('rnnkit.kernels') for k in sys.modules)\n"
        "c = torch.load(sys.argv[1])\n"
        "m = MinGRU(3, 5, num_layers=2, bidirectional=True, batch_first=True).double()\n"
        "m.load_state_dict(c['sd'])\n"
        "x = c['x'].requires_grad_()\n"
        "y, _ = m(x, lengths=torch.tensor([9, 4]))\n"
        "torch.testing.assert_close(y, c['y'])\n"
        "torch.testing.assert_close(torch.autograd.grad(y.square().sum(), x)[0], c['gx'])\n"
        "print('ok')\n"
    )
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path / "case.pt")],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr
