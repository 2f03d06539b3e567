"""The optimal denoiser E[x_0 | x_t]: brute-force Bayes, limits in t, the regression property, and
agreement between the empirical (finite set) and butterfly (exact distribution) versions."""
import math

import pytest
import torch

import helpers.denoiser as den
from helpers.data import Normalizer, sample
from helpers.denoiser import (OptimalDenoiser, butterfly_eps, butterfly_x0_mean, empirical_eps,
                              empirical_x0_mean)
from helpers.forward import q_sample
from helpers.gaussian import normal_log_prob
from helpers.posterior import predict_eps_from_x0
from helpers.schedule import linear_schedule

S = linear_schedule()


def brute_force_x0_mean(schedule, x_t, t, pts):
    """Bayes' rule one query at a time: p(j | x_t) ∝ q(x_t | x_0 = pts_j)."""
    out = []
    for i in range(x_t.shape[0]):
        ab = schedule.alpha_bar[int(t[i])]
        logp = normal_log_prob(x_t[i].double(), ab.sqrt() * pts.double(), 1 - ab).sum(-1)
        w = torch.exp(logp - logp.max())
        out.append((w / w.sum()) @ pts.double())
    return torch.stack(out)


def max_zscore(residual, x_t):
    """Largest |mean(r·f)| in standard errors over f(x_t) = 1 and f(x_t) = x_t (each coordinate).

    A conditional mean m(x_t) = E[y | x_t] leaves a residual r = y − m(x_t) uncorrelated with
    every function of x_t, so these means are 0 up to Monte Carlo error (|z| < 5)."""
    n = residual.shape[0]
    return max(float(((residual * f).mean(0) / ((residual * f).std(0) / math.sqrt(n))).abs().max())
               for f in (torch.ones_like(x_t), x_t))


def test_empirical_matches_brute_force_and_chunking(monkeypatch):
    g = torch.Generator().manual_seed(0)
    pts = torch.randn(37, 2, generator=g, dtype=torch.float64)
    x_t = 2 * torch.randn(23, 2, generator=g, dtype=torch.float64)
    t = torch.randint(1, S.T + 1, (23,), generator=g)
    want = brute_force_x0_mean(S, x_t, t, pts)
    assert torch.allclose(empirical_x0_mean(S, x_t, t, pts), want, atol=1e-10)
    monkeypatch.setattr(den, "_MAX_ENTRIES", 50)  # forces one query per chunk
    assert torch.allclose(empirical_x0_mean(S, x_t, t, pts), want, atol=1e-10)


def test_empirical_recovers_training_point_as_t_goes_to_zero():
    # On a grid with spacing 0.5 and √(1 − ᾱ_1) ≈ 0.024, x_1 sits ~20 std from every other point.
    g = torch.Generator().manual_seed(1)
    pts = torch.cartesian_prod(torch.arange(-2, 2.5, 0.5), torch.arange(-2, 2.5, 0.5)).double()
    x1 = q_sample(S, pts, 1, generator=g)
    assert torch.allclose(empirical_x0_mean(S, x1, 1, pts), pts, atol=1e-6)
    # and far from the data at t = T, E[x_0 | x_T] is close to the training mean
    xT = q_sample(S, pts, S.T, generator=g)
    assert (empirical_x0_mean(S, xT, S.T, pts) - pts.mean(0)).norm(dim=1).max() < 0.05


def test_empirical_eps_satisfies_the_regression_property():
    # ε* = E[ε | x_t] ⇔ the residual ε − ε*(x_t) is uncorrelated with every function of x_t
    # (the gradient of the simple loss vanishes). Checked on g(x_t) = 1, x_t; a 10% wrong
    # model fails the same check.
    gen = torch.Generator().manual_seed(2)
    pts = torch.randn(50, 2, generator=gen, dtype=torch.float64)
    n, t = 100_000, 40
    idx = torch.randint(0, 50, (n,), generator=gen)
    eps = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    x_t = q_sample(S, pts[idx], t, noise=eps)
    e_star = empirical_eps(S, x_t, t, pts)
    assert max_zscore(eps - e_star, x_t) < 5
    assert max_zscore(eps - 0.9 * e_star, x_t) > 5


def test_butterfly_satisfies_the_regression_property_in_model_units():
    # Independent path: draw x_0 with helpers.data.sample (θ ~ U, Gaussian jitter), encode,
    # noise with q_sample, and check E[(x_0 − m(x_t)) f(x_t)] = 0 for the butterfly denoiser m.
    n, t = 30_000, 30
    x = sample(n, generator=3).double()
    norm = Normalizer.fit(x)
    z = norm.encode(x)
    x_t = q_sample(S, z, t, generator=torch.Generator().manual_seed(4))
    m = butterfly_x0_mean(S, x_t, t, normalizer=norm, n_theta=2048)
    assert max_zscore(z - m, x_t) < 5
    assert max_zscore(z - 0.97 * m, x_t) > 5


