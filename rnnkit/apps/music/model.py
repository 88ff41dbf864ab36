"""``MelodyLSTM``: a recurrent language model over (pitch, duration) events with two heads.

Shapes: B batch, T events, H hidden, E_p / E_d embedding sizes, V_p / V_d vocabularies.

::

    x_t = [ E_p[p_{t-1}] ; E_d[d_{t-1}] ]                        (B, T, E_p + E_d)
    h_t, s_t = LSTM(x_t, s_{t-1})                                 (B, T, H)   (any rnnkit cell)
    p(p_t | past)      = softmax( W_p h_t + b_p )                 pitch head    (B, T, V_p)
    p(d_t | past, p_t) = softmax( W_d [h_t ; E_p[p_t]] + b_d )    duration head (B, T, V_d)

so ``p(e_t | past) = p(p_t | past) p(d_t | past, p_t)`` is the exact joint probability of an event
(the duration head sees the pitch it belongs to: the teacher-forced target in training, the
sampled pitch in generation). Special tokens that can never be a target (PAD, BOS; UNK while
generating) get logit -inf. The END pitch closes a piece and has no duration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.decoding import DecodingConfig
from rnnkit.models import make_rnn
from rnnkit.apps.music.events import BOS, DUR_UNK, END, PAD, UNK, EventCodec

__all__ = ["MelodyLSTM", "MelodyModelConfig", "event_nll"]


@dataclass
class MelodyModelConfig:
    """cell: any rnnkit cell name; pitch_embed / duration_embed: E_p / E_d; dropout: on h_t (and
    between layers)."""

    cell: Literal["lstm", "gru", "rnn", "rnn_relu"] = "lstm"
    hidden_size: int = 256
    num_layers: int = 1
    pitch_embed: int = 48
    duration_embed: int = 16
    dropout: float = 0.3


class MelodyLSTM(nn.Module):
    """The model above; ``forward`` is teacher-forced, :meth:`generate` samples event by event."""

    def __init__(self, num_pitches: int, num_durations: int, cfg: MelodyModelConfig | None = None):
        super().__init__()
        cfg = cfg or MelodyModelConfig()
        self.cfg = cfg
        self.num_pitches, self.num_durations = int(num_pitches), int(num_durations)
        self.pitch_embed = nn.Embedding(self.num_pitches, cfg.pitch_embed, padding_idx=PAD)
        self.dur_embed = nn.Embedding(self.num_durations, cfg.duration_embed, padding_idx=PAD)
        self.rnn = make_rnn(cfg.cell, cfg.pitch_embed + cfg.duration_embed, cfg.hidden_size,
                            cfg.num_layers, dropout=cfg.dropout if cfg.num_layers > 1 else 0.0)
        self.drop = nn.Dropout(cfg.dropout)
        self.pitch_head = nn.Linear(self.rnn.output_size, self.num_pitches)
        self.dur_head = nn.Linear(self.rnn.output_size + cfg.pitch_embed, self.num_durations)
        # Never predicted: padding and the start token (and no duration for END: its target is PAD).
        self.register_buffer("pitch_mask", _mask(self.num_pitches, [PAD, BOS]), persistent=False)
        self.register_buffer("dur_mask", _mask(self.num_durations, [PAD, BOS]), persistent=False)

    @classmethod
    def for_codec(cls, codec: EventCodec, cfg: MelodyModelConfig | None = None) -> MelodyLSTM:
        return cls(codec.num_pitches, codec.num_durations, cfg)

    # ------------------------------------------------------------------ pieces
    def encode(self, x_p: Tensor, x_d: Tensor, state=None) -> tuple[Tensor, object]:
        """Input events ``(B, T)`` ids each -> hidden ``(B, T, H)`` (after dropout), final state."""
        x = torch.cat([self.pitch_embed(x_p), self.dur_embed(x_d)], dim=-1)
        h, state = self.rnn(x, state)
        return self.drop(h), state

    def pitch_logits(self, h: Tensor) -> Tensor:
        """``(..., H) -> (..., V_p)``."""
        return self.pitch_head(h).masked_fill(self.pitch_mask, float("-inf"))

    def duration_logits(self, h: Tensor, pitch: Tensor) -> Tensor:
        """``h (..., H)`` and the event's pitch ids ``(...)`` -> ``(..., V_d)``."""
        z = torch.cat([h, self.pitch_embed(pitch)], dim=-1)
        return self.dur_head(z).masked_fill(self.dur_mask, float("-inf"))

    def forward(self, x_p: Tensor, x_d: Tensor, y_p: Tensor, state=None, return_state: bool = False):
        """Teacher forcing: inputs ``x_p, x_d (B, T)``, target pitches ``y_p (B, T)`` ->
        pitch logits ``(B, T, V_p)``, duration logits ``(B, T, V_d)`` [, state]."""
        h, state = self.encode(x_p, x_d, state)
        # PAD targets index the zero padding row; their logits are ignored by the loss.
        out = self.pitch_logits(h), self.duration_logits(h, y_p)
        return (*out, state) if return_state else out

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def generate(self, prime_p: Tensor, prime_d: Tensor, max_events: int,
                 decoding: DecodingConfig | None = None,
                 generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Continue each primer; returns new pitch and duration ids ``(B, n)``, n <= max_events.

        ``prime_p, prime_d (B, T0)``: ids starting with BOS (``[BOS, e_1..e_k]``), all rows of
        the same length. At each step a pitch is drawn from the pitch head with ``decoding``
        (:func:`rnnkit.decoding.sample_next`: greedy, or sampling with temperature/top-k/top-p),
        then its duration from the duration head given that pitch. A row that draws END is
        finished: its later positions hold PAD. UNK is never drawn (it has no note to play).
        """
        if prime_p.dim() != 2 or prime_p.shape != prime_d.shape or prime_p.shape[1] < 1:
            raise ValueError(f"primers must be two (B, T0) id tensors with T0 >= 1, got "
                             f"{tuple(prime_p.shape)} and {tuple(prime_d.shape)}")
        decoding = decoding or DecodingConfig(strategy="sample", temperature=1.0)
        device = self.pitch_head.weight.device
        if generator is None:
            generator = decoding.make_generator(device)
        was_training = self.training
        self.eval()
        h, state = self.encode(prime_p.to(device), prime_d.to(device))
        h = h[:, -1]
        B = h.shape[0]
        done = torch.zeros(B, dtype=torch.bool, device=device)
        pitches, durs = [], []
        for i in range(max_events):
            pl = self.pitch_logits(h)
            pl[:, UNK] = float("-inf")
            p = decoding.sample(pl, generator=generator)
            dl = self.duration_logits(h, p)
            dl[:, DUR_UNK] = float("-inf")
            d = decoding.sample(dl, generator=generator)
            ended = done | (p == END)
            d = torch.where(ended, torch.full_like(d, PAD), d)
            p = torch.where(done, torch.full_like(p, PAD), p)
            pitches.append(p)
            durs.append(d)
            done = ended
            if bool(done.all()) or i + 1 == max_events:
                break
            # Finished rows are stepped with their END/PAD ids (kept aligned, results unused).
            x = torch.cat([self.pitch_embed(p), self.dur_embed(d)], dim=-1)
            h, state = self.rnn.step(x, state)
        self.train(was_training)
        if not pitches:
            empty = torch.empty(B, 0, dtype=torch.long, device=device)
            return empty, empty.clone()
        return torch.stack(pitches, 1), torch.stack(durs, 1)


def _mask(size: int, ids: list[int]) -> Tensor:
    m = torch.zeros(size, dtype=torch.bool)
    m[ids] = True
    return m


def event_nll(pitch_logits: Tensor, dur_logits: Tensor, y_p: Tensor, y_d: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Summed negative log-likelihoods (nats) of a batch and its number of predicted events.

    Returns ``(pitch_nll_sum, duration_nll_sum, events)``: the pitch sum runs over every
    non-PAD pitch target (the events and END), the duration sum over non-PAD duration targets
    (END has none), ``events`` counts the pitch targets. NLL per event = (sum of both) / events.
    """
    V_p, V_d = pitch_logits.shape[-1], dur_logits.shape[-1]
    pitch = F.cross_entropy(pitch_logits.reshape(-1, V_p).float(), y_p.reshape(-1), ignore_index=PAD, reduction="sum")
    dur = F.cross_entropy(dur_logits.reshape(-1, V_d).float(), y_d.reshape(-1), ignore_index=PAD, reduction="sum")
    return pitch, dur, (y_p != PAD).sum()
