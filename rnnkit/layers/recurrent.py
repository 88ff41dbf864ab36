"""``Recurrent``: scan any cell over time, stacked, bidirectional, with lengths and streaming.

It holds rnnkit's one loop over layers and directions (:meth:`Recurrent._forward_loop`); what
runs one direction over the whole sequence is a hook (:meth:`Recurrent._direction_scan`): the time
loop over the cell, the fused Triton kernels, or, in the min-RNN layers, a parallel scan.

Shapes (batch-first by default): x ``(B, T, D)``; output ``(B, T, O)`` with O the cell's output
size, doubled for ``bidirectional`` with ``merge="concat"``. The state follows torch: a tensor
``(L * dirs, B, S)`` for one-tensor cells, a tuple of them otherwise (the LSTM's ``(h, c)``).
"""

from __future__ import annotations

import weakref
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.cells.base import State, as_state_tuple, begin_sequence, cell_output_size, cell_state_sizes
from rnnkit.functional import scan as FS
from rnnkit.layers.naming import install_torch_naming
from rnnkit.layers.scan import scan_cell

try:  # kernels/ holds fast paths only; without it every layer runs its own loop.
    from rnnkit.kernels import dispatch as _dispatch
    from rnnkit.kernels import fused_layer as _fused
    from rnnkit.kernels import native as _native
except ModuleNotFoundError as err:  # pragma: no cover - exercised by deleting the folder
    if err.name != "rnnkit.kernels":  # a broken import inside kernels/ must fail, not fall back
        raise
    _dispatch = _native = _fused = None

MERGE_MODES = ("concat", "sum", "mean", "mul")

CellFactory = Callable[[int], nn.Module]
# scan(cell, x (B, T, D), state tuple of (B, S_k), lengths, reverse) -> (outputs (B, T, S_0), final state)
DirectionScan = Callable[..., "tuple[Tensor, State]"]


