"""Forward process: one step (eq. 2), the closed form (eq. 4), and that the two agree."""
import math

import pytest
import torch

from helpers.data import Normalizer, sample
from helpers.forward import q_chain, q_sample, q_step
from helpers.schedule import cosine_schedule, linear_schedule
from helpers.stats import ks_critical_value, sliced_ks

S = linear_schedule()


def test_q_sample_with_given_noise_by_hand():
    s = linear_schedule(3, beta_1=0.1, beta_T=0.3)
    x0 = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    eps = torch.tensor([[0.5, 0.25]], dtype=torch.float64)
    # t = 2: ᾱ = 0.9·0.8 = 0.72
    want = math.sqrt(0.72) * x0 + math.sqrt(0.28) * eps
    assert torch.allclose(q_sample(s, x0, 2, noise=eps), want)
    assert torch.equal(q_sample(s, x0, 0, noise=eps), x0)  # t = 0 is x_0


def test_q_step_with_given_noise_by_hand():
    s = linear_schedule(3, beta_1=0.1, beta_T=0.3)
    x = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    eps = torch.tensor([[0.5, 0.25]], dtype=torch.float64)
    assert torch.allclose(q_step(s, x, 3, noise=eps), math.sqrt(0.7) * x + math.sqrt(0.3) * eps)


def test_q_chain_is_q_step_iterated():
    x0 = torch.randn(7, 2, generator=torch.Generator().manual_seed(0))
    chain = q_chain(S, x0, t_end=12, generator=torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(1)
    x = x0
    for t in range(1, 13):
        x = q_step(S, x, t, generator=g)
        assert torch.allclose(chain[t], x, atol=1e-6), t


def test_per_point_timesteps():
    x0 = torch.ones(3, 2, dtype=torch.float64)
    eps = torch.zeros(3, 2, dtype=torch.float64)
    out = q_sample(S, x0, torch.tensor([0, 10, 180]), noise=eps)
    assert out[:, 0].tolist() == pytest.approx(S.alpha_bar[[0, 10, 180]].sqrt().tolist())


@pytest.mark.parametrize("schedule", [S, cosine_schedule()], ids=["linear", "cosine"])
def test_chain_moments_match_closed_form(schedule):
    # Start N copies of one point x_0 and iterate eq. 2 up to T. By eq. 4, x_t given x_0 is
    # N(√ᾱ_t x_0, (1-ᾱ_t) I): compare the sample mean (SE √(var/N)) and the sample variance
    # (SE var·√(2/N)) with it, within 5 standard errors, at several t.
    n = 10_000
    g = torch.Generator().manual_seed(0)
    x0 = torch.tensor([[1.5, -0.8]], dtype=torch.float64).repeat(n, 1)
    chain = q_chain(schedule, x0, generator=g)
    assert chain.shape == (schedule.T + 1, n, 2)
    assert torch.equal(chain[0], x0)
    for t in (1, 5, 20, 50, 90, 140, schedule.T):
        ab = float(schedule.alpha_bar[t])
        var = 1 - ab
        xt = chain[t]
        mean_err = (xt.mean(0) - math.sqrt(ab) * x0[0]).abs().max()
        assert float(mean_err) < 5 * math.sqrt(var / n), t
        var_err = (xt.var(0) - var).abs().max()
        assert float(var_err) < 5 * var * math.sqrt(2 / n), t
        corr = torch.corrcoef(xt.T)[0, 1]
        assert abs(float(corr)) < 5 / math.sqrt(n), t


def test_chain_and_closed_form_same_distribution_two_sample():
    # On the butterfly itself (many x_0), a sliced KS statistic cannot tell the chain from
    # the closed form, yet it clearly tells x_20 from x_40.
    n = 8000
    g = torch.Generator().manual_seed(1)
    x = sample(n, generator=2)
    x0 = Normalizer.fit(x).encode(x).double()
    chain = q_chain(S, x0, t_end=40, generator=g)
    crit = ks_critical_value(n, n, alpha=1e-3 / 8)
    closed20 = q_sample(S, x0, 20, generator=g)
    assert sliced_ks(chain[20], closed20) < crit
    assert sliced_ks(chain[40], closed20) > crit


def test_generator_reproducible_and_dtype_kept():
    x0 = torch.zeros(5, 2)
    a = q_sample(S, x0, 50, generator=torch.Generator().manual_seed(3))
    b = q_sample(S, x0, 50, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.dtype == torch.float32
    c = q_chain(S, x0, t_end=4, generator=torch.Generator().manual_seed(3))
    assert c.shape == (5, 5, 2) and c.dtype == torch.float32


@pytest.mark.parametrize("call,name", [
    (lambda: q_sample(S, torch.zeros(4, 2), 181), "t"),
    (lambda: q_sample(S, torch.zeros(4, 2), -1), "t"),
    (lambda: q_sample(S, torch.zeros(4, 2), 2.0), "t"),
    (lambda: q_sample(S, torch.zeros(4, 2), torch.tensor([1, 2])), "t"),
    (lambda: q_sample(S, torch.zeros(4), 3), "x0"),
    (lambda: q_sample(S, torch.zeros(4, 2), 3, noise=torch.zeros(3, 2)), "noise"),
    (lambda: q_sample(torch.zeros(4, 2), S, 3), "schedule"),
    (lambda: q_sample(S, torch.zeros(4, 2), 3, generator=0), "generator"),
    (lambda: q_step(S, torch.zeros(4, 2), 0), "t"),
    (lambda: q_step(S, torch.zeros(4, 3), 1), "x_prev"),
    (lambda: q_chain(S, torch.zeros(4, 2), t_end=181), "t_end"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()
