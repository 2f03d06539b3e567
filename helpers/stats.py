"""Two-sample statistics: do two point clouds come from the same distribution?

Used to show that running the forward chain step by step (eq. 2) and jumping there
in closed form (eq. 4) give the same distribution of x_t.
"""
from __future__ import annotations

import math

import torch

from ._checks import check_float, check_int, check_points


def _check_1d(name: str, a) -> torch.Tensor:
    a = torch.as_tensor(a, dtype=torch.float64).flatten() if not isinstance(a, torch.Tensor) \
        else a.detach().double().flatten()
    if a.numel() < 1:
        raise ValueError(f"{name} must hold at least one value")
    if not torch.isfinite(a).all():
        raise ValueError(f"{name} must contain only finite values (found NaN or inf)")
    return a


def ks_statistic(a, b) -> float:
    """Two-sample Kolmogorov–Smirnov distance D = sup_x |F_a(x) − F_b(x)| of two 1-D samples."""
    a = _check_1d("a", a).sort().values
    b = _check_1d("b", b).sort().values
    grid = torch.cat([a, b])
    fa = torch.searchsorted(a, grid, right=True).double() / a.numel()
    fb = torch.searchsorted(b, grid, right=True).double() / b.numel()
    return float((fa - fb).abs().max())


def ks_critical_value(n: int, m: int, alpha: float = 0.05) -> float:
    """Large-sample critical value of D: c(α)·√((n+m)/(n·m)), c(α) = √(−ln(α/2)/2).

    If both samples come from one distribution, D exceeds it with probability ≈ α.
    """
    n = check_int("n", n, 1)
    m = check_int("m", m, 1)
    alpha = check_float("alpha", alpha, 0.0, 1.0, lo_open=True, hi_open=True)
    return math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))


def sliced_ks(x, y, n_directions: int = 8) -> float:
    """Largest KS distance between the projections of two 2-D clouds on ``n_directions``
    evenly spaced unit vectors (angles kπ/n_directions). Compare with
    ``ks_critical_value(n, m, alpha / n_directions)`` (Bonferroni over the directions)."""
    x = check_points("x", x).double()
    y = check_points("y", y).double()
    k = check_int("n_directions", n_directions, 1, 1000)
    angles = torch.arange(k, dtype=torch.float64) * math.pi / k
    dirs = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)  # (k, 2)
    return max(ks_statistic(x @ d, y @ d) for d in dirs)
