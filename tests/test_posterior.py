"""Posterior q(x_{t-1} | x_t, x_0) (eqs. 6-7) checked against the forward chain and Bayes' rule."""
import math

import pytest
import torch

from helpers.forward import q_sample, q_step
from helpers.gaussian import normal_log_prob
from helpers.posterior import (posterior_coefficients, predict_eps_from_x0, predict_x0_from_eps,
                               q_posterior)
from helpers.schedule import cosine_schedule, linear_schedule

S = linear_schedule()


@pytest.mark.parametrize("schedule", [linear_schedule(), cosine_schedule(50)], ids=["linear", "cosine"])
@pytest.mark.parametrize("frac", [0.02, 0.5, 1.0])
def test_posterior_matches_monte_carlo_regression(schedule, frac):
    # Fix x_0, run the chain x_0 -> x_{t-1} (eq. 4) -> x_t (eq. 2). Given x_0, (x_{t-1}, x_t) is
    # jointly Gaussian, so the least-squares line of x_{t-1} on x_t is exactly
    # x_{t-1} = coef_xt * x_t + coef_x0 * x_0 + N(0, beta_tilde).
    t = max(2, round(frac * schedule.T))
    n = 200_000
    g = torch.Generator().manual_seed(t)
    x0 = torch.tensor([[0.7, -1.3]], dtype=torch.float64).expand(n, 2)
    x_prev = q_sample(schedule, x0, t - 1, generator=g)
    x_t = q_step(schedule, x_prev, t, generator=g)
    c = posterior_coefficients(schedule)
    for d in range(2):
        xt, xp = x_t[:, d], x_prev[:, d]
        cov = ((xt - xt.mean()) * (xp - xp.mean())).mean()
        slope = cov / xt.var()
        intercept = xp.mean() - slope * xt.mean()
        resid_var = (xp - intercept - slope * xt).var()
        se_slope = math.sqrt(float(resid_var) / (n * float(xt.var())))
        assert abs(float(slope - c.coef_xt[t])) < 5 * se_slope
        # intercept = coef_x0 * x0; its SE is about sqrt(resid_var/n) * sqrt(1 + mean²/var)
        se_int = math.sqrt(float(resid_var) / n * (1 + float(xt.mean()) ** 2 / float(xt.var())))
        assert abs(float(intercept - c.coef_x0[t] * x0[0, d])) < 5 * se_int
        # residual variance of a Gaussian sample: relative SE sqrt(2/n)
        assert abs(float(resid_var / c.var[t]) - 1) < 5 * math.sqrt(2 / n)


def test_posterior_matches_binned_conditional():
    # The same check without assuming linearity: keep draws with x_t in a thin bin.
    t, n = 60, 400_000
    g = torch.Generator().manual_seed(1)
    x0 = torch.zeros(n, 2, dtype=torch.float64) + 0.5
    x_prev = q_sample(S, x0, t - 1, generator=g)
    x_t = q_step(S, x_prev, t, generator=g)
    sel = (x_t[:, 0] - 0.3).abs() < 0.01
    mean, var = q_posterior(S, x0[:1], torch.tensor([[0.3, 0.0]], dtype=torch.float64), t)
    xs = x_prev[sel, 0]
    se = math.sqrt(float(var) / xs.numel())
    assert abs(float(xs.mean() - mean[0, 0])) < 5 * se + 0.01  # + bin half-width effect
    assert abs(float(xs.var() / var) - 1) < 5 * math.sqrt(2 / xs.numel()) + 0.02


@pytest.mark.parametrize("t", [2, 10, 90, 180])
def test_posterior_equals_bayes_product_on_grid(t):
    # q(x_{t-1}|x_t,x_0) = q(x_t|x_{t-1}) q(x_{t-1}|x_0) / q(x_t|x_0), pointwise on a 1-D grid.
    x0, xt = 0.8, -0.4
    b, ab, ab_prev = S.beta[t], S.alpha_bar[t], S.alpha_bar[t - 1]
    mean, var = q_posterior(S, torch.tensor([[x0, 0.0]], dtype=torch.float64),
                            torch.tensor([[xt, 0.0]], dtype=torch.float64), t)
    m, v = float(mean[0, 0]), float(var[0, 0])
    grid = torch.linspace(m - 6 * math.sqrt(v), m + 6 * math.sqrt(v), 2001, dtype=torch.float64)
    log_bayes = (normal_log_prob(torch.tensor(xt, dtype=torch.float64), (1 - b).sqrt() * grid, b)
                 + normal_log_prob(grid, ab_prev.sqrt() * x0, 1 - ab_prev)
                 - normal_log_prob(torch.tensor(xt, dtype=torch.float64), ab.sqrt() * x0, 1 - ab))
    log_post = normal_log_prob(grid, torch.tensor(m, dtype=torch.float64), torch.tensor(v, dtype=torch.float64))
    assert torch.allclose(log_bayes, log_post, atol=1e-8, rtol=1e-8)


def test_coefficients_edges():
    c = posterior_coefficients(S)
    assert c.coef_x0.shape == (S.T + 1,)
    assert float(c.coef_x0[1]) == pytest.approx(1.0) and float(c.coef_xt[1]) == 0.0 and float(c.var[1]) == 0.0
    assert (c.var[2:] > 0).all() and (c.var[1:] <= S.beta[1:] + 1e-15).all()  # beta_tilde <= beta


def test_per_point_t_matches_scalar_t():
    g = torch.Generator().manual_seed(0)
    x0, xt = torch.randn(5, 2, generator=g), torch.randn(5, 2, generator=g)
    t = torch.tensor([1, 3, 50, 179, 180])
    mean, var = q_posterior(S, x0, xt, t)
    assert var.shape == (5, 1)
    for i in range(5):
        m_i, v_i = q_posterior(S, x0[i:i + 1], xt[i:i + 1], int(t[i]))
        assert torch.allclose(mean[i], m_i[0]) and torch.allclose(var[i], v_i[0])


def test_eps_x0_conversions_invert():
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(100, 2, generator=g, dtype=torch.float64), torch.randn(100, 2, generator=g, dtype=torch.float64)
    t = torch.randint(1, S.T + 1, (100,), generator=g)
    xt = q_sample(S, x0, t, noise=eps)
    assert torch.allclose(predict_x0_from_eps(S, xt, t, eps), x0, atol=1e-10)
    assert torch.allclose(predict_eps_from_x0(S, xt, t, x0), eps, atol=1e-10)
    assert torch.allclose(predict_x0_from_eps(S, xt, 0, eps), xt)  # t = 0: x_t is x_0


def test_bad_input_raises():
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="x_t"):
        q_posterior(S, x, torch.zeros(4, 2), 5)
    with pytest.raises(ValueError, match="x0"):
        q_posterior(S, torch.zeros(3, 3), x, 5)
    with pytest.raises(ValueError, match=r"t must be .*\[1, 180\]"):
        q_posterior(S, x, x, 0)
    with pytest.raises(ValueError, match="t"):
        q_posterior(S, x, x, torch.tensor([1, 2, 181]))
    with pytest.raises(ValueError, match="finite"):
        q_posterior(S, x, torch.tensor([[0.0, float("nan")]] * 3), 5)
    with pytest.raises(ValueError, match="eps"):
        predict_x0_from_eps(S, x, 5, torch.zeros(3, 1))
    with pytest.raises(ValueError, match=r"t must be .*\[1, 180\]"):
        predict_eps_from_x0(S, x, 0, x)
    with pytest.raises(ValueError, match="schedule"):
        posterior_coefficients("linear")
