"""Plots of the course: point clouds, the article's grid of x_t, and schedule curves.

Every function returns the matplotlib ``Figure`` (or ``Axes``) it drew on, labels its
axes, and gives point clouds an equal aspect and fixed limits, so panels that are meant
to be compared (x_0 … x_T, or a reverse trajectory) share one scale.
"""
from __future__ import annotations

import math
from numbers import Integral
from typing import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._checks import check_float, check_int, check_points
from .forward import q_sample
from .schedule import Schedule, check_schedule

ARTICLE_T = 180
#: The article's panels (its code loops over 0, 19, …, 179 and titles them t + 1).
ARTICLE_TIMESTEPS = (1, 20, 50, 70, 90, 110, 130, 150, 170, 180)
BUTTERFLY_COLOR = "#45b97c"  # the article's green
CURVE_LIM = 3.5  # half-width of a box that holds the butterfly (curve units, jitter included)

Limits = float | tuple[tuple[float, float], tuple[float, float]] | None


def article_timesteps(T: int = ARTICLE_T) -> list[int]:
    """The article's t = 1, 20, 50, …, 170, 180, rescaled to a chain of length ``T``.

    For ``T = 180`` this is the article's list. Otherwise each t ≥ 20 becomes
    round(t · T / 180); the first panel stays t = 1 (one step of noise) and the last is T.
    Neighbours that round to the same step are nudged apart, so there are always
    min(10, T) distinct panels, increasing, within 1..T.
    """
    T = check_int("T", T, 1)
    if T <= len(ARTICLE_TIMESTEPS):
        return list(range(1, T + 1))
    out = [1] + [int(math.floor(t * T / ARTICLE_T + 0.5)) for t in ARTICLE_TIMESTEPS[1:]]
    for k in range(1, len(out)):  # strictly increasing…
        out[k] = max(out[k], out[k - 1] + 1)
    out[-1] = T
    for k in range(len(out) - 2, 0, -1):  # …and below T
        out[k] = min(out[k], out[k + 1] - 1)
    return out


def _to_numpy(points, name: str):
    return check_points(name, points).detach().cpu().double().numpy()


def _resolve_limits(lim: Limits, clouds) -> tuple[tuple[float, float], tuple[float, float]]:
    if lim is None:
        # one symmetric box for all panels, a little larger than the widest cloud
        m = max(float(abs(c).max()) if c.size else 0.0 for c in clouds)
        half = 1.05 * m if m > 0 else 1.0
        return (-half, half), (-half, half)
    if isinstance(lim, (int, float)) and not isinstance(lim, bool):
        half = check_float("lim", lim, 0.0, lo_open=True)
        return (-half, half), (-half, half)
    try:
        (x0, x1), (y0, y1) = lim
        x0, x1, y0, y1 = (float(v) for v in (x0, x1, y0, y1))
    except (TypeError, ValueError) as err:
        raise ValueError("lim must be a positive number or ((xmin, xmax), (ymin, ymax)), "
                         f"got {lim!r}") from err
    if not (x0 < x1 and y0 < y1):
        raise ValueError(f"lim must have xmin < xmax and ymin < ymax, got {lim!r}")
    return (x0, x1), (y0, y1)


def scatter(points, ax: Axes | None = None, *, lim: Limits = CURVE_LIM, title: str | None = None,
            color: str = BUTTERFLY_COLOR, s: float = 2.0, alpha: float = 0.8, label: str | None = None,
            xlabel: str = "x", ylabel: str = "y") -> Axes:
    """Scatter a point cloud ``(n, 2)`` with equal aspect and fixed limits.

    ``lim`` is a half-width (the box is [−lim, lim]²), ``((xmin, xmax), (ymin, ymax))``, or
    ``None`` to fit the cloud. Returns the ``Axes`` (a new figure if ``ax`` is None).
    """
    xy = _to_numpy(points, "points")
    s = check_float("s", s, 0.0, lo_open=True)
    alpha = check_float("alpha", alpha, 0.0, 1.0, lo_open=True)
    (x0, x1), (y0, y1) = _resolve_limits(lim, [xy])
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4), dpi=90)
    ax.scatter(xy[:, 0], xy[:, 1], s=s, color=color, alpha=alpha, label=label, linewidths=0)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    if label is not None:
        ax.legend(loc="upper right", fontsize="small", markerscale=4)
    return ax


