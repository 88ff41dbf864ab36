"""End-to-end check on one CUDA card: a character LSTM (then GRU) language model trained with the
fused Triton kernels (``backend="triton"``) reaches the same validation loss as with cuDNN
(``backend="native"``), within the seed-to-seed spread of the cuDNN runs.

Data: rnnkit's built-in corpus (CPython's pydoc topics), contiguous train / validation split.
Model: embedding 64, one LSTM (or GRU) layer of 256, linear head; Adam 2e-3, batch 32 x 128 characters,
STEPS steps, the same batches for every run. fp32 (TF32 off, so cuDNN computes true fp32) and bf16
(parameters and activations in bf16). Prints validation bits per character and seconds per run.

    python benchmarks/gpu_train_parity.py
"""

from __future__ import annotations

import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch
import torch.nn.functional as F

from rnnkit.data.text import load_builtin_corpus, split_corpus
from rnnkit.data.vocab import CharVocab
from rnnkit.models import ManyToMany

STEPS, B, T = 600, 32, 128
DEV = "cuda"  # --cpu-smoke: "cpu", a few steps, loop vs native (checks the script, not the kernels)


def run(cell: str, backend: str, dtype: torch.dtype, seed: int, train_ids, val_ids, vocab_size: int
        ) -> tuple[float, float]:
    torch.manual_seed(seed)
    model = ManyToMany(256, vocab_size=vocab_size, embed_size=64, cell=cell).to(DEV).to(dtype)
    model.rnn.backend = backend
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(1234)  # the same batches for every run
    starts = torch.randint(0, train_ids.numel() - T - 1, (STEPS, B), generator=g)
    _sync()
    t0 = time.perf_counter()
    model.train()
    for s in range(STEPS):
        idx = starts[s].unsqueeze(1) + torch.arange(T + 1)
        chunk = train_ids[idx].to(DEV)
        logits = model(chunk[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, vocab_size), chunk[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    _sync()
    seconds = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        n = (val_ids.numel() - 1) // T * T
        x = val_ids[:n].view(-1, T).to(DEV)
        y = val_ids[1:n + 1].view(-1, T).to(DEV)
        logits = model(x)
        bpc = F.cross_entropy(logits.float().reshape(-1, vocab_size), y.reshape(-1)).item() / math.log(2)
    return bpc, seconds


def _sync() -> None:
    if DEV == "cuda":
        torch.cuda.synchronize()


def main() -> int:
    global DEV, STEPS
    fused = "triton"
    if "--cpu-smoke" in sys.argv:
        DEV, STEPS, fused = "cpu", 3, "loop"
    elif not torch.cuda.is_available():
        print("needs a CUDA device", file=sys.stderr)
        return 2
    text = load_builtin_corpus("pydoc")
    train_text, val_text, _ = split_corpus(text, 0.05, 0.05)
    vocab = CharVocab.from_text(train_text)
    train_ids = vocab.encode(train_text)
    val_ids = vocab.encode(val_text)[:65536]
    card = torch.cuda.get_device_name() if DEV == "cuda" else "CPU smoke run"
    print(f"# {card} | char LSTM 256, {STEPS} steps of {B}x{T}, "
          f"validation bits/char on {val_ids.numel()} chars\n")
    print("| cell | dtype | backend | seed | val bpc | seconds |\n|---|---|---|---|---|---|")
    with torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
        for cell in ("lstm", "gru"):
            for dtype, dname in ((torch.float32, "fp32"), (torch.bfloat16, "bf16")):
                for backend, seed in (("native", 0), ("native", 1), (fused, 0)):
                    if DEV == "cpu" and dtype == torch.bfloat16:
                        continue
                    bpc, sec = run(cell, backend, dtype, seed, train_ids, val_ids, len(vocab))
                    print(f"| {cell} | {dname} | {backend} | {seed} | {bpc:.4f} | {sec:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
