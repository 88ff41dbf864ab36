"""What each app exports: its graphs (inputs = the app's tensors + the recurrent state, outputs
including the next state) and the preprocessing a caller needs without rnnkit.

Every graph calls the model's own submodules (embeddings, cells, heads) and runs the recurrent
stack through :func:`rnnkit.apps.export.scan.run_layer`, so it holds no Python-side checks of
tensor values and keeps the batch and time axes dynamic. Shapes: ``B`` batch, ``T`` time, ``L``
layers x directions, ``H`` state size.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from rnnkit.apps.export.core import Graph, Plan
from rnnkit.apps.export.scan import (flat_state, run_layer, scan, stacked_state, state_sizes, step_layer,
                                     zeros_state)

__all__ = ["PLANS", "forecast_graph_names", "plan_for", "state_names"]

EXAMPLE_B, EXAMPLE_T = 2, 5


def state_names(layer, prefix: str = "") -> tuple[list[str], list[str]]:
    """Input and output names of a layer's state: ``h0, c0 -> h_n, c_n`` for an LSTM, ``h0 ->
    h_n`` otherwise (``prefix`` for graphs with two stacks)."""
    n = len(state_sizes(layer))
    ins = ["h0", "c0", "s2_0", "s3_0"][:n]
    outs = ["h_n", "c_n", "s2_n", "s3_n"][:n]
    return [prefix + s for s in ins], [prefix + s for s in outs]


def zero_state(layer, batch: int) -> tuple[Tensor, ...]:
    rows = layer.num_layers * layer.num_directions
    w = next(layer.parameters())
    return tuple(torch.zeros(rows, batch, s, dtype=w.dtype) for s in state_sizes(layer))


def _state(*tensors: Tensor | None) -> tuple[Tensor, ...]:
    """The state tuple from a graph's state inputs (``c0`` is None for one-tensor cells)."""
    return tuple(t for t in tensors if t is not None)


def _state_axes(layer, names: list[str]) -> dict[str, dict[int, str]]:
    return {n: {1: "batch"} for n in names}


def _vocab_json(vocab) -> dict:
    """A character or word vocabulary as ``{"type", "itos", "unk_id", ...}``: id i is itos[i]."""
    d = {"type": type(vocab).__name__, "itos": list(vocab.itos)}
    for key in ("unk_id", "pad_id", "bos_id", "eos_id"):
        if getattr(vocab, key, None) is not None:
            d[key] = int(getattr(vocab, key))
    return d


# ------------------------------------------------------------------------------------ textgen
class TokenLM(nn.Module):
    """``ids (B, T) int64, *state (L, B, H) -> logits (B, T, V), *next state``."""

    def __init__(self, model):
        super().__init__()
        self.embed = model.inputs.embed
        self.rnn = model.rnn
        self.head = model.head

    def forward(self, ids: Tensor, h0: Tensor, c0: Tensor | None = None):
        h, final = run_layer(self.rnn, self.embed(ids), _state(h0, c0))
        return (self.head(h), *final)


def _textgen(run) -> Plan:
    model = run.model
    vocab = run.preprocessing["vocab"]
    s_in, s_out = state_names(model.rnn)
    ids = torch.randint(0, len(vocab), (EXAMPLE_B, EXAMPLE_T))
    graph = Graph("model", TokenLM(model).eval(), (ids, *zero_state(model.rnn, EXAMPLE_B)),
                  ["ids", *s_in], ["logits", *s_out],
                  {"ids": {0: "batch", 1: "time"}, **_state_axes(model.rnn, s_in)},
                  doc="character language model: next-character logits at every step; feed the "
                      "returned state back with the next chunk (zeros to start)")
    pre = {"vocab": _vocab_json(vocab),
           "encode": "ids[t] = itos.index(character) if present, else unk_id",
           "decode": "softmax(logits[:, -1] / temperature), sample an id, itos[id]"}
    return Plan("textgen", [graph], pre)


# ------------------------------------------------------------------------------------ classify
class SequenceClassifier(nn.Module):
    """``ids (B, T) int64, lengths (B,) int64, *state -> logits (B, K)[, attention (B, T)],
    *next state``: :class:`rnnkit.models.ManyToOne`'s forward from a given state."""

    def __init__(self, model):
        super().__init__()
        self.embed = model.inputs.embed
        self.rnn = model.rnn
        self.pooling = model.pooling
        self.attention = model.attention
        self.head = model.head

    def forward(self, ids: Tensor, lengths: Tensor, h0: Tensor, c0: Tensor | None = None):
        from rnnkit.functional.masks import length_mask
        from rnnkit.models.pooling import pool_last, pool_max, pool_mean

        h, final = run_layer(self.rnn, self.embed(ids), _state(h0, c0), lengths)
        if self.pooling == "last":
            split = self.rnn.output_size // 2 if self.rnn.bidirectional else None
            p, weights = pool_last(h, lengths, reverse_from=split), None
        else:
            mask = length_mask(lengths, h.shape[1])
            weights = None
            if self.pooling == "mean":
                p = pool_mean(h, mask)
            elif self.pooling == "max":
                p = pool_max(h, mask)
            else:
                p, weights = self.attention(h, mask)
        logits = self.head(p)
        return (logits, *final) if weights is None else (logits, weights, *final)


