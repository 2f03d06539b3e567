"""The reverse step and loop (helpers.sampling)."""
import math

import pytest
import torch

from helpers.denoiser import OptimalDenoiser
from helpers.posterior import posterior_coefficients
from helpers.sampling import p_mean_variance, p_sample, p_sample_loop, reverse_variance
from helpers.schedule import linear_schedule


def toy_eps(x_t, t):
    """A fixed, t-dependent ε-model with a known output, to check the step formula."""
    return 0.3 * x_t + 0.01 * t.to(x_t.dtype).unsqueeze(-1)


@pytest.mark.parametrize("variance", ["beta", "beta_tilde"])
def test_one_step_mean_and_variance_match_the_formula(variance):
    sched = linear_schedule(50)
    t, n = 30, 200_000
    x_t = torch.tensor([[0.7, -1.2]], dtype=torch.float64).expand(n, 2).contiguous()
    gen = torch.Generator().manual_seed(0)
    x_prev = p_sample(toy_eps, sched, x_t, t, generator=gen, variance=variance)
    b, a, ab = (float(sched.beta[t]), float(sched.alpha[t]), float(sched.alpha_bar[t]))
    eps = toy_eps(x_t[:1], torch.tensor([t]))[0]
    mean = (x_t[0] - b / math.sqrt(1 - ab) * eps) / math.sqrt(a)  # eq. 11, written out here
    var = b if variance == "beta" else (1 - float(sched.alpha_bar[t - 1])) / (1 - ab) * b
    # sample mean has standard error sqrt(var/n); sample variance has s.e. var*sqrt(2/n)
    assert torch.allclose(x_prev.mean(0), mean, atol=5 * math.sqrt(var / n))
    assert torch.allclose(x_prev.var(0), torch.full((2,), var, dtype=torch.float64),
                          rtol=5 * math.sqrt(2 / n))
    # the helper that returns (mean, var) agrees exactly
    m, v = p_mean_variance(toy_eps, sched, x_t[:1], t, variance)
    assert torch.allclose(m[0], mean) and math.isclose(float(v), var, rel_tol=1e-9)


def test_reverse_variance_tables():
    sched = linear_schedule(40)
    assert torch.equal(reverse_variance(sched, "beta"), sched.beta)
    bt = reverse_variance(sched, "beta_tilde")
    assert torch.allclose(bt, posterior_coefficients(sched).var)
    assert float(bt[1]) == 0.0 and bool((bt[2:] < sched.beta[2:]).all())


def test_last_step_adds_no_noise_unless_asked():
    sched = linear_schedule(25)
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(1))
    a = p_sample(toy_eps, sched, x, 1, generator=torch.Generator().manual_seed(2))
    b = p_sample(toy_eps, sched, x, 1, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)  # deterministic at t = 1
    c = p_sample(toy_eps, sched, x, 1, generator=torch.Generator().manual_seed(3), last_step_noise=True)
    assert not torch.allclose(a, c)


def test_loop_trajectory_layout_and_seed():
    sched = linear_schedule(25)
    x_T = torch.randn(7, 2, generator=torch.Generator().manual_seed(4))
    traj = p_sample_loop(toy_eps, sched, 7, generator=5, x_T=x_T, return_trajectory=True)
    assert traj.shape == (26, 7, 2)
    assert torch.equal(traj[25], x_T)  # traj[t] is x_t
    x0 = p_sample_loop(toy_eps, sched, 7, generator=5, x_T=x_T)
    assert torch.equal(traj[0], x0)
    # one step of the loop is p_sample with the same noise stream
    gen = torch.Generator().manual_seed(5)
    step = p_sample(toy_eps, sched, x_T, 25, generator=gen)
    assert torch.allclose(traj[24], step)


def nearest_distance(x, points):
    return torch.cdist(x.double(), points.double()).min(dim=1).values


def test_loop_with_the_optimal_denoiser_lands_on_training_points_as_T_grows():
    # 12 points 0.1 apart: √β_1 = 0.063 at T = 25 blurs neighbours together, √β_1 = 0.01
    # at T = 1000 resolves every one of them
    train = torch.stack([torch.arange(12) * 0.1 - 0.6, torch.zeros(12)], dim=1)
    worst = []
    for T in (25, 100, 1000):
        sched = linear_schedule(T)
        x0 = p_sample_loop(OptimalDenoiser(sched, x0_train=train), sched, 300, generator=0)
        worst.append(float(nearest_distance(x0, train).mean()))
    assert worst[0] > worst[1] > worst[2]
    assert worst[2] < 1e-3  # every sample is (numerically) a training point
    # and every training point is reached: the empirical distribution is reproduced
    hits = torch.cdist(x0.double(), train.double()).argmin(dim=1)
    assert set(hits.tolist()) == set(range(len(train)))


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0), "n must be"),
    (dict(variance="small"), "variance must be one of"),
    (dict(x_T=torch.zeros(3, 2)), "x_T must have shape"),
    (dict(generator="seed"), "generator must be"),
])
def test_loop_rejects_bad_input(kwargs, match):
    sched = linear_schedule(25)
    args = dict(n=4) | kwargs
    with pytest.raises(ValueError, match=match):
        p_sample_loop(toy_eps, sched, **args)


def test_step_rejects_bad_input():
    sched = linear_schedule(25)
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="t must be in"):
        p_sample(toy_eps, sched, x, 0)
    with pytest.raises(ValueError, match="t must be in"):
        p_sample(toy_eps, sched, x, 26)
    with pytest.raises(ValueError, match="x_t must"):
        p_sample(toy_eps, sched, torch.zeros(3, 3), 2)
    with pytest.raises(ValueError, match="model must return"):
        p_sample(lambda x, t: x[:, :1], sched, x, 2)
    with pytest.raises(ValueError, match="noise must have the same shape"):
        p_sample(toy_eps, sched, x, 2, noise=torch.zeros(2, 2))
