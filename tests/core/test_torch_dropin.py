"""rnnkit.RNN/LSTM/GRU are drop-ins for torch.nn.RNN/LSTM/GRU.

Held-out torch programs (small modules written for ``torch.nn``, with the recurrent class as
their only parameter) run unchanged with the class swapped, and with the weights copied from the
torch run give the same outputs and gradients: torch's defaults ``(T, B, D)``, ``batch_first``,
bidirectional, stacked with dropout in eval, ``proj_size``, PackedSequence (sorted and not),
unbatched input, a given ``hx``, ``dtype=``/``device=`` and ``nonlinearity="relu"``; on both of
rnnkit's CPU paths (torch's fused op, ``backend="native"``, and rnnkit's own time loop,
``backend="loop"``). Then the parameters (names, attributes, ``all_weights``, state_dicts both
ways and old rnnkit checkpoints), dynamic quantization through ``to_torch()``, the deprecated
keywords, and ``Recurrent`` over a custom cell under the same call contract.
"""

import copy
import functools
import io
import warnings

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

import rnnkit

T, B, D, H = 6, 3, 4, 5
KINDS = ["RNN", "LSTM", "GRU"]
BACKENDS = ["native", "loop"]  # torch's fused op, rnnkit's own time loop
F64 = {"rtol": 1e-10, "atol": 1e-10}
F32 = {"rtol": 1e-5, "atol": 1e-6}


def _classes(kind, backend):
    """(torch's class, rnnkit's class): the only thing a program is given."""
    return getattr(nn, kind), functools.partial(getattr(rnnkit, kind), backend=backend)


def _flat(*values):
    """Every tensor in nested tuples / PackedSequences, in order."""
    out = []
    for v in values:
        if isinstance(v, PackedSequence):
            out.append(v.data)
        elif isinstance(v, (tuple, list)):
            out += _flat(*v)
        elif isinstance(v, torch.Tensor):
            out.append(v)
    return out


# ------------------------------------------------------------------ the held-out torch programs
class Tagger(nn.Module):
    """A per-step tagger written for torch.nn: ``out, h_n = self.rnn(x, hx)``."""

    def __init__(self, rnn_cls, **kw):
        super().__init__()
        self.rnn = rnn_cls(D, H, **kw)
        feats = (kw.get("proj_size") or H) * (2 if kw.get("bidirectional") else 1)
        self.head = nn.Linear(feats, 2, device=kw.get("device"), dtype=kw.get("dtype"))

    def forward(self, x, hx=None):
        out, h_n = self.rnn(x, hx)
        return self.head(out), h_n


class PackedClassifier(nn.Module):
    """A classifier over variable-length sequences, packing them the torch way."""

    def __init__(self, rnn_cls, enforce_sorted, **kw):
        super().__init__()
        self.enforce_sorted = enforce_sorted
        self.rnn = rnn_cls(D, H, **kw)
        self.dirs = 2 if kw.get("bidirectional") else 1
        self.head = nn.Linear((kw.get("proj_size") or H) * self.dirs, 3)

    def forward(self, x, lengths, hx=None):
        packed = pack_padded_sequence(x, lengths, batch_first=self.rnn.batch_first,
                                      enforce_sorted=self.enforce_sorted)
        out, h_n = self.rnn(packed, hx)
        assert isinstance(out, PackedSequence)
        padded, out_lengths = pad_packed_sequence(out, batch_first=self.rnn.batch_first)
        assert torch.equal(out_lengths, lengths.cpu())
        h = h_n[0] if isinstance(h_n, tuple) else h_n
        last = torch.cat([h[-self.dirs + d] for d in range(self.dirs)], dim=-1)  # top layer
        return self.head(last), padded, out.data, out.batch_sizes, h_n


def _run_program(model, inputs):
    """Forward, then a fixed random weighting of every output for a backward pass; returns the
    outputs and the gradients of the float inputs and of every parameter (by name)."""
    inputs = [t.detach().clone().requires_grad_() if t.is_floating_point() else t for t in inputs]
    outs = _flat(model(*inputs))
    gen = torch.Generator().manual_seed(123)
    loss = sum((o * torch.randn(o.shape, generator=gen, dtype=torch.float64).to(o.dtype)).sum()
               for o in outs if o.is_floating_point())
    names = [n for n, _ in model.named_parameters()]
    params = [p for _, p in model.named_parameters()]
    float_inputs = [t for t in inputs if t.is_floating_point()]
    grads = torch.autograd.grad(loss, float_inputs + params)
    return outs, grads[:len(float_inputs)], dict(zip(names, grads[len(float_inputs):]))


