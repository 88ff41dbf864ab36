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
from rnnkit.apps.export.apps import forecast_graph_names

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


# ---------------------------------------------------------------------------------- classify
def _padded_ids(V: int, lengths: list[int], g: torch.Generator, pad: int = 0, low: int = 4):
    ids = torch.full((len(lengths), max(lengths)), pad, dtype=torch.long)
    for b, n in enumerate(lengths):
        ids[b, :n] = torch.randint(low, V, (n,), generator=g)
    return ids, torch.tensor(lengths)


@pytest.mark.parametrize("fmt", FORMATS)
def test_classify(fmt, tiny_run, exported):
    run = rnnkit.load(tiny_run("classify"))
    folder = exported("classify", fmt)
    graph = load_graphs(folder)["model"]
    model, tok = run.model, run.preprocessing["tokenizer"]
    s_in, s_out = _names(model.rnn)
    manifest = json.loads((folder / "export.json").read_text("utf-8"))
    assert manifest["preprocessing"]["labels"] == run.preprocessing["labels"]
    g = _gen(1)
    for lengths in ([LENGTHS[0], 2], [LENGTHS[1], 4, 9]):  # two lengths, padded rows
        ids, lens = _padded_ids(len(tok), lengths, g, tok.pad_id)
        zeros = {n: torch.zeros_like(t) for n, t in _state(model.rnn, len(lengths), g, s_in).items()}
        with torch.no_grad():
            logits, attention = model(ids, lens, return_attention=True)  # the app's own forward
            _, final = model.rnn(model.inputs(ids), lengths=lens)
        final = final if isinstance(final, tuple) else (final,)
        _check(graph(ids=ids, lengths=lens, **zeros),
               {"logits": logits, "attention": attention, **dict(zip(s_out, final))}, f"lengths {lengths}")
        state = _state(model.rnn, len(lengths), g, s_in)  # from a given state: the layer's own call
        with torch.no_grad():
            _, final = model.rnn(model.inputs(ids), tuple(state.values()), lengths=lens)
        final = final if isinstance(final, tuple) else (final,)
        _check(graph(ids=ids, lengths=lens, **state), dict(zip(s_out, final)), f"state, lengths {lengths}")
    # carried state: the forward direction continues a text across calls
    ids, lens = _padded_ids(len(tok), [12, 12], g)
    state = _state(model.rnn, 2, g, s_in)
    with torch.no_grad():
        _, final = model.rnn(model.inputs(ids), tuple(state.values()), lengths=lens)
    final = final if isinstance(final, tuple) else (final,)
    first = graph(ids=ids[:, :5], lengths=torch.tensor([5, 5]), **state)
    second = graph(ids=ids[:, 5:], lengths=torch.tensor([7, 7]), **{i: first[o] for i, o in zip(s_in, s_out)})
    fwd = slice(0, None, model.rnn.num_directions)  # rows of the forward direction
    for o, want in zip(s_out, final):
        assert_close(second[o][fwd], want[fwd], f"carried state {o}")


# ---------------------------------------------------------------------------- streaming models
def _check_stream(graph, eager, make, s_in, s_out, seq_outputs, split=5, total=14):
    """A graph ``(time inputs, *state) -> (time outputs, *next state)`` against ``eager(inputs,
    state) -> {output: tensor}``: at two lengths, and with the state carried over two calls.
    ``make(B, T, g) -> {input: tensor}`` gives the time inputs (batch first, time second)."""
    g = _gen(2)
    for B, T in ((2, LENGTHS[0]), (3, LENGTHS[1])):
        inputs = make(B, T, g)
        state = {n: 0.5 * torch.randn(*s.shape[:1], B, *s.shape[2:], generator=g) for n, s in s_in.items()}
        _check(graph(**inputs, **state), eager(inputs, tuple(state.values())), f"B={B} T={T}")
    inputs = make(2, total, g)
    state = {n: 0.5 * torch.randn(*s.shape[:1], 2, *s.shape[2:], generator=g) for n, s in s_in.items()}
    want = eager(inputs, tuple(state.values()))
    first = graph(**{k: v[:, :split] for k, v in inputs.items()}, **state)
    second = graph(**{k: v[:, split:] for k, v in inputs.items()},
                   **{i: first[o] for i, o in zip(s_in, s_out)})
    got = {**second, **{k: torch.cat([first[k], second[k]], dim=1) for k in seq_outputs}}
    _check(got, want, "carried state")
    one = graph(**{k: v[:, :1] for k, v in inputs.items()}, **state)  # T = 1: one streamed step
    _check({k: one[k] for k in seq_outputs}, {k: want[k][:, :1] for k in seq_outputs}, "T=1")


