"""The forward-process posterior q(x_{t−1} | x_t, x_0) and the ε ↔ x_0 conversions.

Posterior (Ho et al. 2020, eqs. 6–7), for t = 1..T:

    q(x_{t−1} | x_t, x_0) = N(μ̃_t(x_t, x_0), β̃_t I)
    μ̃_t = √ᾱ_{t−1} β_t / (1 − ᾱ_t) · x_0  +  √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · x_t
    β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t

Inverting eq. 4, x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, gives x_0 from ε and ε from x_0.
At t = 1, ᾱ_0 = 1, so μ̃_1 = x_0 and β̃_1 = 0: the last step is deterministic.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from ._checks import check_points, check_timesteps
from .schedule import Schedule, check_schedule
from .schedule import column as _column  # values[t] as an (n, 1) column; used here and in elbo


class PosteriorCoefficients(NamedTuple):
    """Tensors of length T + 1 indexed by the paper's t (entry 0 is padding: 1, 0, 0).

    ``coef_x0[t]`` and ``coef_xt[t]`` are the weights of x_0 and x_t in μ̃_t (eq. 7),
    ``var[t]`` is β̃_t (eq. 7).
    """

    coef_x0: torch.Tensor
    coef_xt: torch.Tensor
    var: torch.Tensor


def posterior_coefficients(schedule: Schedule) -> PosteriorCoefficients:
    """Weights of x_0 and x_t in μ̃_t, and β̃_t, for every t (eq. 7), float64, length T + 1.

    coef_x0 = √ᾱ_{t−1} β_t / (1 − ᾱ_t),  coef_xt = √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t),
    var = β̃_t = (1 − ᾱ_{t−1}) β_t / (1 − ᾱ_t).
    """
    check_schedule("schedule", schedule)
    ab, ab_prev = schedule.alpha_bar[1:], schedule.alpha_bar[:-1]
    beta, alpha = schedule.beta[1:], schedule.alpha[1:]
    coef_x0 = ab_prev.sqrt() * beta / (1 - ab)
    coef_xt = alpha.sqrt() * (1 - ab_prev) / (1 - ab)
    var = (1 - ab_prev) * beta / (1 - ab)
    pad = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    return PosteriorCoefficients(torch.cat([pad[:1], coef_x0]), torch.cat([pad[1:2], coef_xt]),
                                 torch.cat([pad[2:], var]))


def _pair(schedule: Schedule, a_name: str, a, b_name: str, b, t, lo: int):
    check_schedule("schedule", schedule)
    a = check_points(a_name, a)
    b = check_points(b_name, b)
    if a.shape != b.shape:
        raise ValueError(f"{b_name} must have the same shape as {a_name} {tuple(a.shape)}, "
                         f"got {tuple(b.shape)}")
    b = b.to(device=a.device, dtype=a.dtype)
    t = check_timesteps("t", t, a.shape[0], schedule.T, lo=lo)
    return a, b, t


def q_posterior(schedule: Schedule, x0: torch.Tensor, x_t: torch.Tensor, t) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean μ̃_t(x_t, x_0) of shape ``(n, 2)`` and variance β̃_t of shape ``(n, 1)`` (eqs. 6–7).

    ``t`` is an int in [1, T] or a long tensor of shape ``(n,)`` (one t per point).
    """
    x0, x_t, t = _pair(schedule, "x0", x0, "x_t", x_t, t, lo=1)
    c = posterior_coefficients(schedule)
    mean = _column(c.coef_x0, t, x0) * x0 + _column(c.coef_xt, t, x0) * x_t
    return mean, _column(c.var, t, x0)


def predict_x0_from_eps(schedule: Schedule, x_t: torch.Tensor, t, eps: torch.Tensor) -> torch.Tensor:
    """x_0 = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t  (eq. 4 solved for x_0), t in [0, T]."""
    x_t, eps, t = _pair(schedule, "x_t", x_t, "eps", eps, t, lo=0)
    ab = _column(schedule.alpha_bar, t, x_t)
    return (x_t - (1 - ab).sqrt() * eps) / ab.sqrt()


def predict_eps_from_x0(schedule: Schedule, x_t: torch.Tensor, t, x0: torch.Tensor) -> torch.Tensor:
    """ε = (x_t − √ᾱ_t x_0) / √(1 − ᾱ_t)  (eq. 4 solved for ε), t in [1, T]."""
    x_t, x0, t = _pair(schedule, "x_t", x_t, "x0", x0, t, lo=1)
    ab = _column(schedule.alpha_bar, t, x_t)
    return (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()
