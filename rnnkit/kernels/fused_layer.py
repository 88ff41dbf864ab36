"""rnnkit's fused Triton Elman RNN, LSTM and GRU as a layer backend (``backend="triton"`` of recurrent layers).

``fused_scan`` is the per-direction scan of a recurrent layer (the contract of rnnkit's time loop
over one cell) for a plain :class:`rnnkit.RNNCell` (tanh or relu),
:class:`rnnkit.LSTMCell` or :class:`rnnkit.GRUCell`, bare or wrapped in
:class:`rnnkit.cells.regularized.VariationalDropout`, in
:class:`rnnkit.cells.regularized.Zoneout`, or in both (either nesting: the loop computes the same
for both). The wrappers' masks are drawn by the wrappers themselves, at the same point of the
random stream as the loop draws them (:func:`zoneout_weights` says how for zoneout's per-step
draws), and the kernels apply them: the recurrent dropout mask inside the product, the zoneout
keep-weights d in ``s_t = d s_{t-1} + (1 - d) s~_t``. x ``(B, T, D)`` and the cell's state tuple ->
outputs ``(B, T, H)`` (zero at padded steps) and the state after each sequence's last valid step;
``reverse=True`` runs each sequence backwards within its length. The layer's stacking,
directions, merge, residual and dropout stay in the layer's own loop over layers and directions;
only the per-direction scan changes.

LayerNorm cells (:class:`rnnkit.cells.LayerNormLSTMCell`, :class:`rnnkit.cells.LayerNormGRUCell`,
``bias=False`` included) run the whole-row LayerNorm kernels (rnnkit/kernels/lstm/ln_op.py,
rnnkit/kernels/gru/ln_op.py): the input part ``gi = cell.project_input(x)`` (its own LayerNorm
over each step) is computed outside the recurrence, the kernels do the rest. VariationalDropout
around them is fused (the product reads ``h * m_h``); Zoneout around them is refused (not fused:
``backend="loop"`` runs it). ``auto`` never takes them (rnnkit/kernels/dispatch.py).

Head-wise cells (:class:`rnnkit.cells.HeadwiseLSTMCell`, :class:`rnnkit.cells.HeadwiseGRUCell`,
block-diagonal W_hh) run the head-blocked kernels of rnnkit/kernels/lstm/headwise.py and
rnnkit/kernels/gru/headwise.py (one program per head, no exchange between heads), bare only:
wrappers around them are refused (``backend="loop"`` runs them), and ``auto`` never takes them
(no GPU timing yet: they are not in dispatch.AUTO_TRITON_DTYPES).

``unsupported_reason`` says why the fused path cannot run a layer on an input (None when it can).
Nothing here imports triton at module import: a machine without it keeps every other backend.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.cells.base import begin_sequence
from rnnkit.cells.builtin import GRUCell, LSTMCell, RNNCell
from rnnkit.cells.headwise import HeadwiseGRUCell, HeadwiseLSTMCell
from rnnkit.cells.layernorm import LayerNormGRUCell, LayerNormLSTMCell
from rnnkit.cells.regularized import VariationalDropout, Zoneout
from rnnkit.functional.masks import reverse_padded

FUSED_DTYPES = (torch.float16, torch.bfloat16, torch.float32)
LN_CELLS = (LayerNormLSTMCell, LayerNormGRUCell)  # the whole-row LayerNorm kernels
HEADWISE_CELLS = (HeadwiseLSTMCell, HeadwiseGRUCell)  # the head-blocked kernels, bare cells only
FUSED_CELLS = (RNNCell, LSTMCell, GRUCell) + HEADWISE_CELLS + LN_CELLS


def triton_importable() -> bool:
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def triton_unavailable(x: Tensor) -> str | None:
    """Why no Triton kernel can run on ``x``'s device here (triton missing, or not a CUDA tensor
    and the interpreter off); None when one can."""
    if not triton_importable():
        return "triton is not installed (pip install triton)"
    from rnnkit.kernels.scan.triton_op import interpreter_on
    if x.device.type != "cuda" and not interpreter_on():
        return (f"device {x.device.type}: 'triton' needs CUDA tensors (or TRITON_INTERPRET=1 set "
                "before triton is imported, for tests)")
    return None


def unwrap(cell) -> tuple | None:
    """``(base, variational, zoneout)`` when ``cell`` is a plain RNNCell/LSTMCell/GRUCell (or a
    LayerNorm LSTM/GRU cell) ``base``
    inside at most one VariationalDropout and at most one Zoneout, in either order (None where a
    wrapper is absent), else None. Both nestings compute the same step in rnnkit's loop: the
    product reads ``h * m_h``, zoneout mixes the unmasked previous state with the cell's new one."""
    found = {VariationalDropout: None, Zoneout: None}
    while type(cell) in found:
        if found[type(cell)] is not None:  # the same wrapper twice: masks the kernels cannot apply
            return None
        found[type(cell)] = cell
        cell = cell.cell
    if type(cell) not in FUSED_CELLS:
        return None
    return cell, found[VariationalDropout], found[Zoneout]