def _tokenizer_json(tok) -> tuple[dict, dict]:
    """(JSON description, files to copy beside the graph) of a word or subword tokenizer."""
    if getattr(tok, "kind", None) == "subword":
        return ({"type": "sentencepiece", "model_file": "subword.model", "pad_id": tok.pad_id,
                 "unk_id": tok.unk_id, "bos_id": tok.bos_id, "eos_id": tok.eos_id,
                 "encode": "sentencepiece.SentencePieceProcessor(model_file=...).encode(text)"},
                {"subword.model": tok})
    from rnnkit.data.word_vocab import _WORDS

    d = _vocab_json(tok)
    d.update(lowercase=bool(tok.lowercase), tokenizer=tok.tokenizer, pattern=_WORDS.pattern,
             encode="lower-case if lowercase; tokens = re.findall(pattern, text) (or text.split() "
                    "for tokenizer=whitespace); ids = itos.index(token) if present, else unk_id")
    return d, {}


def _classify(run) -> Plan:
    model = run.model
    tok = run.preprocessing["tokenizer"]
    s_in, s_out = state_names(model.rnn)
    ids = torch.randint(4, len(tok), (EXAMPLE_B, EXAMPLE_T))
    lengths = torch.tensor([EXAMPLE_T, EXAMPLE_T - 2])
    outs = ["logits", *(["attention"] if model.pooling == "attention" else []), *s_out]
    graph = Graph("model", SequenceClassifier(model).eval(),
                  (ids, lengths, *zero_state(model.rnn, EXAMPLE_B)), ["ids", "lengths", *s_in], outs,
                  {"ids": {0: "batch", 1: "time"}, "lengths": {0: "batch"}, **_state_axes(model.rnn, s_in)},
                  doc="text classifier: class logits (softmax for probabilities); lengths[b] valid "
                      "tokens of row b, padding (pad_id) after them; state zeros for a new text")
    tok_json, files = _tokenizer_json(tok)
    pre = {"tokenizer": tok_json, "labels": list(run.preprocessing["labels"]), "max_len": int(run.config.data.max_len)}
    notes = []
    if model.rnn.bidirectional:
        notes.append("bidirectional: only the forward direction's rows of h_n (even rows) continue "
                     "a text across calls; the pooled prediction always covers one call")
    return Plan("classify", [graph], pre, notes, files)


# ------------------------------------------------------------------------------------ forecast
class FeatureSeq(nn.Module):
    """``x (B, T, D) float, *state -> params (B, T, P), *next state``: a ManyToMany over features."""

    def __init__(self, model):
        super().__init__()
        self.rnn = model.rnn
        self.head = model.head

    def forward(self, x: Tensor, h0: Tensor, c0: Tensor | None = None):
        h, final = run_layer(self.rnn, x, _state(h0, c0))
        return (self.head(h), *final)


def forecast_graph_names(forecaster) -> list[tuple[str, object, object]]:
    """``(graph name, network, its forecaster)`` for every network of a forecast run: ``model`` (one
    network), ``member{i}`` (a seed ensemble), ``{treatment}_member{i}`` (a combination of
    treatments, see rnnkit.apps.forecast.combination)."""
    members = getattr(forecaster, "members", None)
    if not members or len(members) == 1:
        single = next(iter(members.values())) if members else forecaster
        nets = single.nets
        return [("model" if len(nets) == 1 else f"member{i}", net, single) for i, net in enumerate(nets)]
    return [(f"{name}_member{i}", net, nf) for name, nf in members.items() for i, net in enumerate(nf.nets)]


def _forecast_member_json(nf) -> dict:
    return {"layout": nf.layout.to_dict(), "encoder": nf.encoder.to_dict(), "input_lens": list(nf.input_lens),
            "treatment": nf.cfg.model.transform}


