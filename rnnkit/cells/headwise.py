"""Multi-head (block-diagonal) LSTM and GRU cells: each head's slice of h drives only its own gates.

The head-wise recurrence of xLSTM (Beck et al. 2024) and FlashRNN (Pöppel et al. 2024): the
hidden state of size H is cut into k heads of ``Hh = H / k`` units, and the recurrent matrix is
block-diagonal, ``W_hh = blockdiag(U_1, ..., U_k)``, so head j's gates read only head j's
previous h. The input projection stays dense (every gate reads all of x_t). With ``heads=1`` the
cells compute exactly :class:`rnnkit.LSTMCell` / :class:`rnnkit.GRUCell` (the same floating-point
operations, so the same bits) and draw the same initial numbers for the same seed.

These are new cells, not a ``heads=`` option of ``LSTMCell``/``GRUCell``: those stay
``torch.nn.LSTMCell``-compatible (their ``weight_hh`` is ``(4H, H)``, their state_dicts load into
torch), and the fused paths that match them by exact type (torch's native op, rnnkit's Triton
kernels) never mistake a head-wise cell for a dense one: a layer of head-wise cells runs on
``backend="loop"`` (and ``auto`` picks ``loop``); ``native`` and ``triton`` raise
``BackendUnavailable``. Use them through :class:`rnnkit.Recurrent`::

    layer = rnnkit.Recurrent(lambda d: HeadwiseLSTMCell(d, 256, heads=4), input_size=64, num_layers=2)

Parameters (``heads=k``, ``Hh = H / k``, NG gates: 4 for the LSTM, 3 for the GRU)::

    weight_ih  (NG*H, D)        dense, torch's layout: rows [gate 0 | gate 1 | ...], H rows each
    weight_hh  (k, NG*Hh, Hh)   the k diagonal blocks only; block j's rows are [gate 0 | gate 1 | ...]
                                of head j, Hh rows each
    bias_ih, bias_hh  (NG*H,)   torch's layout (absent with bias=False)

``weight_hh`` stores only the blocks, not a dense ``(NG*H, H)`` matrix with a structurally zero
off-block part: it holds ``NG*H*H/k`` numbers instead of ``NG*H*H`` (k times less memory, optimizer
state and checkpoint), no mask is needed to keep the off-block part at zero under any optimizer or
weight decay (it does not exist, so its gradient is zero by construction), and a head's whole
recurrent block ``U_j`` is one contiguous ``(NG*Hh, Hh)`` tile: the unit a fused kernel can keep
on one streaming multiprocessor ("each head fits one SM"). :meth:`dense_weight_hh` builds the
equivalent dense matrix, :meth:`to_dense` an equivalent ``LSTMCell``/``GRUCell``.

Gate layout. The gate pre-activations are ``(B, NG*H)`` in torch's layout (gate-major: all H
units of gate 0, then gate 1, ...), unit u of a gate belonging to head ``j = u // Hh``. The
recurrent part, with ``h_j = h_{t-1}[:, j*Hh:(j+1)*Hh]`` ``(B, Hh)``::

    r_j   = h_j U_j^T                    (B, NG*Hh)   U_j = weight_hh[j]
    rec[:, g*H + j*Hh : g*H + (j+1)*Hh] = r_j[:, g*Hh : (g+1)*Hh] + bias_hh[same columns]

that is, the dense equivalent is ``W[g*H + j*Hh + a, j*Hh + b] = weight_hh[j, g*Hh + a, b]`` and
zero wherever the row's head differs from the column's. LSTM (gates i, f, g, o, as torch)::

    [i, f, g, o] = x_t W_ih^T + b_ih + rec                       (B, 4H)
    c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g);   h_t = sigmoid(o) * tanh(c_t)

GRU (gates r, z, n, torch's variant: r multiplies the recurrent part of n, bias included)::

    [r_i, z_i, n_i] = x_t W_ih^T + b_ih;   [r_h, z_h, n_h] = rec                 (B, 3H)
    r = sigmoid(r_i + r_h);  z = sigmoid(z_i + z_h);  n = tanh(n_i + r * n_h)
    h_t = (1 - z) * n + z * h_{t-1}

Init: torch's, every parameter uniform in ``[-1/sqrt(H), 1/sqrt(H)]`` (H, not Hh, so that
``heads=1`` draws torch's numbers; the recurrent blocks are then k times smaller in norm than a
dense matrix's, which the gates see as a smaller recurrent fan-in). No ``proj_size``.
"""

from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit import functional as RF
from rnnkit.cells.base import RecurrentCell, State
from rnnkit.cells.builtin import GRUCell, LSTMCell

__all__ = ["HeadwiseLSTMCell", "HeadwiseGRUCell", "headwise_recurrent", "block_diagonal"]


def headwise_recurrent(h: Tensor, weight_hh: Tensor, bias_hh: Tensor | None = None) -> Tensor:
    """The block-diagonal recurrent product in torch's gate layout.

    h ``(B, H)``, weight_hh ``(k, NG*Hh, Hh)`` with ``H = k*Hh``, bias_hh ``(NG*H,)`` or None ->
    ``(B, NG*H)``: the same as ``F.linear(h, block_diagonal(weight_hh), bias_hh)``. With k = 1 it
    is exactly ``F.linear(h, weight_hh[0], bias_hh)`` (the same call).
    """
    k, rows, hh = weight_hh.shape
    if k == 1:
        return F.linear(h, weight_hh[0], bias_hh)
    ng = rows // hh
    B = h.shape[0]
    r = torch.einsum("bkc,krc->bkr", h.reshape(B, k, hh), weight_hh)  # (B, k, NG*Hh): per head
    rec = r.reshape(B, k, ng, hh).transpose(1, 2).reshape(B, ng * k * hh)  # gate-major, as torch
    return rec if bias_hh is None else rec + bias_hh


