"""The two vision apps, exported: caption (an encoder graph over the image and a decoder graph over
word ids from its state) and video (an encoder graph over frames with the clip RNN's state, and
the pooling's running sums, as inputs and outputs; the caption decoder beside it).

Against the app's own eager model (its ``forward``, ``encode``, ``OneToMany.initial_state`` and
``step``, not the export wrappers), in ONNX (onnxruntime) and pt2 (``torch.export.load``), to
1e-4: two batch sizes and two lengths (frames, caption words), padded clips, the state carried
across two calls (frames streamed in two chunks; a caption teacher-forced in two parts, then word
by word); and end to end, greedy decoding with the exported graphs on real images and clips of
the app's data, written to files and read the way export.json says, gives rnnkit predict's
captions (and the video's label and digit). The video pooling variants (mean, max, attention),
an LSTM and a ConvLSTM clip RNN are checked on small untrained models, eagerly and one exported.
"""

from __future__ import annotations

import json
import types

import numpy as np
import pytest
import torch

import rnnkit

from .conftest import assert_close, load_graphs

FORMATS = ["onnx", "pt2"]
MAX_ERR: dict[str, float] = {}  # the largest absolute difference seen per app and format


@pytest.fixture(scope="module", autouse=True)
def _report_differences():
    yield
    if MAX_ERR:
        print("\nmax abs differences, exported vs eager: "
              + ", ".join(f"{k} {v:.2e}" for k, v in sorted(MAX_ERR.items())))


def _check(got: dict, want: dict, what: str, key: str):
    for k, v in want.items():
        g, w = torch.as_tensor(got[k]), torch.as_tensor(v)
        assert_close(g, w, f"{what}: {k}")
        if w.dtype.is_floating_point and w.numel():
            finite = torch.isfinite(w)
            err = (g.double() - w.double()).abs()[finite]
            if err.numel():
                MAX_ERR[key] = max(MAX_ERR.get(key, 0.0), float(err.max()))


def _names(layer, prefix=""):
    n = len(layer.state_sizes)
    return [prefix + s for s in ("h0", "c0")[:n]], [prefix + s for s in ("h_n", "c_n")[:n]]


def _as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def _random_state(layer, B, g, names):
    rows = layer.num_layers * layer.num_directions
    return {n: 0.5 * torch.randn(rows, B, int(s), generator=g) for n, s in zip(names, layer.state_sizes)}


def _captions_tokens(V, B, T, g):
    from rnnkit.apps.vision.vocab import BOS_ID

    tokens = torch.randint(4, V, (B, T), generator=g)
    tokens[:, 0] = BOS_ID
    return tokens


def _check_decoder(graph, decoder, z, start: dict, tokens, prefix, what, key):
    """The decoder graph from the encoder graph's state == the app's teacher forcing
    ``OneToMany(z, tokens)`` (and its ``step`` loop's final state): in one call, in two calls
    with the state carried, and word by word."""
    s_in, s_out = _names(decoder.rnn, prefix)
    with torch.no_grad():
        logits = decoder(z, tokens)  # the app's own teacher forcing
        state = decoder.initial_state(z)
        for t in range(tokens.shape[1]):
            _, state = decoder.step(tokens[:, t], state)
    want = {"logits": logits, **dict(zip(s_out, _as_tuple(state)))}
    _check(graph(tokens=tokens, **start), want, f"{what}: one call", key)
    first = graph(tokens=tokens[:, :2], **start)
    second = graph(tokens=tokens[:, 2:], **{i: first[o] for i, o in zip(s_in, s_out)})
    _check({**second, "logits": torch.cat([first["logits"], second["logits"]], 1)}, want,
           f"{what}: state carried over two calls", key)
    step = dict(start)
    for t in range(tokens.shape[1]):
        out = graph(tokens=tokens[:, t:t + 1], **step)
        step = {i: out[o] for i, o in zip(s_in, s_out)}
    _check(out, {"logits": logits[:, -1:], **dict(zip(s_out, _as_tuple(state)))}, f"{what}: word by word", key)


