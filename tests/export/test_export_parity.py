"""Every exportable app: the trained tiny model, exported (ONNX and torch.export's pt2), gives the
eager PyTorch model's outputs at two sequence lengths, and the state a first call returns, fed
into a second call, gives what one call over the concatenated sequence gives (what a server that
streams relies on). The reference is always the app's own model through its own forward, not the
export wrapper."""

from __future__ import annotations

import json

import pytest
import torch

import rnnkit

from .conftest import assert_close, load_graphs

FORMATS = ["onnx", "pt2"]
LENGTHS = (3, 11)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _state(layer, B: int, g: torch.Generator, names: list[str]) -> dict:
    rows = layer.num_layers * layer.num_directions
    return {n: 0.5 * torch.randn(rows, B, int(s), generator=g) for n, s in zip(names, layer.state_sizes)}


def _names(layer, prefix=""):
    n = len(layer.state_sizes)
    return [prefix + s for s in ("h0", "c0")[:n]], [prefix + s for s in ("h_n", "c_n")[:n]]


def _check(got: dict, want: dict, what: str):
    for k, v in want.items():
        assert_close(got[k], v, f"{what}: {k}")


# ---------------------------------------------------------------------------------- textgen
def _textgen_eager(model, ids, state):
    with torch.no_grad():
        y, final = model(ids, state=tuple(state), return_state=True)
    final = final if isinstance(final, tuple) else (final,)
    return y, final


@pytest.mark.parametrize("fmt", FORMATS)
def test_textgen(fmt, tiny_run, exported):
    run = rnnkit.load(tiny_run("textgen"))
    folder = exported("textgen", fmt)
    graph = load_graphs(folder)["model"]
    model, V = run.model, len(run.preprocessing["vocab"])
    s_in, s_out = _names(model.rnn)
    manifest = json.loads((folder / "export.json").read_text("utf-8"))
    assert manifest["graphs"]["model"]["inputs"][0] == {"name": "ids", "dtype": "int64", "shape": ["batch", "time"]}
    assert manifest["preprocessing"]["vocab"]["itos"] == run.preprocessing["vocab"].itos
    g = _gen()
    for B, T in ((2, LENGTHS[0]), (3, LENGTHS[1])):  # two lengths (and two batch sizes)
        ids = torch.randint(0, V, (B, T), generator=g)
        state = _state(model.rnn, B, g, s_in)
        y, final = _textgen_eager(model, ids, state.values())
        _check(graph(ids=ids, **state), {"logits": y, **dict(zip(s_out, final))}, f"B={B} T={T}")
    # the state carried across two calls == one call over the concatenation
    ids = torch.randint(0, V, (2, 14), generator=g)
    state = _state(model.rnn, 2, g, s_in)
    y, final = _textgen_eager(model, ids, state.values())
    first = graph(ids=ids[:, :5], **state)
    second = graph(ids=ids[:, 5:], **{i: first[o] for i, o in zip(s_in, s_out)})
    logits = torch.cat([first["logits"], second["logits"]], dim=1)
    _check({**second, "logits": logits}, {"logits": y, **dict(zip(s_out, final))}, "carried state")
    # one step at a time (T = 1), as a server streams generated tokens
    out = graph(ids=ids[:, :1], **state)
    _check(out, {"logits": y[:, :1]}, "T=1")
