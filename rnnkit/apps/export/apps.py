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
from rnnkit.apps.export.scan import run_layer, state_sizes

__all__ = ["PLANS", "plan_for", "state_names"]

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


PLANS: dict[str, Callable] = {
    "textgen": _textgen,
}


def plan_for(run) -> Plan:
    if run.app not in PLANS:
        done = ", ".join(PLANS)
        raise ValueError(f"export is not available for the {run.app} app (apps that export: {done})")
    if run.model is None:
        raise ValueError(f"the {run.app} run has no model to export")
    return PLANS[run.app](run)
