"""``RNN``, ``LSTM`` and ``GRU``: torch's ``torch.nn.RNN/LSTM/GRU``, with rnnkit's extras as keywords.

Torch code runs unchanged with the class swapped: the same constructor arguments and defaults
(``batch_first=False``, ``nonlinearity``, ``proj_size``, ``device``, ``dtype`` ...), the same call
``output, h_n = rnn(input, hx=None)`` (``output, (h_n, c_n)`` for the LSTM) with ``(T, B, D)``,
``(B, T, D)``, unbatched ``(T, D)`` or PackedSequence input; the same parameters
(``weight_ih_l0``, ``weight_hh_l0_reverse``, ``bias_ih_l0``, ``weight_hr_l0`` ...) in
``named_parameters()``, ``state_dict()`` and as attributes, ``all_weights``,
``flatten_parameters()`` (a no-op) and torch's initialisation (the same numbers for the same
seed). A state_dict moves between ``torch.nn.LSTM`` and ``rnnkit.LSTM`` as is, both ways; old
rnnkit checkpoints with ``cells.{i}.{name}`` keys still load.

rnnkit's extras are keywords: ``merge=`` (how directions combine), ``residual=``, ``backend=``
on the constructor, ``lengths=`` on the call (padded batches without packing), and
:meth:`~rnnkit.layers.Recurrent.step` for streaming.

Dynamic quantization: ``torch.ao.quantization.quantize_dynamic`` swaps submodules by their exact
type, so it leaves an rnnkit layer in float. :meth:`LSTM.to_torch` gives the equivalent
``torch.nn`` module with a copy of the weights, and :func:`to_torch` does that for every rnnkit
layer in a model; ``quantize_dynamic`` quantizes the result::

    model = MyTorchProgram(rnn_cls=rnnkit.LSTM)          # self.rnn = rnn_cls(...); out, _ = self.rnn(x)
    q = torch.ao.quantization.quantize_dynamic(rnnkit.layers.to_torch(model),
                                               {torch.nn.LSTM, torch.nn.Linear}, dtype=torch.qint8)

The quantized layers take torch's call only (pack instead of ``lengths=``; no ``step()``), and
torch quantizes ``LSTM`` and ``GRU`` layers dynamically, not ``RNN``. Like every
``quantize_dynamic`` call, it swaps the modules inside a model, not the model itself.
"""

from __future__ import annotations

import math
import numbers
import warnings

import torch
from torch import nn

from rnnkit.cells.builtin import GRUCell, LSTMCell, RNNCell
from rnnkit.layers.recurrent import Recurrent

__all__ = ["GRU", "LSTM", "RNN", "to_torch"]


class _Builtin(Recurrent):
    """The layers over torch's three cells; they own their parameters under torch's names."""

    _torch_parameters = True
    _torch_class: type[nn.RNNBase]

    def __init__(self, cell_cls, cell_kwargs: dict, input_size: int, hidden_size: int,
                 num_layers: int, bias: bool, batch_first: bool, dropout: float,
                 bidirectional: bool, proj_size: int, device, dtype, merge: str, residual: bool,
                 backend: str):
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if isinstance(proj_size, bool) or not isinstance(proj_size, numbers.Integral) or proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if isinstance(dropout, (int, float)) and not isinstance(dropout, bool) \
                and dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}", UserWarning, stacklevel=3)

        def factory(d: int):
            return cell_cls(d, hidden_size, bias=bias, device=device, dtype=dtype, **cell_kwargs)

        super().__init__(factory, input_size=input_size, num_layers=num_layers,
                         bidirectional=bidirectional, merge=merge, dropout=dropout,
                         residual=residual, batch_first=batch_first, backend=backend)
        self.hidden_size = int(hidden_size)
        self.bias = bool(bias)
        self.proj_size = int(proj_size)

    def reset_parameters(self) -> None:
        """torch's init: every parameter uniform in ``[-1/sqrt(H), 1/sqrt(H)]``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def _torch_kwargs(self) -> dict:
        return dict(num_layers=self.num_layers, bias=self.bias, batch_first=self.batch_first,
                    dropout=self.dropout, bidirectional=self.bidirectional)

    def to_torch(self) -> nn.RNNBase:
        """The equivalent ``torch.nn`` module (``torch.nn.LSTM`` for an LSTM ...) with a copy of
        these weights, on the same device and dtype, in the same train/eval mode: the same
        outputs for the same call. For what torch does with its own modules, e.g.
        ``torch.ao.quantization.quantize_dynamic(layer.to_torch(), {torch.nn.LSTM, torch.nn.GRU},
        dtype=torch.qint8)``. Raises ``ValueError`` for the extras torch has no equivalent of
        (``merge`` other than concat, ``residual``)."""
        if self.bidirectional and self.merge != "concat":
            raise ValueError(f"{type(self).__name__}.to_torch(): merge={self.merge!r} has no torch "
                             f"equivalent (torch concatenates directions)")
        if self.residual:
            raise ValueError(f"{type(self).__name__}.to_torch(): residual=True has no torch equivalent")
        w = next(self.parameters())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch's dropout-with-one-layer warning
            module = self._torch_class(self.input_size, self.hidden_size, **self._torch_kwargs(),
                                       device=w.device, dtype=w.dtype)
        module.load_state_dict(self.state_dict())
        return module.train(self.training)

    @classmethod
    def from_torch(cls, module: nn.RNNBase, **extras):
        """An rnnkit layer equal to the ``torch.nn`` ``module`` (same arguments, a copy of its
        weights); ``extras`` are rnnkit's keywords (``backend=`` ...)."""
        if type(module) is not cls._torch_class:
            raise TypeError(f"{cls.__name__}.from_torch expects a {cls._torch_class.__module__}."
                            f"{cls._torch_class.__name__}, got {type(module).__name__}")
        kwargs = dict(num_layers=module.num_layers, bias=module.bias, batch_first=module.batch_first,
                      dropout=module.dropout, bidirectional=module.bidirectional)
        if cls is LSTM:
            kwargs["proj_size"] = module.proj_size
        if cls is RNN:
            kwargs["nonlinearity"] = module.nonlinearity
        w = next(module.parameters())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            layer = cls(module.input_size, module.hidden_size, **kwargs, device=w.device,
                        dtype=w.dtype, **extras)
        layer.load_state_dict(module.state_dict())
        return layer.train(module.training)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        if self.bidirectional and self.merge != "concat":
            s += f", merge={self.merge!r}"
        if self.residual:
            s += ", residual=True"
        if self.backend != "auto":
            s += f", backend={self.backend!r}"
        return s


