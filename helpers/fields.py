"""Quiver plots of a denoiser: from each grid point x_t, an arrow to its guess of x_0.

Any ε-model (a network, or ``helpers.denoiser.OptimalDenoiser``) gives a guess
x̂_0 = (x_t − √(1 − ᾱ_t) ε̂) / √ᾱ_t (eq. 4 solved for x_0). Drawing x_t → x̂_0 at scale 1
shows where the model would send each noisy point, in the same units as the data.
"""
from __future__ import annotations

from typing import Callable

import torch
from matplotlib.axes import Axes

from ._checks import check_float, check_int, check_points
from .posterior import predict_x0_from_eps
from .sampling import model_device
from .schedule import Schedule, check_schedule


def grid_points(lim: float = 2.5, n: int = 17) -> torch.Tensor:
    """An ``n × n`` grid on [−lim, lim]², shape ``(n², 2)``, float32."""
    lim = check_float("lim", lim, 0.0, lo_open=True)
    n = check_int("n", n, 2, 200)
    g = torch.linspace(-lim, lim, n)
    return torch.cartesian_prod(g, g)


def x0_guess(schedule: Schedule, model: Callable, x_t: torch.Tensor, t: int) -> torch.Tensor:
    """x̂_0 of ``model`` at points ``x_t`` and one timestep ``t``; the model runs on its own
    device, the result comes back to the CPU (float32) for plotting."""
    check_schedule("schedule", schedule)
    x_t = check_points("x_t", x_t).float()
    t = check_int("t", t, 1, schedule.T)
    tt = torch.full((x_t.shape[0],), t, dtype=torch.long)
    dev = model_device(model)
    with torch.no_grad():
        eps = model(x_t.to(dev), tt.to(dev))
    return predict_x0_from_eps(schedule, x_t, tt, eps.detach().cpu().float())


def plot_denoiser_field(ax: Axes, schedule: Schedule, model: Callable, t: int, lim: float = 2.5,
                        n: int = 17, data: torch.Tensor | None = None, max_len: float | None = None,
                        title: str | None = None) -> torch.Tensor:
    """Arrows x_t → x̂_0 on a grid at timestep ``t``; returns the displacements ``(n², 2)``.

    Each arrow starts at a small black dot (its grid point x_t), so its direction reads at a
    glance. ``data`` (model units) is drawn faintly underneath. Arrows longer than ``max_len``
    are shortened to it and drawn in red, so a wild untrained net does not swamp the panel.
    """
    x_t = grid_points(lim, n)
    disp = x0_guess(schedule, model, x_t, t) - x_t
    shown = disp.clone()
    long = torch.zeros(len(disp), dtype=torch.bool)
    if max_len is not None:
        max_len = check_float("max_len", max_len, 0.0, lo_open=True)
        length = disp.norm(dim=1, keepdim=True)
        long = length[:, 0] > max_len
        shown = torch.where(long.unsqueeze(-1), disp / length * max_len, disp)
    if data is not None:
        d = check_points("data", data).detach().cpu()
        ax.scatter(d[:, 0], d[:, 1], s=1, color="0.75", label="training data")
    for mask, color in ((~long, "tab:blue"), (long, "tab:red")):
        if mask.any():
            ax.quiver(x_t[mask, 0], x_t[mask, 1], shown[mask, 0], shown[mask, 1], color=color,
                      angles="xy", scale_units="xy", scale=1.0, width=0.004)
    ax.plot(x_t[:, 0], x_t[:, 1], ".", ms=2, color="k")  # the tails: where each arrow starts
    ax.set_xlim(-lim * 1.1, lim * 1.1)
    ax.set_ylim(-lim * 1.1, lim * 1.1)
    ax.set_aspect("equal")
    ax.set_xlabel("x (model units)")
    ax.set_ylabel("y (model units)")
    ax.set_title(title if title is not None else f"t = {t}")
    return disp