def _shapes(layer, names):
    rows = layer.num_layers * layer.num_directions
    return {n: torch.empty(rows, 1, int(s)) for n, s in zip(names, layer.state_sizes)}


def _as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


@pytest.mark.parametrize("fmt", FORMATS)
def test_forecast(fmt, tiny_run, exported):
    run = rnnkit.load(tiny_run("forecast"))
    forecaster = run.preprocessing["forecaster"]
    folder = exported("forecast", fmt)
    graphs = load_graphs(folder)
    manifest = json.loads((folder / "export.json").read_text("utf-8"))
    assert manifest["preprocessing"]["layout"]["horizon"] == forecaster.layout.horizon
    named = forecast_graph_names(forecaster)
    assert sorted(graphs) == sorted(name for name, _, _ in named)
    if hasattr(forecaster, "members"):  # the default (model.combine=3): a combination of treatments
        assert sorted(manifest["preprocessing"]["combination"]) == sorted(forecaster.members)
    for name, net, member in named:
        graph = graphs[name]
        model = net.net
        s_in, s_out = _names(model.rnn)
        D = member.layout.n_features

        def eager(inputs, state, model=model, s_out=s_out):
            with torch.no_grad():
                y, final = model(inputs["x"], state=state, return_state=True)  # the app's ManyToMany
            return {"params": y, **dict(zip(s_out, _as_tuple(final)))}

        _check_stream(graph, eager, lambda B, T, g: {"x": torch.randn(B, T, D, generator=g)},
                      _shapes(model.rnn, s_in), s_out, ["params"])
        # the roll-out's own step (ForecastNet.step) continues the exported graph's state
        x = torch.randn(2, 6, D, generator=_gen(3))
        zeros = {n: torch.zeros(t.shape[0], 2, t.shape[2]) for n, t in _shapes(model.rnn, s_in).items()}
        out = graph(x=x[:, :5], **zeros)
        with torch.no_grad():
            params, _ = net.step(x[:, 5], tuple(out[o] for o in s_out) if len(s_out) > 1 else out[s_out[0]])
        assert_close(graph(x=x[:, 5:], **{i: out[o] for i, o in zip(s_in, s_out)})["params"][:, 0], params,
                     "step after the graph")