@pytest.mark.parametrize("t", [20, 60, 150])
def test_butterfly_agrees_with_empirical_for_many_samples(t):
    x = sample(20_000, generator=5).double()
    norm = Normalizer.fit(x)
    z = norm.encode(x)
    g = torch.Generator().manual_seed(6)
    x_t = q_sample(S, z[:300], t, generator=g)
    a = empirical_x0_mean(S, x_t, t, z)
    b = butterfly_x0_mean(S, x_t, t, normalizer=norm)
    # model-unit disagreement: Monte Carlo error of a 20k-point average, well under the
    # spread of the posterior (≥ 0.1 for these t); measured ~0.002-0.01
    assert (a - b).norm(dim=1).mean() < 0.03
    ea, eb = empirical_eps(S, x_t, t, z), butterfly_eps(S, x_t, t, normalizer=norm)
    assert (ea - eb).norm(dim=1).mean() < 0.03 * math.sqrt(S.alpha_bar[t] / (1 - S.alpha_bar[t]))


def test_butterfly_grid_has_converged():
    # the default grid (2048 angles) against 8x as many, in curve units, where the jitter
    # σ = 0.05 is smallest relative to the curve (measured: 2e-11 at t = 1; 64 angles: 0.06)
    x_t = torch.randn(200, 2, generator=torch.Generator().manual_seed(7), dtype=torch.float64) * 3
    for t in (1, 10, 100):
        a = butterfly_x0_mean(S, x_t, t)
        b = butterfly_x0_mean(S, x_t, t, n_theta=16384)
        assert (a - b).abs().max() < 1e-4
    # a grid far too coarse for t = 1 is caught by the same tolerance
    fine_1 = butterfly_x0_mean(S, x_t, 1, n_theta=16384)
    assert (butterfly_x0_mean(S, x_t, 1, n_theta=64) - fine_1).abs().max() > 1e-4


def test_butterfly_is_empirical_on_its_grid_when_jitter_is_zero():
    x_t = torch.randn(50, 2, generator=torch.Generator().manual_seed(8), dtype=torch.float64) * 3
    grid = den.butterfly_centres(512)
    assert torch.allclose(butterfly_x0_mean(S, x_t, 25, noise=0.0, n_theta=512),
                          empirical_x0_mean(S, x_t, 25, grid), atol=1e-12)


def test_optimal_denoiser_follows_the_model_contract():
    pts = sample(300, generator=9)
    norm = Normalizer.fit(pts)
    z = norm.encode(pts)
    t = torch.randint(1, S.T + 1, (64,), generator=torch.Generator().manual_seed(10))
    x_t = q_sample(S, z[:64], t, generator=torch.Generator().manual_seed(11))
    emp, bfly = OptimalDenoiser(S, x0_train=z), OptimalDenoiser(S, normalizer=norm)
    assert emp.kind == "empirical" and bfly.kind == "butterfly"
    for model, want in ((emp, empirical_eps(S, x_t, t, z)), (bfly, butterfly_eps(S, x_t, t, normalizer=norm))):
        out = model.eval()(x_t, t)
        assert out.shape == (64, 2) and out.dtype == x_t.dtype
        assert torch.allclose(out, want, atol=1e-5)
        assert torch.allclose(predict_eps_from_x0(S, x_t, t, model.x0_mean(x_t, t)), out, atol=1e-5)


def test_bad_input_raises():
    pts = torch.zeros(5, 2)
    with pytest.raises(ValueError, match="x0_train"):
        empirical_x0_mean(S, pts, 3, torch.zeros(5, 3))
    with pytest.raises(ValueError, match=r"t must be .*\[1, 180\]"):
        empirical_eps(S, pts, 0, pts)
    with pytest.raises(ValueError, match="t"):
        butterfly_eps(S, pts, torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="x_t"):
        butterfly_x0_mean(S, torch.full((2, 2), float("inf")), 3)
    with pytest.raises(ValueError, match="noise"):
        butterfly_x0_mean(S, pts, 3, noise=-0.1)
    with pytest.raises(ValueError, match="normalizer"):
        butterfly_x0_mean(S, pts, 3, normalizer={"mean": [0, 0], "scale": 1})
    with pytest.raises(ValueError, match="n_theta"):
        OptimalDenoiser(S, n_theta=2)
    with pytest.raises(ValueError, match="schedule"):
        OptimalDenoiser(None)


def test_thread_setting_is_restored():
    before = torch.get_num_threads()
    empirical_x0_mean(S, torch.zeros(4, 2), 5, torch.ones(3, 2))
    assert torch.get_num_threads() == before


def test_field_helper_arrows_end_at_the_denoised_guess():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.fields import grid_points, plot_denoiser_field
    pts = sample(100, generator=12)
    norm = Normalizer.fit(pts)
    model = OptimalDenoiser(S, normalizer=norm)
    fig, ax = plt.subplots()
    disp = plot_denoiser_field(ax, S, model, 40, lim=2.0, n=5, max_len=0.5)
    grid = grid_points(2.0, 5)
    assert torch.allclose(grid + disp, model.x0_mean(grid, 40), atol=1e-5)
    plt.close(fig)
    with pytest.raises(ValueError, match="max_len"):
        plot_denoiser_field(ax, S, model, 40, max_len=0)
