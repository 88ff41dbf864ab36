"""``Recurrent``: scan any cell over time, stacked, bidirectional, with lengths and streaming.

It holds rnnkit's one loop over layers and directions (:meth:`Recurrent._forward_loop`); what
runs one direction over the whole sequence is a hook (:meth:`Recurrent._direction_scan`): the time
loop over the cell (under ``torch.compile``, the loop as one scan compiled on its own, see
:mod:`rnnkit.layers.compiled`), the fused Triton kernels, or, in the min-RNN layers, a parallel scan.

The call contract is torch's (``torch.nn.LSTM``'s): ``layer(input, hx=None)`` returns
``(output, h_n)``, with ``h_n`` the final state as torch gives it: a tensor ``(L * dirs, B, S)`` for
one-tensor cells, a tuple of them otherwise (the LSTM's ``(h_n, c_n)``). ``input`` is
``(T, B, D)`` by default, ``(B, T, D)`` with ``batch_first=True``, ``(T, D)`` unbatched (then
``h_n`` is ``(L * dirs, S)``), or a ``PackedSequence`` (then the output is one too). The output
has ``O`` features: the cell's output size, doubled for ``bidirectional`` with ``merge="concat"``.
rnnkit's extras are keywords: ``lengths=`` (padded batches without packing), and on the
constructor ``merge=``, ``residual=``, ``backend=``; :meth:`Recurrent.step` streams one step.
"""

from __future__ import annotations

import sys
import warnings
import weakref
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.cells.base import State, as_state_tuple, begin_sequence, cell_output_size, cell_state_sizes
from rnnkit.functional import scan as FS
from rnnkit.layers.naming import cell_key_to_torch, install_legacy_cell_names, install_torch_naming
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

_UNSET = object()  # marks a deprecated keyword that was not passed
_MODULE_FILE = nn.modules.module.__file__


