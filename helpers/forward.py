"""The forward (noising) process q.

One step (Ho et al. eq. 2):   q(x_t | x_{t−1}) = N(√(1 − β_t) x_{t−1}, β_t I)
Closed form (eq. 4):          q(x_t | x_0)     = N(√ᾱ_t x_0, (1 − ᾱ_t) I)
"""
from __future__ import annotations

import torch

from ._checks import check_int, check_points, check_timesteps
from .schedule import Schedule, check_schedule


def noise_like(x: torch.Tensor, noise: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """ε ~ N(0, I) shaped like ``x`` (drawn on the generator's device, then moved to ``x``'s,
    so a seed gives the same numbers on CPU, CUDA and MPS), or ``noise`` checked to match."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    if noise is None:
        device = generator.device if generator is not None else torch.device("cpu")
        return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=device).to(x.device)
    noise = check_points("noise", noise, x.shape[1]).to(device=x.device, dtype=x.dtype)
    if noise.shape != x.shape:
        raise ValueError(f"noise must have the same shape as the points {tuple(x.shape)}, "
                         f"got {tuple(noise.shape)}")
    return noise


def q_sample(schedule: Schedule, x0: torch.Tensor, t, noise: torch.Tensor | None = None,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε  (eq. 4), with ε ~ N(0, I) unless ``noise`` is given.

    ``t`` is an int in [0, T] or a long tensor of shape ``(n,)``; t = 0 returns x_0.
    """
    check_schedule("schedule", schedule)
    x0 = check_points("x0", x0)
    t = check_timesteps("t", t, x0.shape[0], schedule.T, lo=0, device=x0.device)
    eps = noise_like(x0, noise, generator)
    ab = schedule.gather("alpha_bar", t, x0)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * eps


def q_step(schedule: Schedule, x_prev: torch.Tensor, t, noise: torch.Tensor | None = None,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """One forward step x_t = √(1 − β_t) x_{t−1} + √β_t ε  (eq. 2), t in [1, T]."""
    check_schedule("schedule", schedule)
    x_prev = check_points("x_prev", x_prev)
    t = check_timesteps("t", t, x_prev.shape[0], schedule.T, lo=1, device=x_prev.device)
    eps = noise_like(x_prev, noise, generator)
    return _step(x_prev, schedule.gather("beta", t, x_prev), eps)


def _step(x_prev: torch.Tensor, beta: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """eq. 2 with the reparameterisation; ``beta`` is a column (n, 1) or a scalar tensor."""
    return (1 - beta).sqrt() * x_prev + beta.sqrt() * eps


def q_chain(schedule: Schedule, x0: torch.Tensor, t_end: int | None = None,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Run the chain step by step: returns x_0, x_1, …, x_{t_end} stacked, shape ``(t_end + 1, n, 2)``."""
    check_schedule("schedule", schedule)
    x0 = check_points("x0", x0)
    t_end = schedule.T if t_end is None else check_int("t_end", t_end, 0, schedule.T)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    out = torch.empty((t_end + 1, *x0.shape), dtype=x0.dtype, device=x0.device)
    out[0] = x0
    betas = schedule.beta.to(x0.dtype)  # validated once; the loop is eq. 2 with a scalar β_t
    for t in range(1, t_end + 1):
        eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=x0.device)
        out[t] = _step(out[t - 1], betas[t].to(x0.device), eps)
    return out