def _assert_same(program, kind, backend, inputs, tol=F64, to=torch.float64, **kw):
    torch_cls, rnnkit_cls = _classes(kind, backend)
    torch.manual_seed(0)
    ref = program(torch_cls, **kw)
    ours = program(rnnkit_cls, **kw)
    ours.load_state_dict(ref.state_dict())  # the weights copied, through the model's own state_dict
    if to is not None:
        ref.to(to), ours.to(to)
        inputs = [t.to(to) if t.is_floating_point() else t for t in inputs]
    ref.eval(), ours.eval()
    out_ref, gin_ref, gp_ref = _run_program(ref, inputs)
    out, gin, gp = _run_program(ours, inputs)
    assert len(out) == len(out_ref)
    for i, (a, b) in enumerate(zip(out, out_ref)):
        assert a.shape == b.shape and a.dtype == b.dtype, (i, a.shape, b.shape)
        torch.testing.assert_close(a, b, **tol, msg=f"output {i}")
    for i, (a, b) in enumerate(zip(gin, gin_ref)):
        torch.testing.assert_close(a, b, **tol, msg=f"input gradient {i}")
    assert list(gp) == list(gp_ref), "the same parameter names in the same order"
    for name in gp_ref:
        torch.testing.assert_close(gp[name], gp_ref[name], **tol, msg=name)
    return ours


def _x(*shape):
    return torch.randn(*shape, dtype=torch.float64)


CONFIGS = {
    "defaults": {},
    "batch_first": {"batch_first": True},
    "bidirectional": {"bidirectional": True},
    "two_layers_bidirectional": {"num_layers": 2, "bidirectional": True},
    "two_layers_dropout_eval": {"num_layers": 2, "dropout": 0.4},
    "no_bias": {"bias": False, "num_layers": 2},
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("config", list(CONFIGS))
def test_tagger_program_same_outputs_and_gradients(config, kind, backend):
    kw = CONFIGS[config]
    x = _x(B, T, D) if kw.get("batch_first") else _x(T, B, D)
    _assert_same(Tagger, kind, backend, [x], **kw)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", KINDS)
def test_hx_given(kind, backend):
    kw = {"num_layers": 2, "bidirectional": True}
    h0 = _x(4, B, H)
    inputs = [_x(T, B, D), (h0, _x(4, B, H)) if kind == "LSTM" else h0]

    class WithState(Tagger):
        def forward(self, x, h, c=None):
            return super().forward(x, h if c is None else (h, c))

    _assert_same(WithState, kind, backend, _flat(*inputs), **kw)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kw", [{"proj_size": 3}, {"proj_size": 2, "num_layers": 2, "bidirectional": True},
                                {"proj_size": 3, "batch_first": True}], ids=str)
def test_lstm_proj_size(kw, backend):
    x = _x(B, T, D) if kw.get("batch_first") else _x(T, B, D)
    ours = _assert_same(Tagger, "LSTM", backend, [x], **kw)
    assert ours.rnn.weight_hr_l0.shape == (kw["proj_size"], H)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_rnn_relu(bidirectional, backend):
    _assert_same(Tagger, "RNN", backend, [_x(T, B, D)], nonlinearity="relu", num_layers=2,
                 bidirectional=bidirectional)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_sequence_in_and_out(kind, enforce_sorted, batch_first, backend):
    lengths = torch.tensor([6, 4, 1]) if enforce_sorted else torch.tensor([4, 6, 1])
    x = _x(B, T, D) if batch_first else _x(T, B, D)
    kw = {"num_layers": 2, "bidirectional": True, "batch_first": batch_first}
    program = functools.partial(PackedClassifier, enforce_sorted=enforce_sorted)
    _assert_same(program, kind, backend, [x, lengths], **kw)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", KINDS)
