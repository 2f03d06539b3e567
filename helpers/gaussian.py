"""Closed forms for diagonal Gaussians, used by the forward process and the ELBO."""
from __future__ import annotations

import math

import torch


def _as_tensors(**named) -> list[torch.Tensor]:
    """The values as tensors (float64 unless already tensors); raise naming the first non-finite one."""
    out = []
    for name, x in named.items():
        if not isinstance(x, torch.Tensor):
            try:
                x = torch.as_tensor(x, dtype=torch.float64)
            except (TypeError, ValueError, RuntimeError) as err:
                raise ValueError(f"{name} must be a number or a tensor of real numbers, "
                                 f"got {type(x).__name__}") from err
        if x.is_complex() or x.dtype == torch.bool:
            raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}")
        if not torch.isfinite(x).all():
            raise ValueError(f"{name} must be finite (found NaN or inf)")
        out.append(x)
    return out


def _check_positive(**named) -> None:
    for name, v in named.items():
        if (v <= 0).any():
            raise ValueError(f"{name} must be > 0 (a variance), got a minimum of {float(v.min()):.3g}")


def normal_kl(mean1, var1, mean2, var2) -> torch.Tensor:
    """KL( N(mean1, var1) || N(mean2, var2) ), elementwise (sum over dimensions yourself).

    KL = ½ [ log(var2/var1) + (var1 + (mean1 − mean2)²)/var2 − 1 ]   (the L_T and L_{t−1} of eq. 5)
    """
    mean1, var1, mean2, var2 = _as_tensors(mean1=mean1, var1=var1, mean2=mean2, var2=var2)
    _check_positive(var1=var1, var2=var2)
    return 0.5 * (torch.log(var2 / var1) + (var1 + (mean1 - mean2) ** 2) / var2 - 1.0)


def normal_log_prob(x, mean, var) -> torch.Tensor:
    """log N(x; mean, var) = −½ [log 2π + log var + (x − mean)²/var], elementwise."""
    x, mean, var = _as_tensors(x=x, mean=mean, var=var)
    _check_positive(var=var)
    return -0.5 * (math.log(2 * math.pi) + torch.log(var) + (x - mean) ** 2 / var)
