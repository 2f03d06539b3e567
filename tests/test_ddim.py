"""DDIM (Song et al. 2021, eqs. 12 and 16): the step, the strided loop, and bad input."""
import math

import pytest
import torch

from helpers.ddim import ddim_sample_loop, ddim_sigma, ddim_step, ddim_timesteps
from helpers.denoiser import OptimalDenoiser
from helpers.forward import q_sample
from helpers.networks import TimeEmbeddingNet
from helpers.sampling import p_sample, reverse_variance
from helpers.schedule import cosine_schedule, linear_schedule

T = 180


def _oracle(eps: torch.Tensor):
    """A 'network' that returns the true noise of each point: ε_θ(x_t, t) = ε."""
    return lambda x, t: eps


def test_timesteps_are_strided_and_end_at_T():
    for S in (1, 10, 20, 50, 100, 179, 180):
        tau = ddim_timesteps(T, S)
        assert tau.shape == (S,) and tau.dtype == torch.long
        assert int(tau[-1]) == T and int(tau[0]) >= 1
        assert bool((tau[1:] > tau[:-1]).all())            # distinct, increasing
        gaps = (tau[1:] - tau[:-1]).float()
        if S > 1:                                         # evenly spaced up to rounding
            assert float(gaps.max() - gaps.min()) <= 1.0
    assert ddim_timesteps(T, T).tolist() == list(range(1, T + 1))
    assert ddim_timesteps(T, 10).tolist() == [18 * i for i in range(1, 11)]


def test_eta1_full_sequence_has_the_ddpm_posterior_variance():
    """σ² of eq. 16 with η = 1, s = t − 1 is β̃_t (Ho et al. eq. 7); η = 0 gives 0."""
    for sched in (linear_schedule(T), cosine_schedule(T)):
        beta_tilde = reverse_variance(sched, "beta_tilde")
        sig2 = torch.tensor([ddim_sigma(sched, t, t - 1, 1.0) ** 2 for t in range(1, T + 1)],
                            dtype=torch.float64)
        torch.testing.assert_close(sig2, beta_tilde[1:], rtol=1e-9, atol=1e-12)
        assert all(ddim_sigma(sched, t, t - 1, 0.0) == 0.0 for t in (1, 50, T))
        # σ scales linearly with η
        assert math.isclose(ddim_sigma(sched, 90, 60, 0.5), 0.5 * ddim_sigma(sched, 90, 60, 1.0))


def test_eta1_full_sequence_step_is_the_ddpm_ancestral_step():
    """With η = 1 and s = t − 1, DDIM's eq. 12 equals Ho et al.'s step with σ² = β̃_t, same z."""
    torch.manual_seed(0)
    sched = linear_schedule(T)
    net = TimeEmbeddingNet(T=T).double().eval()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 2, generator=g, dtype=torch.float64)
    z = torch.randn(64, 2, generator=g, dtype=torch.float64)
    for t in (1, 2, 10, 90, T):
        ours = ddim_step(net, sched, x, t, t - 1, eta=1.0, noise=z)
        ddpm = p_sample(net, sched, x, t, variance="beta_tilde", noise=z)
        torch.testing.assert_close(ours, ddpm, rtol=1e-9, atol=1e-10)


def test_eta0_step_with_true_noise_follows_the_forward_ray():
    """Given the true ε, a deterministic jump t → s lands on x_s = √ᾱ_s x_0 + √(1−ᾱ_s) ε exactly."""
    sched = cosine_schedule(T)
    g = torch.Generator().manual_seed(2)
    x0 = torch.randn(32, 2, generator=g, dtype=torch.float64)
    eps = torch.randn(32, 2, generator=g, dtype=torch.float64)
    for t, s in ((T, 0), (T, 150), (100, 37), (5, 4)):
        x_t = q_sample(sched, x0, t, noise=eps)
        x_s = ddim_step(_oracle(eps), sched, x_t, t, s, eta=0.0)
        torch.testing.assert_close(x_s, q_sample(sched, x0, s, noise=eps), rtol=1e-9, atol=1e-10)


