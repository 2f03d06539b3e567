"""ELBO terms (eqs. 5, 8-12) and the simple loss (eq. 14), with a known-answer Gaussian case."""
import math

import pytest
import torch

from helpers.elbo import (decoder_nll, elbo_terms, gaussian_nll, kl_term, loss_weights, model_mean_from_eps,
                          elbo_variance, negative_elbo, prior_term, simple_loss)
from helpers.forward import q_sample
from helpers.gaussian import normal_kl, normal_log_prob
from helpers.posterior import posterior_coefficients
from helpers.schedule import linear_schedule, prior_kl

S = linear_schedule()
S25 = linear_schedule(25)  # short chain: the ELBO tests evaluate every term


class GaussianOptimalEps:
    """ε*(x_t, t) = E[ε | x_t] for x_0 ~ N(0, s² I): √(1−ᾱ) x_t / (ᾱ s² + 1 − ᾱ)."""

    def __init__(self, schedule, s):
        self.ab, self.s2 = schedule.alpha_bar, s * s

    def __call__(self, x, t):
        ab = self.ab[t].unsqueeze(-1).to(x.dtype)
        return (1 - ab).sqrt() * x / (ab * self.s2 + 1 - ab)


def exact_model_variance(schedule, s, variance):
    """p_θ(x_0) for the linear-Gaussian reverse chain x_{t-1} = a_t x_t + σ_t z, x_T ~ N(0, 1): N(0, V_0)."""
    sigma2 = elbo_variance(schedule, variance)
    V = 1.0
    for t in range(schedule.T, 0, -1):
        ab, b, a = schedule.alpha_bar[t], schedule.beta[t], schedule.alpha[t]
        k = (1 - ab).sqrt() / (ab * s * s + 1 - ab)       # ε* = k x_t
        a_t = (1 - b / (1 - ab).sqrt() * k) / a.sqrt()    # μ_θ = a_t x_t (eq. 11)
        V = a_t ** 2 * V + sigma2[t]
    return float(V)


def test_normal_kl_matches_sampled_estimate():
    g = torch.Generator().manual_seed(0)
    m1, v1, m2, v2 = 0.3, 0.5, -0.4, 1.7
    n = 400_000
    x = m1 + math.sqrt(v1) * torch.randn(n, generator=g, dtype=torch.float64)
    ratio = normal_log_prob(x, torch.tensor(m1), torch.tensor(v1)) - normal_log_prob(x, torch.tensor(m2), torch.tensor(v2))
    kl = float(normal_kl(torch.tensor(m1), torch.tensor(v1), torch.tensor(m2), torch.tensor(v2)))
    assert abs(float(ratio.mean()) - kl) < 5 * float(ratio.std()) / math.sqrt(n)
    assert kl > 0.1  # a case where the KL is far from 0, so the check has teeth


@pytest.mark.parametrize("variance", ["beta", "beta_tilde"])
def test_kl_term_is_weighted_eps_error_eq12(variance):
    # L_{t-1} = C_t + λ_t ‖ε − ε_θ‖² for ANY ε_θ (here a random linear map), with
    # C_t = d/2 [log(σ²/β̃) + β̃/σ² − 1].
    g = torch.Generator().manual_seed(1)
    W = torch.randn(2, 2, generator=g, dtype=torch.float64)
    model = lambda x, t: x @ W + 0.1 * t.unsqueeze(-1).double()
    x0 = torch.randn(64, 2, generator=g, dtype=torch.float64)
    lam, sigma2, bt = loss_weights(S, variance), elbo_variance(S, variance), posterior_coefficients(S).var
    for t in (2, 7, 100, 180):
        eps = torch.randn(64, 2, generator=g, dtype=torch.float64)
        got = kl_term(S, model, x0, t, variance, noise=eps)
        xt = q_sample(S, x0, t, noise=eps)
        C = float(0.5 * 2 * (torch.log(sigma2[t] / bt[t]) + bt[t] / sigma2[t] - 1))
        want = C + lam[t] * (eps - model(xt, torch.full((64,), t))).pow(2).sum(-1)
        assert torch.allclose(got, want, rtol=1e-9, atol=1e-9)