def base_cell(cell):
    """The plain RNNCell/LSTMCell/GRUCell the fused kernels compute for ``cell`` (itself, or the one
    inside VariationalDropout and/or Zoneout), else None."""
    parts = unwrap(cell)
    return parts[0] if parts is not None else None


def chain(cell) -> list:
    """``cell`` and every cell it wraps, outermost first."""
    out = [cell]
    while isinstance(getattr(out[-1], "cell", None), torch.nn.Module):
        out.append(out[-1].cell)
    return out


def cell_kind(layer) -> type | None:
    """RNNCell, LSTMCell, GRUCell or a LayerNorm LSTM/GRU cell when every cell of the layer is (or
    wraps, for variational dropout and zoneout) exactly that type, else None."""
    kinds = {type(base_cell(c)) if base_cell(c) is not None else None for c in layer.cells}
    return kinds.pop() if len(kinds) == 1 and None not in kinds else None


def plain(layer) -> bool:
    """Every cell is a bare RNNCell/LSTMCell/GRUCell (no wrapper)."""
    return all(type(c) in FUSED_CELLS for c in layer.cells)


def unsupported_reason(layer, x: Tensor) -> str | None:
    """Why the fused Triton kernels cannot compute ``layer`` on ``x`` (B, T, D); None when they can."""
    cells = list(layer.cells)
    kind = cell_kind(layer)
    if kind is None:
        names = sorted({type(c).__name__ for c in cells})
        return (f"cell types {', '.join(names)}: the fused Triton kernels are plain Elman RNN, LSTM or GRU "
                "layers (or LayerNorm LSTM/GRU), bare or in VariationalDropout and/or Zoneout (each at most once), "
                "or bare head-wise LSTM/GRU layers")
    bases = [base_cell(c) for c in cells]
    if any(getattr(b, "proj_size", 0) for b in bases):
        return "proj_size (LSTM projections are not fused)"
    if any(m._forward_hooks or m._forward_pre_hooks for c in cells for m in chain(c)):
        return "a cell has forward hooks"
    if x.dtype not in FUSED_DTYPES:
        return f"dtype {x.dtype} (the fused kernels take fp16, bf16 or fp32)"
    why_not = triton_unavailable(x)
    if why_not is not None:
        return why_not
    training = torch.is_grad_enabled() and (x.requires_grad or any(p.requires_grad for p in layer.parameters()))
    if kind in HEADWISE_CELLS:
        if any(b is not c for c, b in zip(cells, bases)):
            return f"dropout/zoneout wrappers around {kind.__name__} are not fused (backend='loop' runs them)"
        from rnnkit.kernels.headwise_common import choose_headwise
        name = "LSTM" if kind is HeadwiseLSTMCell else "GRU"
        for b in bases:
            try:
                choose_headwise(x.shape[0], b.hidden_size, b.heads, x.dtype, x.device, training=training,
                                gates=b.num_gates, cell=name)
            except ValueError as err:
                return str(err)
        return None
    if kind in LN_CELLS and any(unwrap(c)[2] is not None for c in cells):
        return "zoneout around a LayerNorm cell is not fused (backend='loop' runs it)"
    if kind is LayerNormLSTMCell:
        from rnnkit.kernels.lstm.ln_op import choose_ln_layout as choose
    elif kind is LayerNormGRUCell:
        from rnnkit.kernels.gru.ln_op import choose_ln_gru_layout as choose
    elif kind is LSTMCell:
        from rnnkit.kernels.lstm.op import choose_kernel as choose
    elif kind is GRUCell:
        from rnnkit.kernels.gru.op import choose_layout as choose
    else:
        from rnnkit.kernels.elman.op import choose_layout as choose
    for c, b in zip(cells, bases):
        # zoneout is fused in the split layout only (the rows forwards do not apply it)
        layout = {"kernel": "split"} if kind not in (RNNCell,) + LN_CELLS and unwrap(c)[2] is not None else {}
        try:
            choose(x.shape[0], b.hidden_size, x.dtype, x.device, training=training, **layout)
        except ValueError as err:
            return str(err)
    return None


def zoneout_weights(zoneout: Zoneout, batch: int, steps: int, T: int, device) -> list[Tensor | None]:
    """The keep-weights d of each state tensor k of ``zoneout``'s cell as the kernels take them:
    ``(B, T, S_k)``, None where p_k = 0 (that tensor is not zoned).

    Eval: the rate p_k at every step and unit (the expectation; a broadcast view). Training: 0/1
    draws of ``zoneout.sample_bernoulli``, in the loop's order, so that the same seed gives the
    same masks. rnnkit's loop zones once per step and at each step draws one ``(B, S_k)`` mask per
    zoned tensor in state order (LSTM: h, then c), for the ``steps`` steps it runs (``max(lengths)``:
    it skips the steps past the longest sequence, where every sequence is padded and the kernels
    read no weight). Nothing else in the loop draws between two steps, so these draws up front
    equal the loop's interleaved ones. One draw of all steps at once would not (a generator's
    stream is not split that way, CUDA's Philox offsets least of all), so this is ``steps`` small
    draws, as in the loop."""
    sizes = zoneout.state_sizes
    if not zoneout.training:
        return [torch.full((1, 1, 1), p, device=device).expand(batch, T, s) if p else None
                for p, s in zip(zoneout.p, sizes)]
    draws: list[list[Tensor]] = [[] for _ in sizes]
    for _t in range(steps):
        for k, (p, s) in enumerate(zip(zoneout.p, sizes)):
            if p:
                draws[k].append(zoneout.sample_bernoulli((batch, s), p, device))
    out: list[Tensor | None] = []
    for p, s, d in zip(zoneout.p, sizes, draws):
        if not p:
            out.append(None)
            continue
        w = torch.zeros(batch, T, s, device=device)
        w[:, :steps] = torch.stack(d, dim=1).float()
        out.append(w)
    return out