def test_eta1_strided_step_keeps_the_forward_marginal():
    """q_σ(x_s | x_0) = N(√ᾱ_s x_0, (1 − ᾱ_s) I) for any η (Song et al. Lemma 1): Monte Carlo check."""
    sched = linear_schedule(T)
    n = 40_000
    g = torch.Generator().manual_seed(3)
    x0 = torch.tensor([[0.7, -0.3]], dtype=torch.float64).expand(n, 2)
    eps = torch.randn(n, 2, generator=g, dtype=torch.float64)
    t, s = 120, 60
    x_s = ddim_step(_oracle(eps), sched, q_sample(sched, x0, t, noise=eps), t, s, eta=1.0, generator=g)
    ab_s = float(sched.alpha_bar[s])
    resid = x_s - math.sqrt(ab_s) * x0
    se_mean = math.sqrt((1 - ab_s) / n)
    assert resid.mean(0).abs().max() < 5 * se_mean
    var = resid.var(0)
    assert (var / (1 - ab_s) - 1).abs().max() < 5 * math.sqrt(2 / n)


def test_eta0_with_optimal_denoiser_is_deterministic_and_lands_on_training_points():
    """The empirical optimal denoiser memorises: with enough DDIM steps every sample is a
    training point; with very few the coarse last jump still averages neighbours."""
    sched = linear_schedule(T)
    angle = torch.arange(12, dtype=torch.float64) * (2 * math.pi / 12)
    train_pts = 2.0 * torch.stack([angle.cos(), angle.sin()], 1)   # 12 points ≥ 1 apart
    model = OptimalDenoiser(sched, x0_train=train_pts)
    x_T = torch.randn(120, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    mean_dist = {}
    for S in (10, 20, 50, 90):
        a = ddim_sample_loop(model, sched, 120, S, eta=0.0, x_T=x_T, generator=5)
        b = ddim_sample_loop(model, sched, 120, S, eta=0.0, x_T=x_T, generator=6)
        assert torch.equal(a, b)                          # no randomness besides x_T
        assert a.dtype == torch.float64
        d = torch.cdist(a, train_pts)
        mean_dist[S] = float(d.min(1).values.mean())
        if S >= 50:
            assert float(d.min(1).values.max()) < 1e-3, (S, float(d.min(1).values.max()))
            assert len(set(d.argmin(1).tolist())) == 12   # no collapse: every point is reached
    # the discretisation error shrinks with the number of steps
    assert mean_dist[10] > mean_dist[20] > mean_dist[50] and mean_dist[10] > 0.05


def test_clip_x0_clamps_the_denoised_estimate_and_keeps_the_update_consistent():
    """With clip_x0 the jump to s = 0 returns the clamped x̂_0; a loose clip changes nothing;
    with an oracle ε whose x_0 lies inside the clip, the eq. 12 step is unchanged."""
    sched = cosine_schedule(T)
    g = torch.Generator().manual_seed(9)
    x_t = 3 * torch.randn(200, 2, generator=g, dtype=torch.float64)
    wild = lambda x, t: -x    # ε̂ = −x_t: x̂_0 = (1 + √(1−ᾱ)) x_t / √ᾱ, huge near T
    out = ddim_step(wild, sched, x_t, T, 0, clip_x0=2.5)
    assert float(out.abs().max()) <= 2.5 + 1e-12 and float(out.abs().max()) > 2.4
    x_s = ddim_step(wild, sched, x_t, T, 150, clip_x0=2.5)
    assert float(x_s.abs().max()) < 2.5 + float(x_t.abs().max())   # bounded by the clip + x_t
    assert float(ddim_step(wild, sched, x_t, T, 150).abs().max()) > 1e3
    x0 = torch.rand(200, 2, generator=g, dtype=torch.float64) - 0.5
    eps = torch.randn(200, 2, generator=g, dtype=torch.float64)
    xt = q_sample(sched, x0, 90, noise=eps)
    torch.testing.assert_close(ddim_step(_oracle(eps), sched, xt, 90, 30, clip_x0=1.0),
                               ddim_step(_oracle(eps), sched, xt, 90, 30), rtol=1e-9, atol=1e-10)
    with pytest.raises(ValueError, match="clip_x0"):
        ddim_step(wild, sched, x_t, T, 0, clip_x0=0.0)


def test_loop_trajectory_layout_and_reproducibility():
    sched = linear_schedule(T)
    net = TimeEmbeddingNet(T=T).eval()
    traj, times = ddim_sample_loop(net, sched, 50, 20, eta=1.0, generator=7, return_trajectory=True)
    assert traj.shape == (21, 50, 2) and times.tolist() == [0] + ddim_timesteps(T, 20).tolist()
    x0 = ddim_sample_loop(net, sched, 50, 20, eta=1.0, generator=7)
    torch.testing.assert_close(traj[0], x0)
    assert not torch.equal(x0, ddim_sample_loop(net, sched, 50, 20, eta=1.0, generator=8))


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_steps=0), "n_steps"),
    (dict(n_steps=T + 1), "n_steps"),
    (dict(eta=-0.1), "eta"),
    (dict(eta=1.5), "eta"),
    (dict(eta=float("nan")), "eta"),
    (dict(n=0), "n must"),
    (dict(x_T=torch.zeros(3, 2)), "x_T"),
    (dict(x_T=torch.zeros(5, 3)), "x_T"),
    (dict(generator="seed"), "generator"),
])
def test_loop_rejects_bad_input(kwargs, match):
    args = dict(n=5, n_steps=10, eta=0.0)
    args.update(kwargs)
    net = TimeEmbeddingNet(T=T)
    with pytest.raises(ValueError, match=match):
        ddim_sample_loop(net, linear_schedule(T), **args)