def test_packed_sequence_with_hx_and_projection(kind, backend):
    kw = {"num_layers": 2, "proj_size": 2} if kind == "LSTM" else {"num_layers": 2}
    h0 = _x(2, B, kw.get("proj_size") or H)

    class WithState(PackedClassifier):
        def forward(self, x, lengths, h, c=None):
            return super().forward(x, lengths, h if c is None else (h, c))

    inputs = [_x(T, B, D), torch.tensor([3, 6, 2]), h0] + ([_x(2, B, H)] if kind == "LSTM" else [])
    _assert_same(functools.partial(WithState, enforce_sorted=False), kind, backend, inputs, **kw)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("with_hx", [False, True])
def test_unbatched_input(kind, with_hx, backend):
    kw = {"num_layers": 2, "bidirectional": True}
    inputs = [_x(T, D)]
    if with_hx:
        inputs += [_x(4, H)] + ([_x(4, H)] if kind == "LSTM" else [])

    class Unbatched(Tagger):
        def forward(self, x, h=None, c=None):
            y, h_n = super().forward(x, None if h is None else (h if c is None else (h, c)))
            assert y.shape == (T, 2) and _flat(h_n)[0].shape == (4, H)
            return y, h_n

    _assert_same(Unbatched, kind, backend, inputs, **kw)


@pytest.mark.parametrize("kind", KINDS)
def test_dtype_and_device_arguments(kind):
    for kw, tol in (({"dtype": torch.float64}, F64), ({"device": "cpu"}, F32),
                    ({"device": torch.device("cpu"), "dtype": torch.float64, "num_layers": 2}, F64)):
        dtype = kw.get("dtype", torch.float32)
        ours = _assert_same(Tagger, kind, "loop", [torch.randn(T, B, D, dtype=dtype)], tol=tol, to=None, **kw)
        assert all(p.dtype == dtype and p.device.type == "cpu" for p in ours.rnn.parameters())


@pytest.mark.parametrize("kind", KINDS)
def test_dtype_mismatch_is_torchs_error(kind):
    ref, ours = getattr(nn, kind)(D, H), getattr(rnnkit, kind)(D, H)
    x = _x(T, B, D)
    with pytest.raises(ValueError) as theirs:
        ref(x)
    with pytest.raises(ValueError) as mine:
        ours(x)
    assert str(mine.value) == str(theirs.value)


@pytest.mark.parametrize("backend", BACKENDS)
def test_training_program_same_parameters_after_steps(backend):
    """A torch training loop (Adam, gradient clipping, dropout 0 between two layers in train
    mode) leaves the same parameters after a few steps."""

    def train(rnn_cls):
        torch.manual_seed(3)
        model = Tagger(rnn_cls, num_layers=2, dropout=0.0, bidirectional=True).double().train()
        opt = torch.optim.Adam(model.parameters(), lr=0.05)
        gen = torch.Generator().manual_seed(4)
        for _ in range(4):
            x = torch.randn(T, B, D, generator=gen, dtype=torch.float64)
            target = torch.randint(0, 2, (T, B), generator=gen)
            y, _ = model(x)
            loss = nn.functional.cross_entropy(y.reshape(-1, 2), target.reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        return dict(model.named_parameters())

    want = train(nn.LSTM)  # rnnkit draws torch's initial weights for the same seed
    got = train(functools.partial(rnnkit.LSTM, backend=backend))
    assert list(got) == list(want)
    for name in want:
        torch.testing.assert_close(got[name], want[name], **F64, msg=name)


# ------------------------------------------------------------------ parameters and state_dicts
@pytest.mark.parametrize("kw", [{}, {"num_layers": 3, "bidirectional": True}, {"bias": False},
                                {"proj_size": 2, "num_layers": 2, "bidirectional": True}], ids=str)
@pytest.mark.parametrize("kind", KINDS)
def test_parameters_are_torchs(kind, kw):
    if "proj_size" in kw and kind != "LSTM":
        pytest.skip("proj_size is an LSTM argument")
    torch.manual_seed(7)
    ref = getattr(nn, kind)(D, H, **kw)
    torch.manual_seed(7)
    ours = getattr(rnnkit, kind)(D, H, **kw)
    named_ref, named = list(ref.named_parameters()), list(ours.named_parameters())
    assert [n for n, _ in named] == [n for n, _ in named_ref]
    for (n, p), (_, q) in zip(named, named_ref):
        assert p.shape == q.shape and torch.equal(p, q), n  # torch's init, same numbers for the seed
        assert getattr(ours, n) is p and ours.get_parameter(n) is p
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert ours._flat_weights_names == ref._flat_weights_names
    assert ours._all_weights == ref._all_weights
    assert [[w.shape for w in ws] for ws in ours.all_weights] == [[w.shape for w in ws] for ws in ref.all_weights]
    assert all(a is b for ws, names in zip(ours.all_weights, ours._all_weights)
               for a, b in zip(ws, (getattr(ours, n) for n in names)))
    assert repr(ours) == repr(ref)
    assert list(ours.children()) == [] and len(list(ours.parameters())) == len(named_ref)
    for attr in ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                 "bidirectional", "proj_size", "mode"):
        assert getattr(ours, attr) == getattr(ref, attr), attr
    assert ours.flatten_parameters() is None  # exists, does nothing