def test_float32_network_gets_float32_input_and_float64_terms():
    # an nn.Module with float32 weights: the bound casts x_t to float32 for it and computes the
    # terms in float64; the result matches the same linear map applied in float64
    torch.manual_seed(0)
    lin = torch.nn.Linear(2, 2)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.seen = lin, []

        def forward(self, x, t):
            self.seen.append(x.dtype)
            return self.lin(x)

    net = Net()
    W, b = lin.weight.detach().double(), lin.bias.detach().double()
    x0 = torch.randn(16, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    eps = torch.randn(16, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    got = kl_term(S, net, x0, 40, noise=eps)
    assert net.seen == [torch.float32] and got.dtype == torch.float64
    want = kl_term(S, lambda x, t: x @ W.T + b, x0, 40, noise=eps)   # a plain callable: float64 throughout
    assert torch.allclose(got, want, rtol=1e-4)
    assert not torch.allclose(got, kl_term(S, lambda x, t: x @ W + b, x0, 40, noise=eps), rtol=1e-4)


def test_decoder_nll_is_weighted_eps_error():
    g = torch.Generator().manual_seed(2)
    model = lambda x, t: 0.5 * x
    x0 = torch.randn(32, 2, generator=g, dtype=torch.float64)
    eps = torch.randn(32, 2, generator=g, dtype=torch.float64)
    got = decoder_nll(S, model, x0, noise=eps)
    x1 = q_sample(S, x0, 1, noise=eps)
    lam1, s1 = loss_weights(S)[1], S.beta[1]
    want = lam1 * (eps - model(x1, None)).pow(2).sum(-1) + math.log(2 * math.pi * s1)
    assert torch.allclose(got, want, rtol=1e-9)
    # and μ_θ(x_1, 1) is eq. 11
    mu = model_mean_from_eps(S, x1, 1, model(x1, None))
    assert torch.allclose(got, -normal_log_prob(x0, mu, s1).sum(-1))


def test_prior_term_per_point_by_hand():
    # 3-step chain with ᾱ_3 = 0.9·0.8·0.7 = 0.504; per coordinate KL = ½[ᾱ x² + (1 − ᾱ) − ln(1 − ᾱ) − 1]
    s, ab = linear_schedule(3, beta_1=0.1, beta_T=0.3), 0.504
    x0 = torch.tensor([[1.0, -2.0], [0.0, 0.5]])
    want = [sum(0.5 * (ab * v * v + (1 - ab) - math.log(1 - ab) - 1) for v in row) for row in x0.tolist()]
    assert prior_term(s, x0).tolist() == pytest.approx(want, rel=1e-12)
    assert prior_kl(s, x0) == pytest.approx(sum(want) / 2, rel=1e-12)  # the prior check is their mean


def test_elbo_equals_exact_nll_for_unit_gaussian_data():
    # Known answer. x_0 ~ N(0, I) makes every marginal N(0, I), and the true reverse step is
    # q(x_{t-1}|x_t) = N(√α_t x_t, β_t I). The ε-model ε* = √(1−ᾱ_t) x_t gives μ_θ = √α_t x_t
    # (eq. 11), so with σ_t² = β_t the model chain IS the forward chain reversed:
    # p_θ(x_{0:T}) = q(x_{0:T}), the gap KL(q(x_{1:T}|x_0) ‖ p_θ(x_{1:T}|x_0)) is 0, and
    # E[−ELBO] = E[−log N(x_0; 0, I)] = log(2π) + 1 exactly (up to Monte Carlo error).
    n = 20_000  # SE ≈ 0.011 nats: a model 5% off (gap ≈ 0.064) fails this test
    g = torch.Generator().manual_seed(4)
    x0 = torch.randn(n, 2, generator=g, dtype=torch.float64)
    state = g.get_state()
    L = negative_elbo(S25, GaussianOptimalEps(S25, 1.0), x0, "beta", generator=g)
    diff = L - gaussian_nll(x0, 1.0)
    assert abs(float(diff.mean())) < 5 * float(diff.std()) / math.sqrt(n) + 1e-9
    # the same check has teeth: ε* scaled by 1.1 leaves a gap of ≈ 0.27 nats (≈ 23 SE)
    g.set_state(state)
    off = negative_elbo(S25, lambda x, t: 1.1 * GaussianOptimalEps(S25, 1.0)(x, t), x0, "beta", generator=g)
    diff_off = off - gaussian_nll(x0, 1.0)
    assert float(diff_off.mean()) > 5 * float(diff_off.std()) / math.sqrt(n)
    assert exact_model_variance(S25, 1.0, "beta") == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("s,variance", [(0.2, "beta"), (3.0, "beta"), (0.5, "beta_tilde"), (1.0, "beta_tilde")])
def test_elbo_bounds_exact_model_nll_with_a_gap(s, variance):
    # p_θ is a linear-Gaussian chain, so p_θ(x_0) = N(0, V_0 I) is known exactly. −ELBO ≥ −log p_θ(x_0)
    # with equality only if σ_t² equals the true reverse variance at every t, which fails here.
    n = 4000
    g = torch.Generator().manual_seed(5)
    x0 = s * torch.randn(n, 2, generator=g, dtype=torch.float64)
    L = negative_elbo(S25, GaussianOptimalEps(S25, s), x0, variance, generator=g)
    gap = L - gaussian_nll(x0, exact_model_variance(S25, s, variance))
    assert float(gap.mean()) > 5 * float(gap.std()) / math.sqrt(n)


def test_elbo_terms_layout():
    x0 = torch.randn(10, 2, generator=torch.Generator().manual_seed(6))
    terms = elbo_terms(S25, GaussianOptimalEps(S25, 1.0), x0, generator=torch.Generator().manual_seed(0))
    assert terms.shape == (10, S25.T + 1)
    assert torch.allclose(terms[:, -1], prior_term(S25, x0))
    assert (terms[:, 1:] >= 0).all()  # KLs are non-negative; L_0 (a density) need not be


def test_simple_loss_known_answer_and_gradient():
    # For x_0 ~ N(0, s² I) and the optimal ε*, the per-coordinate error is Var(ε|x_t) = ᾱ s²/(ᾱ s² + 1 − ᾱ);
    # L_simple averages it over t ~ U{1..T}.
    s, n = 0.7, 200_000
    g = torch.Generator().manual_seed(7)
    x0 = s * torch.randn(n, 2, generator=g, dtype=torch.float64)
    per_point = simple_loss(GaussianOptimalEps(S, s), S, x0, generator=g, reduction="none")
    ab = S.alpha_bar[1:]
    want = float((ab * s * s / (ab * s * s + 1 - ab)).mean())
    se = float(per_point.std()) / math.sqrt(n)  # ≈ 0.001: t ~ U{1..T} and ε are both random
    assert abs(float(per_point.mean()) - want) < 5 * se
    # a 20% wrong predictor is far outside that band (excess error 0.04·E‖ε*‖²/2 ≈ 0.027)
    off = simple_loss(lambda x, t: 1.2 * GaussianOptimalEps(S, s)(x, t), S, x0, generator=g)
    assert float(off) - want > 5 * se
    zero = simple_loss(lambda x, t: torch.zeros_like(x), S, x0, generator=g, reduction="none")
    assert abs(float(zero.mean()) - 1.0) < 5 * float(zero.std()) / math.sqrt(n)  # E[ε²] = 1
    net = torch.nn.Linear(2, 2)
    out = simple_loss(lambda x, t: net(x), S, x0[:100].float(), generator=g)
    out.backward()
    assert net.weight.grad is not None and torch.isfinite(net.weight.grad).all()


def test_simple_loss_with_fixed_t_and_noise():
    x0 = torch.randn(8, 2, generator=torch.Generator().manual_seed(8))
    eps = torch.randn(8, 2, generator=torch.Generator().manual_seed(9))
    model = lambda x, t: 0.3 * x
    got = simple_loss(model, S, x0, t=17, noise=eps)
    want = (eps - 0.3 * q_sample(S, x0, 17, noise=eps)).square().mean()
    assert torch.allclose(got, want)
    per_point = simple_loss(model, S, x0, t=17, noise=eps, reduction="none")
    assert per_point.shape == (8,) and torch.allclose(per_point.mean(), want)


def test_loss_weights():
    lam = loss_weights(S, "beta")
    b, a, ab = S.beta, S.alpha, S.alpha_bar
    assert float(lam[1]) == pytest.approx(1 / (2 * float(a[1])))  # σ²=β: λ_t = β_t / (2 α_t (1−ᾱ_t))
    assert float(lam[90]) == pytest.approx(float(b[90] / (2 * a[90] * (1 - ab[90]))))
    assert float(lam[1]) > 5 * float(lam[1:].min())  # the true bound weights small t far more than L_simple
    assert (loss_weights(S, "beta_tilde")[2:] >= lam[2:]).all()  # β̃ ≤ β


def test_bad_input_raises():
    m = lambda x, t: x
    with pytest.raises(ValueError, match="variance"):
        loss_weights(S, "big")
    with pytest.raises(ValueError, match=r"t must be .*\[2, 180\]"):
        kl_term(S, m, torch.zeros(3, 2), 1)
    with pytest.raises(ValueError, match="x0"):
        simple_loss(m, S, torch.zeros(3))
    with pytest.raises(ValueError, match="t"):
        simple_loss(m, S, torch.zeros(3, 2), t=0)
    with pytest.raises(ValueError, match="model output"):
        simple_loss(lambda x, t: x[:, :1], S, torch.zeros(3, 2))
    with pytest.raises(ValueError, match="model output"):
        kl_term(S, lambda x, t: x * float("nan"), torch.zeros(3, 2), 5)
    with pytest.raises(ValueError, match="eps"):
        model_mean_from_eps(S, torch.zeros(3, 2), 5, torch.zeros(2, 2))
    with pytest.raises(ValueError, match="reduction"):
        simple_loss(m, S, torch.zeros(3, 2), reduction="sum")
    with pytest.raises(ValueError, match="var"):
        gaussian_nll(torch.zeros(3, 2), 0.0)
    with pytest.raises(ValueError, match="noise"):
        simple_loss(m, S, torch.zeros(3, 2), noise=torch.zeros(2, 2))
    with pytest.raises(ValueError, match="model output"):
        simple_loss(lambda x, t: x.tolist(), S, torch.zeros(3, 2))
    for call in (lambda: kl_term("linear", m, torch.zeros(3, 2), 5), lambda: decoder_nll(None, m, torch.zeros(3, 2)),
                 lambda: elbo_terms(3, m, torch.zeros(3, 2))):
        with pytest.raises(ValueError, match="schedule"):
            call()
    with pytest.raises(ValueError, match="model"):
        elbo_terms(S25, "net", torch.zeros(3, 2))


def test_gaussian_nll_hand_value():
    # −log N((1, 2); 0, 4 I) = ½ (1 + 4)/4 + log(2π · 4)
    got = gaussian_nll(torch.tensor([[1.0, 2.0]]), 4.0)
    assert float(got) == pytest.approx(0.5 * 5 / 4 + math.log(8 * math.pi), rel=1e-12)