def _forecast(run) -> Plan:
    forecaster = run.preprocessing["forecaster"]
    cfg, layout = forecaster.cfg, forecaster.layout
    if cfg.model.kind != "sequence":
        raise ValueError("export is for model.kind=sequence forecasters (a one_to_one model has no state)")
    graphs = []
    for name, net, nf in forecast_graph_names(forecaster):
        model = net.net
        s_in, s_out = state_names(model.rnn)
        x = torch.randn(EXAMPLE_B, EXAMPLE_T, nf.layout.n_features)
        graphs.append(Graph(name, FeatureSeq(model).eval(),
                            (x, *zero_state(model.rnn, EXAMPLE_B)), ["x", *s_in], ["params", *s_out],
                            {"x": {0: "batch", 1: "time"}, **_state_axes(model.rnn, s_in)},
                            doc="forecast network over a window's rows (window space: the series scaled "
                                "and its window level removed): one output distribution's parameters "
                                "per row; rows after the input_len observed ones are the horizon"))
    first = forecast_graph_names(forecaster)[0][2]  # the best (or only) member
    lik = first.likelihood
    pre = {
        "layout": layout.to_dict(), "encoder": first.encoder.to_dict(),
        "likelihood": {"name": lik.name, "n_params": lik.n_params,
                       **({"levels": lik.levels} if hasattr(lik, "levels") else {}),
                       "params": {"gaussian": "mu = p[0], sigma = softplus(p[1]) + 1e-3",
                                  "studentt": "mu = p[0], sigma = softplus(p[1]) + 1e-3, nu = 2 + softplus(p[2])",
                                  "quantile": "q_0 = p[0], q_k = q_0 + cumsum(softplus(p[1:]))"}[lik.name]},
        "decoder": cfg.model.decoder, "calibration": forecaster.calibration,
        "input_lens": list(forecaster.input_lens),
    }
    notes = ["the window's features and scaling are rnnkit.apps.forecast.windows/features; "
             "export.json holds the fitted encoder (per-series scales) and the layout"]
    guided = [name for name, _, nf in forecast_graph_names(forecaster) if nf.guide is not None]
    if guided:
        notes.append(f"graphs {', '.join(guided)} read a guide channel (and with layout.guide_base add the guide's "
                     "forecast back): a statistical model's forecast (rnnkit.apps.forecast.guide, its fits in the "
                     "run's forecast_state.json), which the caller computes, e.g. with rnnkit itself")
    members = getattr(forecaster, "members", None)
    if members and len(members) > 1:
        pre["combination"] = {name: _forecast_member_json(nf) for name, nf in members.items()}
        notes.append("a combination of treatments: graphs <treatment>_member<i>, each with its own encoder and "
                     "layout under preprocessing.combination; the forecast is the mean of the members' "
                     "quantiles on the data's scale, then the calibration factor")
    return Plan("forecast", graphs, pre, notes)


# ------------------------------------------------------------------------------------ music
class MelodyStep(nn.Module):
    """``pitch, duration (B, T) int64, *state -> hidden (B, T, H), pitch_logits (B, T, V_p),
    *next state`` (the melody LSTM's encoder and pitch head)."""

    def __init__(self, model):
        super().__init__()
        self.pitch_embed, self.dur_embed = model.pitch_embed, model.dur_embed
        self.rnn = model.rnn
        self.pitch_head = model.pitch_head
        self.register_buffer("pitch_mask", model.pitch_mask.clone(), persistent=False)

    def forward(self, pitch: Tensor, duration: Tensor, h0: Tensor, c0: Tensor | None = None):
        x = torch.cat([self.pitch_embed(pitch), self.dur_embed(duration)], dim=-1)
        h, final = run_layer(self.rnn, x, _state(h0, c0))
        return (h, self.pitch_head(h).masked_fill(self.pitch_mask, float("-inf")), *final)


class MelodyDuration(nn.Module):
    """``hidden (B, T, H), pitch (B, T) int64 -> duration_logits (B, T, V_d)``: the duration of
    each event given its (chosen) pitch."""

    def __init__(self, model):
        super().__init__()
        self.pitch_embed = model.pitch_embed
        self.dur_head = model.dur_head
        self.register_buffer("dur_mask", model.dur_mask.clone(), persistent=False)

    def forward(self, hidden: Tensor, pitch: Tensor):
        z = torch.cat([hidden, self.pitch_embed(pitch)], dim=-1)
        return self.dur_head(z).masked_fill(self.dur_mask, float("-inf"))


def _music(run) -> Plan:
    from rnnkit.apps.music import events

    model, codec = run.model, run.preprocessing["codec"]
    s_in, s_out = state_names(model.rnn)
    p = torch.randint(3, model.num_pitches, (EXAMPLE_B, EXAMPLE_T))
    d = torch.randint(3, model.num_durations, (EXAMPLE_B, EXAMPLE_T))
    step = Graph("model", MelodyStep(model).eval(), (p, d, *zero_state(model.rnn, EXAMPLE_B)),
                 ["pitch", "duration", *s_in], ["hidden", "pitch_logits", *s_out],
                 {"pitch": {0: "batch", 1: "time"}, "duration": {0: "batch", 1: "time"},
                  **_state_axes(model.rnn, s_in)},
                 doc="melody LSTM over events (pitch id, duration id), BOS first: the hidden state "
                     "and the next event's pitch logits at every step")
    hidden = torch.randn(EXAMPLE_B, EXAMPLE_T, model.rnn.output_size)
    dur = Graph("duration", MelodyDuration(model).eval(), (hidden, p), ["hidden", "pitch"], ["duration_logits"],
                {"hidden": {0: "batch", 1: "time"}, "pitch": {0: "batch", 1: "time"}},
                doc="the next event's duration logits given the model graph's hidden state and "
                    "the pitch chosen from its pitch logits")
    specials = {k: int(getattr(events, k)) for k in ("PAD", "BOS", "END", "UNK", "REST_ID", "DUR_UNK") if hasattr(events, k)}
    pre = {"codec": codec.to_dict(), "num_pitches": model.num_pitches, "num_durations": model.num_durations,
           "special_ids": specials,
           "pitch_id": f"{events._PITCH_SPECIALS} + midi - codec.lo for midi in [lo, hi]; a rest is "
                       f"REST_ID; other pitches UNK",
           "duration_id": f"{events._DUR_SPECIALS} + codec.durations.index(ticks); unseen: DUR_UNK",
           "generate": "feed [BOS, primer events]; per new event: sample a pitch from pitch_logits[:, -1] "
                       "(never UNK), then its duration from the duration graph with that pitch (never "
                       "DUR_UNK); feed (pitch, duration) with the returned state; END stops"}
    return Plan("music", [step, dur], pre)