def _greedy(decoder_graph, start: dict, prefix: str, search: dict, vocab: dict) -> list[list[int]]:
    """Greedy decoding as export.json's ``search.greedy`` says, with the exported decoder graph
    only: word ids per row (EOS and what follows dropped, PAD and BOS dropped)."""
    s_in, s_out = [prefix + s for s in ("h0", "c0")], [prefix + s for s in ("h_n", "c_n")]
    state = {k: v for k, v in start.items() if k in s_in}
    B = next(iter(state.values())).shape[1]
    tok = torch.full((B, 1), vocab["bos_id"], dtype=torch.long)
    rows: list[list[int]] = [[] for _ in range(B)]
    done = [False] * B
    for _ in range(search["max_len"]):
        out = decoder_graph(tokens=tok, **state)
        tok = out["logits"][:, -1].argmax(-1, keepdim=True)
        for b, i in enumerate(tok[:, 0].tolist()):
            if not done[b]:
                if i == vocab["eos_id"]:
                    done[b] = True
                elif i not in (vocab["pad_id"], vocab["bos_id"]):
                    rows[b].append(i)
        if all(done):
            break
        state = {i: out[o] for i, o in zip(s_in, s_out) if o in out}
    return rows


def _read_image(path) -> torch.Tensor:
    """An image file -> uint8 (C, H, W), as export.json's ``read`` says (PIL, not rnnkit)."""
    from PIL import Image

    a = np.array(Image.open(path))
    if a.ndim == 2:
        a = a[:, :, None]
    return torch.from_numpy(a).permute(2, 0, 1).contiguous()


def _save_png(array_chw: torch.Tensor, path):
    from PIL import Image

    a = array_chw.permute(1, 2, 0).numpy()
    Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a).save(path)


# ------------------------------------------------------------------------------------ caption
@pytest.mark.parametrize("fmt", FORMATS)
def test_caption(fmt, tiny_run, exported):
    run = rnnkit.load(tiny_run("caption"))
    model, meta, vocab = run.model, run.preprocessing["meta"], run.preprocessing["vocab"]
    folder = exported("caption", fmt)
    graphs = load_graphs(folder)
    C, (H, W) = meta["channels"], meta["image_size"]
    manifest = json.loads((folder / "export.json").read_text("utf-8"))
    assert manifest["graphs"]["encoder"]["inputs"] == [{"name": "image", "dtype": "uint8", "shape": ["batch", C, H, W]}]
    assert manifest["preprocessing"]["vocab"]["itos"] == vocab.itos
    assert manifest["preprocessing"]["image"]["height"] == H and manifest["preprocessing"]["image"]["width"] == W
    s_in, s_out = _names(model.decoder.rnn)
    key = f"caption/{fmt}"
    g = torch.Generator().manual_seed(0)
    for B, T in ((2, 3), (3, 11)):  # two batch sizes, two caption lengths
        images = torch.randint(0, 256, (B, C, H, W), dtype=torch.uint8, generator=g)
        with torch.no_grad():
            z = model.encoder(images)  # the app's encoder (uint8 pixels / 255 inside)
            start = _as_tuple(model.decoder.initial_state(z))
        enc = graphs["encoder"](image=images)
        _check(enc, {"features": z, **dict(zip(s_in, start))}, f"encoder B={B}", key)
        tokens = _captions_tokens(len(vocab), B, T, g)
        _check_decoder(graphs["decoder"], model.decoder, z, {n: enc[n] for n in s_in}, tokens, "",
                       f"decoder B={B} T={T}", key)
        with torch.no_grad():  # the whole model's teacher forcing: CaptionModel.forward
            want = model(images, tokens)
        _check(graphs["decoder"](tokens=tokens, **{n: enc[n] for n in s_in}), {"logits": want},
               f"encoder + decoder == CaptionModel B={B} T={T}", key)
        # from a random state: the decoder's own recurrent layer and head
        state = _random_state(model.decoder.rnn, B, g, s_in)
        with torch.no_grad():
            y, final = model.decoder.rnn(model.decoder.inputs(tokens), tuple(state.values()))
        _check(graphs["decoder"](tokens=tokens, **state),
               {"logits": model.decoder.head(y).detach(), **dict(zip(s_out, _as_tuple(final)))},
               f"decoder from a random state B={B} T={T}", key)


