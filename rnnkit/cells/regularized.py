"""Regularising cell wrappers: variational dropout, zoneout and weight-drop, for any cell.

Each wrapper takes a cell (rnnkit's, a LayerNorm cell, a user's, or another wrapper) and is itself
a cell, so it goes wherever a cell goes: ``Recurrent`` with stacking, bidirectional, lengths and
``step()``; ``make_rnn``/the models through a factory::

    layer = rnnkit.Recurrent(lambda d: WeightDrop(VariationalDropout(LSTMCell(d, 256), 0.25, 0.25), 0.5),
                             input_size=64, num_layers=2)

All three are off at evaluation time (``module.eval()``): dropout and weight-drop become the
identity, zoneout its expectation. The scaling is "inverted" (kept values divided by 1 - p in
training), so the eval-time network is the expectation of the training-time one for dropout and
weight-drop. Wrapped cells never go to torch's fused op (it only takes the exact built-in types).

Randomness and its scope (B batch, D input features, S_k size of state tensor k, h = state[0]):

- :class:`VariationalDropout` (Gal & Ghahramani 2016): masks ``m_x (B, D)`` and ``m_h (B, S_0)``
  drawn once per sequence and reused at every step:
  ``h_t = cell(x_t * m_x, h_{t-1} * m_h inside the recurrent products)``.
- :class:`Zoneout` (Krueger et al. 2017): per step and unit, ``d ~ Bernoulli(p_k)``,
  ``s_t = d * s_{t-1} + (1 - d) * s~_t`` for each state tensor k (LSTM: h and c, each its rate);
  at evaluation ``s_t = p_k * s_{t-1} + (1 - p_k) * s~_t``.
- :class:`WeightDrop` (Wan et al. 2013 DropConnect, as in AWD-LSTM, Merity et al. 2018): one
  mask ``M`` of the shape of ``W_hh`` per forward pass, shared by the batch and all steps:
  ``W~_hh = W_hh * M / (1 - p)``.

"Once per sequence" means per call of the cell's ``begin_sequence`` hook, which the layer calls
at every ``forward`` and at the first ``step()`` of a stream (``state=None``); later ``step()``
calls reuse the masks, so a stream keeps its masks. Masks are also drawn on demand when a cell is
used on its own or with a new batch size. With truncated BPTT each chunk is one ``forward``, so
masks are redrawn per chunk (per batch in AWD-LSTM terms).

Recurrent dropout and cells that carry h itself: Gal & Ghahramani drop h only where it enters a
matrix product. For the Elman RNN and the LSTM (whose memory is c) that is all of its uses, so the
wrapper hands the cell ``h * m_h``. A GRU also carries ``z * h_{t-1}`` into h_t; dropping that
term with a mask fixed over time would scale kept units by 1/(1-p) at every step. So for
rnnkit's ``GRUCell`` and any cell with ``step_projected_rec(gi, state, h_rec)`` (e.g.
``LayerNormGRUCell``) the product reads ``h * m_h`` while the interpolation reads h.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.cells.base import State, as_state_tuple, begin_sequence, cell_state_sizes
from rnnkit.cells.builtin import GRUCell

__all__ = ["CellWrapper", "VariationalDropout", "WeightDrop", "Zoneout", "check_probability"]


def check_probability(p: float, name: str) -> float:
    """``p`` as a float in [0, 1); a clear error otherwise (1 would drop everything)."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= float(p) < 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1), got {p!r}")
    return float(p)


def _has_fast_path(cell: nn.Module) -> bool:
    return hasattr(cell, "project_input") and hasattr(cell, "step_projected")


def _project(cell: nn.Module, x: Tensor) -> Tensor:
    return cell.project_input(x) if _has_fast_path(cell) else x


def _step(cell: nn.Module, gi: Tensor, state: State) -> State:
    """One step of ``cell`` from what :func:`_project` gave (the raw x_t for protocol-only cells)."""
    if _has_fast_path(cell):
        return as_state_tuple(cell.step_projected(gi, state))
    return as_state_tuple(cell(gi, state))


def _gru_step_rec(cell: GRUCell, gi: Tensor, h: Tensor, h_rec: Tensor) -> Tensor:
    """:func:`rnnkit.functional.gru_step` with the recurrent product reading ``h_rec``::

        [r_h, z_h, n_h] = h_rec W_hh^T + b_hh;  r, z, n as gru_step;  h_t = (1 - z) * n + z * h
    """
    gh = F.linear(h_rec, cell.weight_hh, cell.bias_hh)
    r_i, z_i, n_i = gi.chunk(3, dim=-1)
    r_h, z_h, n_h = gh.chunk(3, dim=-1)
    r = torch.sigmoid(r_i + r_h)
    z = torch.sigmoid(z_i + z_h)
    n = torch.tanh(n_i + r * n_h)
    return n + z * (h - n)


