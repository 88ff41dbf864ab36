"""The autoregressive loop shared by ``OneToMany.generate`` and ``ManyToMany.generate``.

A generator model supplies the logits for the first token to choose and a ``step`` function
``(tokens (B,), state) -> (logits (B, V), state)``; this module picks each token with
:func:`rnnkit.decoding.sample_next` and feeds it back, stopping per row at ``eos_id``.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import Tensor

from rnnkit.decoding import DecodingConfig

__all__ = ["resolve_decoding", "autoregress"]

StepFn = Callable[[Tensor, object], tuple[Tensor, object]]


def resolve_decoding(decoding: Optional[DecodingConfig], strategy: str, temperature: float,
                     top_k: int, top_p: float, generator: Optional[torch.Generator],
                     device: torch.device) -> tuple[DecodingConfig, Optional[torch.Generator]]:
    """The decoding rule to use: ``decoding`` if given, else one built from the loose arguments.

    A ``decoding.seed`` gives a fresh seeded generator unless ``generator`` is passed explicitly.
    """
    if decoding is None:
        decoding = DecodingConfig(strategy=strategy, temperature=temperature, top_k=top_k,
                                  top_p=top_p)
    elif not isinstance(decoding, DecodingConfig):
        raise TypeError(f"decoding must be a DecodingConfig, got {type(decoding).__name__}")
    if generator is None:
        generator = decoding.make_generator(device)
    return decoding, generator


def autoregress(step: StepFn, logits: Tensor, state, max_len: int, decoding: DecodingConfig,
                generator: Optional[torch.Generator], eos_id: Optional[int] = None,
                pad_id: Optional[int] = None) -> Tensor:
    """Choose up to ``max_len`` tokens, starting from ``logits (B, V)``; returns ``(B, n)`` ids.

    Token i+1 is chosen from ``step(token_i, state)``. With ``eos_id``, a row that has produced
    EOS is finished: its later positions hold ``pad_id`` (default ``eos_id``) and the loop ends
    early, so ``n <= max_len``, once every row is finished. Finished rows keep being stepped with
    ``pad_id`` (their results are discarded), so the batch stays aligned.
    """
    if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 0:
        raise ValueError(f"max_len must be an int >= 0, got {max_len!r}")
    B = logits.shape[0]
    if pad_id is None:
        pad_id = eos_id
    done = torch.zeros(B, dtype=torch.bool, device=logits.device)
    out: list[Tensor] = []
    for i in range(max_len):
        tok = decoding.sample(logits, generator=generator)
        if eos_id is not None:
            tok = torch.where(done, torch.full_like(tok, pad_id), tok)
            done = done | (tok == eos_id)
        out.append(tok)
        if (eos_id is not None and bool(done.all())) or i + 1 == max_len:
            break
        logits, state = step(tok, state)
    if not out:
        return torch.empty(B, 0, dtype=torch.long, device=logits.device)
    return torch.stack(out, dim=1)