@pytest.mark.parametrize("fmt", FORMATS)
def test_caption_greedy_matches_predict(fmt, tiny_run, exported, tmp_path):
    """Real held-out strips of the run's data, saved as PNG: greedy decoding with the exported
    graphs (files read with PIL, vocabulary and limits from export.json) gives the word ids of
    rnnkit's greedy decoding and the captions of ``rnnkit predict --beam-size 1``."""
    from rnnkit.apps.caption import task
    from rnnkit.apps.vision.models import decode_captions

    run_dir = tiny_run("caption")
    run = rnnkit.load(run_dir)
    folder = exported("caption", fmt)
    graphs = load_graphs(folder)
    pre = json.loads((folder / "export.json").read_text("utf-8"))["preprocessing"]
    _, _, test, _ = task.load_data(run.config.data)
    paths = []
    for i in range(6):
        paths.append(tmp_path / f"{test.names[i]}.png")
        _save_png(test.images[i], paths[-1])
    images = torch.stack([_read_image(p) for p in paths])
    assert torch.equal(images, test.images[:6])  # the PNG round trip keeps the pixels
    enc = graphs["encoder"](image=images)
    ids = _greedy(graphs["decoder"], enc, "", pre["search"], pre["vocab"])
    with torch.no_grad():
        z = run.model.encoder(images)
        want = decode_captions(run.model.decoder, z, pre["search"]["max_len"], 1)
        # the first word's logits on these real images, beside the argmax path
        first, _ = run.model.decoder.step(torch.full((6,), pre["vocab"]["bos_id"]), run.model.decoder.initial_state(z))
    s_in, _ = _names(run.model.decoder.rnn)
    bos = torch.full((6, 1), pre["vocab"]["bos_id"])
    _check(graphs["decoder"](tokens=bos, **{n: enc[n] for n in s_in}), {"logits": first[:, None]},
           "first word on real strips", f"caption/{fmt}")
    assert ids == want
    itos = pre["vocab"]["itos"]
    predicted = run.predict([str(p) for p in paths], beam_size=1)
    assert [" ".join(itos[i] for i in row) for row in ids] == [c for _, c in predicted]


# ------------------------------------------------------------------------------------ video
def _video_eager(model, frames, lengths):
    """The app's own model on a padded batch of clips: its heads, z and the decoder's start."""
    with torch.no_grad():
        motion, digits, _ = model(frames, lengths)  # VideoModel.forward
        z = model.encode(frames, lengths)
        want = {"motion_logits": motion, "features": z}
        if digits is not None:
            want["digit_logits"] = digits
        if model.decoder is not None:
            want.update(zip(_names(model.decoder.rnn, "dec_")[0], _as_tuple(model.decoder.initial_state(z))))
    return want


def _frame_features(model, frames):
    B, T = frames.shape[:2]
    flat = frames.reshape(B * T, *frames.shape[2:])
    with torch.no_grad():
        if model.temporal == "convlstm":
            return model.frames.feature_maps(flat).reshape(B, T, -1)
        return model.frames(flat).view(B, T, -1)


def _zero_inputs(model, B, s_in, pool_size):
    rows = model.clip.rnn.num_layers * model.clip.rnn.num_directions
    out = {n: torch.zeros(rows, B, int(s)) for n, s in zip(s_in, model.clip.rnn.state_sizes)}
    if pool_size:
        out["pool0"] = torch.zeros(B, pool_size)
    return out


