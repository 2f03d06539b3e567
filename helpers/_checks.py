"""Input validation shared by every helper.

Each check raises ``ValueError`` naming the argument and the allowed range, so a
student who passes the wrong thing sees what to fix instead of a NaN or a silent
broadcast.
"""
from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import torch


def check_int(name: str, value, lo: int | None = None, hi: int | None = None) -> int:
    """Return ``value`` as an int, or raise if it is not an integer in ``[lo, hi]``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        if (isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point()
                and not value.is_complex() and value.dtype != torch.bool):
            value = int(value.item())
        else:
            raise ValueError(f"{name} must be an integer in {_range(lo, hi)}, got {value!r}")
    value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name} must be an integer in {_range(lo, hi)}, got {value}")
    return value


def check_float(name: str, value, lo: float | None = None, hi: float | None = None,
                lo_open: bool = False, hi_open: bool = False) -> float:
    """Return ``value`` as a finite float in the given range, or raise."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number in {_range(lo, hi, lo_open, hi_open)}, "
                         f"got {value!r}")
    value = float(value)
    bad_lo = lo is not None and (value <= lo if lo_open else value < lo)
    bad_hi = hi is not None and (value >= hi if hi_open else value > hi)
    if bad_lo or bad_hi:
        raise ValueError(f"{name} must be in {_range(lo, hi, lo_open, hi_open)}, got {value}")
    return value


def check_points(name: str, x, dim: int = 2) -> torch.Tensor:
    """Return ``x`` as a floating tensor of shape ``(n, dim)`` with finite values, or raise."""
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(x, dtype=torch.float32)
        except (TypeError, ValueError, RuntimeError) as err:
            raise ValueError(f"{name} must be an array of shape (n, {dim}), got {type(x).__name__}") from err
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"{name} must have shape (n, {dim}), got {tuple(x.shape)}")
    if x.is_complex() or x.dtype == torch.bool:
        raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}")
    if not x.is_floating_point():
        x = x.float()
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} must contain only finite values (found NaN or inf)")
    return x


def check_timesteps(name: str, t, n: int, T: int, lo: int = 0,
                    device: torch.device | str | None = None) -> torch.Tensor:
    """Return timesteps as a long tensor of shape ``(n,)`` with values in ``[lo, T]``.

    ``t`` may be a Python int (used for every point) or an integer tensor (or numpy
    array / list) of shape ``(n,)`` or ``(n, 1)``; anything else raises.
    """
    if isinstance(t, (list, tuple, np.ndarray)):
        try:
            t = torch.as_tensor(np.asarray(t))
        except (TypeError, ValueError, RuntimeError) as err:
            raise ValueError(f"{name} must hold integers in [{lo}, {T}], got {type(t).__name__}") from err
    if isinstance(t, torch.Tensor):
        if t.is_floating_point() or t.dtype == torch.bool:
            raise ValueError(f"{name} must hold integers in [{lo}, {T}], got dtype {t.dtype}")
        if t.ndim == 0:
            t = t.expand(n)
        elif t.ndim == 2 and t.shape[1] == 1:
            t = t[:, 0]
        if t.ndim != 1 or t.shape[0] != n:
            raise ValueError(f"{name} must be an int or have shape ({n},), got {tuple(t.shape)}")
        t = t.long()
        if t.numel() and (int(t.min()) < lo or int(t.max()) > T):
            raise ValueError(f"{name} must be in [{lo}, {T}], got values in "
                             f"[{int(t.min())}, {int(t.max())}]")
        return t.to(device) if device is not None else t
    try:
        t = check_int(name, t)
    except ValueError:
        raise ValueError(f"{name} must be an integer in [{lo}, {T}], got {t!r}") from None
    if not lo <= t <= T:  # the same message as for a tensor of timesteps
        raise ValueError(f"{name} must be in [{lo}, {T}], got {t}")
    return torch.full((n,), t, dtype=torch.long, device=device)


def _range(lo, hi, lo_open: bool = False, hi_open: bool = False) -> str:
    left = "(" if lo_open else "["
    right = ")" if hi_open else "]"
    lo_s = "-inf" if lo is None else f"{lo:g}" if isinstance(lo, float) else str(lo)
    hi_s = "inf" if hi is None else f"{hi:g}" if isinstance(hi, float) else str(hi)
    if lo is None:
        left = "("
    if hi is None:
        right = ")"
    return f"{left}{lo_s}, {hi_s}{right}"
