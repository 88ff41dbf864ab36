"""Helpers of the translation tests (loaded by path from conftest.py as the ``kit`` fixture):
small seeded models, random padded batches, number-word sentence pairs."""

from __future__ import annotations

import torch

from rnnkit.models.seq2seq import Seq2SeqConfig

PAD, UNK, BOS, EOS = 0, 1, 2, 3

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_UNIDADES = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]
_TENS = {2: ("twenty", "veinte"), 3: ("thirty", "treinta"), 4: ("forty", "cuarenta"), 5: ("fifty", "cincuenta")}


def number_pairs(n_max: int = 59) -> list[tuple[str, str]]:
    """English and Spanish number names 0..n_max (two-word numbers from 20 on), e.g.
    ("thirty two", "treinta y dos"): a small real translation with reordering-free alignment."""
    pairs = []
    for n in range(n_max + 1):
        if n < 10:
            pairs.append((_UNITS[n], _UNIDADES[n]))
        elif n >= 20:
            en, es = _TENS[n // 10]
            pairs.append((en if n % 10 == 0 else f"{en} {_UNITS[n % 10]}",
                          es if n % 10 == 0 else f"{es} y {_UNIDADES[n % 10]}"))
    return pairs


def make_model(attention: str = "general", input_feeding: bool = False, cell: str = "gru", V: int = 11,
               eos_bias: float = 0.0, scale: float = 1.0, seed: int = 0, **kw):
    """A small random Seq2Seq in eval mode. ``scale`` sharpens the output distribution and
    ``eos_bias`` makes EOS likely enough that hypotheses end at different lengths."""
    torch.manual_seed(seed)
    cfg = {"src_vocab_size": 13, "tgt_vocab_size": V, "pad_id": PAD, "bos_id": BOS, "eos_id": EOS, "embed_size": 8,
           "hidden_size": 12, "cell": cell, "attention": attention, "input_feeding": input_feeding, "dropout": 0.0}
    cfg.update(kw)
    model = Seq2SeqConfig(**cfg).build().eval()
    with torch.no_grad():
        model.decoder.head.weight.mul_(scale)
        model.decoder.head.bias[EOS] += eos_bias
    return model


def random_batch(B: int = 4, S: int = 7, V: int = 13, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, S + 1, (B,), generator=g)
    lengths[0] = S
    src = torch.randint(4, V, (B, S), generator=g)
    src[torch.arange(S) >= lengths.unsqueeze(1)] = PAD
    return src, lengths


class ScriptedDecoder:
    """A stand-in decoder whose next-token logits are a fixed pseudo-random function of the whole
    history (a rolling hash indexes a random table) with an EOS logit that grows each step, so
    hypotheses end with EOS at many different steps. Its state is a real DecoderState."""

    def __init__(self, V: int = 9, table_rows: int = 997, eos_ramp: float = 0.25, seed: int = 0):
        from rnnkit.models.seq2seq import DecoderState

        g = torch.Generator().manual_seed(seed)
        self.table = 2.0 * torch.randn(table_rows, V, generator=g, dtype=torch.float64).float()
        self.V, self.rows, self.eos_ramp = V, table_rows, eos_ramp
        self._state = DecoderState

    def init_state(self, row_seeds: torch.Tensor):
        """One row per seed (the seed stands in for the source sentence)."""
        n = row_seeds.shape[0]
        return self._state((row_seeds.view(1, n, 1).long(), torch.zeros(1, n, 1, dtype=torch.long)))

    def step(self, tokens, state, bank):
        h, t = state.rnn
        h = (h * 31 + tokens.view(1, -1, 1) + 7) % self.rows
        t = t + 1
        logits = self.table[h.view(-1)].clone()
        logits[:, EOS] += self.eos_ramp * t.view(-1).float()
        return logits, self._state((h, t)), None
