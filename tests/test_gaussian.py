"""Gaussian closed forms: normal_kl against hand values and a Monte Carlo estimate."""
import math

import pytest
import torch

from helpers.gaussian import normal_kl, normal_log_prob


def test_normal_log_prob_hand_values():
    assert float(normal_log_prob(0.0, 0.0, 1.0)) == pytest.approx(-0.5 * math.log(2 * math.pi))
    # log N(3; 1, 4) = -1/2 [log 2π + log 4 + 4/4]
    want = -0.5 * (math.log(2 * math.pi) + math.log(4.0) + 1.0)
    assert float(normal_log_prob(3.0, 1.0, 4.0)) == pytest.approx(want)


def test_normal_log_prob_integrates_to_one():
    x = torch.linspace(-20, 20, 40_001, dtype=torch.float64)
    p = normal_log_prob(x, 1.5, 2.3).exp()
    assert float(torch.trapezoid(p, x)) == pytest.approx(1.0, abs=1e-9)


def test_normal_kl_hand_values():
    # KL(N(1, 2) || N(0, 1)) = 1/2 [log(1/2) + (2 + 1)/1 - 1]
    assert float(normal_kl(1.0, 2.0, 0.0, 1.0)) == pytest.approx(0.5 * (math.log(0.5) + 2.0))
    assert float(normal_kl(0.3, 0.7, 0.3, 0.7)) == pytest.approx(0.0, abs=1e-15)
    # asymmetric: KL(p||q) != KL(q||p)
    assert float(normal_kl(0.0, 1.0, 1.0, 2.0)) != pytest.approx(float(normal_kl(1.0, 2.0, 0.0, 1.0)))


@pytest.mark.parametrize("m1,v1,m2,v2", [(0.5, 0.3, -0.2, 1.7), (2.0, 1.0, 0.0, 1.0), (0.0, 0.05, 0.1, 0.02)])
def test_normal_kl_matches_monte_carlo(m1, v1, m2, v2):
    # KL = E_{x~p}[log p(x) - log q(x)]; the Monte Carlo mean has standard error std/sqrt(n)
    n = 400_000
    g = torch.Generator().manual_seed(0)
    x = m1 + math.sqrt(v1) * torch.randn(n, generator=g, dtype=torch.float64)
    ratio = normal_log_prob(x, m1, v1) - normal_log_prob(x, m2, v2)
    se = float(ratio.std()) / math.sqrt(n)
    assert abs(float(ratio.mean()) - float(normal_kl(m1, v1, m2, v2))) < 5 * se


def test_normal_kl_elementwise_shapes():
    kl = normal_kl(torch.zeros(4, 2), torch.tensor(0.5), torch.zeros(()), torch.ones(()))
    assert kl.shape == (4, 2)


@pytest.mark.parametrize("args,name", [((0.0, 0.0, 0.0, 1.0), "var1"), ((0.0, 1.0, 0.0, -1.0), "var2")])
def test_normal_kl_rejects_bad_variance(args, name):
    with pytest.raises(ValueError, match=rf"{name} must be > 0"):
        normal_kl(*args)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="var must be > 0"):
        normal_log_prob(0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="mean1 must be finite"):
        normal_kl(float("nan"), 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="x must be finite"):
        normal_log_prob(torch.tensor([0.0, float("inf")]), 0.0, 1.0)
    with pytest.raises(ValueError, match="mean must be a number"):
        normal_log_prob(0.0, "zero", 1.0)
