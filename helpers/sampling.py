"""The reverse process p_θ: one step, then the whole loop (Ho et al. 2020, Algorithm 2).

One step (eq. 11 for the mean, Sec. 3.2 for the variance)::

    x_{t−1} = 1/√α_t · ( x_t − β_t / √(1 − ᾱ_t) · ε_θ(x_t, t) ) + σ_t z,   z ~ N(0, I)

with σ_t² = β_t (the article's choice, ``variance="beta"``) or σ_t² = β̃_t =
(1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t, the variance of the true posterior q(x_{t−1} | x_t, x_0)
(``variance="beta_tilde"``). Ho et al. found both give similar samples.

**No noise at the last step.** At t = 1 we return the mean (z = 0), as Algorithm 2 of
Ho et al. does. The article adds σ_1 z there too; that adds a blur of √β_1 to every final
point (about 0.02 model units ≈ 0.04 curve units with the default schedule, comparable
to the data's own jitter of 0.05), which shows up as fuzzier samples and nothing else.

Everything works in model units (see ``helpers.data.Normalizer``); decode the result
for plots. The model contract: ``model(x_t, t) -> ε̂`` with ``x_t`` of shape (n, 2)
and ``t`` a long tensor of shape (n,) in 1..T.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import torch
from torch import nn

from ._checks import check_int, check_points, check_timesteps
from .forward import noise_like
from .schedule import Schedule

VARIANCES = ("beta", "beta_tilde")

EpsModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run a block with ``torch.set_num_threads(threads)``, then restore the old value.

    ``None`` leaves the setting alone. One thread is the default of :func:`p_sample_loop`
    and ``helpers.train.train``: their tensors are small (a few thousand 2-D points through
    a narrow MLP), and on a shared 2-core machine a second thread made sampling 10x slower
    (waiting at thread barriers); a laptop loses little with one thread.
    """
    if threads is None:
        yield
        return
    threads = check_int("threads", threads, 1)
    old = torch.get_num_threads()
    if old == threads:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _check_variance(variance: str) -> str:
    if variance not in VARIANCES:
        raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")
    return variance


def reverse_variance(schedule: Schedule, variance: str = "beta") -> torch.Tensor:
    """σ_t² for t = 0..T (float64, σ_0² = 0): β_t, or β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t) β_t (eq. 7).

    β̃_t is taken from ``helpers.posterior.posterior_coefficients`` so the formula lives in
    one place.
    """
    _check_variance(variance)
    if variance == "beta":
        return schedule.beta.clone()
    from .posterior import posterior_coefficients  # eq. 7 lives there

    return posterior_coefficients(schedule).var.clone()


def model_device(model) -> torch.device:
    """The device of a model's parameters, or the CPU for a parameter-free callable."""
    if isinstance(model, nn.Module):
        for p in model.parameters():
            return p.device
        for b in model.buffers():
            return b.device
    return torch.device("cpu")


def p_mean_variance(model: EpsModel, schedule: Schedule, x_t: torch.Tensor, t,
                    variance: str = "beta") -> tuple[torch.Tensor, torch.Tensor]:
    """Mean μ_θ(x_t, t) = (x_t − β_t/√(1 − ᾱ_t) ε_θ)/√α_t (eq. 11) and variance σ_t², each (n, 2)/(n, 1)."""
    x_t = check_points("x_t", x_t)
    t = check_timesteps("t", t, x_t.shape[0], schedule.T, lo=1, device=x_t.device)
    _check_variance(variance)
    eps = model(x_t, t)
    if not isinstance(eps, torch.Tensor) or eps.shape != x_t.shape:
        raise ValueError(f"model must return a tensor of shape {tuple(x_t.shape)}, "
                         f"got {getattr(eps, 'shape', type(eps).__name__)}")
    from .elbo import model_mean_from_eps  # eq. 11 lives there (imported late: elbo imports us)

    mean = model_mean_from_eps(schedule, x_t, t, eps.to(x_t.dtype))
    var = reverse_variance(schedule, variance).to(x_t.device)[t].to(x_t.dtype).unsqueeze(-1)
    return mean, var


@torch.no_grad()
def p_sample(model: EpsModel, schedule: Schedule, x_t: torch.Tensor, t,
             generator: torch.Generator | None = None, variance: str = "beta",
             noise: torch.Tensor | None = None, last_step_noise: bool = False) -> torch.Tensor:
    """One reverse step x_t → x_{t−1} ~ N(μ_θ(x_t, t), σ_t² I) (Algorithm 2, line 4).

    ``t`` is an int in 1..T or a long tensor of shape (n,). Where t = 1 no noise is added
    unless ``last_step_noise=True`` (the article's choice). ``noise`` fixes z (shape of x_t).
    """
    x_t = check_points("x_t", x_t)
    t = check_timesteps("t", t, x_t.shape[0], schedule.T, lo=1, device=x_t.device)
    mean, var = p_mean_variance(model, schedule, x_t, t, variance)
    noise = noise_like(x_t, noise, generator)
    if not last_step_noise:
        var = torch.where(t.unsqueeze(-1) > 1, var, torch.zeros_like(var))
    return mean + var.sqrt() * noise


@torch.no_grad()
def p_sample_loop(model: EpsModel, schedule: Schedule, n: int,
                  generator: torch.Generator | int | None = None, variance: str = "beta",
                  return_trajectory: bool = False, x_T: torch.Tensor | None = None,
                  last_step_noise: bool = False, device: torch.device | str | None = None,
                  threads: int | None = 1) -> torch.Tensor:
    """Algorithm 2: x_T ~ N(0, I), then x_{t−1} = p_sample(x_t, t) for t = T, …, 1.

    Returns x_0 of shape (n, 2), or with ``return_trajectory=True`` the whole path of shape
    (T + 1, n, 2) indexed by the paper's t (``traj[t]`` is x_t, ``traj[0]`` the samples), the
    same layout as ``helpers.forward.q_chain``. ``generator`` may be an int seed.
    ``threads``: torch CPU threads during the loop (restored after; see :func:`torch_threads`).
    """
    n = check_int("n", n, 1)
    _check_variance(variance)
    if isinstance(generator, int) and not isinstance(generator, bool):
        generator = torch.Generator().manual_seed(generator)
    elif generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, an int seed or None, got {type(generator).__name__}")
    device = torch.device(device) if device is not None else model_device(model)
    if x_T is None:
        x = torch.randn((n, 2), generator=generator).to(device)
    else:
        x = check_points("x_T", x_T).to(device=device, dtype=torch.float32)
        if x.shape[0] != n:
            raise ValueError(f"x_T must have shape ({n}, 2), got {tuple(x.shape)}")
    was_training = isinstance(model, nn.Module) and model.training
    if was_training:
        model.eval()
    try:
        with torch_threads(threads):
            return _loop(model, schedule, x, generator, variance, return_trajectory, last_step_noise)
    finally:
        if was_training:
            model.train()


def _loop(model, schedule, x, generator, variance, return_trajectory, last_step_noise):
    traj = [x] if return_trajectory else None
    for t in range(schedule.T, 0, -1):
        x = p_sample(model, schedule, x, t, generator=generator, variance=variance,
                     last_step_noise=last_step_noise)
        if traj is not None:
            traj.append(x)
    return torch.stack(traj[::-1]) if traj is not None else x