class Recurrent(nn.Module):
    """Scan a cell over time. Works for rnnkit's cells and for any cell with the cell protocol.

    Args:
        cell: a factory ``input_size -> cell`` called once per layer and direction; or a cell
            instance, used as layer 0 (forward), deep-copied with fresh parameters for the others.
        input_size: D. Taken from the cell instance when one is given.
        num_layers: L stacked layers; layer l > 0 reads the (merged) output of layer l - 1.
        bidirectional: add a reverse-direction scan per layer (within each sequence's length).
        merge: how directions combine: ``concat`` (O = 2S), ``sum``, ``mean`` or ``mul`` (O = S).
        dropout: dropout on the outputs of every layer but the last, in training only (as torch).
        residual: add a layer's input to its output wherever their sizes agree (from the second
            layer on; the first too when D equals its output size).
        batch_first: ``(B, T, D)`` if True (default), ``(T, B, D)`` otherwise.
        backend: ``auto`` | ``native`` | ``loop`` | ``triton``, see :mod:`rnnkit.kernels.dispatch`
            (``ref``, an old name of ``loop``, still works with a DeprecationWarning). Without
            ``rnnkit/kernels`` every backend runs the loop.
    """

    backend_kind = "layer"  # which backend rules apply (rnnkit.kernels.dispatch.ACCEPTS)

    def __init__(
        self,
        cell: CellFactory | nn.Module,
        input_size: int | None = None,
        num_layers: int = 1,
        bidirectional: bool = False,
        merge: str = "concat",
        dropout: float = 0.0,
        residual: bool = False,
        batch_first: bool = True,
        backend: str = "auto",
    ):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        if merge not in MERGE_MODES:
            raise ValueError(f"merge must be one of {MERGE_MODES}, got {merge!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.backend = backend  # checked and mapped to the one vocabulary by the property below
        self.num_layers = int(num_layers)
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        self.merge = merge
        self.dropout = float(dropout)
        self.residual = bool(residual)
        self.batch_first = bool(batch_first)

        if isinstance(cell, nn.Module):
            template = cell
            input_size = int(template.input_size)
            factory = None
        else:
            if input_size is None:
                raise ValueError("input_size is required when `cell` is a factory")
            template, factory = None, cell
        self.input_size = int(input_size)

        cells: list[nn.Module] = []
        layer_in = self.input_size
        for layer in range(self.num_layers):
            for direction in range(self.num_directions):
                if factory is not None:
                    c = factory(layer_in)
                elif layer == 0 and direction == 0:
                    c = template
                else:
                    c = _fresh_copy(template, layer_in)
                if int(c.input_size) != layer_in:
                    raise ValueError(
                        f"cell for layer {layer} has input_size {c.input_size}, expected {layer_in}"
                    )
                cells.append(c)
            layer_in = self._merged_size(cell_output_size(cells[-1]))
        self.cells = nn.ModuleList(cells)
        self.state_sizes = cell_state_sizes(self.cells[0])
        self.output_size = layer_in
        install_torch_naming(self, self.num_directions)

    # ------------------------------------------------------------------ backend
    @property
    def backend(self) -> str:
        """The requested backend, in the vocabulary of :mod:`rnnkit.kernels.dispatch`; checked
        (and a deprecated name mapped) whenever it is set."""
        return self._backend

    @backend.setter
    def backend(self, name: str) -> None:
        if _dispatch is not None:
            name = _dispatch.backend_name(name, self.backend_kind, type(self).__name__)
        self._backend = name

    def __setstate__(self, state: dict) -> None:  # modules pickled before `backend` was a property
        if "backend" in state:
            state["_backend"] = state.pop("backend")
        super().__setstate__(state)

    # ------------------------------------------------------------------ sizes and checks
    def _merged_size(self, size: int) -> int:
        return size * 2 if self.bidirectional and self.merge == "concat" else size

    def _check_input(self, x: Tensor) -> None:
        if not isinstance(x, Tensor):
            raise TypeError(f"{type(self).__name__} expects a tensor input, got {type(x).__name__}")
        layout = "(batch, time, features)" if self.batch_first else "(time, batch, features)"
        if x.dim() != 3:
            raise ValueError(
                f"{type(self).__name__} expects input of rank 3 {layout} with features="
                f"{self.input_size}, got rank {x.dim()} with shape {tuple(x.shape)}"
            )
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__} expects {self.input_size} input features, got "
                f"{x.shape[-1]} (input shape {tuple(x.shape)})"
            )
        if x.shape[1] == 0 or x.shape[0] == 0:
            raise ValueError(f"{type(self).__name__} got an empty input of shape {tuple(x.shape)}")

    def _check_lengths(self, lengths, batch: int, steps: int, device) -> Tensor:
        lengths = torch.as_tensor(lengths)
        if lengths.dim() != 1 or lengths.shape[0] != batch:
            raise ValueError(
                f"lengths must be a 1-D tensor of {batch} sequence lengths, got shape {tuple(lengths.shape)}"
            )
        if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
            raise ValueError(f"lengths must be integers, got dtype {lengths.dtype}")
        lo, hi = int(lengths.min()), int(lengths.max())
        if lo < 1 or hi > steps:
            raise ValueError(
                f"lengths must be in [1, T={steps}], got values from {lo} to {hi}"
            )
        return lengths.to(device=device, dtype=torch.long)

    def _check_state(self, state, batch: int, x: Tensor) -> State:
        n = len(self.state_sizes)
        rows = self.num_layers * self.num_directions
        if state is None:
            return tuple(x.new_zeros(rows, batch, s) for s in self.state_sizes)
        state = as_state_tuple(state)
        if len(state) != n:
            raise ValueError(f"{type(self).__name__} expects a state of {n} tensor(s), got {len(state)}")
        for k, (s, size) in enumerate(zip(state, self.state_sizes)):
            expected = (rows, batch, size)
            if tuple(s.shape) != expected:
                which = "state" if n == 1 else f"state[{k}]"
                raise ValueError(
                    f"{which} must have shape (num_layers * num_directions, batch, size) = "
                    f"{expected}, got {tuple(s.shape)}"
                    + (" (batch sizes of input and state differ)" if s.dim() == 3 and s.shape[1] != batch else "")
                )
        return state

    def _public_state(self, state: State):
        return state[0] if len(state) == 1 else tuple(state)

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        x: Tensor,
        state: Tensor | Sequence[Tensor] | None = None,
        lengths: Tensor | Sequence[int] | None = None,
        return_state: bool = False,
    ):
        """Run the stack over ``x``. Returns the output, and the final state if ``return_state``.

        ``lengths`` ``(B,)`` gives each sequence's valid steps (any order, no sorting needed):
        padded outputs are zero, the reverse direction starts at each sequence's last valid
        step, and the final state is the state after that step.
        """
        self._check_input(x)
        if not self.batch_first:
            x = x.transpose(0, 1)
        B, T, _ = x.shape
        if lengths is not None:
            lengths = self._check_lengths(lengths, B, T, x.device)
        state_given = state is not None
        state = self._check_state(state, B, x)

        backend = "loop" if _dispatch is None else _dispatch.choose_backend(self, self.backend, x)
        if backend == "native":  # torch's fused op runs the whole stack itself
            out, final = _native.run_native(self, x, state, lengths)
        else:
            out, final = self._forward_loop(x, state, lengths, self._direction_scan(backend, state_given))

        if not self.batch_first:
            out = out.transpose(0, 1)
        return (out, self._public_state(final)) if return_state else out

    def _direction_scan(self, backend: str, state_given: bool) -> DirectionScan:
        """What runs one direction of one layer over the whole sequence, for ``backend`` (``loop``
        or ``triton`` here): ``scan(cell, x, state, lengths, reverse) -> (outputs, final)`` with the
        contract of :func:`rnnkit.layers.scan.scan_cell`. ``state_given``: the caller passed an
        initial state (else ``state`` is zeros). Layers with another per-direction algorithm
        override this hook and keep the loop over layers and directions."""
        return _fused.fused_scan if backend == "triton" else scan_cell

    def _forward_loop(self, x: Tensor, state: State, lengths: Tensor | None,
                      scan: DirectionScan = scan_cell):
        """The one loop over layers and directions: each direction one ``scan`` (the time loop,
        a fused kernel or a parallel scan with the same contract), then merge, residual and
        dropout between layers."""
        layer_input = x
        finals: list[State] = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                idx = layer * self.num_directions + direction
                s0 = tuple(s[idx] for s in state)
                out, fin = scan(self.cells[idx], layer_input, s0, lengths, reverse=direction == 1)
                outputs.append(out)
                finals.append(fin)
            out = self._merge(outputs)
            if self.residual and out.shape[-1] == layer_input.shape[-1]:
                out = out + layer_input
            if self.dropout and self.training and layer < self.num_layers - 1:
                out = F.dropout(out, self.dropout, training=True)
            layer_input = out
        if lengths is not None and self.residual:
            # residual sums carry the (possibly non-zero) padded inputs: zero them again
            layer_input = FS.zero_padded(layer_input, FS.valid_mask(lengths, x.shape[1], x.device))
        final = tuple(torch.stack([f[k] for f in finals]) for k in range(len(self.state_sizes)))
        return layer_input, final

    def _merge(self, outputs: list[Tensor]) -> Tensor:
        if len(outputs) == 1:
            return outputs[0]
        fwd, bwd = outputs
        if self.merge == "concat":
            return torch.cat([fwd, bwd], dim=-1)
        if self.merge == "sum":
            return fwd + bwd
        if self.merge == "mean":
            return (fwd + bwd) * 0.5
        return fwd * bwd

    # ------------------------------------------------------------------ streaming
    def step(self, x_t: Tensor, state: Tensor | Sequence[Tensor] | None = None):
        """Advance one time step for streaming or generation: x_t ``(B, D)`` -> ``(y_t, state)``.

        Carries the state across calls: feeding a sequence step by step equals one ``forward``
        over it. Unidirectional only (the reverse direction needs the future). A stream
        continues while ``state`` is the state the previous ``step()`` returned; any other state
        (None, an encoder's, a detached one) starts a new stream, and each cell's
        ``begin_sequence`` hook runs (new dropout masks).
        """
        if self.bidirectional:
            raise RuntimeError("step() is not defined for a bidirectional layer: the reverse direction needs the whole sequence")
        if not isinstance(x_t, Tensor) or x_t.dim() != 2 or x_t.shape[-1] != self.input_size:
            got = tuple(x_t.shape) if isinstance(x_t, Tensor) else type(x_t).__name__
            raise ValueError(f"step() expects x_t of shape (batch, {self.input_size}), got {got}")
        last = getattr(self, "_last_step_state", None)  # weak reference: never keeps a graph alive
        if state is None or last is None or last() is not as_state_tuple(state)[0]:
            for cell in self.cells:
                begin_sequence(cell, x_t.shape[0], x_t.device, x_t.dtype)
        state = self._check_state(state, x_t.shape[0], x_t)
        layer_input = x_t
        finals = []
        for layer, cell in enumerate(self.cells):
            s = tuple(t[layer] for t in state)
            new = as_state_tuple(cell(layer_input, s))
            out = new[0]
            if self.residual and out.shape[-1] == layer_input.shape[-1]:
                out = out + layer_input
            if self.dropout and self.training and layer < self.num_layers - 1:
                out = F.dropout(out, self.dropout, training=True)
            finals.append(new)
            layer_input = out
        final = tuple(torch.stack([f[k] for f in finals]) for k in range(len(self.state_sizes)))
        self._last_step_state = weakref.ref(final[0])
        return layer_input, self._public_state(final)

    def extra_repr(self) -> str:
        parts = [f"input_size={self.input_size}", f"num_layers={self.num_layers}"]
        if self.bidirectional:
            parts.append(f"bidirectional=True, merge={self.merge!r}")
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        if self.residual:
            parts.append("residual=True")
        if not self.batch_first:
            parts.append("batch_first=False")
        parts.append(f"backend={self.backend!r}")
        return ", ".join(parts)


def _fresh_copy(template: nn.Module, input_size: int) -> nn.Module:
    """A new cell like ``template`` for another layer/direction, with its own parameters."""
    import copy

    if int(template.input_size) != input_size:
        raise ValueError(
            f"a cell instance with input_size={template.input_size} cannot serve a layer whose input "
            f"has {input_size} features; pass a factory `lambda input_size: MyCell(input_size, ...)`"
        )
    c = copy.deepcopy(template)
    if hasattr(c, "reset_parameters"):
        c.reset_parameters()
    else:
        for m in c.modules():
            if m is not c and hasattr(m, "reset_parameters"):
                m.reset_parameters()
    return c