@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_both_ways_and_old_checkpoints(kind):
    kw = {"num_layers": 2, "bidirectional": True}
    ref = getattr(nn, kind)(D, H, **kw).double()
    ours = getattr(rnnkit, kind)(D, H, **kw).double()
    ours.load_state_dict(ref.state_dict())  # strict
    x = _x(T, B, D)
    torch.testing.assert_close(ours(x)[0], ref(x)[0], **F64)
    back = getattr(nn, kind)(D, H, **kw).double()
    back.load_state_dict(ours.state_dict())  # strict
    torch.testing.assert_close(back(x)[0], ref(x)[0], **F64)
    # a checkpoint from before the layers owned torch's names: cells.{layer*dirs+dir}.{name}
    old = {}
    for name, value in ref.state_dict().items():
        base, _, rest = name.partition("_l")
        layer, _, reverse = rest.partition("_")
        old[f"cells.{int(layer) * 2 + (1 if reverse else 0)}.{base}"] = value
    assert "cells.3.weight_hh" in old
    fresh = getattr(rnnkit, kind)(D, H, **kw).double()
    fresh.load_state_dict(old)  # strict
    torch.testing.assert_close(fresh(x)[0], ref(x)[0], **F64)
    model = nn.Sequential(getattr(rnnkit, kind)(D, H, **kw).double())  # inside a model too
    model.load_state_dict({f"0.{k}": v for k, v in old.items()})
    torch.testing.assert_close(model[0](x)[0], ref(x)[0], **F64)


def test_torch_tools_reach_the_computation():
    """What torch code does to a layer's parameters reaches its forward: assignment, .to(),
    torch.func.functional_call, deepcopy and pickling the whole module."""
    ref, ours = nn.LSTM(D, H, num_layers=2), rnnkit.LSTM(D, H, num_layers=2, backend="loop")
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(T, B, D)
    params = {n: torch.randn_like(p) for n, p in ref.named_parameters()}
    torch.testing.assert_close(torch.func.functional_call(ours, params, (x,))[0],
                               torch.func.functional_call(ref, params, (x,))[0], **F32)
    torch.testing.assert_close(ours(x)[0], ref(x)[0], **F32)  # its own weights again afterwards
    twin = copy.deepcopy(ours)
    with torch.no_grad():
        twin.weight_hh_l1.zero_()
    assert not torch.allclose(twin(x)[0], ours(x)[0])
    buf = io.BytesIO()
    torch.save(ours, buf)
    buf.seek(0)
    torch.testing.assert_close(torch.load(buf, weights_only=False)(x)[0], ours(x)[0])
    new = torch.randn(4 * H, H)
    ours.weight_hh_l1 = nn.Parameter(new.clone())
    ref.weight_hh_l1 = nn.Parameter(new.clone())
    torch.testing.assert_close(ours(x)[0], ref(x)[0], **F32)
    ours.double(), ref.double()
    torch.testing.assert_close(ours(x.double())[0], ref(x.double())[0], **F64)


