"""Shared oracles and tolerances of the scan tests (fixtures: the suite imports by path)."""

import pytest
import torch

# One table of tolerances keyed by dtype: (rtol, atol).
TOLERANCES = {torch.float64: (1e-10, 1e-12), torch.float32: (2e-5, 2e-6)}


def hand_loop(a, b, h0=None, lengths=None):
    """The recurrence element by element in Python floats: the oracle's oracle (small sizes)."""
    B, T, D = a.shape
    out = torch.zeros(B, T, D, dtype=torch.float64)
    final = torch.zeros(B, D, dtype=torch.float64)
    for i in range(B):
        n = T if lengths is None else int(lengths[i])
        for d in range(D):
            h = 0.0 if h0 is None else float(h0[i, d])
            for t in range(n):
                h = float(a[i, t, d]) * h + float(b[i, t, d])
                out[i, t, d] = h
            final[i, d] = h
    return out, final


@pytest.fixture
def tol():
    def get(dtype):
        rtol, atol = TOLERANCES[dtype]
        return {"rtol": rtol, "atol": atol}
    return get


@pytest.fixture
def oracle():
    return hand_loop