def plot_grid(clouds: Sequence, labels: Sequence, *, lim: Limits = None, ncols: int = 5,
              title: str | None = None, color: str = BUTTERFLY_COLOR, s: float = 1.0,
              panel_size: float = 2.2, xlabel: str = "x", ylabel: str = "y") -> Figure:
    """A grid of point clouds on one shared scale, e.g. x_t for several t.

    ``clouds`` is a list of ``(n, 2)`` arrays, ``labels`` one per cloud: an int ``t``
    is titled "t = t", a string is used as is. ``lim`` as in :func:`scatter`; by default
    one symmetric box fits every cloud, so the panels can be compared.
    """
    clouds = list(clouds)
    labels = list(labels)
    if not clouds:
        raise ValueError("clouds must hold at least one point cloud")
    if len(labels) != len(clouds):
        raise ValueError(f"labels must have one entry per cloud ({len(clouds)}), got {len(labels)}")
    arrays = [_to_numpy(c, f"clouds[{i}]") for i, c in enumerate(clouds)]
    ncols = min(check_int("ncols", ncols, 1), len(arrays))
    panel_size = check_float("panel_size", panel_size, 0.5, 10.0)
    box = _resolve_limits(lim, arrays)
    nrows = math.ceil(len(arrays) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size * ncols, panel_size * nrows + 0.4),
                             dpi=80, squeeze=False, sharex=True, sharey=True)
    for i, ax in enumerate(axes.flat):
        if i >= len(arrays):
            ax.set_axis_off()
            continue
        lab = labels[i]
        is_int = (isinstance(lab, Integral) and not isinstance(lab, bool)) or (
            isinstance(lab, torch.Tensor) and lab.numel() == 1 and not lab.is_floating_point())
        scatter(arrays[i], ax, lim=box, s=s, color=color,
                title=f"t = {int(lab)}" if is_int else str(lab), xlabel=xlabel, ylabel=ylabel)
        ax.label_outer()  # tick labels and axis labels only on the outer panels
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_forward_grid(schedule: Schedule, x0, timesteps: Sequence[int] | None = None, *,
                      generator: torch.Generator | None = None, lim: Limits = None,
                      title: str | None = None, ncols: int = 5) -> Figure:
    """The article's figure: x_t ~ q(x_t | x_0) (eq. 4) at ``timesteps``
    (default :func:`article_timesteps` of ``schedule.T``), all panels on one scale."""
    check_schedule("schedule", schedule)
    x0 = check_points("x0", x0)
    ts = article_timesteps(schedule.T) if timesteps is None else [
        check_int("timesteps", t, 0, schedule.T) for t in timesteps]
    clouds = [q_sample(schedule, x0, t, generator=generator) for t in ts]
    if title is None:
        title = f"Forward process q(x_t | x_0), {schedule.name} schedule, T = {schedule.T}"
    return plot_grid(clouds, ts, lim=lim, title=title, ncols=ncols)


def plot_schedule(schedules: Schedule | Sequence[Schedule], t_marker: int | None = None,
                  axes: Sequence[Axes] | None = None) -> Figure:
    """Three panels against t: β_t, ᾱ_t (with √ᾱ_t and √(1−ᾱ_t) for the first schedule),
    and log₁₀ SNR(t) = log₁₀ ᾱ_t/(1−ᾱ_t). ``t_marker`` marks one t on every panel."""
    if isinstance(schedules, Schedule):
        schedules = [schedules]
    schedules = [check_schedule(f"schedules[{i}]", s) for i, s in enumerate(schedules)]
    if not schedules:
        raise ValueError("schedules must hold at least one Schedule")
    T_max = max(s.T for s in schedules)
    if t_marker is not None:
        t_marker = check_int("t_marker", t_marker, 0, min(s.T for s in schedules))
    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(11, 3.0), dpi=80)
    else:
        if len(axes) != 3:
            raise ValueError(f"axes must hold 3 Axes, got {len(axes)}")
        fig = axes[0].figure
    ax_b, ax_ab, ax_snr = axes
    for k, sch in enumerate(schedules):
        t = torch.arange(sch.T + 1).numpy()
        label = f"{sch.name} (T={sch.T})"
        line, = ax_b.plot(t[1:], sch.beta[1:].numpy(), label=label)
        c = line.get_color()
        ax_ab.plot(t, sch.alpha_bar.numpy(), color=c, label=rf"$\bar\alpha_t$ {sch.name}")
        if k == 0 and len(schedules) == 1:
            ax_ab.plot(t, sch.alpha_bar.sqrt().numpy(), "--", color="0.4", label=r"$\sqrt{\bar\alpha_t}$ (signal)")
            ax_ab.plot(t, (1 - sch.alpha_bar).sqrt().numpy(), ":", color="0.4", label=r"$\sqrt{1-\bar\alpha_t}$ (noise)")
        ax_snr.plot(t[1:], sch.snr().log10().numpy(), color=c, label=label)
        if t_marker is not None:
            ab = float(sch.alpha_bar[t_marker])
            ax_ab.plot([t_marker], [ab], "o", color=c, markersize=7)
    if t_marker is not None:
        for ax in axes:
            ax.axvline(t_marker, color="0.6", lw=1)
    ax_b.set_title(r"$\beta_t$ (noise added at step t)")
    ab_title = r"$\bar\alpha_t = \prod_{s\leq t}\alpha_s$"
    if t_marker is not None:
        ab_title += "\n" + ", ".join(rf"{sch.name}: $\bar\alpha_{{{t_marker}}}$ = {float(sch.alpha_bar[t_marker]):.3f}"
                                      for sch in schedules[:2])
    ax_ab.set_title(ab_title, fontsize="medium")
    ax_snr.set_title(r"$\log_{10}\,\mathrm{SNR}(t) = \log_{10}\frac{\bar\alpha_t}{1-\bar\alpha_t}$")
    ax_ab.set_ylim(-0.03, 1.03)
    for ax in axes:
        ax.set_xlabel("t")
        ax.set_xlim(0, T_max)
        ax.grid(alpha=0.3)
    ax_b.set_yscale("log")  # β spans orders of magnitude (cosine ends at 0.999)
    ax_b.set_ylabel(r"$\beta_t$ (log scale)")
    ax_ab.set_ylabel("value")
    ax_snr.set_ylabel(r"$\log_{10}$ SNR")
    ax_b.legend(fontsize="small")
    ax_ab.legend(fontsize="small")
    fig.tight_layout()
    return fig