class Recurrent(nn.Module):
    """Scan a cell over time. Works for rnnkit's cells and for any cell with the cell protocol.

    Called as ``torch.nn.LSTM`` is: ``output, h_n = layer(input, hx=None)`` (see the module
    docstring for the shapes), with the extra keyword ``lengths=``.

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
        batch_first: ``(B, T, D)`` if True, ``(T, B, D)`` if False (the default, as torch).
        backend: ``auto`` | ``native`` | ``loop`` | ``triton``, see :mod:`rnnkit.kernels.dispatch`
            (``ref``, an old name of ``loop``, still works with a DeprecationWarning). Without
            ``rnnkit/kernels`` every backend runs the loop.
    """

    backend_kind = "layer"  # which backend rules apply (rnnkit.kernels.dispatch.ACCEPTS)
    # RNN/LSTM/GRU own their cells' parameters under torch's names (weight_ih_l0, ...), see
    # _own_cell_parameters; a layer over any cell keeps them in its registered `cells`.
    _torch_parameters = False
    # How rnnkit's time loop runs under torch.compile (the `loop` backend; the fused ops are
    # single calls already): "scan" (default) leaves the caller's graph at a graph break and runs
    # as one scan compiled on its own, so one compile serves every sequence length
    # (rnnkit/layers/compiled.py); "unroll" traces the Python loop into the caller's graph (one
    # compile per length; for fullgraph=True, where a graph break raises). Set it on an instance
    # or on the class.
    compile_loop = "scan"

    def __init__(
        self,
        cell: CellFactory | nn.Module,
        input_size: int | None = None,
        num_layers: int = 1,
        bidirectional: bool = False,
        merge: str = "concat",
        dropout: float = 0.0,
        residual: bool = False,
        batch_first: bool = False,
        backend: str = "auto",
    ):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        if merge not in MERGE_MODES:
            raise ValueError(f"merge must be one of {MERGE_MODES}, got {merge!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
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
        if self._torch_parameters:
            self._own_cell_parameters()
        else:
            install_torch_naming(self, self.num_directions)

    # ------------------------------------------------------------------ torch's parameter names
    def _own_cell_parameters(self) -> None:
        """Own every cell parameter under torch's name (``weight_ih_l0``, ``bias_hh_l1_reverse``,
        ``weight_hr_l0``), in torch's order, so ``named_parameters()``, ``state_dict()``,
        ``get_parameter`` and attribute access are torch's. The cells stay reachable as
        ``self.cells`` (unregistered) and hold the same tensors: re-linked after ``.to()``-like
        conversions, after ``layer.weight_ih_l0 = ...`` and at each call (so
        ``torch.func.functional_call`` and parametrizations reach the computation)."""
        cells = self._modules.pop("cells")
        self.__dict__["cells"] = cells  # not a submodule: its tensors are the layer's
        links: dict[str, tuple[int, str]] = {}
        for index, cell in enumerate(cells):
            for name, p in cell._parameters.items():
                if p is None:
                    continue
                torch_name = cell_key_to_torch(index, name, self.num_directions)
                self.register_parameter(torch_name, p)
                links[torch_name] = (index, name)
        self.__dict__["_param_links"] = links
        install_legacy_cell_names(self, self.num_directions)

    @property
    def _flat_weights_names(self) -> list[str]:
        """torch's names of the parameters, in torch's order."""
        return list(self.__dict__.get("_param_links", ()))

    @property
    def _all_weights(self) -> list[list[str]]:
        """torch's names per layer and direction (``torch.nn.LSTM._all_weights``)."""
        links = self.__dict__.get("_param_links", {})
        groups: list[list[str]] = [[] for _ in range(len(self.cells))]
        for name, (index, _) in links.items():
            groups[index].append(name)
        return groups

    @property
    def _flat_weights(self) -> list[Tensor]:
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Tensor]]:
        """The parameters per layer and direction, as ``torch.nn.LSTM.all_weights``."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op that exists for torch code that calls it (rnnkit never needs the weights
        in one contiguous cuDNN buffer)."""

    def _sync_cells(self) -> None:
        """Point the cells at the layer's current tensors (a no-op when they already do)."""
        links = self.__dict__.get("_param_links")
        if not links:
            return
        cells = self.__dict__["cells"]
        for torch_name, (index, name) in links.items():
            w = getattr(self, torch_name)
            params = cells[index]._parameters
            if params.get(name) is not w:
                params[name] = w

    def __setattr__(self, name: str, value) -> None:
        super().__setattr__(name, value)
        links = self.__dict__.get("_param_links")
        if links is not None and name in links:
            self._sync_cells()

    def _apply(self, fn, recurse: bool = True):
        ret = super()._apply(fn, recurse)
        self._sync_cells()  # a conversion may have made new tensors
        return ret

    def train(self, mode: bool = True):
        super().train(mode)
        if "cells" not in self._modules:  # owned parameters: the cells are not submodules
            self.cells.train(mode)
        return self

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
        """Checks on the input as a batch-first ``(B, T, D)`` tensor (after unbatched inputs got
        a batch of one and ``(T, B, D)`` inputs were transposed)."""
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__} expects {self.input_size} input features, got "
                f"{x.shape[-1]} (input shape {tuple(x.shape)})"
            )
        if x.shape[1] == 0 or x.shape[0] == 0:
            raise ValueError(f"{type(self).__name__} got an empty input of shape {tuple(x.shape)}")
        if self._torch_parameters:
            w = next(iter(self.parameters()), None)
            if w is not None and x.dtype != w.dtype and not torch.is_autocast_enabled(x.device.type):
                raise ValueError(  # torch's words
                    f"RNN input dtype ({x.dtype}) does not match weight dtype ({w.dtype}). "
                    f"Convert input: input.to({w.dtype}), or convert model: model.to({x.dtype})")

    def _check_lengths(self, lengths, batch: int, steps: int, device) -> Tensor:
        lengths = torch.as_tensor(lengths)
        if lengths.dim() != 1 or lengths.shape[0] != batch:
            raise ValueError(
                f"lengths must be a 1-D tensor of {batch} sequence lengths, got shape {tuple(lengths.shape)}"
            )
        if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
            raise ValueError(f"lengths must be integers, got dtype {lengths.dtype}")
        if torch.compiler.is_compiling():  # value checks are eager-only: tracing cannot read values
            return lengths.to(device=device, dtype=torch.long)
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
        input: Tensor | PackedSequence,
        hx: Tensor | Sequence[Tensor] | None = None,
        lengths: Tensor | Sequence[int] | None = None,
        *,
        return_state=_UNSET,
        state=_UNSET,
    ):
        """Run the stack over ``input``; returns ``(output, h_n)`` as ``torch.nn.LSTM`` does.

        ``input``: ``(T, B, D)``, ``(B, T, D)`` with ``batch_first``, ``(T, D)`` unbatched, or a
        ``PackedSequence`` (any ``enforce_sorted``); the output has the same form. ``hx``: the
        initial state, ``(L * dirs, B, S)`` (``(L * dirs, S)`` unbatched), a tuple ``(h_0, c_0)``
        for the LSTM; zeros when None. ``h_n`` is each sequence's state after its last step.

        ``lengths`` ``(B,)`` (rnnkit's extra; padded tensor input only) gives each sequence's
        valid steps (any order, no sorting needed): padded outputs are zero, the reverse
        direction starts at each sequence's last valid step, and the final state is the state
        after that step, as with a PackedSequence.

        Deprecated, for one release: ``return_state=`` (the state is always returned now;
        ``return_state=False`` still returns the output alone) and ``state=`` (use ``hx``).
        """
        want_state = True
        if return_state is not _UNSET:
            _deprecated(
                f"{type(self).__name__}(..., return_state=...) is deprecated and will be removed in "
                f"the next release: the layer now always returns (output, state), as torch.nn.LSTM")
            want_state = bool(return_state)
        if state is not _UNSET:
            _deprecated(
                f"{type(self).__name__}(..., state=...) is deprecated and will be removed in the next "
                f"release: pass the initial state as hx (the second argument), as torch.nn.LSTM")
            if hx is not None:
                raise TypeError("pass the initial state once: as hx or as the deprecated state=, not both")
            hx = state
        self._sync_cells()

        packed = isinstance(input, PackedSequence)
        unbatched = False
        if packed:
            if lengths is not None:
                raise ValueError("lengths= is for padded tensors: a PackedSequence carries its own lengths")
            x, packed_lengths = pad_packed_sequence(input, batch_first=True)  # original batch order
            lengths = packed_lengths
        elif not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__} expects a tensor or a PackedSequence input, got "
                            f"{type(input).__name__}")
        elif input.dim() == 2:
            if lengths is not None:
                raise ValueError("lengths= needs a batch: unbatched (T, D) input is one whole sequence")
            unbatched = True
            x = input.unsqueeze(0)
        elif input.dim() == 3:
            x = input if self.batch_first else input.transpose(0, 1)
        else:
            layout = "(batch, time, features)" if self.batch_first else "(time, batch, features)"
            raise ValueError(
                f"{type(self).__name__} expects input of rank 3 {layout}, or rank 2 (time, features) "
                f"unbatched, with features={self.input_size}; got rank {input.dim()} with shape "
                f"{tuple(input.shape)}"
            )
        self._check_input(x)
        B, T, _ = x.shape
        if lengths is not None:
            lengths = self._check_lengths(lengths, B, T, x.device)
        if unbatched and hx is not None:
            hx = self._batch_unbatched_state(hx)
        state_given = hx is not None
        state0 = self._check_state(hx, B, x)

        backend = "loop" if _dispatch is None else _dispatch.choose_backend(self, self.backend, x)
        if backend == "native":  # torch's fused op runs the whole stack itself
            out, final = _native.run_native(self, x, state0, lengths)
        else:
            out, final = self._forward_loop(x, state0, lengths, self._direction_scan(backend, state_given))

        if packed:
            out = _pack_like(out, input, packed_lengths)
        elif unbatched:
            out = out.squeeze(0)
            final = tuple(s.squeeze(1) for s in final)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        return (out, self._public_state(final)) if want_state else out

    def _batch_unbatched_state(self, hx):
        tensors = as_state_tuple(hx)
        for s in tensors:
            if s.dim() != 2:
                raise RuntimeError(
                    f"For unbatched 2-D input, the state should also be 2-D (num_layers * "
                    f"num_directions, size) but got a {s.dim()}-D tensor")
        batched = tuple(s.unsqueeze(1) for s in tensors)
        return batched[0] if isinstance(hx, Tensor) else batched

    def _direction_scan(self, backend: str, state_given: bool) -> DirectionScan:
        """What runs one direction of one layer over the whole sequence, for ``backend`` (``loop``
        or ``triton`` here): ``scan(cell, x, state, lengths, reverse) -> (outputs, final)`` with the
        contract of :func:`rnnkit.layers.scan.scan_cell`. ``state_given``: the caller passed an
        initial state (else ``state`` is zeros). Layers with another per-direction algorithm
        override this hook and keep the loop over layers and directions."""
        if backend == "triton":
            return _fused.fused_scan
        if (self.compile_loop == "scan" and torch.compiler.is_compiling()
                and not torch.compiler.is_exporting()):
            # under torch.compile: the time loop as one scan compiled on its own, outside the
            # caller's graph, so one compile serves every length (rnnkit/layers/compiled.py).
            # Imported here, while dynamo traces: it needs torch._dynamo, which eager use never loads.
            from rnnkit.layers import compiled

            return compiled.scan_outside_graph
        return scan_cell

    def _forward_loop(self, x: Tensor, state: State, lengths: Tensor | None,
                      scan: DirectionScan = scan_cell):
        """The one loop over layers and directions: each direction one ``scan`` (the time loop,
        a fused kernel or a parallel scan with the same contract), then merge, residual and
        dropout between layers. ``x`` is batch-first ``(B, T, D)``."""
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

        Stream without autograd. Under autograd every step's graph stays alive through the
        returned state, so memory grows without bound over a long stream (100k steps of a small
        LSTM grew to 2.2 GB); run inference under ``torch.no_grad()`` (or
        ``torch.inference_mode()``), and when training over a stream, ``detach()`` the state
        every k steps (truncated BPTT)::

            lstm = rnnkit.LSTM(8, 32)
            state = None
            with torch.no_grad():
                for x_t in stream:                   # x_t (B, 8)
                    y_t, state = lstm.step(x_t, state)
        """
        if self.bidirectional:
            raise RuntimeError("step() is not defined for a bidirectional layer: the reverse direction needs the whole sequence")
        if not isinstance(x_t, Tensor) or x_t.dim() != 2 or x_t.shape[-1] != self.input_size:
            got = tuple(x_t.shape) if isinstance(x_t, Tensor) else type(x_t).__name__
            raise ValueError(f"step() expects x_t of shape (batch, {self.input_size}), got {got}")
        self._sync_cells()
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
        if self.batch_first:
            parts.append("batch_first=True")
        parts.append(f"backend={self.backend!r}")
        return ", ".join(parts)


def _deprecated(message: str) -> None:
    """A DeprecationWarning from ``forward``, attributed to the line that called the module (past
    torch's ``Module.__call__`` frames)."""
    level, frame = 3, sys._getframe(2)  # 1: forward, 2: whoever called forward
    while frame is not None and frame.f_code.co_filename == _MODULE_FILE:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, DeprecationWarning, stacklevel=level)


def _pack_like(out: Tensor, packed: PackedSequence, lengths: Tensor) -> PackedSequence:
    """Padded batch-first ``out (B, T, O)`` in the original batch order -> a PackedSequence laid
    out as ``packed`` (same batch_sizes and sorting indices)."""
    order = packed.sorted_indices
    if order is not None:
        out = out.index_select(0, order)
        lengths = lengths.index_select(0, order.cpu())
    data = pack_padded_sequence(out, lengths, batch_first=True, enforce_sorted=True).data
    return PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)


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
