"""Networks and likelihoods: one-to-one = sequence model for one step, roll-out = teacher forcing."""

import math

import numpy as np
import pytest
import torch

from rnnkit.apps.forecast.losses import Gaussian, Quantile, StudentT, make_likelihood
from rnnkit.apps.forecast.models import ForecastNet, forecast_quantiles, rollout
from rnnkit.apps.forecast.windows import Layout


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_one_to_one_equals_a_sequence_model_run_for_one_step(cell):
    seq = ForecastNet(5, 2, "sequence", cell, hidden_size=7, num_layers=2)
    one = ForecastNet(5, 2, "one_to_one", cell, hidden_size=7, num_layers=2)
    one.load_state_dict(seq.state_dict())  # same parameter names, so the weights move across
    x = torch.randn(4, 1, 5)
    torch.testing.assert_close(one(x), seq(x), rtol=0, atol=1e-6)
    # and on longer windows the one-to-one model is that one step applied to each row alone
    xs = torch.randn(3, 6, 5)
    rows = torch.stack([seq(xs[:, k:k + 1])[:, 0] for k in range(6)], dim=1)
    torch.testing.assert_close(one(xs), rows, rtol=0, atol=1e-6)
    assert not torch.allclose(seq(xs), rows)  # ... which the sequence model is not: it carries state


@pytest.mark.parametrize("kind,steps", [("sequence", False), ("one_to_one", False), ("sequence", True)])
def test_rollout_feeding_its_own_values_equals_the_teacher_forced_pass(kind, steps):
    """With (almost) no noise a sample path is the mean path; fed back as inputs, the full pass
    over those inputs gives the same means."""
    torch.manual_seed(0)
    lay = Layout(6, 4, autoregressive=True, target_steps=steps)
    net = ForecastNet(lay.n_features, 2, kind, "gru", hidden_size=8).eval()
    with torch.no_grad():
        net.net.head.bias[1] = -30.0  # sigma = softplus(-30 + ...) + 1e-3: draws ~ mean +- 1e-3
        net.net.head.weight[1] = 0.0
    lik = Gaussian()
    x = torch.randn(3, lay.rows, lay.n_features)
    x[:, :, 1] = 1.0
    paths = rollout(net, lik, x, lay, samples=2)
    assert paths.shape == (3, 2, 4)
    x_tf = x.clone()
    x_tf[:, lay.input_len:, 0] = paths[:, 0, :-1]
    if steps:  # the fed-back changes too
        x_tf[:, lay.input_len:, 2] = x_tf[:, lay.input_len:, 0] - x_tf[:, lay.input_len - 1:-1, 0]
    means = net(x_tf)[:, -lay.horizon:, 0]
    torch.testing.assert_close(paths[:, 0], means, atol=5e-3, rtol=0)


def test_direct_quantiles_come_from_the_horizon_rows():
    lay = Layout(5, 3)
    net = ForecastNet(lay.n_features, 2, hidden_size=4)
    x = torch.randn(2, lay.rows, lay.n_features)
    q = forecast_quantiles(net, Gaussian(), x, lay, [0.1, 0.5, 0.9])
    params = net(x)[:, -3:]
    torch.testing.assert_close(q[..., 1], params[..., 0])
    assert (q[..., 0] < q[..., 1]).all() and (q[..., 1] < q[..., 2]).all()


def test_gaussian_and_student_t_match_torch_distributions():
    params = torch.tensor([[0.3, 0.2, 1.0], [-1.0, -0.5, 3.0]])
    y = torch.tensor([0.1, 2.0])
    sigma = torch.nn.functional.softplus(params[:, 1]) + 1e-3
    g = Gaussian().loss(params[:, :2], y)
    torch.testing.assert_close(g, -torch.distributions.Normal(params[:, 0], sigma).log_prob(y))
    nu = 2 + torch.nn.functional.softplus(params[:, 2])
    t = StudentT().loss(params, y)
    torch.testing.assert_close(t, -torch.distributions.StudentT(nu, params[:, 0], sigma).log_prob(y))
    q = Gaussian().quantiles(params[:, :2], [0.1, 0.5, 0.9])
    torch.testing.assert_close(q[:, 1], params[:, 0])
    torch.testing.assert_close(q[:, 2] - q[:, 1], sigma * 1.2815516, rtol=1e-5, atol=1e-6)
    qt = StudentT().quantiles(params, [0.5, 0.9])
    from scipy.stats import t as student_t
    torch.testing.assert_close(qt[:, 1], params[:, 0] + sigma * torch.tensor(student_t.ppf(0.9, nu.double().numpy())).float())


def test_quantile_loss_by_hand_and_never_crossing():
    lik = Quantile([0.1, 0.5, 0.9])
    params = torch.tensor([[1.0, math.log(math.e - 1), -50.0]])  # q = 1, 2, 2 + ~0
    np.testing.assert_allclose(lik.values(params).numpy(), [[1.0, 2.0, 2.0]], atol=1e-6)
    y = torch.tensor([3.0])
    # pinball: tau (y - q) above the quantile, (1 - tau)(q - y) below
    expected = (0.1 * 2 + 0.5 * 1 + 0.9 * 1) / 3
    assert lik.loss(params, y).item() == pytest.approx(expected, rel=1e-5)
    rand = lik.values(torch.randn(100, 3))
    assert (rand.diff(dim=-1) >= 0).all()
    with pytest.raises(ValueError, match="quantile 0.25 was not trained"):
        lik.quantiles(params, [0.25])
    with pytest.raises(ValueError, match="likelihood must be"):
        make_likelihood("poisson")