@pytest.mark.parametrize("fmt", FORMATS)
def test_music(fmt, tiny_run, exported):
    run = rnnkit.load(tiny_run("music"))
    model = run.model
    graphs = load_graphs(exported("music", fmt))
    s_in, s_out = _names(model.rnn)

    class Both:  # the two graphs as one: the duration graph reads the teacher-forced next pitch
        def __call__(self, pitch, duration, next_pitch, **state):
            out = graphs["model"](pitch=pitch, duration=duration, **state)
            out["duration_logits"] = graphs["duration"](hidden=out["hidden"], pitch=next_pitch)["duration_logits"]
            return out

    def eager(inputs, state):
        with torch.no_grad():  # the app's teacher-forced forward
            pl, dl, final = model(inputs["pitch"], inputs["duration"], inputs["next_pitch"], state=state,
                                  return_state=True)
        return {"pitch_logits": pl, "duration_logits": dl, **dict(zip(s_out, _as_tuple(final)))}

    def make(B, T, g):
        return {"pitch": torch.randint(3, model.num_pitches, (B, T), generator=g),
                "duration": torch.randint(3, model.num_durations, (B, T), generator=g),
                "next_pitch": torch.randint(3, model.num_pitches, (B, T), generator=g)}

    _check_stream(Both(), eager, make, _shapes(model.rnn, s_in), s_out, ["pitch_logits", "duration_logits"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_translate(fmt, tiny_run, exported):
    run = rnnkit.load(tiny_run("translate"))
    model = run.model
    dec = model.decoder
    graphs = load_graphs(exported("translate", fmt))
    src_tok, tgt_tok = run.preprocessing["source_tokenizer"], run.preprocessing["target_tokenizer"]
    s_in, s_out = _names(dec.rnn)
    feed_in, feed_out = (["feed0"], ["feed_n"]) if dec.input_feeding else ([], [])
    g = _gen(4)
    for lengths, T in (([LENGTHS[0], 2], 4), ([LENGTHS[1], 5, 8], 9)):  # two source and target lengths
        src, lens = _padded_ids(len(src_tok), lengths, g, src_tok.pad_id)
        tgt = torch.randint(4, len(tgt_tok), (len(lengths), T), generator=g)
        tgt[:, 0] = model.bos_id
        with torch.no_grad():
            logits, weights = model(src, lens, tgt, return_attention=True)  # the app's teacher forcing
            state, bank = model.start(src, lens)
            for t in range(T):  # the app's own decoder steps, for the final state
                _, state, _ = dec.step(tgt[:, t], state, bank)
        enc = graphs["encoder"](src=src, src_lengths=lens)
        carried = {**{i: enc[i] for i in s_in + feed_in}, "memory": enc["memory"], "keys": enc["keys"],
                   "mask": enc["mask"]}
        want = {"logits": logits, "attention": weights, **dict(zip(s_out, state.rnn)),
                **({"feed_n": state.feed} if feed_out else {})}
        _check(graphs["decoder"](tokens=tgt, **carried), want, f"lengths {lengths}, T={T}")
        # the decoder's state carried over two calls, then one token at a time
        first = graphs["decoder"](tokens=tgt[:, :2], **carried)
        rest = {**carried, **{i: first[o] for i, o in zip(s_in + feed_in, s_out + feed_out)}}
        second = graphs["decoder"](tokens=tgt[:, 2:], **rest)
        got = {**second, "logits": torch.cat([first["logits"], second["logits"]], 1),
               "attention": torch.cat([first["attention"], second["attention"]], 1)}
        _check(got, want, f"carried state, lengths {lengths}")
        step = dict(carried)
        for t in range(T):
            out = graphs["decoder"](tokens=tgt[:, t:t + 1], **step)
            step.update({i: out[o] for i, o in zip(s_in + feed_in, s_out + feed_out)})
        _check(out, {"logits": logits[:, -1:]}, "token by token")


@pytest.mark.parametrize("fmt", FORMATS)
def test_speech(fmt, tiny_run, exported):
    """An utterance is one call (bidirectional GRU over a convolutional front end): parity at two
    lengths with padded rows, from zero state (the app's forward) and from a given state (the
    model's own pieces with the layer's call); the carried-state check is the forward
    direction's, where the model is unidirectional only."""
    import torch.nn.functional as F

    run = rnnkit.load(tiny_run("speech"))
    model = run.model
    graph = load_graphs(exported("speech", fmt))["model"]
    s_in, s_out = _names(model.rnn)
    n_mels = run.config.features.n_mels
    g = _gen(5)
    for lengths in ([23, 13], [61, 40, 9]):
        x = torch.randn(len(lengths), max(lengths), n_mels, generator=g)
        lens = torch.tensor(lengths)
        with torch.no_grad():
            log_probs, out_lens = model(x, lens)  # the app's forward
        zeros = {n: torch.zeros_like(t) for n, t in _state(model.rnn, len(lengths), g, s_in).items()}
        out = graph(features=x, lengths=lens, **zeros)
        valid = torch.arange(log_probs.shape[1])[None, :] < out_lens[:, None]
        _check({"out_lengths": out["out_lengths"]}, {"out_lengths": out_lens}, f"lengths {lengths}")
        assert_close(out["log_probs"][valid], log_probs[valid], f"log_probs, lengths {lengths}")
        state = _state(model.rnn, len(lengths), g, s_in)
        with torch.no_grad():
            h, hl = model.frontend(x, lens)
            h = F.relu(model.norm(model.proj(h)))
            _, final = model.rnn(h, tuple(state.values()), lengths=hl)
        _check(graph(features=x, lengths=lens, **state), dict(zip(s_out, _as_tuple(final))), f"state {lengths}")


def test_onnx_export_leaves_the_parameters_requiring_grad_as_they_were(tiny_run, tmp_path):
    """The ONNX path freezes the parameters while it traces (no backward of the loop to trace) and
    gives each back its own flag afterwards, also when the export fails half way."""
    from rnnkit.apps.export import plan_run
    from rnnkit.apps.export.core import export_graph

    plan, _ = plan_run(tiny_run("textgen"))
    graph = plan.graphs[0]
    params = list(graph.module.parameters())
    params[0].requires_grad_(False)  # a user's frozen embedding stays frozen
    before = [p.requires_grad for p in params]
    assert any(before) and not all(before)
    export_graph(graph, "onnx", tmp_path / "model.onnx")
    assert [p.requires_grad for p in params] == before
    graph.input_names = graph.input_names[:1]  # fewer names than inputs: torch.export refuses
    with pytest.raises(Exception, match="dynamic_shapes"):
        export_graph(graph, "onnx", tmp_path / "bad.onnx")
    assert [p.requires_grad for p in params] == before
