"""The variational bound (Ho et al. 2020, eqs. 3, 5, 8–12) and the simple loss (eq. 14).

    −log p_θ(x_0) ≤ L = L_T + Σ_{t=2}^{T} L_{t−1} + L_0                          (eq. 5)
    L_T     = KL( q(x_T | x_0) ‖ N(0, I) )
    L_{t−1} = E_q KL( q(x_{t−1} | x_t, x_0) ‖ p_θ(x_{t−1} | x_t) ),  t = 2..T
    L_0     = E_q [ −log p_θ(x_0 | x_1) ]

The reverse model is p_θ(x_{t−1} | x_t) = N(μ_θ(x_t, t), σ_t² I) with the
ε-parameterisation (eq. 11)  μ_θ = (x_t − β_t / √(1 − ᾱ_t) · ε_θ(x_t, t)) / √α_t,
and σ_t² fixed to β_t ("large") or β̃_t ("small"), both used by Ho et al.

Decoder (our choice for 2-D data). Ho et al. discretise L_0 for 8-bit images; our
data are continuous (curve points plus Gaussian jitter), so the decoder is the same
Gaussian as every other step: p_θ(x_0 | x_1) = N(μ_θ(x_1, 1), σ_1² I) with
σ_1² = β_1 in both variance choices (β̃_1 = 0 would be a point mass). L is then an
upper bound on the differential negative log-likelihood in nats per point.

All terms are in nats per point, summed over the 2 coordinates.
"""
from __future__ import annotations

from typing import Callable

import torch

from ._checks import check_float, check_points, check_timesteps
from .forward import q_sample
from .gaussian import normal_kl, normal_log_prob
from .posterior import _column, q_posterior
from .sampling import VARIANCES, reverse_variance
from .schedule import Schedule, check_schedule, prior_kl_per_point

Model = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def elbo_variance(schedule: Schedule, variance: str = "beta") -> torch.Tensor:
    """σ_t² of p_θ in the bound, t = 0..T (float64): ``helpers.sampling.reverse_variance``
    (β_t or β̃_t), except σ_1² = β_1 always — the Gaussian decoder needs σ_1² > 0 and β̃_1 = 0."""
    check_schedule("schedule", schedule)
    var = reverse_variance(schedule, variance).clone()
    var[1] = schedule.beta[1]
    return var


def model_mean_from_eps(schedule: Schedule, x_t: torch.Tensor, t, eps: torch.Tensor) -> torch.Tensor:
    """μ_θ(x_t, t) = (x_t − β_t / √(1 − ᾱ_t) · ε) / √α_t  (eq. 11), t in [1, T]."""
    check_schedule("schedule", schedule)
    x_t = check_points("x_t", x_t)
    eps = check_points("eps", eps)
    if eps.shape != x_t.shape:
        raise ValueError(f"eps must have the same shape as x_t {tuple(x_t.shape)}, got {tuple(eps.shape)}")
    t = check_timesteps("t", t, x_t.shape[0], schedule.T, lo=1)
    beta = _column(schedule.beta, t, x_t)
    ab = _column(schedule.alpha_bar, t, x_t)
    alpha = _column(schedule.alpha, t, x_t)
    return (x_t - beta / (1 - ab).sqrt() * eps.to(x_t.dtype)) / alpha.sqrt()


def loss_weights(schedule: Schedule, variance: str = "beta") -> torch.Tensor:
    """λ_t = β_t² / (2 σ_t² α_t (1 − ᾱ_t)) for t = 0..T (entry 0 padding = 0)  (eq. 12).

    With the ε-parameterisation, L_{t−1} = C_t + λ_t E‖ε − ε_θ‖² for t ≥ 2, and L_0 with
    the Gaussian decoder is C_1 + λ_1 E‖ε − ε_θ‖². L_simple (eq. 14) sets every λ_t to
    the same constant — these are the weights it drops.
    """
    sigma2 = elbo_variance(schedule, variance)
    lam = torch.zeros(schedule.T + 1, dtype=torch.float64)
    b, a, ab = schedule.beta[1:], schedule.alpha[1:], schedule.alpha_bar[1:]
    lam[1:] = b ** 2 / (2 * sigma2[1:] * a * (1 - ab))
    return lam


