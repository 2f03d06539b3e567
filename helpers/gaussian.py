"""Closed forms for diagonal Gaussians, used by the forward process and the ELBO."""
from __future__ import annotations

import math

import torch


def _as_tensors(*xs):
    ts = [x if isinstance(x, torch.Tensor) else torch.as_tensor(x, dtype=torch.float64) for x in xs]
    if not all(torch.isfinite(t).all() for t in ts):
        raise ValueError("Gaussian parameters must be finite (found NaN or inf)")
    return ts


def normal_kl(mean1, var1, mean2, var2) -> torch.Tensor:
    """KL( N(mean1, var1) || N(mean2, var2) ), elementwise (sum over dimensions yourself).

    KL = ½ [ log(var2/var1) + (var1 + (mean1 − mean2)²)/var2 − 1 ]
    """
    mean1, var1, mean2, var2 = _as_tensors(mean1, var1, mean2, var2)
    if (var1 <= 0).any() or (var2 <= 0).any():
        raise ValueError("var1 and var2 must be > 0")
    return 0.5 * (torch.log(var2 / var1) + (var1 + (mean1 - mean2) ** 2) / var2 - 1.0)


def normal_log_prob(x, mean, var) -> torch.Tensor:
    """log N(x; mean, var), elementwise."""
    x, mean, var = _as_tensors(x, mean, var)
    if (var <= 0).any():
        raise ValueError("var must be > 0")
    return -0.5 * (math.log(2 * math.pi) + torch.log(var) + (x - mean) ** 2 / var)
