"""``Recurrent``'s time loop under ``torch.compile``: one compile serves every sequence length.

rnnkit's time loop (:func:`rnnkit.layers.scan.scan_cell`) is a Python ``for`` over the steps.
Traced into a compiled graph, dynamo unrolls it: the graph holds T copies of the step, and every
new length compiles again (tens of seconds each on a small CPU). While dynamo traces a layer's
``forward``, :meth:`rnnkit.Recurrent._direction_scan` hands each direction's time loop to
:func:`scan_outside_graph` instead, which is what happens then:

1. The loop leaves the caller's graph: ``scan_outside_graph`` is a ``torch._dynamo.disable``
   function, a deliberate graph break. The caller's graph pieces before and after it hold no
   loop, so with ``dynamic=True`` they compile once for all lengths.
2. Outside the graph, the direction runs as one ``torch._higher_order_ops.scan`` over the cell's
   step (:func:`_scan_plain`, :func:`_scan_masked`: the step once in the graph, the trip count a
   symbolic T), compiled by its own ``torch.compile(dynamic=True, fullgraph=True)``
   (:data:`COMPILE_OPTIONS`:
   Inductor with its C++ wrapper). Inductor lowers ``scan`` to a ``while_loop`` on CPU here only
   in a one-graph compile (``fullgraph=True`` lets its lowering read the loop index, which a
   default compile refuses with ``DataDependentOutputException``): the nested compile is what
   makes the default backend work. The scan differentiates (its backward is a scan too), so
   training runs compiled. Per-sequence hooks (``begin_sequence``: dropout masks), reversal
   within lengths and the trim to the longest sequence run eagerly around it, as in eager mode.
3. A cell the scan cannot compile (a graph break inside the cell, a step that writes module
   attributes, as ``VariationalDropout``'s masks in training, a step that changes its state's shape
   or dtype) runs rnnkit's eager loop instead, with one ``RuntimeWarning``; the layer still gives
   the eager results. Random ops inside a step (``Zoneout`` in training) draw from Inductor's
   generator: the same distribution, fresh per step (and the backward sees the forward's draws),
   not eager's numbers.

Why this one (benchmarks/compile.py, table in docs/export.md; torch 2.13 CPU, one thread, B=8,
D=32, H=64, T=256, a tanh cell; ratios from one run on a shared 2-core machine, 2026-12-05):

- This path: 0 recompiles at new lengths; forward 0.20x eager's time (0.49x ``torch.nn.RNN``'s),
  training (forward + backward) 0.81x eager's; first call 11 s (forward), 19 s (training).
- The same scan with Inductor's default Python wrapper: compiles once, but the wrapper's Python
  ``while`` costs more per step than the step's kernels: 0.86x eager forward, 1.29x training.
- Compiling only the step and looping over it outside the graph (the step's shapes do not depend
  on T, so it too compiles once): every step is then a compiled call with its guards and
  wrappers: 3.15x eager's time forward, 2.96x training.
- The scan inside the caller's graph (no graph break): Inductor refuses it unless the caller
  compiles with ``fullgraph=True`` or sets ``torch._dynamo.config.capture_scalar_outputs``,
  neither of which a library can set for its caller.
- Marking T dynamic and looping with a symbolic trip count: dynamo still unrolls a Python loop,
  one compile per length (24 s for T = 8, 35 s more for T = 12 in the same run).

Limits: the graph break means ``torch.compile(..., fullgraph=True)`` of a layer that takes this
path raises; set ``layer.compile_loop = "unroll"`` there (the loop traced into the caller's
graph, one compile per length, as before). ``torch.export`` always traces the unrolled loop.
Dynamo specializes sizes 0 and 1, so T = 1 (and B = 1) compile once more; grad mode on and off
are one compile each, and so are inputs with and without padding (``lengths`` shorter than T).
"""

from __future__ import annotations

import warnings
import weakref

import torch
import torch._dynamo  # imported while dynamo traces a layer (Recurrent._direction_scan), never in eager mode
from torch import Tensor, nn
from torch._higher_order_ops.scan import scan

from rnnkit.cells.base import State, as_state_tuple
from rnnkit.functional.masks import length_mask
from rnnkit.layers.scan import loop_body, run_direction

__all__ = ["COMPILE_OPTIONS", "scan_outside_graph"]

