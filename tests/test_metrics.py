"""Sample-quality metrics against the noise floor (helpers.metrics)."""
import math

import pytest
import torch

from helpers.data import butterfly_curve, sample
from helpers.metrics import curve_distance, distance_to_curve, mmd, sample_quality

N = 1000  # small sets keep this file fast; the ratios' scatter at this size is about ±15 %


def test_mmd_is_zero_for_identical_sets_and_symmetric():
    x = sample(300, generator=0)
    y = sample(300, generator=1)
    assert mmd(x, x) == 0.0
    assert math.isclose(mmd(x, y), mmd(y, x), rel_tol=1e-9)


def test_mmd_matches_a_direct_computation():
    x = torch.randn(40, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y = torch.randn(30, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64) + 0.3
    hs = (0.3, 0.6, 1.2)

    def k(a, b):
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return sum(torch.exp(-d2 / (2 * h * h)) for h in hs)
    direct = (k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()).sqrt()
    assert math.isclose(mmd(x, y, hs), float(direct), rel_tol=1e-9)         # the "doubling" fast path
    hs2 = (0.3, 0.5)

    def k2(a, b):
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return sum(torch.exp(-d2 / (2 * h * h)) for h in hs2)
    direct2 = (k2(x, x).mean() + k2(y, y).mean() - 2 * k2(x, y).mean()).sqrt()
    assert math.isclose(mmd(x, y, hs2), float(direct2), rel_tol=1e-9)       # the general path


def test_points_on_the_curve_have_zero_distance_and_offsets_are_measured():
    theta = torch.linspace(0.1, 6.0, 50, dtype=torch.float64)
    on = butterfly_curve(theta)
    assert float(distance_to_curve(on).max()) < 2e-3
    # a small normal offset: the distance is the offset (up to the grid and curvature)
    tangent = butterfly_curve(theta + 1e-6) - on
    normal = torch.stack([-tangent[:, 1], tangent[:, 0]], 1)
    normal = normal / normal.norm(dim=1, keepdim=True)
    d = distance_to_curve(on + 0.01 * normal)
    assert bool((d <= 0.0101).all())  # never farther than the offset ...
    # ... and equal to it except where the curve passes within 0.01 of itself
    assert float(((d - 0.01).abs() < 5e-4).double().mean()) > 0.9


def test_noise_floor_is_about_one_for_true_data():
    q = sample_quality(sample(N, generator=123), seed=7)
    assert 0.7 < q["mmd_ratio"] < 1.35
    assert 0.9 < q["dist_ratio"] < 1.1  # mean of N distances: s.e. about 2 %
    # the floor of the distance is the mean distance of jittered data, ≈ 0.73 σ for σ = 0.05
    assert 0.03 < q["dist_floor"] < 0.045


def test_shifted_or_blurred_data_score_clearly_above_the_floor():
    # thresholds sit well above the null scatter (true data: MMD ratio 0.9–1.2 at N = 1000)
    shifted = sample(N, generator=5) + torch.tensor([0.15, 0.0])
    q = sample_quality(shifted, seed=7)
    assert q["mmd_ratio"] > 1.4 and q["dist_ratio"] > 1.5
    # blur is what the curve distance sees best; MMD needs a strong blur at this size
    q = sample_quality(sample(N, noise=0.1, generator=6), seed=7)
    assert q["dist_ratio"] > 1.5
    q = sample_quality(sample(N, noise=0.25, generator=6), seed=7)
    assert q["mmd_ratio"] > 1.3 and q["dist_ratio"] > 3


def test_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="x must have shape"):
        mmd(torch.zeros(3, 3), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="bandwidths"):
        mmd(torch.zeros(3, 2), torch.zeros(3, 2), bandwidths=(0.0,))
    with pytest.raises(ValueError, match="samples must contain only finite"):
        sample_quality(torch.tensor([[float("nan"), 0.0]]))
    with pytest.raises(ValueError, match="n_refs"):
        sample_quality(sample(10, generator=0), n_refs=1)
