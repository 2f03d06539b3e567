"""Input validation shared by every helper: each bad input raises ValueError naming the argument."""
import numpy as np
import pytest
import torch

from helpers._checks import check_float, check_int, check_points, check_timesteps


def test_check_int_accepts_integers_of_every_kind():
    assert check_int("n", 3) == 3
    assert check_int("n", np.int64(4)) == 4
    assert check_int("n", torch.tensor(5)) == 5


@pytest.mark.parametrize("bad", [2.5, "3", True, None, torch.tensor(True), torch.tensor(2.0)])
def test_check_int_rejects_non_integers(bad):
    with pytest.raises(ValueError, match="n must be an integer"):
        check_int("n", bad, 1)


def test_check_int_range_named():
    with pytest.raises(ValueError, match=r"T must be an integer in \[1, 10\], got 11"):
        check_int("T", 11, 1, 10)


def test_check_float_ranges():
    assert check_float("noise", 0.0, 0.0) == 0.0
    with pytest.raises(ValueError, match=r"noise must be in \(0, inf\)"):
        check_float("noise", 0.0, 0.0, lo_open=True)
    for bad in (float("nan"), float("inf"), "0.1", None):
        with pytest.raises(ValueError, match="noise must be a finite number"):
            check_float("noise", bad)


def test_check_points_shape_and_values():
    x = check_points("x0", [[1, 2], [3, 4]])
    assert x.dtype == torch.float32 and x.shape == (2, 2)
    with pytest.raises(ValueError, match=r"x0 must have shape \(n, 2\), got \(3,\)"):
        check_points("x0", torch.zeros(3))
    with pytest.raises(ValueError, match="x0 must contain only finite values"):
        check_points("x0", torch.tensor([[0.0, float("nan")]]))
    with pytest.raises(ValueError, match="x0 must hold real numbers"):
        check_points("x0", torch.zeros(2, 2, dtype=torch.complex64))


def test_check_timesteps_forms():
    assert check_timesteps("t", 3, 4, 10).tolist() == [3, 3, 3, 3]
    assert check_timesteps("t", [1, 2], 2, 10).tolist() == [1, 2]
    assert check_timesteps("t", np.array([1, 2]), 2, 10).tolist() == [1, 2]
    assert check_timesteps("t", torch.tensor([[1], [2]]), 2, 10).tolist() == [1, 2]
    with pytest.raises(ValueError, match=r"t must be in \[1, 10\], got values in \[0, 2\]"):
        check_timesteps("t", torch.tensor([0, 2]), 2, 10, lo=1)
    with pytest.raises(ValueError, match=r"t must be in \[1, 10\], got 11"):
        check_timesteps("t", 11, 2, 10, lo=1)
    with pytest.raises(ValueError, match=r"t must be an integer"):
        check_timesteps("t", 2.0, 2, 10)
    with pytest.raises(ValueError, match="t must hold integers"):
        check_timesteps("t", torch.tensor([1.0, 2.0]), 2, 10)
    with pytest.raises(ValueError, match=r"t must be an int or have shape \(3,\)"):
        check_timesteps("t", torch.tensor([1, 2]), 3, 10)
