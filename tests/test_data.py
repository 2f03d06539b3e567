"""The butterfly curve, sampling with jitter, and the normaliser."""
import json
import math

import numpy as np
import pytest
import torch

from helpers.data import (DEFAULT_NOISE, Normalizer, butterfly_curve, butterfly_radius, butterfly_speed,
                          sample, sample_even)


def test_radius_and_curve_hand_values():
    # θ = 0: r = e − 2 + 0, point (r sin 0, r cos 0) = (0, e − 2)
    assert float(butterfly_radius(torch.tensor(0.0))) == pytest.approx(math.e - 2)
    assert butterfly_curve(torch.tensor(0.0)).tolist() == pytest.approx([0.0, math.e - 2])
    # θ = π/2: r = e⁰ − 2 cos 2π + sin⁵(π/24), point (r, 0)
    r = 1 - 2 + math.sin(math.pi / 24) ** 5
    assert butterfly_curve(torch.tensor(math.pi / 2, dtype=torch.float64)).tolist() == pytest.approx([r, 0.0], abs=1e-12)
    # θ = π: r = e⁻¹ − 2 + sin⁵(π/12), point (0, −r)
    r = math.exp(-1) - 2 + math.sin(math.pi / 12) ** 5
    assert butterfly_curve(torch.tensor(math.pi, dtype=torch.float64)).tolist() == pytest.approx([0.0, -r], abs=1e-12)


def test_speed_matches_finite_differences():
    theta = torch.linspace(0.01, 2 * math.pi - 0.01, 997, dtype=torch.float64)
    h = 1e-6
    fd = (butterfly_curve(theta + h) - butterfly_curve(theta - h)) / (2 * h)
    assert torch.allclose(butterfly_speed(theta), fd.norm(dim=-1), rtol=1e-6, atol=1e-8)
    # arc length of the whole curve = ∫|c'| dθ = sum of chord lengths of a fine polyline
    grid = torch.linspace(0, 2 * math.pi, 200_001, dtype=torch.float64)
    chords = (butterfly_curve(grid[1:]) - butterfly_curve(grid[:-1])).norm(dim=-1).sum()
    assert float(torch.trapezoid(butterfly_speed(grid), grid)) == pytest.approx(float(chords), rel=1e-6)


def test_curve_shape():
    assert butterfly_curve(torch.zeros(5, 3)).shape == (5, 3, 2)


def test_sample_shape_dtype_and_seeds():
    x = sample(100, generator=1)
    assert x.shape == (100, 2) and x.dtype == torch.float32
    assert torch.equal(x, sample(100, generator=1))
    assert torch.equal(sample(50, generator=torch.Generator().manual_seed(3)),
                       sample(50, generator=torch.Generator().manual_seed(3)))
    assert torch.equal(sample(50, generator=np.random.default_rng(3)), sample(50, generator=np.random.default_rng(3)))
    assert not torch.equal(x, sample(100, generator=2))


def test_theta_is_uniform_draw_from_the_generator():
    # noise = 0: the points are exactly c(2π·U) with U the generator's first uniform draws
    g = torch.Generator().manual_seed(7)
    theta = 2 * math.pi * torch.rand(1000, generator=g, dtype=torch.float64)
    assert torch.allclose(sample(1000, noise=0.0, generator=7), butterfly_curve(theta).float())
    # …and θ = 2π·U covers [0, 2π) uniformly: KS-style check of the U's
    u = theta.sort().values / (2 * math.pi)
    ecdf = torch.arange(1, 1001, dtype=torch.float64) / 1000
    assert float((ecdf - u).abs().max()) < 1.63 / math.sqrt(1000)  # 1% critical value


def test_jitter_is_gaussian_with_the_given_scale():
    n, sigma = 20_000, 0.3
    # same seed → same θ; the difference is the jitter alone
    jitter = (sample(n, sigma, generator=5).double() - sample(n, 0.0, generator=5).double()) / sigma
    assert abs(float(jitter.mean())) < 5 / math.sqrt(n)
    assert float(jitter.std()) == pytest.approx(1.0, abs=5 * math.sqrt(0.5 / n))
    assert abs(float(torch.corrcoef(jitter.T)[0, 1])) < 5 / math.sqrt(n)
    # an int seed makes ONE stream: the jitter is not the seed's first normals again
    restart = torch.randn((n, 2), generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    assert not torch.allclose(jitter, restart, atol=1e-3)


def test_default_noise():
    assert DEFAULT_NOISE == 0.05


def test_sample_even_is_the_articles_linspace():
    x = sample_even(9, noise=0.0)
    theta = torch.linspace(0, 2 * math.pi, 9, dtype=torch.float64)
    assert torch.allclose(x, butterfly_curve(theta).float())
    # both ends of [0, 2π] included; they differ by the sin⁵(θ/12) term (sin⁵(π/6) = 1/32 at 2π)
    assert x[-1].tolist() == pytest.approx([0.0, math.e - 2 + 1 / 32], abs=1e-6)
    assert torch.equal(sample_even(20, generator=3), sample_even(20, generator=3))


def test_normalizer_round_trip_and_moments():
    x = sample(5000, generator=0)
    norm = Normalizer.fit(x)
    z = norm.encode(x).double()
    assert z.mean(0).abs().max() < 1e-5
    assert float(z.pow(2).mean().sqrt()) == pytest.approx(1.0, abs=1e-5)
    assert torch.allclose(norm.decode(norm.encode(x)), x, atol=1e-5)
    back = Normalizer.from_dict(json.loads(json.dumps(norm.to_dict())))
    assert back == norm


def test_normalizer_by_hand():
    norm = Normalizer.fit(torch.tensor([[0.0, 0.0], [2.0, 4.0]]))
    assert norm.mean == (1.0, 2.0)
    # deviations ±1 in x, ±2 in y: RMS over all entries = sqrt((1 + 4) / 2)
    assert norm.scale == pytest.approx(math.sqrt(2.5))


@pytest.mark.parametrize("call,name", [
    (lambda: sample(0), "n"),
    (lambda: sample(2.5), "n"),
    (lambda: sample(10, noise=-0.1), "noise"),
    (lambda: sample(10, noise=float("nan")), "noise"),
    (lambda: sample(10, generator="seed"), "generator"),
    (lambda: sample_even(1), "n"),
    (lambda: butterfly_curve(torch.tensor([0.0, float("nan")])), "theta"),
    (lambda: butterfly_radius("pi"), "theta"),
    (lambda: butterfly_speed(torch.tensor(float("inf"))), "theta"),
    (lambda: Normalizer.fit(torch.zeros(1, 2)), "x"),
    (lambda: Normalizer.fit(torch.ones(5, 2)), "x"),
    (lambda: Normalizer((0.0, 0.0), 0.0), "scale"),
    (lambda: Normalizer((0.0,), 1.0), "mean"),
    (lambda: Normalizer(0.0, 1.0), "mean"),
    (lambda: Normalizer((0.0, float("nan")), 1.0), "mean"),
    (lambda: Normalizer((0.0, 0.0), 1.0).encode(torch.zeros(3)), "x"),
    (lambda: Normalizer((0.0, 0.0), 1.0).decode(torch.zeros(3, 3)), "z"),
    (lambda: Normalizer.from_dict({"mean": [0.0, 0.0]}), "normalizer"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()
