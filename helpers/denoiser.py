"""The optimal denoiser: the exact minimiser of the simple loss, in closed form.

The simple loss (eq. 14) is a squared error, so at each (x_t, t) its minimiser is the
conditional mean ε*(x_t, t) = E[ε | x_t], and by eq. 4

    ε*(x_t, t) = (x_t − √ᾱ_t E[x_0 | x_t]) / √(1 − ᾱ_t).

Two data distributions where E[x_0 | x_t] is computable exactly:

(a) A finite training set {x⁽ʲ⁾}: q(x_t) = (1/N) Σ_j N(√ᾱ_t x⁽ʲ⁾, (1 − ᾱ_t) I), so by Bayes
    E[x_0 | x_t] = Σ_j w_j x⁽ʲ⁾,  w = softmax_j( −‖x_t − √ᾱ_t x⁽ʲ⁾‖² / (2(1 − ᾱ_t)) ).
    A network that reached this minimum would only ever reproduce training points.

(b) The butterfly itself: x_0 = c(θ) + σ n, θ ~ U[0, 2π), n ~ N(0, I). Given θ,
    x_t ~ N(√ᾱ_t c(θ), v_t I) with v_t = ᾱ_t σ² + 1 − ᾱ_t, and
    E[x_0 | x_t, θ] = c(θ) + (√ᾱ_t σ² / v_t)(x_t − √ᾱ_t c(θ)). Averaging over the
    posterior of θ (a softmax on a dense θ grid, the same form as (a)) gives
    E[x_0 | x_t]. In model units (a ``Normalizer`` with mean m and scale s) the
    centres are (c(θ) − m)/s and the jitter σ/s.

(a) is (b) with σ = 0 and the grid replaced by the training points; one function,
``_mixture_x0_mean``, computes both, in float64 chunks with a log-sum-exp softmax.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import torch

from ._checks import check_float, check_int, check_points, check_timesteps
from .data import DEFAULT_NOISE, Normalizer, butterfly_curve
from .posterior import predict_eps_from_x0
from .schedule import Schedule, check_schedule

DEFAULT_N_THETA = 2048  # agrees with 16384 angles to ~1e-5 model units at t = 1
_MAX_ENTRIES = 2_000_000  # query × centre entries per chunk (16 MB in float64)


@contextmanager
def _one_thread():
    """Run the block on one intra-op thread, then restore the caller's setting.

    The mixture works on many small (n × K) tensors; splitting each op over threads costs
    more than it saves, and when cores are shared (two notebooks under ``pytest -n 2`` on a
    2-core machine) the thread barriers made a 180-step ELBO 10x slower (13 s vs 1.4 s).
    """
    old = torch.get_num_threads()
    if old == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _mixture_x0_mean(x_t: torch.Tensor, t: torch.Tensor, alpha_bar: torch.Tensor,
                     centres: torch.Tensor, jitter_var: float) -> torch.Tensor:
    """E[x_0 | x_t] for x_0 ~ (1/K) Σ_k N(centres_k, jitter_var I); float64 on CPU, shape (n, 2)."""
    with _one_thread():
        return _mixture_x0_mean_cpu(x_t, t, alpha_bar, centres, jitter_var)


def _mixture_x0_mean_cpu(x_t: torch.Tensor, t: torch.Tensor, alpha_bar: torch.Tensor,
                         centres: torch.Tensor, jitter_var: float) -> torch.Tensor:
    x = x_t.detach().to("cpu", torch.float64)
    ab = alpha_bar[t.cpu()].unsqueeze(-1)                # (n, 1)
    v = ab * jitter_var + (1 - ab)                       # variance of x_t given the centre
    shrink = ab.sqrt() * jitter_var / v                  # E[x_0|x_t,k] = c_k + shrink (x_t − √ᾱ c_k)
    c = centres.to(torch.float64)
    c_sq = c.pow(2).sum(-1)                              # (K,)
    out = torch.empty_like(x)
    chunk = max(1, _MAX_ENTRIES // max(1, c.shape[0]))
    for i in range(0, x.shape[0], chunk):
        xi, abi, vi, si = x[i:i + chunk], ab[i:i + chunk], v[i:i + chunk], shrink[i:i + chunk]
        d2 = xi.pow(2).sum(-1, keepdim=True) - 2 * abi.sqrt() * (xi @ c.T) + abi * c_sq
        w = torch.softmax(-d2 / (2 * vi), dim=1)          # softmax is log-sum-exp stable
        mean_c = w @ c                                    # Σ_k w_k c_k
        out[i:i + chunk] = mean_c + si * (xi - abi.sqrt() * mean_c)
    return out


def _check(schedule: Schedule, x_t, t) -> tuple[torch.Tensor, torch.Tensor]:
    check_schedule("schedule", schedule)
    x_t = check_points("x_t", x_t)
    t = check_timesteps("t", t, x_t.shape[0], schedule.T, lo=1)
    return x_t, t


def _check_train(x0_train) -> torch.Tensor:
    x0_train = check_points("x0_train", x0_train)
    if x0_train.shape[0] < 1:
        raise ValueError("x0_train must hold at least one point")
    return x0_train


def empirical_x0_mean(schedule: Schedule, x_t: torch.Tensor, t, x0_train: torch.Tensor) -> torch.Tensor:
    """E[x_0 | x_t] when x_0 is uniform on the training points (softmax-weighted average, see (a)).

    ``t``: int or long ``(n,)`` in [1, T], one per point. Returns ``x_t``'s dtype and device.
    """
    x_t, t = _check(schedule, x_t, t)
    x0_train = _check_train(x0_train)
    return _mixture_x0_mean(x_t, t, schedule.alpha_bar, x0_train, 0.0).to(x_t.device, x_t.dtype)


def empirical_eps(schedule: Schedule, x_t: torch.Tensor, t, x0_train: torch.Tensor) -> torch.Tensor:
    """ε*(x_t, t) for a finite training set: the exact minimiser of L_simple on it."""
    x_t, t = _check(schedule, x_t, t)
    x0 = empirical_x0_mean(schedule, x_t, t, x0_train)
    return predict_eps_from_x0(schedule, x_t, t, x0)


def butterfly_centres(n_theta: int = DEFAULT_N_THETA, normalizer: Normalizer | None = None) -> torch.Tensor:
    """c(θ_k) on the midpoint grid θ_k = 2π(k + ½)/n_theta, in model units if ``normalizer`` is given."""
    n_theta = check_int("n_theta", n_theta, 8, 10_000_000)
    theta = 2 * math.pi * (torch.arange(n_theta, dtype=torch.float64) + 0.5) / n_theta
    c = butterfly_curve(theta)
    if normalizer is not None:
        if not isinstance(normalizer, Normalizer):
            raise ValueError(f"normalizer must be a helpers.data.Normalizer or None, "
                             f"got {type(normalizer).__name__}")
        c = (c - torch.tensor(normalizer.mean, dtype=torch.float64)) / normalizer.scale
    return c


def butterfly_x0_mean(schedule: Schedule, x_t: torch.Tensor, t, noise: float = DEFAULT_NOISE,
                      normalizer: Normalizer | None = None, n_theta: int = DEFAULT_N_THETA) -> torch.Tensor:
    """E[x_0 | x_t] for the butterfly distribution itself, see (b).

    ``noise`` is the jitter σ in curve units; with a ``normalizer`` x_t and the result
    are in model units. Accurate when the grid step along the curve is small against
    √v_t (the default 2048 angles suit every t of the default schedule).
    """
    x_t, t = _check(schedule, x_t, t)
    noise = check_float("noise", noise, 0.0)
    centres = butterfly_centres(n_theta, normalizer)
    scale = 1.0 if normalizer is None else normalizer.scale
    return _mixture_x0_mean(x_t, t, schedule.alpha_bar, centres, (noise / scale) ** 2).to(x_t.device, x_t.dtype)


def butterfly_eps(schedule: Schedule, x_t: torch.Tensor, t, noise: float = DEFAULT_NOISE,
                  normalizer: Normalizer | None = None, n_theta: int = DEFAULT_N_THETA) -> torch.Tensor:
    """ε*(x_t, t) for the butterfly distribution: the network's target at infinite data."""
    x_t, t = _check(schedule, x_t, t)
    x0 = butterfly_x0_mean(schedule, x_t, t, noise, normalizer, n_theta)
    return predict_eps_from_x0(schedule, x_t, t, x0)


