"""Truncated BPTT on a long stream: the memory of one update stays flat as the stream grows.

A character LM (embedding -> LSTM -> softmax, :class:`rnnkit.models.ManyToMany`) trains on one
stream of N characters of real text (CPython's pydoc topics) for one pass with
:class:`rnnkit.train.Trainer`:

- ``tbptt_steps = k``: N / k updates, each backpropagating through k steps. The autograd graph
  of an update holds O(k) activations, whatever N is.
- ``tbptt_steps = 0``: one update through all N steps; the graph holds O(N) activations.

Measured two ways:

``saved_bytes``
    Bytes of the tensors autograd saves for backward during each update, counted with
    :func:`torch.autograd.graph.saved_tensors_hooks` (every pack of a tensor adds
    ``numel * element_size``; a tensor saved twice counts twice, so this is an upper bound on
    what is held, and it is exactly reproducible). ``tracemalloc`` cannot see torch's allocator,
    hence hooks.
``peak_rss``
    ``ru_maxrss`` of a fresh subprocess that runs the same training (:func:`peak_rss`): the whole
    process, interpreter and torch included, so it shows the flat line with an offset.

    python -m rnnkit.apps.longrange.tbptt --stream 40000 --tbptt 50     # one measurement, JSON
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch
from torch.autograd.graph import saved_tensors_hooks

from rnnkit.data.text import load_builtin_corpus
from rnnkit.data.vocab import CharVocab
from rnnkit.models import ManyToMany
from rnnkit.apps.textgen.task import lm_loss
from rnnkit.train import TrainConfig, Trainer


class SavedBytes:
    """Counts the bytes autograd saves inside ``with counter:``; ``per_update`` lists each block."""

    def __init__(self) -> None:
        self.per_update: list[int] = []
        self._now = 0
        self._hooks = saved_tensors_hooks(self._pack, lambda t: t)

    def _pack(self, t: torch.Tensor) -> torch.Tensor:
        self._now += t.numel() * t.element_size()
        return t

    def __enter__(self):
        self._now = 0
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._hooks.__exit__(*exc)
        self.per_update.append(self._now)


def stream_ids(length: int) -> tuple[torch.Tensor, int]:
    """The first ``length + 1`` characters of the pydoc corpus as ids ``(length + 1,)`` and V.

    The vocabulary comes from the whole corpus, so V (and the model) is the same for every length.
    """
    text = load_builtin_corpus("pydoc")
    if length + 1 > len(text):
        raise ValueError(f"the stream can be at most {len(text) - 1:,} characters, got {length:,}")
    vocab = CharVocab.from_text(text)
    return vocab.encode(text[:length + 1]), len(vocab)


def train_stream(length: int, tbptt_steps: int, hidden_size: int = 32, embed_size: int = 16,
                 cell: str = "lstm", seed: int = 0) -> dict:
    """One pass over a stream of ``length`` characters; saved bytes of every update and wall time."""
    ids, V = stream_ids(length)
    batch = (ids[:-1].unsqueeze(0), ids[1:].unsqueeze(0))  # (1, N) inputs, next-char targets
    torch.manual_seed(seed)
    model = ManyToMany(hidden_size, vocab_size=V, embed_size=embed_size, cell=cell)
    counter = SavedBytes()
    if tbptt_steps:
        def loss_fn(m, chunk, state):
            with counter:
                return lm_loss(m, chunk, state)
    else:
        def loss_fn(m, whole):
            with counter:
                loss, metrics, _ = lm_loss(m, whole, None)
            return loss, metrics
    tcfg = TrainConfig(epochs=1, lr=3e-3, weight_decay=0.0, grad_clip=1.0, tbptt_steps=tbptt_steps, seed=seed,
                       device="cpu", log_every=0, checkpoint_every=0, plots=False, progress=False, tensorboard=False)
    start = time.perf_counter()
    history = Trainer(model, loss_fn, tcfg).fit([batch])
    seconds = time.perf_counter() - start
    return {"stream": length, "tbptt_steps": tbptt_steps, "updates": len(counter.per_update),
            "max_saved_bytes": max(counter.per_update), "saved_bytes": counter.per_update,
            "train_loss": float(history[-1]["train_loss"]), "seconds": seconds}


def peak_rss(length: int, tbptt_steps: int, **kw) -> dict:
    """:func:`train_stream` in a fresh Python process; adds its peak resident set (``peak_rss_mib``)."""
    args = [sys.executable, "-m", "rnnkit.apps.longrange.tbptt", "--stream", str(length), "--tbptt", str(tbptt_steps)]
    for k, v in kw.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def table_lines(rows: list[dict]) -> list[str]:
    lines = ["| stream (chars) | tbptt_steps | updates | max saved bytes per update | peak RSS (MiB) | train loss | wall (s) |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        rss = f"{r['peak_rss_mib']:.0f}" if "peak_rss_mib" in r else ""
        lines.append(f"| {r['stream']:,} | {r['tbptt_steps'] or 'off (full BPTT)'} | {r['updates']} | "
                     f"{r['max_saved_bytes']:,} | {rss} | {r['train_loss']:.3f} | {r['seconds']:.1f} |")
    return lines


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="one TBPTT stream run; prints JSON with peak RSS")
    p.add_argument("--stream", type=int, required=True)
    p.add_argument("--tbptt", type=int, required=True)
    p.add_argument("--hidden-size", type=int, default=32)
    p.add_argument("--cell", default="lstm")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    row = train_stream(a.stream, a.tbptt, hidden_size=a.hidden_size, cell=a.cell)
    row.pop("saved_bytes")
    row["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps(row))


if __name__ == "__main__":
    main()
