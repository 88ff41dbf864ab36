"""One-to-one: a single input vector to a single output, through one step of a recurrent stack.

    model = OneToOne(input_size=16, hidden_size=32, num_outputs=3, cell="gru")
    y = model(x)                  # x (B, 16) -> y (B, 3)
"""

from __future__ import annotations

import dataclasses

from torch import Tensor, nn

from rnnkit.models.builders import CellSpec, make_rnn

__all__ = ["OneToOne", "OneToOneConfig"]


class OneToOne(nn.Module):
    """``x (B, D) -> y (B, O)``: one step of an L-layer recurrent stack, then a linear head.

    With s_0 the given state (zeros by default) and layer 0 reading ``x``::

        h^(l) = cell_l(h^(l-1), s_0^(l))        h^(0) = x,  l = 1..L
        y     = h^(L) W_o^T + b_o               W_o (O, H)

    This is exactly a many-to-many model run on a sequence of length T = 1: the parameters have
    the same names as :class:`ManyToMany` with ``input_size=D`` (``rnn.*``, ``head.*``), so a
    state_dict moves between them and gives the same outputs. Bidirectional stacks run both
    directions over the single step and concatenate them. Useful as the baseline that shows what
    the recurrence adds, and for one-step updates of a carried state (``return_state=True``).

    Args:
        input_size: D. hidden_size: H. num_outputs: O.
        cell, num_layers, dropout, bidirectional, bias: as :func:`rnnkit.models.make_rnn`.
    """

    def __init__(self, input_size: int, hidden_size: int, num_outputs: int, cell: CellSpec = "lstm",
                 num_layers: int = 1, dropout: float = 0.0, bidirectional: bool = False,
                 bias: bool = True):
        super().__init__()
        if int(num_outputs) < 1:
            raise ValueError(f"OneToOne: num_outputs must be >= 1, got {num_outputs}")
        self.input_size = int(input_size)
        self.num_outputs = int(num_outputs)
        self.rnn = make_rnn(cell, input_size, hidden_size, num_layers, dropout, bidirectional,
                            bias=bias)
        self.head = nn.Linear(self.rnn.output_size, self.num_outputs)

    def forward(self, x: Tensor, state=None, return_state: bool = False):
        """``x (B, D)`` -> ``y (B, O)``; with ``return_state``, also the state after the step.

        ``state``: as the layer's (``(L * dirs, B, H)``, or ``(h, c)`` for the LSTM); None = zeros.
        """
        if not isinstance(x, Tensor) or x.dim() != 2 or not x.is_floating_point():
            got = f"{x.dtype} of shape {tuple(x.shape)}" if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"OneToOne expects a float tensor (B, D={self.input_size}), got {got}")
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"OneToOne expects {self.input_size} input features, got {x.shape[-1]} "
                f"(input shape {tuple(x.shape)})"
            )
        if self.rnn.bidirectional:
            out, new_state = self.rnn(x.unsqueeze(1), state)
            out = out[:, 0]
        else:
            out, new_state = self.rnn.step(x, state)
        y = self.head(out)
        return (y, new_state) if return_state else y


@dataclasses.dataclass
class OneToOneConfig:
    """Arguments of :class:`OneToOne`; ``build()`` makes the model."""

    input_size: int
    hidden_size: int
    num_outputs: int
    cell: str = "lstm"
    num_layers: int = 1
    dropout: float = 0.0
    bidirectional: bool = False
    bias: bool = True

    def build(self) -> OneToOne:
        return OneToOne(**dataclasses.asdict(self))