def _check_video_encoder(graph, model, pool_size, key, g, C, size, lengths_sets=((3, 2), (11, 7, 4))):
    s_in, s_out = _names(model.clip.rnn)
    for lengths in lengths_sets:  # two frame counts and batch sizes, padded clips
        B, T = len(lengths), max(lengths)
        frames = torch.randint(0, 256, (B, T, C, *size), dtype=torch.uint8, generator=g)
        lens = torch.tensor(lengths)
        frames[torch.arange(T)[None, :] >= lens[:, None]] = 0  # padding frames are zeros, as predict's
        with torch.no_grad():
            _, final = model.clip.rnn(model.clip.inputs(_frame_features(model, frames)), lengths=lens)
        want = {**_video_eager(model, frames, lens), **dict(zip(s_out, _as_tuple(final)))}
        _check(graph(frames=frames, lengths=lens, **_zero_inputs(model, B, s_in, pool_size)), want,
               f"encoder, lengths {lengths}", key)
        state = _random_state(model.clip.rnn, B, g, s_in)  # from a random state: the layer's own call
        with torch.no_grad():
            _, final = model.clip.rnn(_frame_features(model, frames), tuple(state.values()), lengths=lens)
        zeros = _zero_inputs(model, B, s_in, pool_size)
        _check(graph(frames=frames, lengths=lens, **{**zeros, **state}), dict(zip(s_out, _as_tuple(final))),
               f"encoder from a random state, lengths {lengths}", key)
    if model.clip.rnn.bidirectional:
        return
    # frames streamed in two chunks, state (and pooling sums) carried == one call over the clip;
    # the second row's clip ends inside the second chunk
    frames = torch.randint(0, 256, (2, 11, C, *size), dtype=torch.uint8, generator=g)
    frames[1, 8:] = 0
    want = _video_eager(model, frames, torch.tensor([11, 8]))
    first = graph(frames=frames[:, :5], lengths=torch.tensor([5, 5]), **_zero_inputs(model, 2, s_in, pool_size))
    carried = {i: first[o] for i, o in zip(s_in, s_out)}
    if pool_size:
        carried["pool0"] = first["pool_n"]
    second = graph(frames=frames[:, 5:], lengths=torch.tensor([6, 3]), **carried)
    _check(second, want, "encoder, two chunks with the state carried", key)
    # one frame at a time (T = 1), both rows valid for the first 6 frames
    state = _zero_inputs(model, 2, s_in, pool_size)
    for t in range(6):
        res = graph(frames=frames[:, t:t + 1], lengths=torch.tensor([1, 1]), **state)
        state = {i: res[o] for i, o in zip(s_in, s_out)}
        if pool_size:
            state["pool0"] = res["pool_n"]
    one = _video_eager(model, frames[:, :6], torch.tensor([6, 6]))
    _check(res, one, "encoder, frame by frame", key)


@pytest.mark.parametrize("fmt", FORMATS)
def test_video(fmt, tiny_run, exported):
    from rnnkit.apps.export.apps import _pool_size

    run = rnnkit.load(tiny_run("video"))
    model, meta, vocab = run.model, run.preprocessing["meta"], run.preprocessing["caption_vocab"]
    folder = exported("video", fmt)
    graphs = load_graphs(folder)
    C, size = meta["channels"], tuple(meta["frame_size"])
    manifest = json.loads((folder / "export.json").read_text("utf-8"))
    assert manifest["graphs"]["encoder"]["inputs"][0] == {"name": "frames", "dtype": "uint8",
                                                           "shape": ["batch", "time", C, *size]}
    assert manifest["preprocessing"]["labels"] == meta["label_names"]
    key = f"video/{fmt}"
    g = torch.Generator().manual_seed(1)
    _check_video_encoder(graphs["encoder"], model, _pool_size(model), key, g, C, size)
    if model.decoder is None:
        return
    assert manifest["preprocessing"]["vocab"]["itos"] == vocab.itos
    d_in, _ = _names(model.decoder.rnn, "dec_")
    for B, T, n in ((2, 3, 4), (3, 11, 6)):  # two batch sizes and caption lengths
        frames = torch.randint(0, 256, (B, n, C, *size), dtype=torch.uint8, generator=g)
        enc = graphs["encoder"](frames=frames, lengths=torch.full((B,), n),
                                **_zero_inputs(model, B, _names(model.clip.rnn)[0], _pool_size(model)))
        with torch.no_grad():
            z = model.encode(frames, torch.full((B,), n))
        _check_decoder(graphs["decoder"], model.decoder, z, {k: enc[k] for k in d_in},
                       _captions_tokens(len(vocab), B, T, g), "dec_", f"decoder B={B} T={T}", key)