def _step_rec(cell: nn.Module, gi: Tensor, state: State, h_rec: Tensor) -> State:
    """One step whose recurrent products read ``h_rec`` while anything carrying h reads state[0]."""
    rec = getattr(cell, "step_projected_rec", None)
    if rec is not None:
        return as_state_tuple(rec(gi, state, h_rec))
    if isinstance(cell, GRUCell):
        return (_gru_step_rec(cell, gi, state[0], h_rec),)
    return _step(cell, gi, (h_rec, *state[1:]))


class CellWrapper(nn.Module):
    """A cell around a cell: forwards the cell protocol; subclasses change one thing.

    Sizes, ``initial_state`` and parameters are the inner cell's (the wrapper adds none), so a
    wrapped cell's state_dict keys are the inner keys under ``cell.``. Subclasses draw random
    masks with :meth:`sample_keep` and :meth:`sample_bernoulli`, which a test may override.
    """

    #: Attributes holding the current sequence's randomness: not copied or pickled.
    _transient: tuple[str, ...] = ()

    def __init__(self, cell: nn.Module):
        super().__init__()
        for attr in ("input_size", "hidden_size"):
            if not hasattr(cell, attr):
                raise TypeError(f"{type(self).__name__} wraps a cell with `input_size` and `hidden_size`; "
                                f"{type(cell).__name__} has no `{attr}`")
        self.cell = cell
        self.input_size = int(cell.input_size)
        self.hidden_size = int(cell.hidden_size)

    def __getstate__(self):
        # deepcopy (a layer copying a cell) and pickling leave the current masks behind; a
        # dropped weight is part of an autograd graph and could not be copied anyway.
        state = super().__getstate__()
        for key in self._transient:
            state[key] = None
        return state

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return cell_state_sizes(self.cell)

    def initial_state(self, batch_size: int, device=None, dtype=None) -> State:
        init = getattr(self.cell, "initial_state", None)
        if init is not None:
            return as_state_tuple(init(batch_size, device, dtype))
        return tuple(torch.zeros(batch_size, s, device=device, dtype=dtype) for s in self.state_sizes)

    def reset_parameters(self) -> None:
        """Re-initialise the inner cell (used when a layer copies a cell for another layer)."""
        if hasattr(self.cell, "reset_parameters"):
            self.cell.reset_parameters()
        else:
            for m in self.cell.modules():
                if m is not self.cell and hasattr(m, "reset_parameters"):
                    m.reset_parameters()

    # -- the cell protocol, forwarded
    def begin_sequence(self, batch_size: int, device: torch.device, dtype: torch.dtype) -> None:
        """Draw this wrapper's per-sequence randomness, then the inner cell's."""
        self._begin(batch_size, device, dtype)
        begin_sequence(self.cell, batch_size, device, dtype)

    def _begin(self, batch_size: int, device: torch.device, dtype: torch.dtype) -> None:
        pass

    def project_input(self, x: Tensor) -> Tensor:
        return _project(self.cell, x)

    def step_projected(self, gi: Tensor, state: State) -> State:
        return _step(self.cell, gi, state)

    def step_projected_rec(self, gi: Tensor, state: State, h_rec: Tensor) -> State:
        return _step_rec(self.cell, gi, state, h_rec)

    def forward(self, x: Tensor, state: Tensor | Sequence[Tensor] | None = None):
        """One step, as :meth:`rnnkit.cells.RecurrentCell.forward`: x ``(B, D)`` -> new state."""
        if x.dim() != 2 or x.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__} expects x of shape (batch, {self.input_size}), "
                             f"got {tuple(x.shape)}")
        state_t = self.initial_state(x.shape[0], x.device, x.dtype) if state is None else as_state_tuple(state)
        new = self.step_projected(self.project_input(x), state_t)
        return new[0] if len(new) == 1 else new

    # -- randomness (override in tests to pin masks)
    def sample_keep(self, shape: tuple[int, ...], p: float, device, dtype) -> Tensor:
        """Inverted-dropout mask: 0 with probability p, else 1 / (1 - p)."""
        return torch.empty(shape, device=device, dtype=dtype).bernoulli_(1.0 - p).div_(1.0 - p)

    def sample_bernoulli(self, shape: tuple[int, ...], p: float, device) -> Tensor:
        """Boolean mask, True with probability p."""
        return torch.rand(shape, device=device) < p