def test_step_rejects_bad_input():
    sched = linear_schedule(T)
    net = TimeEmbeddingNet(T=T)
    x = torch.zeros(4, 2)
    with pytest.raises(ValueError, match="t_prev"):
        ddim_step(net, sched, x, 10, 10)
    with pytest.raises(ValueError, match="t must"):
        ddim_step(net, sched, x, 0, 0)
    with pytest.raises(ValueError, match="t must"):
        ddim_step(net, sched, x, T + 1, 3)
    with pytest.raises(ValueError, match="x_t"):
        ddim_step(net, sched, torch.full((4, 2), float("nan")), 10, 5)
    with pytest.raises(ValueError, match="model must return"):
        ddim_step(lambda x, t: x[:, :1], sched, x, 10, 5)
    with pytest.raises(ValueError, match="noise"):
        ddim_step(net, sched, x, 10, 5, eta=1.0, noise=torch.zeros(3, 2))
    with pytest.raises(ValueError, match="schedule"):
        ddim_step(net, "linear", x, 10, 5)


def test_exercise_check_accepts_the_jump_and_rejects_common_mistakes(capsys):
    from helpers.ddim import check_07_ddim_step

    def right(schedule, x_t, t, s, eps):
        x0 = (x_t - (1 - schedule.alpha_bar[t]).sqrt() * eps) / schedule.alpha_bar[t].sqrt()
        return schedule.alpha_bar[s].sqrt() * x0 + (1 - schedule.alpha_bar[s]).sqrt() * eps

    def uses_alpha(schedule, x_t, t, s, eps):
        x0 = (x_t - (1 - schedule.alpha[t]).sqrt() * eps) / schedule.alpha[t].sqrt()
        return schedule.alpha[s].sqrt() * x0 + (1 - schedule.alpha[s]).sqrt() * eps

    assert check_07_ddim_step(right) is True
    assert check_07_ddim_step(uses_alpha) is False
    assert check_07_ddim_step(lambda *a: 1 / 0) is False
    assert check_07_ddim_step(lambda sch, x, t, s, e: x[:3]) is False
    out = capsys.readouterr().out
    assert out.count("Correct") == 1 and "ZeroDivisionError" in out and "shape" in out
    with pytest.raises(ValueError, match="fn must be"):
        check_07_ddim_step("not a function")
