"""Automatic checks for the exercises of notebooks 05 and 06.

Each ``check_NN_...`` prints a short verdict and returns True or False.
"""
from __future__ import annotations

from typing import Callable

import torch

from .elbo import simple_loss
from .exercises import _verdict
from .networks import TimeEmbeddingNet
from .sampling import p_sample
from .schedule import cosine_schedule, linear_schedule


def check_05_simple_loss(fn: Callable) -> bool:
    """Exercise 05: ``fn(model, schedule, x0, t, eps)`` must return the simple loss (eq. 14)
    for these t and ε, averaged over points and coordinates as the article does."""
    if not callable(fn):
        raise ValueError(f"fn must be a function (model, schedule, x0, t, eps) -> loss, got {type(fn).__name__}")
    gen = torch.Generator().manual_seed(0)
    for sched in (linear_schedule(), cosine_schedule(60)):
        torch.manual_seed(1)
        model = TimeEmbeddingNet(sched.T, hidden=16, n_blocks=1, emb_dim=8)
        x0 = torch.randn(64, 2, generator=gen)
        t = torch.randint(1, sched.T + 1, (64,), generator=gen)
        eps = torch.randn(64, 2, generator=gen)
        try:
            got = torch.as_tensor(fn(model, sched, x0, t, eps)).double()
        except Exception as err:  # show the student's error as a verdict, not a traceback
            return _verdict(False, "", f"your function raised {type(err).__name__}: {err}")
        want = simple_loss(model, sched, x0, t=t, noise=eps).double().detach()
        if got.numel() != 1:
            return _verdict(False, "", f"return one number (the mean), got shape {tuple(got.shape)}")
        if not torch.allclose(got.detach().reshape(()), want, rtol=1e-4):
            hint = ("it is twice the expected value: average over the 2 coordinates too (.mean())"
                    if torch.allclose(got.detach().reshape(()), 2 * want, rtol=1e-4)
                    else "x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε uses alpha_bar[t], and the target is ε")
            return _verdict(False, "", f"wrong loss for the {sched.name} schedule: {hint}.")
    return _verdict(True, "your loss equals helpers.elbo.simple_loss for 2 schedules.", "")


def check_06_reverse_step(fn: Callable) -> bool:
    """Exercise 06: ``fn(schedule, x_t, t, eps, z)`` must return x_{t−1} of the article's step
    with σ_t² = β_t, for t ≥ 2 (eq. 11 plus σ_t z)."""
    if not callable(fn):
        raise ValueError(f"fn must be a function (schedule, x_t, t, eps, z) -> x_prev, got {type(fn).__name__}")
    gen = torch.Generator().manual_seed(0)
    for sched in (linear_schedule(), cosine_schedule(60)):
        for t in (2, sched.T // 2, sched.T):
            x_t, eps, z = (torch.randn(16, 2, generator=gen, dtype=torch.float64) for _ in range(3))
            try:
                got = torch.as_tensor(fn(sched, x_t.clone(), t, eps.clone(), z.clone())).double()
            except Exception as err:
                return _verdict(False, "", f"your function raised {type(err).__name__}: {err}")
            want = p_sample(lambda x, tt: eps, sched, x_t, t, noise=z)
            if got.shape != want.shape:
                return _verdict(False, "", f"expected shape {tuple(want.shape)}, got {tuple(got.shape)}")
            if not torch.allclose(got, want, atol=1e-6):
                a = sched.alpha[t]
                hint = ("divide by √α_t, not α_t" if torch.allclose(
                    (got - sched.beta[t].sqrt() * z) * a, (want - sched.beta[t].sqrt() * z) * a.sqrt(), atol=1e-6)
                    else "the ε coefficient is β_t / √(1 − ᾱ_t) and the noise is √β_t · z")
                return _verdict(False, "", f"wrong x_(t-1) for the {sched.name} schedule at t = {t}: {hint}.")
    return _verdict(True, "your step matches helpers.sampling.p_sample for 2 schedules and 3 timesteps.", "")