def fused_scan(cell, x: Tensor, state: tuple[Tensor, ...], lengths: Tensor | None = None,
               reverse: bool = False) -> tuple[Tensor, tuple[Tensor, ...]]:
    """The per-direction scan of a layer for a plain RNNCell, LSTMCell or GRUCell, bare or in
    VariationalDropout and/or Zoneout, or a LayerNorm LSTM/GRU cell (bare or in VariationalDropout),
    on the fused kernels."""
    if reverse:
        x = reverse_padded(x, lengths)
    base, variational, zoneout = unwrap(cell)
    B, T = x.shape[0], x.shape[1]
    hmask = None
    zone = (None, None)  # keep-weights of h (and c)
    if base is not cell:  # the wrappers' masks, drawn where the loop draws them
        begin_sequence(cell, B, x.device, x.dtype)  # VariationalDropout draws its masks here
        if variational is not None and variational.training:
            m_in, hmask = variational._masks(B, x.device, x.dtype)
            if m_in is not None:
                x = x * m_in.unsqueeze(1)
        if zoneout is not None:  # then the loop's per-step draws, over the steps run_direction runs
            steps = T if lengths is None or torch.compiler.is_compiling() else int(lengths.max())
            zone = zoneout_weights(zoneout, B, steps, T, x.device)
    if type(base) in LN_CELLS:
        y, final = _layer_norm_scan(base, x, state, lengths, hmask)
    elif type(base) is HeadwiseLSTMCell:  # bare only (unsupported_reason refuses wrappers)
        from rnnkit.kernels.lstm.headwise import headwise_lstm_forward
        h0, c0 = state
        y, final = headwise_lstm_forward(x, base.weight_ih, base.weight_hh, base.bias_ih, base.bias_hh,
                                         h0.to(x.dtype), c0.to(x.dtype), lengths)
    elif type(base) is HeadwiseGRUCell:  # bare only, as the LSTM
        from rnnkit.kernels.gru.headwise import headwise_gru_forward
        y, h = headwise_gru_forward(x, base.weight_ih, base.weight_hh, base.bias_ih, base.bias_hh,
                                    state[0].to(x.dtype), lengths)
        final = (h,)
    elif type(base) is LSTMCell:
        from rnnkit.kernels.lstm.op import lstm_forward
        h0, c0 = state
        y, final = lstm_forward(x, base.weight_ih, base.weight_hh, base.bias_ih, base.bias_hh,
                                h0.to(x.dtype), c0.to(x.dtype), lengths, hmask=hmask, zone=tuple(zone))
    elif type(base) is GRUCell:
        from rnnkit.kernels.gru.op import gru_forward
        y, h = gru_forward(x, base.weight_ih, base.weight_hh, base.bias_ih, base.bias_hh,
                           state[0].to(x.dtype), lengths, hmask=hmask, zone=zone[0])
        final = (h,)
    else:
        from rnnkit.kernels.elman.op import elman_forward
        y, h = elman_forward(x, base.weight_ih, base.weight_hh, base.bias_ih, base.bias_hh,
                             state[0].to(x.dtype), lengths, hmask=hmask, nonlinearity=base.nonlinearity,
                             zone=zone[0])
        final = (h,)
    if reverse:
        y = reverse_padded(y, lengths)
    return y, final


def _layer_norm_scan(base, x: Tensor, state: tuple[Tensor, ...], lengths: Tensor | None,
                     hmask: Tensor | None) -> tuple[Tensor, tuple[Tensor, ...]]:
    """A LayerNorm cell's direction: ``gi = base.project_input(x)`` (x already dropped by the
    wrapper's input mask), then the whole-row LayerNorm kernels; ``hmask`` as the loop's ``h_rec``."""
    gi = base.project_input(x)
    if type(base) is LayerNormLSTMCell:
        from rnnkit.kernels.lstm.ln_op import ln_lstm_sequence_forward
        h0, c0 = state
        y, final = ln_lstm_sequence_forward(gi, base.weight_hh, base.gamma_hh, base.gamma_c, base.beta_c,
                                            h0.to(x.dtype), c0.to(x.dtype), lengths, base.eps, hmask)
        return y, final
    from rnnkit.kernels.gru.ln_op import ln_gru_sequence_forward
    y, h = ln_gru_sequence_forward(gi, base.weight_hh, base.gamma_hh, base.bias_hh, state[0].to(x.dtype),
                                   lengths, base.eps, hmask)
    return y, (h,)
