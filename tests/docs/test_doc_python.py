"""The README's Python example runs exactly as written (parsed from the file: a changed README
changes this test) and does what its comments say."""

from __future__ import annotations

import re
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]


def test_readme_library_example_runs_as_written():
    readme = (ROOT / "README.md").read_text("utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "the README has no Python example"
    scope: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), scope)  # noqa: S102 - the project's own README
    y, h = scope["y"], scope["h"]
    assert y.shape == (50, 4, 64) and h.shape == (4, 4, 32)  # what its last comment says
    assert not scope["y_t"].requires_grad  # the streaming loop ran under no_grad
    names = [n for n, _ in scope["lstm"].named_parameters()]
    assert names[:2] == ["weight_ih_l0", "weight_hh_l0"]
    torch.testing.assert_close(scope["lstm"](scope["x"])[0],
                               _torch_twin(scope["lstm"])(scope["x"])[0])


def _torch_twin(layer):
    twin = torch.nn.LSTM(8, 32, num_layers=2, bidirectional=True)
    twin.load_state_dict(layer.state_dict())
    return twin
