"""Two-sample Kolmogorov–Smirnov statistics used to compare point clouds."""
import math

import pytest
import torch

from helpers.stats import ks_critical_value, ks_statistic, sliced_ks


def test_ks_statistic_hand_values():
    assert ks_statistic([1, 2, 3], [4, 5, 6]) == 1.0
    assert ks_statistic([1, 2, 3, 4], [3, 4, 5, 6]) == 0.5
    assert ks_statistic([1, 2, 3], [1, 2, 3]) == 0.0
    assert ks_statistic([0.0], [1.0, -1.0]) == 0.5


def test_ks_critical_value_formula():
    # c(0.05) = 1.358…, the textbook value
    assert ks_critical_value(1000, 1000) == pytest.approx(1.3581 * math.sqrt(2 / 1000), rel=1e-4)
    assert ks_critical_value(100, 400, 0.01) == pytest.approx(1.6276 * math.sqrt(500 / 40_000), rel=1e-4)


def test_ks_false_alarm_rate_near_alpha():
    # Same distribution: D exceeds the 5% critical value in about 5% of 200 trials
    g = torch.Generator().manual_seed(0)
    n, trials = 200, 200
    crit = ks_critical_value(n, n, 0.05)
    hits = sum(ks_statistic(torch.randn(n, generator=g), torch.randn(n, generator=g)) > crit
               for _ in range(trials))
    # binomial(200, 0.05): mean 10, sd 3.1; the asymptotic value is a bit conservative
    assert 1 <= hits <= 22


def test_sliced_ks_detects_shift_and_rotation():
    g = torch.Generator().manual_seed(1)
    n = 4000
    x = torch.randn(n, 2, generator=g, dtype=torch.float64) * torch.tensor([1.0, 0.3], dtype=torch.float64)
    y = torch.randn(n, 2, generator=g, dtype=torch.float64) * torch.tensor([1.0, 0.3], dtype=torch.float64)
    crit = ks_critical_value(n, n, 0.001 / 8)
    assert sliced_ks(x, y) < crit
    assert sliced_ks(x, y + torch.tensor([0.15, 0.0], dtype=torch.float64)) > crit
    assert sliced_ks(x, y.flip(-1)) > crit  # same marginal shapes, rotated by 90°


@pytest.mark.parametrize("call,name", [
    (lambda: ks_statistic([], [1.0]), "a"),
    (lambda: ks_statistic([1.0], [float("nan")]), "b"),
    (lambda: ks_critical_value(0, 5), "n"),
    (lambda: ks_critical_value(5, 5, alpha=1.0), "alpha"),
    (lambda: sliced_ks(torch.zeros(5, 3), torch.zeros(5, 2)), "x"),
    (lambda: sliced_ks(torch.zeros(5, 2), torch.zeros(5, 2), n_directions=0), "n_directions"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()
