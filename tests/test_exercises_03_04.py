"""The exercise checks of notebooks 03-04 accept right answers and reject wrong ones with a hint."""
import pytest

from helpers.exercises_03_04 import check_03_crossover, check_03_posterior_mean, check_04_param_count, crossover_t
from helpers.posterior import q_posterior
from helpers.schedule import linear_schedule


def test_posterior_mean_check(capsys):
    assert check_03_posterior_mean(lambda s, x0, xt, t: q_posterior(s, x0, xt, t)[0])
    # the classic slip: ᾱ_t where ᾱ_{t-1} belongs
    def wrong(s, x0, xt, t):
        ab = s.alpha_bar[t]
        return ab.sqrt() * s.beta[t] / (1 - ab) * x0 + s.alpha[t].sqrt() * (1 - ab) / (1 - ab) * xt
    assert not check_03_posterior_mean(wrong)
    assert "alpha_bar[t - 1]" in capsys.readouterr().out
    swapped = lambda s, x0, xt, t: q_posterior(s, xt, x0, t)[0]
    assert not check_03_posterior_mean(swapped)
    assert "swapped" in capsys.readouterr().out
    assert not check_03_posterior_mean(lambda *a: 1 / 0)
    with pytest.raises(ValueError, match="fn"):
        check_03_posterior_mean(3)


def test_crossover_check():
    s = linear_schedule()
    t = crossover_t(s)
    from helpers.posterior import posterior_coefficients
    c = posterior_coefficients(s)
    assert c.coef_xt[t] > c.coef_x0[t] and c.coef_xt[t - 1] <= c.coef_x0[t - 1]
    assert check_03_crossover(t, s)
    assert not check_03_crossover(t + 1, s)
    assert not check_03_crossover("four", s)


def test_param_count_check():
    assert check_04_param_count(lambda h: 2 * h * h + 13 * h + 2)
    assert not check_04_param_count(lambda h: 2 * h * h + 7 * h + 2)   # forgot the t-layers
    with pytest.raises(ValueError, match="fn"):
        check_04_param_count(None)