# ------------------------------------------------------------------------------------ translate
class Seq2SeqEncoder(nn.Module):
    """``src (B, S) int64, src_lengths (B,) int64 -> memory (B, S, M), keys (B, S, K),
    mask (B, S) bool, decoder h0 [, c0] (L, B, H) [, feed0 (B, H)]``: the encoder over a whole
    source sentence (its own state starts at zeros, as in training) and the decoder's start."""

    def __init__(self, model):
        super().__init__()
        self.encoder, self.decoder = model.encoder, model.decoder

    def forward(self, src: Tensor, src_lengths: Tensor):
        from rnnkit.functional.masks import length_mask

        enc, dec = self.encoder, self.decoder
        x = enc.inputs.embed(src)
        memory, final = run_layer(enc.rnn, x, zeros_state(enc.rnn, x), src_lengths)
        h = final[0]
        dirs = enc.rnn.num_directions
        summary = h[-dirs:].transpose(0, 1).reshape(src.shape[0], dirs * h.shape[-1])
        state = dec.init_state(src.shape[0], summary if dec.cond_size is not None else None)
        mask = length_mask(src_lengths, src.shape[1])
        keys = dec.attention.keys(memory) if dec.attention is not None else memory
        return (memory, keys, mask, *state.rnn, *((state.feed,) if dec.input_feeding else ()))


class Seq2SeqDecoder(nn.Module):
    """``tokens (B, T) int64, h0 [, c0] (L, B, H) [, feed0 (B, H)], memory, keys, mask ->
    logits (B, T, V), attention (B, T, S), h_n [, c_n] [, feed_n]``: the attention decoder over
    T tokens (teacher forcing, or T = 1 per generated token), one ``scan`` over
    :meth:`AttentionDecoder.step`'s computation."""

    def __init__(self, model):
        super().__init__()
        self.decoder = model.decoder

    def forward(self, tokens: Tensor, h0: Tensor, c0: Tensor | None, feed0: Tensor | None,
                memory: Tensor, keys: Tensor, mask: Tensor):
        dec = self.decoder
        rnn0 = _state(h0, c0)
        k = len(rnn0)
        flat0 = flat_state(rnn0)  # per layer (B, H) tensors: the carry
        n = len(flat0)
        carry0 = (*flat0, *((feed0,) if dec.input_feeding else ()))
        # the scan's carry must keep its strides from step to step: start from dense tensors
        carry0 = tuple(t.new_zeros(t.shape) + t for t in carry0)
        emb = dec.embed(tokens).transpose(0, 1)  # (T, B, E)

        def body(carry, inp):
            e_t, memory, keys, mask = inp
            rnn = carry[:n]
            parts = [e_t]
            weights = None
            if dec.attention_kind == "bahdanau":
                context, weights = dec.attention(rnn[-k], memory, mask, keys)  # top layer's h
                parts.append(context)
            if dec.input_feeding:
                parts.append(carry[n])
            h, new_rnn = step_layer(dec.rnn, torch.cat(parts, dim=-1), rnn)
            if dec.attention is not None:
                if dec.attention_kind != "bahdanau":
                    context, weights = dec.attention(h, memory, mask, keys)
                out = torch.tanh(dec.combine(torch.cat([h, context], dim=-1)))
            else:
                out = h
            logits = dec.head(out)
            new = (*new_rnn, *((out.clone(),) if dec.input_feeding else ()))
            return new, (logits, weights if weights is not None else logits.new_zeros(logits.shape[0], 0))

        # the source tensors go in as per-step inputs (expanded, not copied, over T): closed over,
        # their dynamic source length breaks torch.onnx's decomposition of the scan
        T = emb.shape[0]
        per_step = tuple(t.unsqueeze(0).expand(T, *t.shape) for t in (memory, keys, mask))
        final, (logits, weights) = scan(body, carry0, (emb, *per_step))
        rnn_n = stacked_state(tuple(final[:n]), k)
        return (logits.transpose(0, 1), weights.transpose(0, 1), *rnn_n, *final[n:])


