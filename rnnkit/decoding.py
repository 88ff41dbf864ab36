"""Choosing the next token from logits: greedy, or sampling with temperature, top-k and top-p.

Shapes: B batch, V vocabulary. All functions take logits of shape (B, V) and never modify them.
Beam search and CTC decoding live with the models that use them; this is the one-step rule that
generators (text, music) call inside their loop.
"""

from __future__ import annotations

import dataclasses
from typing import Literal, Optional

import torch

__all__ = ["DecodingConfig", "sample_next", "top_k_filter", "top_p_filter", "make_generator"]

Strategy = Literal["greedy", "sample"]
STRATEGIES = ("greedy", "sample")


def _check_args(strategy: str, temperature: float, top_k: int, top_p: float) -> None:
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    if not (temperature > 0):  # also rejects NaN
        raise ValueError(f"temperature must be > 0, got {temperature} (use strategy='greedy' "
                         f"for deterministic decoding)")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise ValueError(f"top_k must be an int >= 0 (0 disables it), got {top_k!r}")
    if not (0 < top_p <= 1):
        raise ValueError(f"top_p must be in (0, 1] (1 disables it), got {top_p}")


def _check_logits(logits: torch.Tensor) -> None:
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"logits must be a (B, V) tensor, got {shape}")
    if logits.shape[-1] == 0:
        raise ValueError("logits have an empty vocabulary dimension (V = 0)")


@dataclasses.dataclass
class DecodingConfig:
    """How a generator picks tokens.

    strategy: "greedy" (argmax; temperature/top_k/top_p are ignored) or "sample".
    temperature: > 0; logits are divided by it before softmax (< 1 sharpens, > 1 flattens).
    top_k: keep only the k most likely tokens (0 = off).
    top_p: nucleus sampling, keep the smallest set with cumulative probability >= top_p (1 = off).
    max_new_tokens: how many tokens a generator produces.
    seed: seeds a private torch.Generator so a run is repeatable (None = torch's global RNG).
    """

    strategy: Strategy = "sample"
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    max_new_tokens: int = 200
    seed: Optional[int] = None

    def __post_init__(self):
        _check_args(self.strategy, self.temperature, self.top_k, self.top_p)
        if self.max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be >= 0, got {self.max_new_tokens}")

    def make_generator(self, device: torch.device | str = "cpu") -> Optional[torch.Generator]:
        """A fresh generator seeded with ``seed`` on ``device``, or None when seed is None."""
        return make_generator(self.seed, device)

    def sample(self, logits: torch.Tensor,
               generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``sample_next`` with this config's settings: (B, V) logits -> (B,) token ids."""
        return sample_next(logits, self.strategy, self.temperature, self.top_k, self.top_p,
                           generator=generator)


def make_generator(seed: Optional[int], device: torch.device | str = "cpu"
                   ) -> Optional[torch.Generator]:
    """A torch.Generator on ``device`` seeded with ``seed``; None when seed is None."""
    if seed is None:
        return None
    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Set all but the k largest logits of each row to -inf.

    logits (B, V) -> (B, V). Exactly k survive per row, even with ties (torch.topk picks among
    equal values), so sampling can never leave the k chosen tokens. k = 0 or k >= V is a no-op.
    """
    _check_logits(logits)
    if k < 0:
        raise ValueError(f"top_k must be >= 0, got {k}")
    if k == 0 or k >= logits.shape[-1]:
        return logits
    values, idx = torch.topk(logits, k, dim=-1)
    out = torch.full_like(logits, float("-inf"))
    return out.scatter(-1, idx, values)


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filter: keep the smallest set of most likely tokens whose probability sums to >= p.

    logits (B, V) -> (B, V) with the dropped tokens at -inf. The most likely token always
    survives, so every row keeps at least one token. p = 1 is a no-op.
    """
    _check_logits(logits)
    if not (0 < p <= 1):
        raise ValueError(f"top_p must be in (0, 1], got {p}")
    if p >= 1:
        return logits
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = torch.softmax(sorted_logits.float(), dim=-1)
    # A token is dropped when the tokens ranked above it already reach p; the cumulative sum
    # *before* each token is zero for the first one, so it is always kept.
    before = torch.cumsum(probs, dim=-1) - probs
    drop_sorted = before >= p
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def sample_next(logits: torch.Tensor, strategy: Strategy = "greedy", temperature: float = 1.0,
                top_k: int = 0, top_p: float = 1.0,
                generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Pick one token per row.

    logits: (B, V) unnormalised scores (any float dtype; sampling maths runs in float32).
    strategy: "greedy" takes the argmax (temperature, top_k, top_p cannot change it);
        "sample" draws from softmax(logits / temperature) after the top-k then top-p filters.
    generator: a seeded torch.Generator for repeatable draws (on the logits' device).
    Returns: (B,) LongTensor of token ids on the logits' device.
    """
    _check_args(strategy, temperature, top_k, top_p)
    _check_logits(logits)
    if strategy == "greedy":
        return logits.argmax(dim=-1)
    scaled = logits.float() / temperature
    scaled = top_k_filter(scaled, top_k)
    scaled = top_p_filter(scaled, top_p)
    probs = torch.softmax(scaled, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
