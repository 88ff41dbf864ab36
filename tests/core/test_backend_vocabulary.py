"""One backend vocabulary for layers and scans (rnnkit.kernels.dispatch): every name resolves for
the callers that take it, an old name warns and maps, an unknown one fails in one line."""

import logging

import pytest
import torch

import rnnkit
from rnnkit.kernels import dispatch
from rnnkit.kernels.dispatch import ACCEPTS, BACKENDS, LAYER, SCAN, SCAN_LAYER, BackendUnavailable
from rnnkit.kernels.scan import scan
from rnnkit.layers import MinGRU

f64 = torch.float64


@pytest.fixture
def no_interpreter(monkeypatch):
    """Without TRITON_INTERPRET a CPU tensor cannot run Triton: the strict refusal is visible."""
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)


def test_the_vocabulary_and_who_takes_which_name():
    assert BACKENDS == ("auto", "loop", "native", "chunked", "log", "triton")
    assert dispatch.DEPRECATED_ALIASES == {"ref": "loop"}
    assert set(dispatch.DEPRECATED_ALIASES.values()) <= set(BACKENDS)
    assert ACCEPTS[LAYER] == ("auto", "loop", "native", "triton")
    assert ACCEPTS[SCAN_LAYER] == ("auto", "loop", "chunked", "log", "triton")
    assert ACCEPTS[SCAN] == ("auto", "loop", "chunked", "triton")
    for caller, names in ACCEPTS.items():
        for name in names:
            assert dispatch.backend_name(name, caller) == name
    have = dispatch.available_backends()
    assert have[:2] == ["native", "loop"] and set(have) <= set(BACKENDS) - {"auto"}


def test_every_layer_name_resolves(no_interpreter):
    x = torch.randn(2, 5, 3, dtype=f64)
    lstm = rnnkit.LSTM(3, 4).double()
    outs = {}
    for name in ("auto", "loop", "native"):
        lstm.backend = name
        outs[name] = lstm(x)[0]
        assert dispatch.choose_backend(lstm, name, x) == ("native" if name == "auto" else name)
    torch.testing.assert_close(outs["loop"], outs["native"])
    lstm.backend = "triton"
    with pytest.raises(BackendUnavailable, match="backend 'triton' cannot run LSTM"):
        lstm.float()(x.float())


def test_every_scan_layer_name_resolves(no_interpreter):
    x = torch.randn(2, 7, 3, dtype=f64)
    m = MinGRU(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    outs = {}
    for name in ("auto", "loop", "chunked", "log"):
        m.backend = name
        outs[name], _ = m(x, lengths=torch.tensor([7, 4]))
        assert dispatch.choose_backend(m, name, x) == ("chunked" if name == "auto" else name)
    for name in outs:
        torch.testing.assert_close(outs[name], outs["loop"])
    m.backend = "triton"
    with pytest.raises(BackendUnavailable, match="'triton' needs CUDA tensors"):
        m(x)


def test_every_scan_name_resolves(no_interpreter):
    a, b = torch.rand(2, 9, 3, dtype=f64), torch.randn(2, 9, 3, dtype=f64)
    want = scan(a, b, backend="loop")
    for name in ("auto", "chunked"):
        torch.testing.assert_close(scan(a, b, backend=name), want)
    assert dispatch.choose_scan_backend("auto", a) == "chunked"  # CPU: never the interpreter
    with pytest.raises(BackendUnavailable, match="'triton' needs CUDA tensors"):
        scan(a, b, backend="triton")


def test_auto_takes_the_triton_scan_only_in_the_measured_dtypes():
    assert dispatch.auto_scan_takes_triton(torch.float32) and dispatch.auto_scan_takes_triton(torch.bfloat16)
    assert not dispatch.auto_scan_takes_triton(torch.float16)  # not timed yet
    assert not dispatch.auto_scan_takes_triton(f64)


def test_deprecated_alias_warns_at_the_callers_line_and_maps():
    with pytest.warns(DeprecationWarning, match="backend 'ref' is deprecated, use 'loop'") as record:
        m = MinGRU(3, 4, backend="ref")
    assert record[0].filename == __file__
    assert m.backend == "loop" and "backend='loop'" in repr(m)
    with pytest.warns(DeprecationWarning, match="'ref' is deprecated"):
        layer = rnnkit.GRU(3, 4, backend="ref")
    assert layer.backend == "loop"
    layer.backend = "auto"
    with pytest.warns(DeprecationWarning, match="'ref' is deprecated") as record:
        layer.backend = "ref"  # assignment goes through the same check
    assert record[0].filename == __file__ and layer.backend == "loop"
    a, b = torch.rand(1, 4, 2), torch.randn(1, 4, 2)
    with pytest.warns(DeprecationWarning, match="'ref' is deprecated"):
        got = scan(a, b, backend="ref")
    torch.testing.assert_close(got, scan(a, b, backend="loop"))


@pytest.mark.parametrize("make, valid", [
    (lambda: rnnkit.GRU(3, 3, backend="cuda"), ACCEPTS[LAYER]),
    (lambda: rnnkit.Recurrent(rnnkit.LSTMCell(3, 3), backend="chunked"), ACCEPTS[LAYER]),
    (lambda: MinGRU(3, 3, backend="native"), ACCEPTS[SCAN_LAYER]),
    (lambda: scan(torch.rand(1, 2, 3), torch.rand(1, 2, 3), backend="log"), ACCEPTS[SCAN]),
    (lambda: scan(torch.rand(1, 2, 3), torch.rand(1, 2, 3), backend="fast"), ACCEPTS[SCAN]),
])
def test_unknown_name_is_a_one_line_error_listing_the_valid_names(make, valid):
    with pytest.raises(ValueError, match="backend must be one of") as err:
        make()
    msg = str(err.value)
    assert "\n" not in msg
    assert all(repr(name) in msg for name in valid), msg
    layer = rnnkit.LSTM(3, 3)
    with pytest.raises(ValueError, match="backend must be one of"):
        layer.backend = "log"  # checked on assignment too


def test_each_choice_is_logged_once(caplog, monkeypatch):
    monkeypatch.setattr(dispatch, "_logged", set())
    x = torch.randn(2, 4, 3, dtype=f64)
    with caplog.at_level(logging.INFO, logger="rnnkit.dispatch"):
        for _ in range(3):
            MinGRU(3, 4).double()(x)
            rnnkit.LSTM(3, 4).double()(x)
            scan(x.abs(), x)
    msgs = [r.getMessage() for r in caplog.records]
    assert sorted(msgs) == sorted([
        "MinGRU on cpu/torch.float64: backend=chunked (the chunked torch scan (Triton only on CUDA "
        "in fp32/bf16 with triton installed))",
        "LSTM on cpu/torch.float64: backend=native (torch fused op computes this layer exactly)",
        "linear scan on cpu/torch.float64: backend=chunked (requested auto)",
    ]), msgs