def prior_term(schedule: Schedule, x0: torch.Tensor) -> torch.Tensor:
    """L_T per point, shape ``(n,)``: KL( N(√ᾱ_T x_0, (1 − ᾱ_T) I) ‖ N(0, I) ) (eq. 5);
    the formula lives in ``helpers.schedule.prior_kl_per_point``."""
    return prior_kl_per_point(schedule, x0)


def _check_model(model) -> None:
    if not callable(model):
        raise ValueError(f"model must be callable as model(x_t, t) -> eps, got {type(model).__name__}")


def _model_eps(model: Model, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """ε_θ(x_t, t) in float64 on x_t's device (the CPU). The model sees x_t cast to its own
    parameters' dtype and device (float32 for nn.Modules, a GPU if it lives there)."""
    with torch.no_grad():
        eps = model(_model_input(x_t, model), t)
    if not isinstance(eps, torch.Tensor):
        raise ValueError(f"model output must be a tensor of shape {tuple(x_t.shape)}, got {type(eps).__name__}")
    # back to x_t's device *before* float64: Apple's MPS has no float64
    eps = check_points("model output", eps.detach().to(x_t.device))
    if eps.shape != x_t.shape:
        raise ValueError(f"model output must have shape {tuple(x_t.shape)}, got {tuple(eps.shape)}")
    return eps.double()


def _model_input(x: torch.Tensor, model: Model) -> torch.Tensor:
    """Cast to the model's parameter dtype/device (float32 for nn.Modules), else keep."""
    params = getattr(model, "parameters", None)
    if callable(params):
        p = next(iter(params()), None)
        if p is not None:
            return x.to(device=p.device, dtype=p.dtype)
    return x


def kl_term(schedule: Schedule, model: Model, x0: torch.Tensor, t, variance: str = "beta",
            generator: torch.Generator | None = None, noise: torch.Tensor | None = None) -> torch.Tensor:
    """L_{t−1} per point, shape ``(n,)``, t in [2, T]: KL( q(x_{t−1}|x_t,x_0) ‖ N(μ_θ, σ_t² I) )
    at one draw x_t ~ q(x_t | x_0) (eq. 4; pass ``noise`` to fix it)."""
    check_schedule("schedule", schedule)
    _check_model(model)
    x0 = check_points("x0", x0).double()
    t = check_timesteps("t", t, x0.shape[0], schedule.T, lo=2)
    x_t = q_sample(schedule, x0, t, noise=noise, generator=generator)
    mean, var = q_posterior(schedule, x0, x_t, t)
    eps = _model_eps(model, x_t, t)
    mu = model_mean_from_eps(schedule, x_t, t, eps)
    sigma2 = _column(elbo_variance(schedule, variance), t, x_t)
    return normal_kl(mean, var, mu, sigma2).sum(-1)


def decoder_nll(schedule: Schedule, model: Model, x0: torch.Tensor, variance: str = "beta",
                generator: torch.Generator | None = None, noise: torch.Tensor | None = None) -> torch.Tensor:
    """L_0 per point, shape ``(n,)``: −log N(x_0; μ_θ(x_1, 1), σ_1² I) at one draw x_1 ~ q(x_1 | x_0)."""
    check_schedule("schedule", schedule)
    _check_model(model)
    x0 = check_points("x0", x0).double()
    t = torch.ones(x0.shape[0], dtype=torch.long)
    x_1 = q_sample(schedule, x0, t, noise=noise, generator=generator)
    eps = _model_eps(model, x_1, t)
    mu = model_mean_from_eps(schedule, x_1, t, eps)
    sigma2 = _column(elbo_variance(schedule, variance), t, x_1)
    return -normal_log_prob(x0, mu, sigma2).sum(-1)


def elbo_terms(schedule: Schedule, model: Model, x0: torch.Tensor, variance: str = "beta",
               generator: torch.Generator | None = None) -> torch.Tensor:
    """All terms of eq. 5 per point: shape ``(n, T + 1)``, column k holds L_k
    (L_0 the decoder, L_1..L_{T−1} the KLs at t = 2..T, L_T the prior), in nats.

    Each KL uses its own draw of x_t ~ q(x_t | x_0), so the row sum is an unbiased
    one-sample estimate of the bound L for each point. The model is called once on all
    n·(T − 1) pairs (x_t, t), so it must accept a batch of that size.
    """
    check_schedule("schedule", schedule)
    _check_model(model)
    x0 = check_points("x0", x0).double()
    if variance not in VARIANCES:
        raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")
    n, T = x0.shape[0], schedule.T
    l0 = decoder_nll(schedule, model, x0, variance, generator)
    cols = [l0.unsqueeze(1)]
    if T >= 2:
        # all t = 2..T in one batched call (row-major: every point at t = 2, then t = 3, …);
        # one big call is far faster than T small ones, and the model contract allows per-point t
        t_all = torch.arange(2, T + 1).repeat_interleave(n)
        kls = kl_term(schedule, model, x0.repeat(T - 1, 1), t_all, variance, generator)
        cols.append(kls.reshape(T - 1, n).T)
    cols.append(prior_term(schedule, x0).unsqueeze(1))
    return torch.cat(cols, dim=1)


def negative_elbo(schedule: Schedule, model: Model, x0: torch.Tensor, variance: str = "beta",
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """L = −ELBO per point (eq. 5), shape ``(n,)``, nats: an upper bound on −log p_θ(x_0)."""
    return elbo_terms(schedule, model, x0, variance, generator).sum(1)


def simple_loss(model: Model, schedule: Schedule, x0: torch.Tensor,
                generator: torch.Generator | None = None, t=None,
                noise: torch.Tensor | None = None, reduction: str = "mean") -> torch.Tensor:
    """L_simple = E_{t, x_0, ε} ‖ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖²  (eq. 14), differentiable.

    t ~ Uniform{1..T} and ε ~ N(0, I) per point unless given. As in the article the
    squared error is averaged over points *and* the 2 coordinates (``.square().mean()``),
    i.e. eq. 14 divided by 2 — a constant factor that changes no minimiser.
    ``reduction="none"`` returns the per-point losses, shape ``(n,)``, instead of their mean.
    """
    if reduction not in ("mean", "none"):
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    check_schedule("schedule", schedule)
    _check_model(model)
    x0 = check_points("x0", x0)
    n = x0.shape[0]
    if t is None:
        t = torch.randint(1, schedule.T + 1, (n,), generator=generator).to(x0.device)
    t = check_timesteps("t", t, n, schedule.T, lo=1, device=x0.device)
    if noise is None:
        noise = torch.randn(x0.shape, generator=generator).to(device=x0.device, dtype=x0.dtype)
    noise = check_points("noise", noise).to(device=x0.device, dtype=x0.dtype)
    if noise.shape != x0.shape:
        raise ValueError(f"noise must have the same shape as x0 {tuple(x0.shape)}, got {tuple(noise.shape)}")
    x_t = q_sample(schedule, x0, t, noise=noise)
    eps_pred = model(x_t, t)
    if not isinstance(eps_pred, torch.Tensor) or eps_pred.shape != x0.shape:
        raise ValueError(f"model output must be a tensor of shape {tuple(x0.shape)}, "
                         f"got {getattr(eps_pred, 'shape', type(eps_pred).__name__)}")
    per_point = (noise.to(eps_pred.dtype) - eps_pred).square().mean(dim=1)
    return per_point.mean() if reduction == "mean" else per_point


def gaussian_nll(x0: torch.Tensor, var: float) -> torch.Tensor:
    """−log N(x_0; 0, var I) per point (the exact NLL of Gaussian data, for known-answer checks)."""
    x0 = check_points("x0", x0).double()
    var = check_float("var", var, 0.0, lo_open=True)
    return -normal_log_prob(x0, torch.zeros(()), torch.tensor(var, dtype=torch.float64)).sum(-1)
