"""Automatic checks for the exercises of notebooks 03 and 04.

Each ``check_NN_...`` prints a short verdict and returns True or False.
"""
from __future__ import annotations

from typing import Callable

import torch

from .exercises import _verdict, check_first_t
from .networks import PredictNoiseNet, count_parameters
from .posterior import posterior_coefficients, q_posterior
from .schedule import Schedule, check_schedule, cosine_schedule, linear_schedule


def check_03_posterior_mean(fn: Callable) -> bool:
    """Exercise 03a: ``fn(schedule, x0, x_t, t)`` (t an int) must return μ̃_t(x_t, x_0) (eq. 7)."""
    if not callable(fn):
        raise ValueError(f"fn must be a function (schedule, x0, x_t, t) -> mean, got {type(fn).__name__}")
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(32, 2, generator=gen, dtype=torch.float64)
    x_t = torch.randn(32, 2, generator=gen, dtype=torch.float64)
    for sched in (linear_schedule(), cosine_schedule(60)):
        for t in (1, 2, sched.T // 2, sched.T):
            try:
                got = torch.as_tensor(fn(sched, x0.clone(), x_t.clone(), t)).double()
            except Exception as err:  # show the student's error as a verdict, not a traceback
                return _verdict(False, "", f"your function raised {type(err).__name__}: {err}")
            want, _ = q_posterior(sched, x0, x_t, t)
            if got.shape != want.shape:
                return _verdict(False, "", f"expected shape {tuple(want.shape)}, got {tuple(got.shape)}")
            if not torch.allclose(got, want, atol=1e-6):
                c = posterior_coefficients(sched)
                swapped = c.coef_xt[t] * x0 + c.coef_x0[t] * x_t
                hint = ("the weights of x_0 and x_t are swapped" if torch.allclose(got, swapped, atol=1e-6)
                        else "check which ᾱ is ᾱ_{t−1} (alpha_bar[t - 1]) and which is ᾱ_t")
                return _verdict(False, "", f"wrong mean for the {sched.name} schedule at t = {t}: {hint}.")
    return _verdict(True, "μ̃_t matches q_posterior for 2 schedules and 4 timesteps each.", "")


def crossover_t(schedule: Schedule) -> int:
    """The first t at which μ̃_t puts more weight on x_t than on x_0."""
    check_schedule("schedule", schedule)
    c = posterior_coefficients(schedule)
    later = (c.coef_xt[1:] > c.coef_x0[1:]).nonzero()
    return int(later[0]) + 1 if later.numel() else schedule.T + 1


def check_03_crossover(answer, schedule: Schedule) -> bool:
    """Exercise 03b: the first t where the weight on x_t exceeds the weight on x_0."""
    check_schedule("schedule", schedule)
    return check_first_t(answer, crossover_t(schedule), "μ̃_t leans on x_t more than on x_0.",
                         "compare coef_xt[t] with coef_x0[t].")


def check_04_param_count(fn: Callable) -> bool:
    """Exercise 04: ``fn(num_units)`` must return the number of parameters of PredictNoiseNet(num_units)."""
    if not callable(fn):
        raise ValueError(f"fn must be a function num_units -> int, got {type(fn).__name__}")
    for h in (1, 7, 64, 128, 300):
        want = count_parameters(PredictNoiseNet(h))
        try:
            got = int(fn(h))
        except Exception as err:
            return _verdict(False, "", f"your function raised {type(err).__name__}: {err}")
        if got != want:
            return _verdict(False, "", f"for num_units = {h} the net has {want} parameters, you said {got}; "
                            "count weights AND biases of all 4 x-layers and 3 t-layers.")
    return _verdict(True, "your formula matches count_parameters for 5 widths.", "")
