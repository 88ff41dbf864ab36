"""Output distributions: what the network's last layer means, its loss and its quantiles.

Each likelihood reads ``params (..., P)`` (the head's raw outputs) and gives

* ``loss(params, y)``: elementwise, to be averaged;
* ``quantiles(params, levels) -> (..., len(levels))``;
* ``sample(params) -> (...)`` (draws from torch's global generator; callers fork and seed it).

Gaussian: mu = p0, sigma = softplus(p1) + 1e-3::

    NLL = log sigma + (y - mu)^2 / (2 sigma^2) + log(2 pi) / 2

Student-t: mu = p0, sigma = softplus(p1) + 1e-3, nu = 2 + softplus(p2) (nu > 2: finite variance),
NLL from ``torch.distributions.StudentT``; heavier tails than the Gaussian for bursty series.

Quantile (pinball) loss at levels tau_1 < ... < tau_Q, outputs made increasing by construction
(q_1 = p0, q_j = q_{j-1} + softplus(p_{j-1}), so quantiles never cross)::

    rho_tau(y, q) = max(tau (y - q), (tau - 1)(y - q))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["Gaussian", "Quantile", "StudentT", "make_likelihood"]

_MIN_SIGMA = 1e-3


class Gaussian:
    name = "gaussian"
    n_params = 2

    def _split(self, params: Tensor):
        return params[..., 0], F.softplus(params[..., 1]) + _MIN_SIGMA

    def loss(self, params: Tensor, y: Tensor) -> Tensor:
        mu, sigma = self._split(params)
        return torch.log(sigma) + 0.5 * ((y - mu) / sigma) ** 2 + 0.5 * math.log(2 * math.pi)

    def quantiles(self, params: Tensor, levels: Sequence[float]) -> Tensor:
        mu, sigma = self._split(params)
        z = torch.tensor([NormalDist().inv_cdf(q) for q in levels], dtype=mu.dtype, device=mu.device)
        return mu.unsqueeze(-1) + sigma.unsqueeze(-1) * z

    def sample(self, params: Tensor) -> Tensor:
        mu, sigma = self._split(params)
        return mu + sigma * torch.randn_like(mu)


class StudentT:
    name = "studentt"
    n_params = 3

    def _split(self, params: Tensor):
        return params[..., 0], F.softplus(params[..., 1]) + _MIN_SIGMA, 2.0 + F.softplus(params[..., 2])

    def loss(self, params: Tensor, y: Tensor) -> Tensor:
        mu, sigma, nu = self._split(params)
        return -torch.distributions.StudentT(nu, mu, sigma).log_prob(y)

    def quantiles(self, params: Tensor, levels: Sequence[float]) -> Tensor:
        from scipy.stats import (
            t as student_t,  # scipy comes with statsmodels; torch's StudentT has no icdf
        )

        mu, sigma, nu = self._split(params)
        nu_np = nu.detach().cpu().double().numpy()[..., None]
        z = torch.from_numpy(student_t.ppf(np.asarray(levels, dtype=np.float64), nu_np)).to(mu)
        return mu.unsqueeze(-1) + sigma.unsqueeze(-1) * z

    def sample(self, params: Tensor) -> Tensor:
        mu, sigma, nu = self._split(params)
        return torch.distributions.StudentT(nu, mu, sigma).sample()


class Quantile:
    name = "quantile"

    def __init__(self, levels: Sequence[float]):
        self.levels = [float(q) for q in levels]
        self.n_params = len(self.levels)

    def values(self, params: Tensor) -> Tensor:
        """Increasing quantiles ``(..., Q)``: a first value plus positive increments."""
        steps = F.softplus(params[..., 1:])
        return torch.cat([params[..., :1], params[..., :1] + torch.cumsum(steps, dim=-1)], dim=-1)

    def loss(self, params: Tensor, y: Tensor) -> Tensor:
        q = self.values(params)
        tau = torch.tensor(self.levels, dtype=q.dtype, device=q.device)
        diff = y.unsqueeze(-1) - q
        return torch.maximum(tau * diff, (tau - 1) * diff).mean(-1)

    def quantiles(self, params: Tensor, levels: Sequence[float]) -> Tensor:
        q = self.values(params)
        cols = []
        for level in levels:
            match = [i for i, t in enumerate(self.levels) if abs(t - level) < 1e-9]
            if not match:
                raise ValueError(f"quantile {level} was not trained (model.quantiles={self.levels})")
            cols.append(match[0])
        return q[..., cols]

    def sample(self, params: Tensor) -> Tensor:
        raise ValueError("a quantile model gives no sample paths; use gaussian or studentt to roll out")


def make_likelihood(name: str, quantiles: Sequence[float] = ()):
    if name == "gaussian":
        return Gaussian()
    if name == "studentt":
        return StudentT()
    if name == "quantile":
        return Quantile(quantiles)
    raise ValueError(f"likelihood must be gaussian, studentt or quantile, got {name!r}")
