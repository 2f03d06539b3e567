"""β schedules, α, ᾱ, SNR and the prior check, against hand-computed values."""
import json
import math

import pytest
import torch

from helpers.data import Normalizer, sample
from helpers.schedule import (DEFAULT_T, Schedule, cosine_schedule, linear_schedule, make_schedule,
                              prior_kl)


def test_small_schedule_by_hand():
    s = linear_schedule(3, beta_1=0.1, beta_T=0.3)
    assert s.T == 3
    assert s.beta.tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert s.alpha.tolist() == pytest.approx([1.0, 0.9, 0.8, 0.7])
    assert s.alpha_bar.tolist() == pytest.approx([1.0, 0.9, 0.72, 0.504])
    assert s.snr().tolist() == pytest.approx([0.9 / 0.1, 0.72 / 0.28, 0.504 / 0.496])


def test_default_linear_schedule_is_scaled_to_T():
    s = linear_schedule()
    assert s.T == DEFAULT_T == 180
    assert len(s.beta) == len(s.alpha_bar) == 181
    assert float(s.beta[1]) == pytest.approx(1e-4 * 1000 / 180)
    assert float(s.beta[180]) == pytest.approx(0.02 * 1000 / 180)
    # linear: constant differences
    d = s.beta[2:] - s.beta[1:-1]
    assert torch.allclose(d, d[0].expand_as(d))
    # ᾱ_t is the running product of α_s
    assert float(s.alpha_bar[90]) == pytest.approx(math.prod(1 - float(b) for b in s.beta[1:91]))


def test_unscaled_ho_schedule_keeps_given_ends():
    s = linear_schedule(180, beta_1=1e-4, beta_T=0.02)
    assert float(s.beta[1]) == pytest.approx(1e-4) and float(s.beta[-1]) == pytest.approx(0.02)
    # ᾱ_T ≈ exp(-Σβ) ≈ exp(-180 · 0.01005) ≈ 0.16: far from 0
    assert 0.1 < float(s.alpha_bar[-1]) < 0.2


@pytest.mark.parametrize("T", [50, 180, 1000])
def test_cosine_schedule_follows_its_defining_alpha_bar(T):
    s_off = 0.008
    s = cosine_schedule(T)
    t = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((t / T + s_off) / (1 + s_off) * math.pi / 2) ** 2
    want = f / f[0]
    # β is clipped at 0.999 only at the very end (t = T), so ᾱ follows f(t)/f(0) before it
    assert torch.allclose(s.alpha_bar[:T], want[:T], rtol=1e-10, atol=1e-14)
    assert float(s.beta.max()) <= 0.999 + 1e-15
    # a hand value: t = T/2 → cos²(π/2 · 0.508/1.008) / cos²(π/2 · 0.008/1.008)
    half = math.cos(math.pi / 2 * 0.508 / 1.008) ** 2 / math.cos(math.pi / 2 * 0.008 / 1.008) ** 2
    assert float(s.alpha_bar[T // 2]) == pytest.approx(half, rel=1e-12)


def test_snr_definition_and_monotone():
    for s in (linear_schedule(), cosine_schedule()):
        snr = s.snr()
        assert snr.shape == (s.T,)
        assert torch.allclose(snr, s.alpha_bar[1:] / (1 - s.alpha_bar[1:]))
        assert (snr[1:] < snr[:-1]).all()


def test_gather_returns_columns():
    s = linear_schedule()
    like = torch.zeros(3, 2, dtype=torch.float32)
    col = s.gather("alpha_bar", torch.tensor([0, 1, 180]), like)
    assert col.shape == (3, 1) and col.dtype == torch.float32
    assert col[:, 0].tolist() == pytest.approx([1.0, float(s.alpha_bar[1]), float(s.alpha_bar[180])])


def test_make_schedule_and_round_trip():
    for kind in ("linear", "cosine"):
        s = make_schedule(kind, 100)
        back = Schedule.from_dict(json.loads(json.dumps(s.to_dict())))
        assert back.name == kind and back.T == 100
        assert torch.equal(back.alpha_bar, s.alpha_bar)


def _x0():
    x = sample(4000, generator=0)
    return Normalizer.fit(x).encode(x)


def test_prior_kl_default_schedules_near_zero():
    x0 = _x0()
    for s in (linear_schedule(), cosine_schedule()):
        assert prior_kl(s, x0) < 1e-3


def test_prior_kl_unscaled_ho_schedule_clearly_not():
    kl = prior_kl(linear_schedule(180, beta_1=1e-4, beta_T=0.02), _x0())
    assert kl > 0.1


def test_prior_kl_by_hand_single_point():
    s = linear_schedule(3, beta_1=0.1, beta_T=0.3)
    ab = 0.504
    x0 = torch.tensor([[1.0, -2.0]])
    # per dimension: 1/2 [-log(1-ab) + (1-ab) + ab x² - 1]
    want = sum(0.5 * (-math.log(1 - ab) + (1 - ab) + ab * v * v - 1) for v in (1.0, -2.0))
    assert prior_kl(s, x0) == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("call,name", [
    (lambda: linear_schedule(0), "T"),
    (lambda: linear_schedule(10), "T"),
    (lambda: linear_schedule(180, beta_1=1.5), "beta_1"),
    (lambda: linear_schedule(180, beta_T=0.0), "beta_T"),
    (lambda: cosine_schedule(180, s=-0.1), "s"),
    (lambda: cosine_schedule(2.5), "T"),
    (lambda: make_schedule("quadratic"), "kind"),
    (lambda: Schedule(torch.tensor([0.1, 1.0])), "betas"),
    (lambda: Schedule(torch.tensor([])), "betas"),
    (lambda: Schedule(torch.full((3, 3), 0.1)), "betas"),
    (lambda: prior_kl("linear", torch.zeros(2, 2)), "schedule"),
    (lambda: prior_kl(linear_schedule(), torch.zeros(2, 3)), "x0"),
    (lambda: Schedule.from_dict({"beta": [0.1]}), "betas"),
    (lambda: linear_schedule().gather("snr", torch.tensor([1]), torch.zeros(1, 2)), "name"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()


def test_short_chain_with_explicit_betas_is_allowed():
    s = linear_schedule(10, beta_1=0.01, beta_T=0.5)
    assert s.T == 10
