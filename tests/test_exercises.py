"""The exercise checks of notebooks 01-02 accept a right answer and reject wrong ones."""
import torch

from helpers.data import butterfly_curve, butterfly_radius
from helpers.exercises import (check_01_cartesian, check_02_closed_form, check_02_half_signal_t,
                               half_signal_t)
from helpers.forward import q_sample
from helpers.schedule import cosine_schedule, linear_schedule


def test_check_01_cartesian(capsys):
    assert check_01_cartesian(butterfly_curve)
    assert check_01_cartesian(lambda th: (butterfly_radius(th) * torch.sin(th), butterfly_radius(th) * torch.cos(th)))
    assert not check_01_cartesian(lambda th: butterfly_curve(th).flip(-1))
    assert "swapped" in capsys.readouterr().out
    assert not check_01_cartesian(lambda th: butterfly_curve(th)[:10])
    assert not check_01_cartesian(lambda th: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_check_02_closed_form():
    assert check_02_closed_form(lambda s, x0, t, eps: q_sample(s, x0, t, noise=eps))
    ab = lambda s, t: s.alpha_bar[t].float()  # noqa: E731
    assert check_02_closed_form(lambda s, x0, t, eps: ab(s, t).sqrt() * x0 + (1 - ab(s, t)).sqrt() * eps)
    # the classic mistakes: α_t instead of ᾱ_t, variance instead of standard deviation
    assert not check_02_closed_form(lambda s, x0, t, eps: s.alpha[t].sqrt() * x0 + (1 - s.alpha[t]).sqrt() * eps)
    assert not check_02_closed_form(lambda s, x0, t, eps: ab(s, t).sqrt() * x0 + (1 - ab(s, t)) * eps)


def test_half_signal_t():
    for s in (linear_schedule(), cosine_schedule()):
        t = half_signal_t(s)
        assert s.alpha_bar[t] < 0.5 <= s.alpha_bar[t - 1]
        assert check_02_half_signal_t(t, s)
        assert not check_02_half_signal_t(t - 1, s)
        assert not check_02_half_signal_t(2.5, s)