def block_diagonal(weight_hh: Tensor) -> Tensor:
    """The dense ``(NG*H, H)`` recurrent matrix (torch's layout) equal to the blocks
    ``weight_hh`` ``(k, NG*Hh, Hh)``: zero off the diagonal blocks. Differentiable."""
    k, rows, hh = weight_hh.shape
    ng = rows // hh
    H = k * hh
    blocks = weight_hh.reshape(k, ng, hh, hh)  # (head, gate, a, b)
    eye = torch.eye(k, dtype=weight_hh.dtype, device=weight_hh.device)
    # dense[g, j, a, m, b] = blocks[j, g, a, b] * [j == m]
    dense = torch.einsum("jgab,jm->gjamb", blocks, eye)
    return dense.reshape(ng * H, H)


class _HeadwiseCell(RecurrentCell):
    num_gates = 1
    _dense_cls: type  # the torch-compatible dense cell of the same equations

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, heads: int = 1,
                 device=None, dtype=None):
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"input_size and hidden_size must be >= 1, got {input_size} and {hidden_size}")
        if isinstance(heads, bool) or not isinstance(heads, numbers.Integral) or heads < 1 \
                or hidden_size % heads:
            raise ValueError(f"heads must be an integer >= 1 that divides hidden_size={hidden_size}, got {heads!r}")
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.heads = int(heads)
        self.head_size = self.hidden_size // self.heads
        self.bias = bool(bias)
        g = self.num_gates * hidden_size
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(g, input_size, **factory))
        self.weight_hh = nn.Parameter(torch.empty(self.heads, self.num_gates * self.head_size, self.head_size,
                                                  **factory))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(g, **factory))
            self.bias_hh = nn.Parameter(torch.empty(g, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's init: every parameter uniform in ``[-1/sqrt(H), 1/sqrt(H)]``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def project_input(self, x: Tensor) -> Tensor:
        return RF.input_projection(x, self.weight_ih, self.bias_ih)

    def recurrent(self, h: Tensor) -> Tensor:
        """``(B, H) -> (B, NG*H)``: the block-diagonal product plus ``bias_hh``, torch's gate layout."""
        return headwise_recurrent(h, self.weight_hh, self.bias_hh)

    def dense_weight_hh(self) -> Tensor:
        """The equivalent dense ``(NG*H, H)`` recurrent matrix (zero off the diagonal blocks)."""
        return block_diagonal(self.weight_hh)

    @torch.no_grad()
    def to_dense(self):
        """An ``LSTMCell``/``GRUCell`` (torch-compatible) computing the same as this cell."""
        w = self.weight_ih
        cell = self._dense_cls(self.input_size, self.hidden_size, bias=self.bias, device=w.device, dtype=w.dtype)
        cell.weight_ih.copy_(self.weight_ih)
        cell.weight_hh.copy_(self.dense_weight_hh())
        if self.bias:
            cell.bias_ih.copy_(self.bias_ih)
            cell.bias_hh.copy_(self.bias_hh)
        return cell

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}, heads={self.heads}"
        return s if self.bias else s + ", bias=False"


class HeadwiseLSTMCell(_HeadwiseCell):
    """LSTM cell with a block-diagonal recurrent matrix of ``heads`` blocks (gate order i, f, g, o).

    State ``(h, c)``, both ``(B, H)``. ``weight_hh`` ``(heads, 4*H/heads, H/heads)``; the layout
    and equations are in the module docstring (:mod:`rnnkit.cells.headwise`).
    """

    num_gates = 4
    _dense_cls = LSTMCell

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.hidden_size, self.hidden_size)

    def step_projected(self, gi: Tensor, state: State) -> State:
        h, c = state
        # the same operations as rnnkit.functional.lstm_step (bit-identical with heads=1)
        gates = gi + self.recurrent(h)
        i, f, g, o = gates.chunk(4, dim=-1)
        c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_next = torch.sigmoid(o) * torch.tanh(c_next)
        return h_next, c_next


class HeadwiseGRUCell(_HeadwiseCell):
    """GRU cell (torch's variant, gates r, z, n) with a block-diagonal recurrent matrix.

    State ``h (B, H)``. ``weight_hh`` ``(heads, 3*H/heads, H/heads)``; the layout and equations
    are in the module docstring (:mod:`rnnkit.cells.headwise`).
    """

    num_gates = 3
    _dense_cls = GRUCell

    def step_projected(self, gi: Tensor, state: State) -> State:
        h = state[0]
        # the same operations as rnnkit.functional.gru_step (bit-identical with heads=1)
        gh = self.recurrent(h)
        r_i, z_i, n_i = gi.chunk(3, dim=-1)
        r_h, z_h, n_h = gh.chunk(3, dim=-1)
        r = torch.sigmoid(r_i + r_h)
        z = torch.sigmoid(z_i + z_h)
        n = torch.tanh(n_i + r * n_h)
        return (n + z * (h - n),)