def _translate(run) -> Plan:
    model = run.model
    src_tok, tgt_tok = run.preprocessing["source_tokenizer"], run.preprocessing["target_tokenizer"]
    dec = model.decoder
    if dec.attention is None:
        raise ValueError("export of a translate model without attention is not supported")
    B, S, T = EXAMPLE_B, EXAMPLE_T + 1, EXAMPLE_T
    src = torch.randint(4, len(src_tok), (B, S))
    lengths = torch.tensor([S, S - 2])
    enc_graph = Seq2SeqEncoder(model).eval()
    with torch.no_grad():
        enc_out = enc_graph(src, lengths)
    s_in, s_out = state_names(dec.rnn)
    feed_in, feed_out = (["feed0"], ["feed_n"]) if dec.input_feeding else ([], [])
    encoder = Graph("encoder", enc_graph, (src, lengths), ["src", "src_lengths"],
                    ["memory", "keys", "mask", *s_in, *feed_in],
                    {"src": {0: "batch", 1: "src_time"}, "src_lengths": {0: "batch"}},
                    doc="the source sentence (ids, padding after src_lengths[b]) -> the attention "
                        "memory and the decoder's initial state")
    memory, keys, mask = enc_out[:3]
    state = enc_out[3:3 + len(s_in)]
    feed = enc_out[3 + len(s_in)] if dec.input_feeding else None
    tokens = torch.randint(4, len(tgt_tok), (B, T))
    decoder = Graph("decoder", Seq2SeqDecoder(model).eval(),
                    (tokens, *state, *([None] if len(s_in) == 1 else []), feed, memory, keys, mask),
                    ["tokens", *s_in, *feed_in, "memory", "keys", "mask"],
                    ["logits", "attention", *s_out, *feed_out],
                    {"tokens": {0: "batch", 1: "time"}, **_state_axes(dec.rnn, s_in),
                     **{f: {0: "batch"} for f in feed_in},
                     "memory": {0: "batch", 1: "src_time"}, "keys": {0: "batch", 1: "src_time"},
                     "mask": {0: "batch", 1: "src_time"}},
                    doc="the decoder over target tokens (BOS first): next-token logits and attention "
                        "weights over the source at every step; T = 1 per generated token, the "
                        "returned state fed back")
    s_json, s_files = _tokenizer_json(src_tok)
    t_json, t_files = _tokenizer_json(tgt_tok)
    s_json["model_file"], t_json["model_file"] = "source.model", "target.model"
    pre = {"source_tokenizer": s_json, "target_tokenizer": t_json,
           "bos_id": model.bos_id, "eos_id": model.eos_id, "pad_id": model.pad_id,
           "search": "greedy: tokens = [[bos_id]]; repeat: logits -> argmax -> feed with the state "
                     "until eos_id (rnnkit's limit: 2 * src_len + 10)"}
    files = {"source.model": s_files.get("subword.model"), "target.model": t_files.get("subword.model")}
    return Plan("translate", [encoder, decoder], pre, [], {k: v for k, v in files.items() if v is not None})


# ------------------------------------------------------------------------------------ speech
class SpeechCTC(nn.Module):
    """``features (B, T, n_mels) float, lengths (B,) int64, *state -> log_probs (B, T', V),
    out_lengths (B,), *next state``: :class:`CTCSpeechModel`'s forward (eval) from a state."""

    def __init__(self, model):
        super().__init__()
        self.frontend, self.proj, self.norm, self.rnn, self.head = (
            model.frontend, model.proj, model.norm, model.rnn, model.head)

    def forward(self, features: Tensor, lengths: Tensor, h0: Tensor, c0: Tensor | None = None):
        import torch.nn.functional as F

        h, lengths = self.frontend(features, lengths)
        h = F.relu(self.norm(self.proj(h)))
        h, final = run_layer(self.rnn, h, _state(h0, c0), lengths)
        return (F.log_softmax(self.head(h), dim=-1), lengths, *final)


def _speech(run) -> Plan:
    import dataclasses

    model, alphabet = run.model, run.preprocessing["alphabet"]
    s_in, s_out = state_names(model.rnn)
    n_mels = run.config.features.n_mels
    T = 4 * EXAMPLE_T + 3
    x = torch.randn(EXAMPLE_B, T, n_mels)
    lengths = torch.tensor([T, T - 6])
    graph = Graph("model", SpeechCTC(model).eval(), (x, lengths, *zero_state(model.rnn, EXAMPLE_B)),
                  ["features", "lengths", *s_in], ["log_probs", "out_lengths", *s_out],
                  {"features": {0: "batch", 1: "time"}, "lengths": {0: "batch"}, **_state_axes(model.rnn, s_in)},
                  doc="acoustic model: log-mel frames (lengths[b] valid, padding after) -> CTC "
                      "log-posteriors over blank + alphabet per output frame (time / time_stride)",
                  min_sizes={"time": 5})  # the tracer needs >= 2 output frames
    symbols = alphabet.to_dict() if hasattr(alphabet, "to_dict") else {"symbols": list(alphabet.symbols)}
    pre = {"features": {"kind": "log-mel", **dataclasses.asdict(run.config.features)},
           "alphabet": symbols, "time_stride": model.cfg.time_stride,
           "decode": "greedy CTC: argmax per frame, merge repeats, drop blank (id 0)"}
    notes = []
    if model.rnn.bidirectional:
        notes.append("bidirectional: an utterance is one call; the state inputs start each direction")
    return Plan("speech", [graph], pre, notes)