# ------------------------------------------------------------------ dynamic quantization
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_quantize_dynamic_through_to_torch(kind):
    """quantize_dynamic swaps modules by exact type, so the documented route is to_torch():
    rnnkit.layers.to_torch(model) puts torch's equivalent layer (same weights) in the model, which
    quantize_dynamic quantizes exactly as it quantizes the torch program."""
    kw = {"num_layers": 2, "bidirectional": True}
    torch.manual_seed(0)
    ref = Tagger(getattr(nn, kind), **kw).eval()
    ours = Tagger(getattr(rnnkit, kind), **kw).eval()
    ours.load_state_dict(ref.state_dict())
    spec = {nn.LSTM, nn.GRU, nn.Linear}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's notice that eager quantization is moving to torchao
        q_ref = torch.ao.quantization.quantize_dynamic(ref, spec, dtype=torch.qint8)
        q = torch.ao.quantization.quantize_dynamic(rnnkit.layers.to_torch(ours), spec, dtype=torch.qint8)
    dynamic = torch.ao.nn.quantized.dynamic
    assert type(q.rnn) is getattr(dynamic, kind) and type(q.head) is dynamic.Linear
    assert isinstance(ours.rnn, getattr(rnnkit, kind))  # to_torch copied: the model is untouched
    x = torch.randn(T, B, D)
    y_q, y_ref_q = q(x)[0], q_ref(x)[0]
    torch.testing.assert_close(y_q, y_ref_q, rtol=0, atol=0)
    assert (y_q - ours(x)[0]).abs().max() < 0.05  # and it is the float model, quantized


def test_to_torch_and_from_torch():
    lstm = rnnkit.LSTM(D, H, num_layers=2, proj_size=3, batch_first=True, dtype=torch.float64).eval()
    t = lstm.to_torch()
    assert type(t) is nn.LSTM and t.proj_size == 3 and t.batch_first and not t.training
    x = _x(B, T, D)
    torch.testing.assert_close(t(x)[0], lstm(x)[0], **F64)
    back = rnnkit.LSTM.from_torch(t, backend="loop")
    assert back.backend == "loop" and back.proj_size == 3
    torch.testing.assert_close(back(x)[0], lstm(x)[0], **F64)
    rnn = rnnkit.RNN.from_torch(nn.RNN(D, H, nonlinearity="relu"))
    assert rnn.nonlinearity == "relu" and type(rnn.to_torch()) is nn.RNN
    with pytest.raises(ValueError, match="merge='sum'"):
        rnnkit.GRU(D, H, bidirectional=True, merge="sum").to_torch()
    with pytest.raises(ValueError, match="residual"):
        rnnkit.GRU(H, H, num_layers=2, residual=True).to_torch()
    with pytest.raises(TypeError, match="expects a torch.nn.modules.rnn.GRU"):
        rnnkit.GRU.from_torch(nn.LSTM(D, H))


# ------------------------------------------------------------------ rnnkit's extras and deprecations
def test_extras_stay_keywords_on_torchs_contract():
    layer = rnnkit.GRU(D, H, num_layers=2, bidirectional=True, backend="loop").double()
    x = _x(T, B, D)
    lengths = torch.tensor([6, 2, 4])
    y, h = layer(x, lengths=lengths)  # (T, B, D) with lengths: equals the packed call
    y_p, h_p = layer(pack_padded_sequence(x, lengths, enforce_sorted=False))
    torch.testing.assert_close(y, pad_packed_sequence(y_p, total_length=T)[0], **F64)
    torch.testing.assert_close(h, h_p, **F64)
    with pytest.raises(ValueError, match="PackedSequence carries its own lengths"):
        layer(pack_padded_sequence(x, lengths, enforce_sorted=False), lengths=lengths)
    with pytest.raises(TypeError):
        rnnkit.GRU(D, H, 1, True, False, 0.0, False, None, None, "sum")  # extras are keyword-only


def test_return_state_and_state_keywords_are_deprecated_but_work():
    layer = rnnkit.LSTM(D, H)
    x = torch.randn(T, B, D)
    y, (h, c) = layer(x)
    with pytest.warns(DeprecationWarning, match="return_state=.* is deprecated") as rec:
        y1, (h1, c1) = layer(x, return_state=True)
    assert rec[0].filename == __file__  # points at the caller's line
    with pytest.warns(DeprecationWarning, match="return_state"):
        y2 = layer(x, return_state=False)  # old code asking for the output alone keeps getting it
    assert isinstance(y2, torch.Tensor)
    with pytest.warns(DeprecationWarning, match="state=.* is deprecated.*hx"):
        y3, _ = layer(x, state=(h, c))
    torch.testing.assert_close(y3, layer(x, (h, c))[0])
    for a, b in ((y1, y), (h1, h), (c1, c), (y2, y)):
        torch.testing.assert_close(a, b)
    with pytest.raises(TypeError, match="not both"), pytest.warns(DeprecationWarning):
        layer(x, (h, c), state=(h, c))