# how the time loop compiles: torch.compile's keywords besides dynamic=True and fullgraph=True.
# Change before the first compiled call (a compiled loop is kept for the process).
COMPILE_OPTIONS: dict = {"backend": "inductor", "options": {"cpp_wrapper": True}}

_compiled: dict = {}  # masked (bool) -> the compiled _scan_masked / _scan_plain
_eager_cells: weakref.WeakSet[nn.Module] = weakref.WeakSet()  # cells the scan could not compile


def _advance(cell: nn.Module, fast: bool, x_t: Tensor, s: State) -> State:
    return tuple(cell.step_projected(x_t, s)) if fast else as_state_tuple(cell(x_t, s))


def _scan_plain(cell: nn.Module, x: Tensor, state: State) -> tuple[Tensor, State]:
    """:func:`rnnkit.layers.scan.loop_body` as one ``scan``: ``cell`` over ``x (B, T, D)`` from
    ``state``, every step valid."""
    fast = hasattr(cell, "project_input") and hasattr(cell, "step_projected")
    xs = (cell.project_input(x) if fast else x).transpose(0, 1)  # (T, B, G): scan runs over dim 0

    def body(s, x_t):
        new = _advance(cell, fast, x_t, s)
        # scan's carry and outputs may alias neither its inputs nor each other
        return tuple(n.clone() for n in new), new[0].clone()

    final, ys = scan(body, tuple(state), xs)
    return ys.transpose(0, 1), tuple(final)


def _scan_masked(cell: nn.Module, x: Tensor, state: State, lengths: Tensor) -> tuple[Tensor, State]:
    """:func:`_scan_plain` with padding: steps ``t >= lengths[b]`` keep the state, output zero."""
    fast = hasattr(cell, "project_input") and hasattr(cell, "step_projected")
    xs = (cell.project_input(x) if fast else x).transpose(0, 1)
    ms = length_mask(lengths.to(x.device), x.shape[1]).transpose(0, 1).unsqueeze(-1)  # (T, B, 1)

    def body(s, inp):
        x_t, m_t = inp
        new = _advance(cell, fast, x_t, s)
        kept = tuple(torch.where(m_t, n, old) for n, old in zip(new, s))
        return kept, torch.where(m_t, new[0], torch.zeros_like(new[0]))

    final, ys = scan(body, tuple(state), (xs, ms))
    return ys.transpose(0, 1), tuple(final)


def _compiled_scan(masked: bool):
    """The compiled :func:`_scan_masked` or :func:`_scan_plain`, made at the first use. Two
    functions, not one with a branch: dynamo keeps at most ``recompile_limit`` (8) graphs per
    function, and each holds one per cell shape and grad mode."""
    fn = _compiled.get(masked)
    if fn is None:
        fn = _compiled[masked] = torch.compile(_scan_masked if masked else _scan_plain, dynamic=True,
                                               fullgraph=True, **COMPILE_OPTIONS)
    return fn


def _scan_outside_graph(cell: nn.Module, x: Tensor, state: State, lengths: Tensor | None = None,
                        reverse: bool = False) -> tuple[Tensor, State]:
    """:func:`rnnkit.layers.scan.scan_cell`'s contract, the loop run as one compiled scan."""

    def body(x: Tensor, run_lengths: Tensor | None) -> tuple[Tensor, State]:
        if cell not in _eager_cells:
            try:
                if run_lengths is None:
                    out, final = _compiled_scan(False)(cell, x, tuple(state))
                else:
                    out, final = _compiled_scan(True)(cell, x, tuple(state), run_lengths)
                return out, tuple(final)
            # any failure to compile: the eager loop runs (and raises again if the error is real)
            except Exception as err:  # noqa: BLE001
                _eager_cells.add(cell)
                first = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
                warnings.warn(
                    f"rnnkit: the time loop over {type(cell).__name__} could not be compiled as one "
                    f"scan ({type(err).__name__}: {first}); it runs eagerly, outside the compiled "
                    f"graph", RuntimeWarning, stacklevel=2)
        return loop_body(cell, x, state, run_lengths)

    return run_direction(cell, x, lengths, reverse, body)


# the deliberate graph break: dynamo calls this eagerly between the pieces of the caller's graph
scan_outside_graph = torch._dynamo.disable(
    _scan_outside_graph,
    reason="rnnkit: Recurrent's time loop runs as its own compiled scan, one compile for all lengths; "
           "under fullgraph=True set layer.compile_loop = 'unroll' (one compile per length)")