# ------------------------------------------------------------------------------------ vision
def _as_tuple(state) -> tuple[Tensor, ...]:
    return state if isinstance(state, tuple) else (state,)


def _image_json(channels: int, size, what: str) -> dict:
    """How the vision graphs' pixels are prepared: the app's own reading, without rnnkit."""
    return {"channels": int(channels), "height": int(size[0]), "width": int(size[1]), "dtype": "uint8",
            "layout": "NCHW" if what == "image" else "NTCHW",
            "read": f"decode the {what} to uint8 (H, W, C) as rnnkit's reader (PIL) does: grey (modes L, 1, "
                    "I, F) = 1 channel, RGB = 3, RGBA = 4 (LA as RGBA; palette images as RGB, or RGBA "
                    "with transparency; in GIF clips an opaque alpha is dropped and frames with R = G = B "
                    "are grey); transpose to (C, H, W); the size must be exactly height x width with "
                    "this many channels (rnnkit does not resize)",
            "normalisation": "none outside the graph: the graph takes uint8 pixels 0..255 and divides "
                             "them by 255 (no mean or std); float32 input is not accepted"}


def _caption_vocab_json(vocab) -> dict:
    from rnnkit.apps.vision.vocab import BOS_ID, EOS_ID, PAD_ID, UNK_ID

    return {"type": "CaptionVocab", "itos": list(vocab.itos), "pad_id": PAD_ID, "unk_id": UNK_ID,
            "bos_id": BOS_ID, "eos_id": EOS_ID,
            "encode": "lower-case, split on whitespace, ids = itos.index(word) if present else unk_id",
            "decode": "words itos[id] up to the first eos_id, pad_id and bos_id dropped, joined by spaces"}


def _caption_search_json(decode) -> dict:
    from rnnkit.apps.vision.vocab import BOS_ID, EOS_ID, PAD_ID

    return {"max_len": int(decode.max_len), "beam_size": int(decode.beam_size), "alpha": float(decode.alpha),
            "greedy": f"tokens = [[bos_id]] with the encoder's state; repeat: the decoder graph (T = 1) -> "
                      f"argmax of logits[:, -1] -> feed it back with the returned state; a row stops after "
                      f"eos_id ({EOS_ID}), at most max_len ids in all (eos_id counted)",
            "beam": f"rows = batch x beam; log_softmax of logits[:, -1], ids {PAD_ID} (pad) and {BOS_ID} (bos) "
                    f"never chosen; score log p(y) / ((5 + |y|) / 6) ** alpha; reorder the state rows "
                    f"(dim 1) by each kept hypothesis's parent"}


class ConditionedDecoder(nn.Module):
    """``tokens (B, T) int64, h0 [, c0] (L, B, H) -> logits (B, T, V), h_n [, c_n]``: a
    :class:`rnnkit.models.OneToMany` decoder from a given state (the conditioning vector only sets
    the initial state, which the encoder graph computes), T = 1 per generated token."""

    def __init__(self, decoder):
        super().__init__()
        self.embed = decoder.inputs.embed
        self.rnn = decoder.rnn
        self.head = decoder.head

    def forward(self, tokens: Tensor, h0: Tensor, c0: Tensor | None = None):
        h, final = run_layer(self.rnn, self.embed(tokens), _state(h0, c0))
        return (self.head(h), *final)


class ImageEncoder(nn.Module):
    """``image (B, C, H, W) uint8 -> features (B, E), h0 [, c0] (L, B, H)``: the CNN
    (:class:`rnnkit.apps.vision.encoder.ConvEncoder`, pixels / 255 inside) and the caption
    decoder's initial state ``tanh(W_s z + b_s)`` (:meth:`OneToMany.initial_state`)."""

    def __init__(self, model):
        super().__init__()
        self.encoder, self.decoder = model.encoder, model.decoder

    def forward(self, image: Tensor):
        z = self.encoder(image)
        return (z, *_as_tuple(self.decoder.initial_state(z)))


