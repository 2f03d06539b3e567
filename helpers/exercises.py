"""Automatic checks for the exercises of notebooks 01 and 02.

Each ``check_NN_...`` prints a short verdict and returns True or False. Other notebooks
keep their checks in their own modules.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from ._checks import check_int
from .data import butterfly_curve
from .forward import q_sample
from .schedule import Schedule, check_schedule, cosine_schedule, linear_schedule


def _verdict(ok: bool, good: str, bad: str) -> bool:
    print(("Correct: " + good) if ok else ("Not yet: " + bad))
    return ok


def check_01_cartesian(fn: Callable) -> bool:
    """Exercise 01: ``fn(theta)`` must return the butterfly points, shape ``(n, 2)``
    (or a pair ``(x, y)``), with x = r sin θ and y = r cos θ as in the article."""
    if not callable(fn):
        raise ValueError(f"fn must be a function theta -> points, got {type(fn).__name__}")
    theta = torch.linspace(0, 2 * math.pi, 721, dtype=torch.float64)
    try:
        out = fn(theta.clone())
    except Exception as err:  # show the student's error as a verdict, not a traceback
        return _verdict(False, "", f"your function raised {type(err).__name__}: {err}")
    if isinstance(out, (tuple, list)) and len(out) == 2:
        out = torch.stack([torch.as_tensor(out[0]), torch.as_tensor(out[1])], dim=-1)
    out = torch.as_tensor(out).double()
    if out.shape != (theta.numel(), 2):
        return _verdict(False, "", f"expected shape ({theta.numel()}, 2), got {tuple(out.shape)}")
    ref = butterfly_curve(theta)
    if torch.allclose(out, ref, atol=1e-6):
        return _verdict(True, "your curve matches c(θ) = (r sin θ, r cos θ) at 721 angles.", "")
    if torch.allclose(out.flip(-1), ref, atol=1e-6):
        return _verdict(False, "", "x and y are swapped: the article puts sin θ on x and cos θ on y.")
    worst = float((out - ref).abs().max())
    return _verdict(False, "", f"largest difference from the curve is {worst:.3g}; check r(θ).")


def check_02_closed_form(fn: Callable) -> bool:
    """Exercise 02a: ``fn(schedule, x0, t, eps)`` must return √ᾱ_t x_0 + √(1−ᾱ_t) ε (eq. 4)."""
    if not callable(fn):
        raise ValueError(f"fn must be a function (schedule, x0, t, eps) -> x_t, got {type(fn).__name__}")
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(64, 2, generator=gen)
    eps = torch.randn(64, 2, generator=gen)
    for sched in (linear_schedule(), cosine_schedule(), linear_schedule(50, 1e-3, 0.2)):
        for t in (1, sched.T // 3, sched.T):
            try:
                got = torch.as_tensor(fn(sched, x0.clone(), t, eps.clone())).double()
            except Exception as err:
                return _verdict(False, "", f"your function raised {type(err).__name__}: {err}")
            want = q_sample(sched, x0, t, noise=eps).double()
            if got.shape != want.shape:
                return _verdict(False, "", f"expected shape {tuple(want.shape)}, got {tuple(got.shape)}")
            if not torch.allclose(got, want, atol=1e-5):
                return _verdict(False, "", f"wrong x_t for the {sched.name} schedule (T={sched.T}) at "
                                f"t = {t}; use schedule.alpha_bar[t], not alpha or beta.")
    return _verdict(True, "x_t matches q_sample for 3 schedules and 3 timesteps each.", "")


def half_signal_t(schedule: Schedule) -> int:
    """The first t with ᾱ_t < ½, i.e. where SNR(t) = ᾱ_t/(1−ᾱ_t) drops below 1."""
    check_schedule("schedule", schedule)
    below = (schedule.alpha_bar < 0.5).nonzero()
    return int(below[0]) if below.numel() else schedule.T + 1


def check_first_t(answer, want: int, good: str, how: str) -> bool:
    """Shared verdict of the "from which t on …?" exercises: ``answer`` must equal ``want``.

    ``good`` is said when it does (after "from t = want on, "), ``how`` is the hint otherwise.
    """
    try:
        answer = check_int("answer", answer, 0)
    except ValueError as err:
        return _verdict(False, "", str(err))
    if answer == want:
        return _verdict(True, f"from t = {want} on, {good}", "")
    hint = "too early" if answer < want else "too late"
    return _verdict(False, "", f"t = {answer} is {hint}; {how}")


def check_02_half_signal_t(answer, schedule: Schedule) -> bool:
    """Exercise 02b: ``answer`` must be the first t at which ᾱ_t < ½ (SNR below 1)."""
    check_schedule("schedule", schedule)
    return check_first_t(answer, half_signal_t(schedule),
                         f"noise outweighs signal ({schedule.name} schedule).",
                         "look for the first t with alpha_bar[t] < 0.5.")