class VariationalDropout(CellWrapper):
    """Dropout with one mask per sequence on the inputs and on the recurrent h (Gal & Ghahramani).

    ::

        x~_t = x_t * m_x,   m_x (B, D)    same for all t of a sequence
        h~   = h_{t-1} * m_h, m_h (B, S_0) same for all t; read by the recurrent products only
        s_t  = cell(x~_t, s_{t-1} with h~ in its products)

    Each mask entry is 0 with probability p, else 1/(1-p). Identity in eval mode. ``p_in`` on a
    stacked layer's upper cells drops the layer below's output with a mask fixed over time
    ("locked" dropout), unlike ``Recurrent(dropout=...)``, which draws a new mask per step.
    """

    _transient = ("_mask_in", "_mask_h")

    def __init__(self, cell: nn.Module, p_in: float = 0.0, p_h: float = 0.0):
        super().__init__(cell)
        self.p_in = check_probability(p_in, "p_in")
        self.p_h = check_probability(p_h, "p_h")
        self._mask_in: Tensor | None = None
        self._mask_h: Tensor | None = None

    def _begin(self, batch_size, device, dtype) -> None:
        self._mask_in = self._mask_h = None
        if self.training:
            self._masks(batch_size, device, dtype)

    def _masks(self, batch: int, device, dtype) -> tuple[Tensor | None, Tensor | None]:
        """The sequence's masks, drawn when absent or made for another batch size/device."""
        def fresh(mask, p, size):
            if not p:
                return None
            if mask is None or mask.shape[0] != batch or mask.device != device or mask.dtype != dtype:
                return self.sample_keep((batch, size), p, device, dtype)
            return mask

        self._mask_in = fresh(self._mask_in, self.p_in, self.input_size)
        self._mask_h = fresh(self._mask_h, self.p_h, self.state_sizes[0])
        return self._mask_in, self._mask_h

    def project_input(self, x: Tensor) -> Tensor:
        if self.training and self.p_in:
            m, _ = self._masks(x.shape[0], x.device, x.dtype)
            x = x * m.view(m.shape[0], *([1] * (x.dim() - 2)), m.shape[1])  # (B, [T,] D)
        return _project(self.cell, x)

    def step_projected(self, gi: Tensor, state: State) -> State:
        if not (self.training and self.p_h):
            return _step(self.cell, gi, state)
        _, m = self._masks(state[0].shape[0], state[0].device, state[0].dtype)
        return _step_rec(self.cell, gi, state, state[0] * m)

    def step_projected_rec(self, gi: Tensor, state: State, h_rec: Tensor) -> State:
        if self.training and self.p_h:  # an outer wrapper dropped h already: drop that again
            _, m = self._masks(state[0].shape[0], state[0].device, state[0].dtype)
            h_rec = h_rec * m
        return _step_rec(self.cell, gi, state, h_rec)

    def extra_repr(self) -> str:
        return f"p_in={self.p_in}, p_h={self.p_h}"


class Zoneout(CellWrapper):
    """Zoneout (Krueger et al. 2017): each unit of each state tensor keeps its previous value at random.

    ::

        training:  d ~ Bernoulli(p_k) per step and unit,  s_t = d * s_{t-1} + (1 - d) * s~_t
        eval:      s_t = p_k * s_{t-1} + (1 - p_k) * s~_t           (the expectation)

    with ``s~_t`` the inner cell's new state tensor k. ``p`` is one rate for all state tensors or
    one per tensor: for an LSTM ``(p_h, p_c)``; the paper's character-level setting is (0.05, 0.5).
    Unlike dropout, this is not the identity in eval mode unless p is 0.
    """

    def __init__(self, cell: nn.Module, p: float | Sequence[float] = 0.0):
        super().__init__(cell)
        n = len(self.state_sizes)
        rates = list(p) if isinstance(p, (list, tuple)) else [p] * n
        if len(rates) != n:
            raise ValueError(f"Zoneout: p must be one rate or {n} (one per state tensor), got {p!r}")
        self.p = tuple(check_probability(r, f"zoneout rate p[{k}]") for k, r in enumerate(rates))

    def _zone(self, old: State, new: State) -> State:
        out = []
        for s_old, s_new, p in zip(old, new, self.p):
            if not p:
                out.append(s_new)
            elif self.training:
                out.append(torch.where(self.sample_bernoulli(s_new.shape, p, s_new.device), s_old, s_new))
            else:
                out.append(p * s_old + (1.0 - p) * s_new)
        return tuple(out)

    def step_projected(self, gi: Tensor, state: State) -> State:
        return self._zone(state, _step(self.cell, gi, state))

    def step_projected_rec(self, gi: Tensor, state: State, h_rec: Tensor) -> State:
        return self._zone(state, _step_rec(self.cell, gi, state, h_rec))

    def extra_repr(self) -> str:
        return f"p={self.p if len(set(self.p)) > 1 else self.p[0]}"