class OptimalDenoiser:
    """The optimal ε-predictor as a model: ``model(x_t, t) -> eps`` (the course's model contract).

    ``OptimalDenoiser(schedule, x0_train=x)`` is the empirical one (a): it memorises ``x``.
    ``OptimalDenoiser(schedule, noise=0.05, normalizer=norm)`` is the butterfly one (b).
    Not an ``nn.Module`` (it has no parameters); ``eval()``/``train()``/``to()`` return
    itself so it drops into code written for networks.
    """

    def __init__(self, schedule: Schedule, x0_train: torch.Tensor | None = None,
                 noise: float = DEFAULT_NOISE, normalizer: Normalizer | None = None,
                 n_theta: int = DEFAULT_N_THETA):
        self.schedule = check_schedule("schedule", schedule)
        self.T = schedule.T
        self.x0_train = None if x0_train is None else _check_train(x0_train).detach().cpu()
        self.noise = check_float("noise", noise, 0.0)
        self.normalizer = normalizer
        self.n_theta = check_int("n_theta", n_theta, 8, 10_000_000)
        if self.x0_train is None:
            self._centres = butterfly_centres(self.n_theta, normalizer)   # built once, reused per call
            scale = 1.0 if normalizer is None else normalizer.scale
            self._jitter_var = (self.noise / scale) ** 2
        else:
            self._centres, self._jitter_var = self.x0_train, 0.0
        self.kind = "butterfly" if self.x0_train is None else "empirical"

    def x0_mean(self, x_t: torch.Tensor, t) -> torch.Tensor:
        """E[x_0 | x_t] (the denoised estimate)."""
        x_t, t = _check(self.schedule, x_t, t)
        x0 = _mixture_x0_mean(x_t, t, self.schedule.alpha_bar, self._centres, self._jitter_var)
        return x0.to(x_t.device, x_t.dtype)

    def __call__(self, x_t: torch.Tensor, t) -> torch.Tensor:
        x_t, t = _check(self.schedule, x_t, t)
        return predict_eps_from_x0(self.schedule, x_t, t, self.x0_mean(x_t, t))

    def eval(self) -> "OptimalDenoiser":
        return self

    def train(self, mode: bool = True) -> "OptimalDenoiser":
        return self

    def to(self, *args, **kwargs) -> "OptimalDenoiser":
        return self

    def __repr__(self) -> str:
        if self.x0_train is not None:
            return f"OptimalDenoiser(empirical, {self.x0_train.shape[0]} training points, T={self.T})"
        return f"OptimalDenoiser(butterfly, noise={self.noise}, n_theta={self.n_theta}, T={self.T})"