def test_step_streams_under_no_grad_as_documented():
    doc = rnnkit.Recurrent.step.__doc__
    assert "torch.no_grad()" in doc and "memory grows without bound" in doc
    layer = rnnkit.LSTM(D, H, num_layers=2)
    x = torch.randn(T, B, D)
    state = None
    with torch.no_grad():
        for t in range(T):
            y_t, state = layer.step(x[t], state)
    assert state[0].grad_fn is None  # no graph kept across steps
    torch.testing.assert_close(y_t, layer(x)[0][-1], **F32)


# ------------------------------------------------------------------ Recurrent over a custom cell
class ElmanCell(nn.Module):
    """A user's cell with only the cell protocol (input_size, hidden_size, forward(x_t, state))."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.ih = nn.Linear(input_size, hidden_size)
        self.hh = nn.Linear(hidden_size, hidden_size)

    def forward(self, x, state):
        return torch.tanh(self.ih(x) + self.hh(state[0]))


def test_recurrent_with_a_custom_cell_follows_the_same_contract():
    layer = rnnkit.Recurrent(lambda d: ElmanCell(d, H), input_size=D, num_layers=2,
                             bidirectional=True).double()
    ref = nn.RNN(D, H, num_layers=2, bidirectional=True).double()
    with torch.no_grad():
        for i, cell in enumerate(layer.cells):
            sfx = f"_l{i // 2}" + ("_reverse" if i % 2 else "")
            getattr(ref, "weight_ih" + sfx).copy_(cell.ih.weight)
            getattr(ref, "bias_ih" + sfx).copy_(cell.ih.bias)
            getattr(ref, "weight_hh" + sfx).copy_(cell.hh.weight)
            getattr(ref, "bias_hh" + sfx).copy_(cell.hh.bias)
    x, h0 = _x(T, B, D), _x(4, B, H)
    y, h = layer(x, h0)  # (T, B, D) by default, (output, h_n)
    y_ref, h_ref = ref(x, h0)
    torch.testing.assert_close(y, y_ref, **F64)
    torch.testing.assert_close(h, h_ref, **F64)
    packed = pack_padded_sequence(x, torch.tensor([2, 6, 5]), enforce_sorted=False)
    p, hp = layer(packed)
    p_ref, hp_ref = ref(packed)
    assert isinstance(p, PackedSequence)
    torch.testing.assert_close(p.data, p_ref.data, **F64)
    torch.testing.assert_close(hp, hp_ref, **F64)
    yu, hu = layer(x[:, 0])  # unbatched (T, D)
    torch.testing.assert_close(yu, ref(x[:, 0])[0], **F64)
    assert hu.shape == (4, H)
    bf = rnnkit.Recurrent(layer.cells[0], batch_first=True).double()
    torch.testing.assert_close(bf(x.transpose(0, 1))[0].transpose(0, 1),
                               rnnkit.Recurrent(layer.cells[0]).double()(x)[0], **F64)


@pytest.mark.parametrize("cls", ["MinGRU", "MinLSTM"])
def test_min_rnn_layers_follow_the_same_contract(cls):
    layer = getattr(rnnkit.layers, cls)(D, H, num_layers=2, bidirectional=True, backend="loop").double()
    x = _x(T, B, D)
    lengths = torch.tensor([6, 1, 3])
    y, h = layer(x, lengths=lengths)
    y_p, h_p = layer(pack_padded_sequence(x, lengths, enforce_sorted=False))
    torch.testing.assert_close(pad_packed_sequence(y_p, total_length=T)[0], y, **F64)
    torch.testing.assert_close(h_p, h, **F64)
    yu, hu = layer(x[:, 1])
    torch.testing.assert_close(yu, layer(x[:, 1:2])[0][:, 0], **F64)
    assert hu.shape == (4, H)
