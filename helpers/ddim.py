"""DDIM: sampling with fewer steps from the same ε-network (Song, Meng & Ermon 2021).

Pick an increasing subsequence τ_1 < … < τ_S = T of the training steps and jump from
x_{τ_i} straight to x_{τ_{i−1}} (τ_0 = 0 means x_0). With ε = ε_θ(x_t, t) and the
x_0 it implies, x̂_0 = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t, one step is Song et al. eq. 12::

    x_s = √ᾱ_s · x̂_0  +  √(1 − ᾱ_s − σ²) · ε  +  σ z,       s = τ_{i−1} < t = τ_i

    σ² = η² · (1 − ᾱ_s)/(1 − ᾱ_t) · (1 − ᾱ_t/ᾱ_s)            (eq. 16)

η = 0 is the deterministic DDIM sampler (the same x_T always gives the same x_0);
η = 1 with the full sequence (s = t − 1) gives σ² = β̃_t and is exactly the DDPM
ancestral step with the posterior variance (``helpers.sampling.p_sample`` with
``variance="beta_tilde"``); η = 1 on a strided sequence is "DDPM with fewer steps".

**Clipping x̂_0.** Near t = T the division by √ᾱ_t amplifies any error of ε̂ (by ~185
for the default linear schedule, ~3700 for the cosine one at T = 180), and a jump carries that error
into x_s. ``clip_x0=c`` clamps x̂_0 to [−c, c] (model units) and recomputes ε from the
clamped x̂_0 (eq. 4), as the DDIM and guided-diffusion code bases do ("clip_denoised").

Everything works in model units, with the model contract of ``helpers.networks``:
``model(x_t, t) -> ε̂`` with t a long tensor of shape (n,) in 1..T.
"""
from __future__ import annotations

import torch
from torch import nn

from ._checks import check_float, check_int, check_points
from .posterior import predict_eps_from_x0, predict_x0_from_eps
from .sampling import EpsModel, model_device
from .forward import noise_like
from .schedule import Schedule, check_schedule


def _check_clip(clip_x0) -> float | None:
    return None if clip_x0 is None else check_float("clip_x0", clip_x0, 0.0, lo_open=True)


def ddim_timesteps(T: int, n_steps: int) -> torch.Tensor:
    """τ_1 < … < τ_S: ``n_steps`` = S evenly spaced steps in 1..T ending at τ_S = T (Song et al. Sec. 4.2).

    τ_i = round(i·T/S); for S ≤ T the values are distinct. S = T gives 1, 2, …, T.
    """
    T = check_int("T", T, 1)
    S = check_int("n_steps", n_steps, 1, T)
    i = torch.arange(1, S + 1, dtype=torch.long)
    return (2 * i * T + S) // (2 * S)  # round(i T / S), halves rounded up, in integers


def ddim_sigma(schedule: Schedule, t: int, t_prev: int, eta: float) -> float:
    """σ_{t→s} = η √((1 − ᾱ_s)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_s), s = ``t_prev`` (Song et al. eq. 16)."""
    schedule = check_schedule("schedule", schedule)
    t = check_int("t", t, 1, schedule.T)
    t_prev = check_int("t_prev", t_prev, 0, t - 1)
    eta = check_float("eta", eta, 0.0, 1.0)
    ab_t, ab_s = schedule.alpha_bar[t], schedule.alpha_bar[t_prev]
    return float(eta * ((1 - ab_s) / (1 - ab_t) * (1 - ab_t / ab_s)).sqrt())


@torch.no_grad()
def ddim_step(model: EpsModel, schedule: Schedule, x_t: torch.Tensor, t: int, t_prev: int,
              eta: float = 0.0, generator: torch.Generator | None = None,
              noise: torch.Tensor | None = None, clip_x0: float | None = None) -> torch.Tensor:
    """One DDIM jump x_t → x_{t_prev} (Song et al. eq. 12), 0 ≤ t_prev < t ≤ T, 0 ≤ η ≤ 1.

    ``noise`` fixes z (same shape as ``x_t``); it is only used when σ > 0. ``clip_x0``
    (> 0 or None) clamps x̂_0 to [−clip_x0, clip_x0] first (see the module docstring).
    """
    schedule = check_schedule("schedule", schedule)
    x_t = check_points("x_t", x_t)
    sigma = ddim_sigma(schedule, t, t_prev, eta)
    clip_x0 = _check_clip(clip_x0)
    t_vec = torch.full((x_t.shape[0],), int(t), dtype=torch.long, device=x_t.device)
    eps = model(x_t, t_vec)
    if not isinstance(eps, torch.Tensor) or eps.shape != x_t.shape:
        raise ValueError(f"model must return a tensor of shape {tuple(x_t.shape)}, "
                         f"got {getattr(eps, 'shape', type(eps).__name__)}")
    eps = eps.to(x_t.dtype)
    x0_hat = predict_x0_from_eps(schedule, x_t, t_vec, eps)
    if clip_x0 is not None:
        x0_hat = x0_hat.clamp(-clip_x0, clip_x0)
        eps = predict_eps_from_x0(schedule, x_t, t_vec, x0_hat)
    ab_s = float(schedule.alpha_bar[int(t_prev)])
    x_prev = ab_s ** 0.5 * x0_hat + max(1.0 - ab_s - sigma ** 2, 0.0) ** 0.5 * eps
    if sigma > 0:
        x_prev = x_prev + sigma * noise_like(x_t, noise, generator)
    return x_prev


