"""torch-compatible state_dict keys for stacked layers.

A layer keeps its cells in ``cells`` (index ``layer * num_directions + direction``), which would
give keys like ``cells.1.weight_ih``. torch.nn.LSTM names the same tensor ``weight_ih_l0_reverse``.

- :func:`install_torch_naming` (any :class:`~rnnkit.layers.Recurrent`, whose cells are registered
  submodules): hooks translate in both directions so a state_dict moves between torch and rnnkit
  as is: ``cells.{i}.{name}`` <-> ``{name}_l{layer}`` (+ ``_reverse`` for the backward direction).
  Names with dots (a user cell's submodule, e.g. ``norm.weight``) map the same way: ``norm.weight_l0``.
- :func:`install_legacy_cell_names` (``RNN``/``LSTM``/``GRU``, which own their parameters under
  torch's names): a load hook that still accepts the old ``cells.{i}.{name}`` keys.

The hooks are module-level functions (bound with ``functools.partial``), so a layer pickles.
"""

from __future__ import annotations

import functools
import re

_TORCH_KEY = re.compile(r"^(?P<name>.+)_l(?P<layer>\d+)(?P<rev>_reverse)?$")


def cell_key_to_torch(index: int, name: str, num_directions: int) -> str:
    layer, direction = divmod(index, num_directions)
    return f"{name}_l{layer}" + ("_reverse" if direction else "")


def torch_key_to_cell(key: str, num_directions: int) -> str | None:
    """``weight_hh_l1_reverse -> cells.3.weight_hh`` (2 directions); None if not a layer key."""
    m = _TORCH_KEY.match(key)
    if m is None:
        return None
    direction = 1 if m.group("rev") else 0
    if direction >= num_directions:
        return None
    return f"cells.{int(m.group('layer')) * num_directions + direction}.{m.group('name')}"


def _save_cells_as_torch(num_directions, mod, state_dict, prefix, local_metadata):
    head = prefix + "cells."
    for key in [k for k in state_dict if k.startswith(head)]:
        index, _, name = key[len(head):].partition(".")
        state_dict[prefix + cell_key_to_torch(int(index), name, num_directions)] = state_dict.pop(key)
    return state_dict


def _load_torch_into_cells(num_directions, state_dict, prefix, local_metadata, strict, missing,
                           unexpected, errors):
    for key in [k for k in state_dict if k.startswith(prefix)]:
        rest = key[len(prefix):]
        if rest.startswith("cells."):
            continue  # already in rnnkit's own layout
        mapped = torch_key_to_cell(rest, num_directions)
        if mapped is not None:
            state_dict[prefix + mapped] = state_dict.pop(key)


def _load_cells_as_torch(num_directions, state_dict, prefix, local_metadata, strict, missing,
                         unexpected, errors):
    head = prefix + "cells."
    for key in [k for k in state_dict if k.startswith(head)]:
        index, _, name = key[len(head):].partition(".")
        if index.isdigit() and name and "." not in name:
            state_dict[prefix + cell_key_to_torch(int(index), name, num_directions)] = state_dict.pop(key)


def install_torch_naming(module, num_directions: int) -> None:
    """Register the save and load hooks on ``module`` (a layer with a ``cells`` ModuleList)."""
    module._register_state_dict_hook(functools.partial(_save_cells_as_torch, num_directions))
    module._register_load_state_dict_pre_hook(functools.partial(_load_torch_into_cells, num_directions))


def install_legacy_cell_names(module, num_directions: int) -> None:
    """Let ``module`` (which owns torch-named parameters) load state_dicts saved with the old
    ``cells.{i}.{name}`` keys: they are renamed to ``{name}_l{layer}[_reverse]`` before loading."""
    module._register_load_state_dict_pre_hook(functools.partial(_load_cells_as_torch, num_directions))
