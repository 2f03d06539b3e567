"""Plot helpers: the article's timesteps, shared axes across panels, labels."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers.data import sample  # noqa: E402
from helpers.plotting import (ARTICLE_TIMESTEPS, article_timesteps, plot_forward_grid,  # noqa: E402
                              plot_grid, plot_schedule, scatter)
from helpers.schedule import cosine_schedule, linear_schedule  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_article_timesteps_exact_for_180():
    assert article_timesteps(180) == [1, 20, 50, 70, 90, 110, 130, 150, 170, 180]
    assert tuple(article_timesteps()) == ARTICLE_TIMESTEPS


@pytest.mark.parametrize("T", [1, 2, 5, 10, 50, 100, 181, 1000, 4000])
def test_article_timesteps_scaled_within_range(T):
    ts = article_timesteps(T)
    assert ts[0] == 1 and ts[-1] == T
    assert all(1 <= t <= T for t in ts)
    assert ts == sorted(set(ts))
    assert len(ts) == min(10, T)


def test_article_timesteps_scale_proportionally():
    assert article_timesteps(1000) == [1, 111, 278, 389, 500, 611, 722, 833, 944, 1000]
    assert article_timesteps(90) == [1, 10, 25, 35, 45, 55, 65, 75, 85, 90]


def _visible(fig):
    return [ax for ax in fig.axes if ax.axison]


def test_grid_shares_one_box_and_labels_panels():
    clouds = [torch.randn(50, 2), 3 * torch.randn(50, 2), torch.zeros(50, 2)]
    fig = plot_grid(clouds, [1, "x_0", 180], ncols=2, title="demo")
    axes = _visible(fig)
    assert len(axes) == 3 and len(fig.axes) == 4  # the 4th slot of the 2×2 grid is hidden
    assert [ax.get_title() for ax in axes] == ["t = 1", "x_0", "t = 180"]
    box = {(ax.get_xlim(), ax.get_ylim()) for ax in axes}
    assert len(box) == 1
    (x0, x1), (y0, y1) = box.pop()
    widest = max(float(c.abs().max()) for c in clouds)
    assert x0 == -x1 and x1 >= widest and y1 >= widest
    assert all(ax.get_aspect() == 1.0 for ax in axes)
    assert fig.get_suptitle() == "demo"


def test_grid_labels_from_numpy_and_torch_ints():
    import numpy as np
    fig = plot_grid([torch.zeros(5, 2)] * 3, [np.int64(5), torch.tensor(7), "x_T"])
    assert [ax.get_title() for ax in _visible(fig)] == ["t = 5", "t = 7", "x_T"]


def test_grid_fixed_limits():
    fig = plot_grid([torch.zeros(5, 2)] * 2, ["a", "b"], lim=((-1, 2), (-3, 4)))
    for ax in _visible(fig):
        assert ax.get_xlim() == (-1, 2) and ax.get_ylim() == (-3, 4)


def test_forward_grid_titles_follow_T():
    x0 = sample(300, generator=0)
    fig = plot_forward_grid(linear_schedule(90), x0, generator=torch.Generator().manual_seed(0))
    assert [ax.get_title() for ax in _visible(fig)] == [f"t = {t}" for t in article_timesteps(90)]
    assert "T = 90" in fig.get_suptitle()
    # every panel shows all its points inside the shared box
    for ax in _visible(fig):
        pts = ax.collections[0].get_offsets()
        assert (abs(pts) <= ax.get_xlim()[1]).all()


def test_scatter_equal_aspect_fixed_limits_and_labels():
    ax = scatter(sample(100, generator=0), title="butterfly", label="data")
    assert ax.get_xlim() == (-3.5, 3.5) and ax.get_ylim() == (-3.5, 3.5)
    assert ax.get_aspect() == 1.0
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y" and ax.get_title() == "butterfly"
    assert ax.get_legend() is not None


def test_schedule_plot_marks_t_on_alpha_bar():
    s = linear_schedule()
    fig = plot_schedule([s, cosine_schedule()], t_marker=50)
    ax_b, ax_ab, ax_snr = fig.axes
    assert all(ax.get_xlabel() == "t" for ax in fig.axes)
    assert ax_b.get_yscale() == "log"
    markers = [ln for ln in ax_ab.lines if len(ln.get_xdata()) == 1]
    assert [float(m.get_ydata()[0]) for m in markers] == pytest.approx(
        [float(s.alpha_bar[50]), float(cosine_schedule().alpha_bar[50])])
    assert "0.453" in ax_ab.get_title()  # ᾱ_50 of the linear schedule, printed on the panel
    # log10 SNR curve values
    snr_line = ax_snr.lines[0]
    assert snr_line.get_ydata()[0] == pytest.approx(float(s.snr()[0].log10()))


@pytest.mark.parametrize("call,name", [
    (lambda: article_timesteps(0), "T"),
    (lambda: plot_grid([], []), "clouds"),
    (lambda: plot_grid([torch.zeros(3, 2)], [1, 2]), "labels"),
    (lambda: plot_grid([torch.zeros(3, 2), torch.zeros(3)], [1, 2]), r"clouds\[1\]"),
    (lambda: plot_grid([torch.zeros(3, 2)], [1], lim=-1.0), "lim"),
    (lambda: plot_grid([torch.zeros(3, 2)], [1], lim=((1, 0), (0, 1))), "lim"),
    (lambda: plot_grid([torch.zeros(3, 2)], [1], ncols=0), "ncols"),
    (lambda: scatter(torch.zeros(3, 3)), "points"),
    (lambda: plot_forward_grid(linear_schedule(), torch.zeros(3, 2), timesteps=[181]), "timesteps"),
    (lambda: plot_forward_grid("linear", torch.zeros(3, 2)), "schedule"),
    (lambda: plot_schedule(linear_schedule(), t_marker=181), "t_marker"),
    (lambda: plot_schedule([]), "schedules"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