@pytest.mark.parametrize("fmt", FORMATS)
def test_video_greedy_matches_predict(fmt, tiny_run, exported, tmp_path):
    """Real held-out clips of the run's data as folders of PNG frames: the exported encoder over
    the frames in two chunks (state carried), then greedy decoding with the decoder graph, give
    ``rnnkit predict --beam-size 1``'s label, probability, digit and caption."""
    from rnnkit.apps.export.apps import _pool_size
    from rnnkit.apps.video import task

    run = rnnkit.load(tiny_run("video"))
    folder = exported("video", fmt)
    graphs = load_graphs(folder)
    pre = json.loads((folder / "export.json").read_text("utf-8"))["preprocessing"]
    _, _, test, _ = task.load_data(run.config.data)
    model = run.model
    s_in, s_out = _names(model.clip.rnn)
    P = _pool_size(model)
    folders, clips = [], []
    for i in range(4):
        n = int(test.lengths[i])
        d = tmp_path / f"clip{i}"
        d.mkdir()
        for t in range(n):
            _save_png(test.frames[i, t], d / f"{t:03d}.png")
        folders.append(str(d))
        clips.append(torch.stack([_read_image(d / f"{t:03d}.png") for t in range(n)]))
        assert torch.equal(clips[-1], test.frames[i, :n])
    assert all(len(c) <= pre["frames"]["max_frames"] for c in clips)
    frames = torch.stack(clips)  # the built-in clips all have data.frames frames
    half = frames.shape[1] // 2
    state = _zero_inputs(model, len(clips), s_in, P)
    first = graphs["encoder"](frames=frames[:, :half], lengths=torch.full((len(clips),), half), **state)
    carried = {i: first[o] for i, o in zip(s_in, s_out)}
    if P:
        carried["pool0"] = first["pool_n"]
    rest = frames.shape[1] - half
    enc = graphs["encoder"](frames=frames[:, half:], lengths=torch.full((len(clips),), rest), **carried)
    predicted = run.predict(folders, beam_size=1)
    probs = enc["motion_logits"].softmax(-1)
    for b, row in enumerate(predicted):
        assert row["label"] == pre["labels"][int(probs[b].argmax())]
        assert abs(row["probability"] - float(probs[b].max())) < 1e-4
        if "digit_logits" in enc:
            assert row["digit"] == pre["digits"][int(enc["digit_logits"][b].argmax())]
    if "vocab" in pre:
        ids = _greedy(graphs["decoder"], enc, "dec_", pre["search"], pre["vocab"])
        itos = pre["vocab"]["itos"]
        assert [" ".join(itos[i] for i in r) for r in ids] == [row["caption"] for row in predicted]