@torch.no_grad()
def ddim_sample_loop(model: EpsModel, schedule: Schedule, n: int, n_steps: int, eta: float = 0.0,
                     generator: torch.Generator | int | None = None, x_T: torch.Tensor | None = None,
                     return_trajectory: bool = False, device: torch.device | str | None = None,
                     clip_x0: float | None = None):
    """Sample with S = ``n_steps`` DDIM jumps along τ = ``ddim_timesteps(T, S)``, then to x_0.

    Returns x_0 of shape (n, 2), or with ``return_trajectory=True`` a pair ``(traj, times)``:
    ``traj[k]`` is x at step ``times[k]``, with ``times = [0, τ_1, …, τ_S]`` ascending, so
    ``traj[0]`` holds the samples (the layout of ``helpers.sampling.p_sample_loop``).
    ``generator`` may be an int seed; with η = 0 only x_T is random. ``clip_x0``: see ``ddim_step``.
    """
    schedule = check_schedule("schedule", schedule)
    clip_x0 = _check_clip(clip_x0)
    n = check_int("n", n, 1)
    taus = ddim_timesteps(schedule.T, n_steps)
    eta = check_float("eta", eta, 0.0, 1.0)
    if isinstance(generator, int) and not isinstance(generator, bool):
        generator = torch.Generator().manual_seed(generator)
    elif generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, an int seed or None, "
                         f"got {type(generator).__name__}")
    device = torch.device(device) if device is not None else model_device(model)
    if x_T is None:
        x = torch.randn((n, 2), generator=generator).to(device)
    else:
        x = check_points("x_T", x_T).to(device=device)
        if x.shape[0] != n:
            raise ValueError(f"x_T must have shape ({n}, 2), got {tuple(x.shape)}")
    times = [0] + taus.tolist()
    was_training = isinstance(model, nn.Module) and model.training
    if was_training:
        model.eval()
    try:
        traj = [x]
        for i in range(len(times) - 1, 0, -1):
            x = ddim_step(model, schedule, x, times[i], times[i - 1], eta, generator=generator,
                          clip_x0=clip_x0)
            traj.append(x)
    finally:
        if was_training:
            model.train()
    if return_trajectory:
        return torch.stack(traj[::-1]), torch.tensor(times, dtype=torch.long)
    return x


def check_07_ddim_step(fn) -> bool:
    """Exercise 07: ``fn(schedule, x_t, t, s, eps)`` must return the η = 0 DDIM jump x_s (eq. 12).

    Prints a verdict and returns True or False; compares with :func:`ddim_step` (given ε̂ = ``eps``)
    on two schedules, for a one-step jump, a long jump and the jump to s = 0.
    """
    from .schedule import cosine_schedule, linear_schedule

    if not callable(fn):
        raise ValueError(f"fn must be a function (schedule, x_t, t, s, eps) -> x_s, got {type(fn).__name__}")
    gen = torch.Generator().manual_seed(0)
    x_t = torch.randn(64, 2, generator=gen, dtype=torch.float64)
    eps = torch.randn(64, 2, generator=gen, dtype=torch.float64)
    for sched in (linear_schedule(), cosine_schedule()):
        for t, s in ((90, 89), (sched.T, sched.T // 2), (40, 0)):
            want = ddim_step(lambda x, tt: eps, sched, x_t, t, s, eta=0.0)
            try:
                got = torch.as_tensor(fn(sched, x_t.clone(), t, s, eps.clone())).double()
            except Exception as err:  # show the student's error as a verdict, not a traceback
                print(f"Not yet: your function raised {type(err).__name__}: {err}")
                return False
            if got.shape != want.shape:
                print(f"Not yet: expected shape {tuple(want.shape)}, got {tuple(got.shape)}")
                return False
            if not torch.allclose(got, want, rtol=1e-5, atol=1e-6):
                print(f"Not yet: wrong x_s for the {sched.name} schedule, t = {t} → s = {s}; "
                      "use alpha_bar (not alpha) and reuse the same ε̂ for the direction term.")
                return False
    print("Correct: your jump matches ddim_step (η = 0) for 2 schedules and 3 jumps each.")
    return True