def _decoder_graph(decoder, prefix: str = "") -> Graph:
    s_in, s_out = state_names(decoder.rnn, prefix)
    tokens = torch.randint(4, decoder.vocab_size, (EXAMPLE_B, EXAMPLE_T))
    return Graph("decoder", ConditionedDecoder(decoder).eval(), (tokens, *zero_state(decoder.rnn, EXAMPLE_B)),
                 ["tokens", *s_in], ["logits", *s_out],
                 {"tokens": {0: "batch", 1: "time"}, **_state_axes(decoder.rnn, s_in)},
                 doc="the caption decoder over word ids (bos_id first): next-word logits at every "
                     "step; T = 1 per generated word with the returned state fed back (greedy or "
                     "beam search is the caller's loop); the state starts at the encoder's")


def _caption(run) -> Plan:
    model, meta = run.model, run.preprocessing["meta"]
    C_, size = int(meta["channels"]), tuple(meta["image_size"])
    s_in, _ = state_names(model.decoder.rnn)
    image = torch.randint(0, 256, (EXAMPLE_B, C_, *size), dtype=torch.uint8)
    encoder = Graph("encoder", ImageEncoder(model).eval(), (image,), ["image"], ["features", *s_in],
                    {"image": {0: "batch"}},
                    doc="image (uint8 pixels, the run's size) -> the CNN's features z and the caption "
                        "decoder's initial state")
    pre = {"vocab": _caption_vocab_json(run.preprocessing["vocab"]),
           "image": _image_json(C_, size, "image"),
           "search": _caption_search_json(run.config.decode)}
    notes = ["the caption decoder has no attention: the image enters only through the initial state, "
             "so the decoder graph takes no features and returns no attention weights"]
    return Plan("caption", [encoder, _decoder_graph(model.decoder)], pre, notes)


def _pool_size(model) -> int:
    """Width of the video graph's pooling carry ``pool0`` (0 for ``last`` pooling)."""
    clip = model.clip
    F = clip.rnn.output_size
    return {"last": 0, "mean": F + 1, "max": F + 1, "attention": F + 2}[clip.pooling]


class ClipEncoder(nn.Module):
    """``frames (B, T, C, H, W) uint8, lengths (B,) int64, h0 [, c0] (L, B, H) [, pool0 (B, P)] ->
    motion_logits (B, M) [, digit_logits (B, 10)], features (B, E), h_n [, c_n] [, pool_n]
    [, dec_h0 [, dec_c0]]``: :meth:`VideoModel.encode` and its heads from a given state, so
    frames can come in chunks.

    The pooling over frames continues across calls through ``pool0 -> pool_n`` (zeros to start;
    the ``last`` pooling needs none: its summary is the last valid frame's output). Layouts,
    ``F`` the clip RNN's output size: ``mean`` ``[sum of outputs (F), count (1)]``; ``max``
    ``[maximum (F), count (1)]``; ``attention`` ``[sum of exp(e_t - m) h_t (F), m (1), sum of
    exp(e_t - m) (1)]`` (a running softmax; m the largest score so far, ignored while the sum is 0).
    """

    def __init__(self, model):
        super().__init__()
        self.frames, self.clip = model.frames, model.clip
        self.convlstm = model.temporal == "convlstm"
        self.motion_head, self.digit_head, self.decoder = model.motion_head, model.digit_head, model.decoder

    def _pool(self, h: Tensor, lengths: Tensor, pool0: Tensor | None):
        from rnnkit.functional.masks import length_mask
        from rnnkit.models.pooling import pool_last

        clip = self.clip
        if clip.pooling == "last":
            split = clip.rnn.output_size // 2 if clip.rnn.bidirectional else None
            return pool_last(h, lengths, reverse_from=split), None
        F = h.shape[-1]
        mask = length_mask(lengths, h.shape[1])
        m = mask.unsqueeze(-1).to(h.dtype)
        if clip.pooling == "mean":
            total = pool0[:, :F] + (h * m).sum(1)
            count = pool0[:, F:] + m.sum(1)
            return total / count, torch.cat([total, count], dim=-1)
        if clip.pooling == "max":
            seen = pool0[:, F:]
            chunk = h.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(1)
            best = torch.where(seen > 0, torch.maximum(pool0[:, :F], chunk), chunk)
            return best, torch.cat([best, seen + m.sum(1)], dim=-1)
        att = clip.attention  # attention: softmax over all frames so far, kept as running sums
        acc, m_old, s_old = pool0[:, :F], pool0[:, F:F + 1], pool0[:, F + 1:]
        e = att.score(torch.tanh(att.proj(h))).squeeze(-1).masked_fill(~mask, float("-inf"))  # (B, T)
        chunk_max = e.amax(1, keepdim=True)
        started = s_old > 0
        m_new = torch.where(started, torch.maximum(m_old, chunk_max), chunk_max)
        scale = torch.where(started, torch.exp(torch.where(started, m_old - m_new, torch.zeros_like(m_old))),
                            torch.zeros_like(m_old))
        w = torch.exp(e - m_new)  # 0 at padding
        s_new = s_old * scale + w.sum(1, keepdim=True)
        acc = acc * scale + torch.bmm(w.unsqueeze(1), h).squeeze(1)
        return acc / s_new, torch.cat([acc, m_new, s_new], dim=-1)

    def forward(self, frames: Tensor, lengths: Tensor, h0: Tensor, c0: Tensor | None = None,
                pool0: Tensor | None = None):
        B, T = frames.shape[0], frames.shape[1]
        flat = frames.reshape(B * T, *frames.shape[2:])
        if self.convlstm:
            feats = self.frames.feature_maps(flat).reshape(B, T, -1)
        else:
            feats = self.frames(flat).reshape(B, T, -1)
        h, final = run_layer(self.clip.rnn, feats, _state(h0, c0), lengths)
        p, pool_n = self._pool(h, lengths, pool0)
        z = self.clip.head(p)
        out = [self.motion_head(z)]
        if self.digit_head is not None:
            out.append(self.digit_head(z))
        out += [z, *final]
        if pool_n is not None:
            out.append(pool_n)
        if self.decoder is not None:
            out += list(_as_tuple(self.decoder.initial_state(z)))
        return tuple(out)