class RNN(_Builtin):
    """Elman RNN layer, as ``torch.nn.RNN``: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``,
    act ``tanh`` or ``relu`` (``nonlinearity``).

    ``output, h_n = rnn(input, hx=None)``; ``h_n`` ``(L * dirs, B, H)``. Keywords beyond torch's:
    ``merge``, ``residual``, ``backend`` (constructor) and ``lengths`` (call); see the module
    docstring.
    """

    _torch_class = nn.RNN

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None, *,
                 merge: str = "concat", residual: bool = False, backend: str = "auto"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(RNNCell, {"nonlinearity": nonlinearity}, input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype,
                         merge, residual, backend)
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def _torch_kwargs(self) -> dict:
        return dict(super()._torch_kwargs(), nonlinearity=self.nonlinearity)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        if self.nonlinearity != "tanh":
            head, _, rest = s.partition(", ")
            head2, _, rest2 = rest.partition(", ")
            s = ", ".join(p for p in (head, head2, f"nonlinearity={self.nonlinearity!r}", rest2) if p)
        return s


class LSTM(_Builtin):
    """LSTM layer, as ``torch.nn.LSTM`` (gates i, f, g, o).

    ``output, (h_n, c_n) = lstm(input, hx=None)``; h ``(L * dirs, B, P or H)``, c
    ``(L * dirs, B, H)``. ``proj_size=P > 0`` projects h_t to P features (torch's LSTMP); outputs
    then have P features. Keywords beyond torch's: ``merge``, ``residual``, ``backend``
    (constructor) and ``lengths`` (call); see the module docstring.
    """

    _torch_class = nn.LSTM

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None, *, merge: str = "concat",
                 residual: bool = False, backend: str = "auto"):
        super().__init__(LSTMCell, {"proj_size": proj_size}, input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, proj_size, device, dtype, merge,
                         residual, backend)
        self.mode = "LSTM"

    def _torch_kwargs(self) -> dict:
        return dict(super()._torch_kwargs(), proj_size=self.proj_size)


class GRU(_Builtin):
    """GRU layer, as ``torch.nn.GRU``: torch's variant (gates r, z, n; see
    :func:`rnnkit.functional.gru_step`).

    ``output, h_n = gru(input, hx=None)``; ``h_n`` ``(L * dirs, B, H)``. Keywords beyond torch's:
    ``merge``, ``residual``, ``backend`` (constructor) and ``lengths`` (call); see the module
    docstring.
    """

    _torch_class = nn.GRU

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None, *, merge: str = "concat", residual: bool = False,
                 backend: str = "auto"):
        super().__init__(GRUCell, {}, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype, merge, residual, backend)
        self.mode = "GRU"


def to_torch(module: nn.Module, inplace: bool = False) -> nn.Module:
    """``module`` with every rnnkit ``RNN``/``LSTM``/``GRU`` in it (``module`` itself included)
    replaced by its ``torch.nn`` equivalent (:meth:`LSTM.to_torch` ...), in a copy unless
    ``inplace``. For torch's tools that know only torch's classes, e.g. dynamic quantization of a
    program written for ``torch.nn``::

        q = torch.ao.quantization.quantize_dynamic(rnnkit.layers.to_torch(model),
                                                   {torch.nn.LSTM, torch.nn.GRU, torch.nn.Linear},
                                                   dtype=torch.qint8)

    The torch modules take torch's call only: code that passes rnnkit's keywords (``lengths=``)
    or calls ``step()`` needs rnnkit's layers.
    """
    if isinstance(module, _Builtin):
        return module.to_torch()
    if not inplace:
        import copy

        module = copy.deepcopy(module)
    for name, child in list(module.named_children()):
        setattr(module, name, to_torch(child, inplace=True))
    return module
