"""The butterfly curve, the 2-D data set of the course.

Polar form (Temple H. Fay's butterfly, as in the article)::

    r(θ) = e^{cos θ} − 2 cos 4θ + sin^5(θ / 12)
    x = r sin θ,   y = r cos θ

Note the article puts ``sin`` on x and ``cos`` on y, so the butterfly stands upright.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ._checks import check_float, check_int, check_points

TWO_PI = 2 * math.pi
DEFAULT_NOISE = 0.05  # Gaussian jitter of the data, in curve units

GeneratorLike = torch.Generator | np.random.Generator | int | None


def _check_theta(theta) -> torch.Tensor:
    """θ as a float64 tensor (any shape) of finite angles, or a ValueError naming ``theta``."""
    try:
        theta = torch.as_tensor(theta, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"theta must be angles in radians (a number or a tensor), got {type(theta).__name__}") from err
    if not torch.isfinite(theta).all():
        raise ValueError("theta must contain only finite angles (found NaN or inf)")
    return theta


def butterfly_radius(theta: torch.Tensor) -> torch.Tensor:
    """r(θ) = e^{cos θ} − 2 cos 4θ + sin^5(θ/12)."""
    theta = _check_theta(theta)
    return torch.exp(torch.cos(theta)) - 2 * torch.cos(4 * theta) + torch.sin(theta / 12) ** 5


def butterfly_curve(theta: torch.Tensor) -> torch.Tensor:
    """Points c(θ) = (r sin θ, r cos θ) on the clean curve, shape ``(*theta.shape, 2)``."""
    theta = _check_theta(theta)
    r = butterfly_radius(theta)
    return torch.stack([r * torch.sin(theta), r * torch.cos(theta)], dim=-1)


def butterfly_speed(theta: torch.Tensor) -> torch.Tensor:
    """|c'(θ)| = √(r(θ)² + r'(θ)²), the arc length travelled per unit of θ, with
    r'(θ) = −sin θ · e^{cos θ} + 8 sin 4θ + (5/12) sin⁴(θ/12) cos(θ/12).

    Points with θ ~ U[0, 2π) have density 1 / (2π |c'(θ)|) per unit length along the curve:
    slow stretches of the curve (small |c'|) collect more points.
    """
    theta = _check_theta(theta)
    r = butterfly_radius(theta)
    dr = (-torch.sin(theta) * torch.exp(torch.cos(theta)) + 8 * torch.sin(4 * theta)
          + 5 / 12 * torch.sin(theta / 12) ** 4 * torch.cos(theta / 12))
    return torch.sqrt(r ** 2 + dr ** 2)


def _normal(shape: tuple[int, ...], generator: GeneratorLike) -> torch.Tensor:
    if isinstance(generator, np.random.Generator):
        return torch.from_numpy(generator.standard_normal(shape))
    return torch.randn(shape, generator=_torch_generator(generator), dtype=torch.float64)


def _uniform(shape: tuple[int, ...], generator: GeneratorLike) -> torch.Tensor:
    if isinstance(generator, np.random.Generator):
        return torch.from_numpy(generator.random(shape))
    return torch.rand(shape, generator=_torch_generator(generator), dtype=torch.float64)


def _torch_generator(generator) -> torch.Generator | None:
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return torch.Generator().manual_seed(int(generator))
    raise ValueError("generator must be a torch.Generator, a numpy Generator, an int seed or None, "
                     f"got {type(generator).__name__}")


def sample(n: int, noise: float = DEFAULT_NOISE, generator: GeneratorLike = None) -> torch.Tensor:
    """Draw ``n`` points: θ ~ U[0, 2π), x_0 = c(θ) + noise · N(0, I). Returns float32 ``(n, 2)``.

    ``generator`` (a ``torch.Generator``, a numpy ``Generator`` or an int seed) makes the
    draw reproducible.
    """
    n = check_int("n", n, 1)
    noise = check_float("noise", noise, 0.0)
    if not isinstance(generator, np.random.Generator):
        # one generator for both draws: an int seed must not restart the stream for the jitter
        generator = _torch_generator(generator)
    theta = TWO_PI * _uniform((n,), generator)
    jitter = _normal((n, 2), generator)
    return (butterfly_curve(theta) + noise * jitter).float()


def sample_even(n: int, noise: float = DEFAULT_NOISE, generator: GeneratorLike = None) -> torch.Tensor:
    """The article's variant: θ = linspace(0, 2π, n) (evenly spaced, both ends included) plus jitter."""
    n = check_int("n", n, 2)
    noise = check_float("noise", noise, 0.0)
    theta = torch.linspace(0, TWO_PI, n, dtype=torch.float64)
    return (butterfly_curve(theta) + noise * _normal((n, 2), generator)).float()


@dataclass(frozen=True)
class Normalizer:
    """Affine map to zero mean and unit scale: z = (x − mean) / scale, and back.

    ``scale`` is one number (the RMS distance from the mean per coordinate), so the
    shape of the butterfly is kept. ``to_dict``/``from_dict`` let a checkpoint carry it.
    """

    mean: tuple[float, float]
    scale: float

    @classmethod
    def fit(cls, x: torch.Tensor) -> "Normalizer":
        x = check_points("x", x)
        if x.shape[0] < 2:
            raise ValueError(f"x must have at least 2 points to fit a normalizer, got {x.shape[0]}")
        mean = x.double().mean(0)
        scale = float((x.double() - mean).pow(2).mean().sqrt())
        if scale <= 0:
            raise ValueError("x must not be a single repeated point (its scale is 0)")
        return cls((float(mean[0]), float(mean[1])), scale)

    def __post_init__(self):
        if not hasattr(self.mean, "__len__") or len(self.mean) != 2:
            raise ValueError(f"mean must have 2 entries (m_x, m_y), got {self.mean!r}")
        for v in self.mean:
            check_float("mean", v)
        check_float("scale", self.scale, 0.0, lo_open=True)

    def _mean(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tensor(self.mean, dtype=x.dtype, device=x.device)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Data units → model units."""
        x = check_points("x", x)
        return (x - self._mean(x)) / self.scale

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Model units → data units."""
        z = check_points("z", z)
        return z * self.scale + self._mean(z)

    def to_dict(self) -> dict:
        return {"mean": list(self.mean), "scale": self.scale}

    @classmethod
    def from_dict(cls, d: dict) -> "Normalizer":
        try:
            return cls((float(d["mean"][0]), float(d["mean"][1])), float(d["scale"]))
        except (KeyError, TypeError, IndexError) as err:
            raise ValueError(f"a normalizer needs {{'mean': [m_x, m_y], 'scale': s}}, got {d!r}") from err