def _video(run) -> Plan:
    from rnnkit.apps.vision.digits import DIGIT_WORDS

    model, meta, cfg = run.model, run.preprocessing["meta"], run.config
    vocab = run.preprocessing.get("caption_vocab")
    clip = model.clip
    C_, size = int(meta["channels"]), tuple(meta["frame_size"])
    s_in, s_out = state_names(clip.rnn)
    P = _pool_size(model)
    frames = torch.randint(0, 256, (EXAMPLE_B, EXAMPLE_T, C_, *size), dtype=torch.uint8)
    lengths = torch.tensor([EXAMPLE_T, EXAMPLE_T - 2])
    state = zero_state(clip.rnn, EXAMPLE_B)
    pool0 = torch.zeros(EXAMPLE_B, P) if P else None
    ins = ["frames", "lengths", *s_in, *(["pool0"] if P else [])]
    outs = ["motion_logits", *(["digit_logits"] if model.digit_head is not None else []), "features", *s_out,
            *(["pool_n"] if P else [])]
    graphs = []
    if model.decoder is not None:
        outs += state_names(model.decoder.rnn, "dec_")[0]
    encoder = Graph("encoder", ClipEncoder(model).eval(),
                    (frames, lengths, *state, *([None] if len(s_in) == 1 else []), pool0), ins, outs,
                    {"frames": {0: "batch", 1: "time"}, "lengths": {0: "batch"}, **_state_axes(clip.rnn, s_in),
                     **({"pool0": {0: "batch"}} if P else {})},
                    doc="clip model over frames (uint8, lengths[b] valid frames, padding after): the "
                        "motion (and digit) logits and the clip features z of all frames so far; feed "
                        "the returned state (and pool_n) with the next chunk of frames, zeros to start"
                        + ("; dec_h0/dec_c0 start the caption decoder" if model.decoder is not None else ""))
    graphs.append(encoder)
    if model.decoder is not None:
        graphs.append(_decoder_graph(model.decoder, "dec_"))
    max_frames = cfg.data.max_frames if cfg.data.path else cfg.data.frames
    pre = {"labels": list(meta["label_names"]),
           "frames": {**_image_json(C_, size, "frame"), "max_frames": int(max_frames),
                      "clip": f"a video file's frames or a folder's frame images in name order; more than "
                              f"max_frames ({max_frames}) are subsampled evenly to max_frames (rnnkit "
                              f"predict does so before the model); padding frames are zeros"},
           "pooling": clip.pooling, "pool_size": P,
           "predict": "label = labels[argmax(motion_logits)], probability = max softmax(motion_logits)"}
    if model.digit_head is not None:
        pre["digits"] = list(DIGIT_WORDS)
        pre["predict"] += "; digit = digits[argmax(digit_logits)]"
    if model.decoder is not None and vocab is not None:
        pre["vocab"] = _caption_vocab_json(vocab)
        pre["search"] = _caption_search_json(cfg.decode)
    notes = []
    if clip.rnn.bidirectional:
        notes.append("bidirectional clip RNN: a clip is one call (the reverse direction reads the whole "
                     "call); the state inputs start each direction")
    if model.decoder is not None:
        notes.append("the caption decoder has no attention: the clip enters only through its initial "
                     "state (dec_h0/dec_c0 from the encoder graph's last call)")
    return Plan("video", graphs, pre, notes)


PLANS: dict[str, Callable] = {
    "textgen": _textgen,
    "classify": _classify,
    "forecast": _forecast,
    "music": _music,
    "translate": _translate,
    "speech": _speech,
    "caption": _caption,
    "video": _video,
}


def plan_for(run) -> Plan:
    if run.app not in PLANS:
        done = ", ".join(PLANS)
        raise ValueError(f"export is not available for the {run.app} app (apps that export: {done})")
    if run.model is None and "forecaster" not in run.preprocessing:  # forecast: the forecaster's nets
        raise ValueError(f"the {run.app} run has no model to export")
    return PLANS[run.app](run)