class WeightDrop(CellWrapper):
    """DropConnect on recurrent weights, one mask per forward pass (AWD-LSTM's weight-drop).

    ::

        W~ = W * M / (1 - p),  M ~ Bernoulli(1 - p) of W's shape, drawn at begin_sequence
        s_t = cell(x_t, s_{t-1}) with W~ in place of W for every t and every row of the batch

    ``weights`` names the inner cell's parameters to drop (default ``("weight_hh",)``; a dotted
    name reaches into a wrapped cell, and a plain name is looked up through nested wrappers).
    The parameter stays where it is (same state_dict key, same optimizer entry, decayed as a
    matrix): during each step the dropped tensor shadows it. W~ is formed once per scan in
    ``project_input``, so its cost is one product per ``forward`` (per step only in ``step()``).
    Identity in eval mode.
    """

    _transient = ("_masks", "_dropped", "_versions")

    def __init__(self, cell: nn.Module, p: float = 0.5, weights: Sequence[str] = ("weight_hh",)):
        super().__init__(cell)
        self.p = check_probability(p, "weight-drop p")
        if isinstance(weights, str):
            weights = (weights,)
        self.weights = tuple(weights)
        if not self.weights:
            raise ValueError("WeightDrop: name at least one weight to drop")
        self._targets = [self._resolve(name) for name in self.weights]
        self._masks: list[Tensor] | None = None
        self._dropped: list[Tensor] | None = None
        self._versions: list[int] | None = None  # of the parameters W~ was formed from

    def _resolve(self, name: str) -> tuple[nn.Module, str]:
        """(module owning the parameter, attribute name) for ``name`` inside the inner cell."""
        owner: nn.Module = self.cell
        *path, leaf = name.split(".")
        for part in path:
            owner = getattr(owner, part)
        while leaf not in owner._parameters and isinstance(owner, CellWrapper) and not path:
            owner = owner.cell
        if not isinstance(owner._parameters.get(leaf), nn.Parameter):
            have = [n for n, _ in self.cell.named_parameters()]
            raise ValueError(f"WeightDrop: the cell has no parameter {name!r}; it has {have}")
        return owner, leaf

    def _params(self) -> list[Tensor]:
        return [owner._parameters[leaf] for owner, leaf in self._targets]

    def _begin(self, batch_size, device, dtype) -> None:
        self._masks = self._dropped = self._versions = None

    def _dropped_weights(self) -> list[Tensor] | None:
        if not (self.training and self.p):
            return None
        params = self._params()
        if self._masks is None or any(m.shape != w.shape or m.device != w.device or m.dtype != w.dtype
                                      for m, w in zip(self._masks, params)):
            self._masks = [self.sample_keep(tuple(w.shape), self.p, w.device, w.dtype) for w in params]
        self._versions = [w._version for w in params]
        return [w * m for w, m in zip(params, self._masks)]

    @contextlib.contextmanager
    def _shadowed(self, tensors: list[Tensor] | None) -> Iterator[None]:
        """Put ``tensors`` in place of the parameters for the duration of the block.

        An instance attribute wins over nn.Module's ``__getattr__`` lookup of ``_parameters``,
        so the cell reads the dropped weight while the parameter itself stays registered.
        """
        if tensors is None:
            yield
            return
        for (owner, leaf), t in zip(self._targets, tensors):
            owner.__dict__[leaf] = t
        try:
            yield
        finally:
            for owner, leaf in self._targets:
                owner.__dict__.pop(leaf, None)

    def project_input(self, x: Tensor) -> Tensor:
        self._dropped = self._dropped_weights()  # once per scan: every step of it shares W~
        with self._shadowed(self._dropped):
            return _project(self.cell, x)

    def _current(self) -> list[Tensor] | None:
        if not (self.training and self.p):
            return None
        # Formed again if missing or if an optimizer step changed the weights in place since.
        if self._dropped is None or self._versions != [w._version for w in self._params()]:
            self._dropped = self._dropped_weights()
        return self._dropped

    def step_projected(self, gi: Tensor, state: State) -> State:
        with self._shadowed(self._current()):
            return _step(self.cell, gi, state)

    def step_projected_rec(self, gi: Tensor, state: State, h_rec: Tensor) -> State:
        with self._shadowed(self._current()):
            return _step_rec(self.cell, gi, state, h_rec)

    def extra_repr(self) -> str:
        return f"p={self.p}, weights={self.weights}"
