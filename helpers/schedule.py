"""Noise schedules: β_t, α_t = 1 − β_t, ᾱ_t = ∏_{s≤t} α_s and the signal-to-noise ratio.

Time follows the paper: t = 1, …, T, and every array has length T + 1 with a
padding entry at t = 0 (β_0 = 0, ᾱ_0 = 1), so ``schedule.alpha_bar[t]`` reads like
the formula and ``q_sample(x0, 0)`` is x_0 itself.
"""
from __future__ import annotations

import math

import torch

from ._checks import check_float, check_int, check_points
from .gaussian import normal_kl

DEFAULT_T = 180  # the article's grid of x_t ends at t = 180


def column(values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``values[t]`` (an array indexed by the paper's t) as an ``(n, 1)`` column in ``like``'s
    dtype and device, ready to multiply points of shape ``(n, 2)``."""
    # index and cast on the CPU first: MPS has no float64
    return values[t.cpu()].to(like.dtype).to(like.device).unsqueeze(-1)


class Schedule:
    """β_1..β_T and everything derived from them (float64, indexed by the paper's t)."""

    def __init__(self, betas: torch.Tensor, name: str = "custom"):
        betas = torch.as_tensor(betas, dtype=torch.float64)
        if betas.ndim > 1:
            raise ValueError(f"betas must be 1-D (β_1, …, β_T), got shape {tuple(betas.shape)}")
        betas = betas.flatten()
        if betas.numel() < 1:
            raise ValueError("betas must hold at least one value (T >= 1)")
        if not torch.isfinite(betas).all() or (betas <= 0).any() or (betas >= 1).any():
            raise ValueError("betas must all lie in the open interval (0, 1)")
        self.name = name
        self.T = betas.numel()
        self.beta = torch.cat([torch.zeros(1, dtype=torch.float64), betas])
        self.alpha = 1.0 - self.beta
        self.alpha_bar = torch.cumprod(self.alpha, dim=0)

    def snr(self) -> torch.Tensor:
        """SNR(t) = ᾱ_t / (1 − ᾱ_t) for t = 1..T (t = 0 is +inf and left out)."""
        ab = self.alpha_bar[1:]
        return ab / (1.0 - ab)

    def gather(self, name: str, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """``self.<name>[t]`` as a column of shape ``(n, 1)`` in ``like``'s dtype and device."""
        if name not in ("beta", "alpha", "alpha_bar"):
            raise ValueError(f"name must be one of 'beta', 'alpha', 'alpha_bar', got {name!r}")
        return column(getattr(self, name), t, like)

    def to_dict(self) -> dict:
        return {"name": self.name, "betas": self.beta[1:].tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "Schedule":
        try:
            return cls(torch.tensor(d["betas"], dtype=torch.float64), name=str(d.get("name", "custom")))
        except (KeyError, TypeError) as err:
            raise ValueError(f"a schedule needs {{'betas': [...]}}, got keys {list(d)}") from err

    def __repr__(self) -> str:
        return (f"Schedule(name={self.name!r}, T={self.T}, beta_1={float(self.beta[1]):.2e}, "
                f"beta_T={float(self.beta[-1]):.2e}, alpha_bar_T={float(self.alpha_bar[-1]):.2e})")


def check_schedule(name: str, schedule) -> "Schedule":
    """Return ``schedule`` if it is a :class:`Schedule`, else raise a ValueError naming ``name``."""
    if not isinstance(schedule, Schedule):
        raise ValueError(f"{name} must be a Schedule (e.g. linear_schedule()), got {type(schedule).__name__}")
    return schedule


def linear_schedule(T: int = DEFAULT_T, beta_1: float | None = None, beta_T: float | None = None) -> Schedule:
    """Linear β_t from β_1 to β_T (Ho et al. 2020, Sec. 4).

    Ho et al. use β_1 = 1e-4, β_T = 0.02 with T = 1000. By default both ends are scaled
    by 1000 / T (as Nichol & Dhariwal do) so that a short chain still ends near N(0, I);
    pass ``beta_1=1e-4, beta_T=0.02`` to see what happens when it does not.
    """
    T = check_int("T", T, 1, 100_000)
    scale = 1000.0 / T
    if beta_T is None and T <= 20:
        raise ValueError(f"T must be in [21, 100000] for the default scaled betas (β_T = 0.02·1000/T "
                         f"must stay below 1), got {T}; pass beta_1 and beta_T for a shorter chain")
    beta_1 = check_float("beta_1", 1e-4 * scale if beta_1 is None else beta_1, 0.0, 1.0, True, True)
    beta_T = check_float("beta_T", 0.02 * scale if beta_T is None else beta_T, 0.0, 1.0, True, True)
    return Schedule(torch.linspace(beta_1, beta_T, T, dtype=torch.float64), name="linear")


def cosine_schedule(T: int = DEFAULT_T, s: float = 0.008, max_beta: float = 0.999) -> Schedule:
    """Cosine schedule (Nichol & Dhariwal 2021, eq. 17): ᾱ_t = f(t)/f(0),
    f(t) = cos²(π/2 · (t/T + s)/(1 + s)), β_t = min(1 − ᾱ_t/ᾱ_{t−1}, max_beta)."""
    T = check_int("T", T, 1, 100_000)
    s = check_float("s", s, 0.0, 1.0)
    max_beta = check_float("max_beta", max_beta, 0.0, 1.0, True, True)
    t = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    betas = (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=max_beta)
    return Schedule(betas, name="cosine")


def make_schedule(kind: str = "linear", T: int = DEFAULT_T) -> Schedule:
    """``"linear"`` or ``"cosine"``."""
    makers = {"linear": linear_schedule, "cosine": cosine_schedule}
    if kind not in makers:
        raise ValueError(f"kind must be one of {sorted(makers)}, got {kind!r}")
    return makers[kind](T)


def prior_kl_per_point(schedule: Schedule, x0: torch.Tensor) -> torch.Tensor:
    """L_T for each point, shape ``(n,)``, float64: KL( q(x_T | x_0) || N(0, I) ) summed over the
    coordinates, with q(x_T | x_0) = N(√ᾱ_T x_0, (1 − ᾱ_T) I) (eq. 4 at t = T; L_T of eq. 5)."""
    check_schedule("schedule", schedule)
    x0 = check_points("x0", x0).double()
    ab = schedule.alpha_bar[-1]
    return normal_kl(ab.sqrt() * x0, 1.0 - ab, torch.zeros(()), torch.ones(())).sum(-1)


def prior_kl(schedule: Schedule, x0: torch.Tensor) -> float:
    """The prior check L_T (eq. 5): mean over x_0 of KL( q(x_T | x_0) || N(0, I) ), in nats per point.

    A value near 0 means x_T is pure noise, so sampling can start from N(0, I); a large
    value means the chain stops short.
    """
    return float(prior_kl_per_point(schedule, x0).mean())