# ------------------------------------------------------------------------- video model variants
def _variant_run(temporal: str, pooling: str, **kw):
    """A small untrained VideoModel (BatchNorm statistics randomised) in a stand-in for a loaded
    run: the plan needs the model, the data meta and the config."""
    from rnnkit.apps.video.task import default_config
    from rnnkit.apps.vision.models import VideoModel
    from rnnkit.apps.vision.vocab import CaptionVocab

    torch.manual_seed(0)
    vocab = CaptionVocab(["a", "b", "c"])
    model = VideoModel(1, (12, 12), 4, num_digits=10, vocab_size=len(vocab), channels=(4, 8), grid=(2, 2),
                       frame_features=8, temporal=temporal, hidden_size=6, embed_size=8, pooling=pooling,
                       convlstm_channels=2, caption_hidden=6, **kw)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    if model.clip.attention is not None:  # scores far apart, so the running maximum moves
        with torch.no_grad():
            model.clip.attention.score.weight.mul_(30.0)
    meta = {"label_names": ["l0", "l1", "l2", "l3"], "channels": 1, "frame_size": [12, 12], "digits": True,
            "captions": True}
    return types.SimpleNamespace(app="video", model=model.eval(), config=default_config(),
                                 preprocessing={"meta": meta, "caption_vocab": vocab})


class _Eager:
    """A plan's graph module called like an exported graph (keyword tensors -> named outputs)."""

    def __init__(self, graph):
        self.graph = graph

    def __call__(self, **feeds):
        names = iter(self.graph.input_names)  # None where the graph leaves an argument out
        args = [None if t is None else feeds[next(names)] for t in self.graph.example]
        with torch.no_grad():
            return dict(zip(self.graph.output_names, self.graph.module(*args)))


VARIANTS = [("gru", "mean", {}), ("gru", "max", {}), ("lstm", "attention", {"num_layers": 2}),
            ("convlstm", "last", {}), ("gru", "last", {"bidirectional": True})]


def _loop_scan(body, init, xs, reverse=False):
    """``torch._higher_order_ops.scan`` as a Python loop (same results, outputs in time order):
    eager scan compiles its step with dynamo for every new cell and length, seconds each."""
    seq = xs if isinstance(xs, tuple) else (xs,)
    T = seq[0].shape[0]
    carry, ys = init, [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        carry, ys[t] = body(carry, tuple(x[t] for x in seq) if isinstance(xs, tuple) else xs[t])
    return carry, torch.stack(ys)


@pytest.mark.parametrize("temporal,pooling,kw", VARIANTS, ids=[f"{t}-{p}{'-bi' if kw.get('bidirectional') else ''}"
                                                              for t, p, kw in VARIANTS])
def test_video_variants_eager(temporal, pooling, kw, monkeypatch):
    """The encoder graph's module (before export) against VideoModel for each pooling's running
    sums, a two-layer LSTM and the ConvLSTM: padded clips, two chunks, frame by frame. The scan
    runs as a loop here (the exported graphs check torch's scan)."""
    from rnnkit.apps.export import scan
    from rnnkit.apps.export.apps import _pool_size, plan_for

    monkeypatch.setattr(scan, "scan", _loop_scan)

    run = _variant_run(temporal, pooling, **kw)
    plan = plan_for(run)
    enc = _Eager(next(gr for gr in plan.graphs if gr.name == "encoder"))
    _check_video_encoder(enc, run.model, _pool_size(run.model), "variants/eager", torch.Generator().manual_seed(2),
                         1, (12, 12))


@pytest.mark.slow  # 15-35 s: the export of a third model; the trained runs cover the rest
def test_video_variant_exported(tmp_path):
    """One variant exported to ONNX: a two-layer LSTM clip RNN with attention pooling (inputs h0,
    c0 and pool0) streams like the trained GRU does."""
    from rnnkit.apps.export.apps import _pool_size, plan_for
    from rnnkit.apps.export.core import export_plan

    run = _variant_run("lstm", "attention", num_layers=2)
    plan = plan_for(run)
    plan.graphs = [gr for gr in plan.graphs if gr.name == "encoder"]
    folder = export_plan(plan, "onnx", tmp_path / "onnx")
    graph = load_graphs(folder)["encoder"]
    assert graph.inputs == ["frames", "lengths", "h0", "c0", "pool0"]
    _check_video_encoder(graph, run.model, _pool_size(run.model), "variants/onnx", torch.Generator().manual_seed(3),
                         1, (12, 12))
