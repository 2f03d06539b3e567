"""The t slider: it redraws a PNG into its Output and records what it drew."""
import base64

import matplotlib

matplotlib.use("Agg")
import ipywidgets as widgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers.data import sample  # noqa: E402
from helpers.schedule import linear_schedule  # noqa: E402
from helpers.widgets import SliderPlot, figure_to_png, float_slider, forward_slider, t_slider  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _draw_line(t):
    fig, ax = plt.subplots(figsize=(2, 2), dpi=50)
    ax.plot([0, t], [0, t])
    ax.set_xlim(0, 200)
    ax.set_ylim(0, 200)
    return fig


def _shown_png(w: SliderPlot) -> bytes:
    (out,) = w.output.outputs
    assert out["output_type"] == "display_data"
    return base64.b64decode(out["data"]["image/png"])


def test_t_slider_widget_contract():
    w = t_slider(_draw_line, T=180, value=20)
    assert isinstance(w, widgets.VBox) and w.children == (w.slider, w.output)
    s = w.slider
    assert isinstance(s, widgets.IntSlider)
    assert (s.min, s.max, s.value, s.step) == (1, 180, 20, 1)
    assert s.description == "t" and s.readout and s.continuous_update is False
    assert isinstance(w.output, widgets.Output)
    # drawn once on creation, as a PNG inside the Output
    assert w.state() == {"value": 20, "n_draws": 1, "png_digest": w.png_digest, "error": False}
    assert w.last_png.startswith(PNG_MAGIC) and _shown_png(w) == w.last_png


def test_default_value_is_mid_chain_and_within_range():
    assert t_slider(_draw_line, T=180).slider.value == 90
    assert t_slider(_draw_line, T=1).slider.value == 1      # T // 2 = 0 would be below t_min = 1
    assert t_slider(_draw_line, T=10, t_min=8).slider.value == 8


def test_moving_the_slider_redraws():
    w = t_slider(_draw_line, T=180, value=20)
    first = w.last_png
    w.slider.value = 150
    assert w.last_value == 150 and w.n_draws == 2 and w.history == [20, 150]
    assert w.last_png != first and _shown_png(w) == w.last_png
    w.slider.value = 150  # no change, no redraw
    assert w.n_draws == 2
    assert plt.get_fignums() == []  # every drawn figure was closed


def test_draw_fn_may_return_axes_or_nothing():
    w1 = t_slider(lambda t: plt.subplots()[1].plot([t]) and plt.gca(), T=5, value=2)
    w2 = t_slider(lambda t: plt.plot([0, t]) and None, T=5, value=3)
    assert w1.last_png.startswith(PNG_MAGIC) and w2.last_png.startswith(PNG_MAGIC)


def test_errors_raise_at_creation_and_show_in_output_later():
    with pytest.raises(ZeroDivisionError):
        t_slider(lambda t: 1 / 0, T=5)

    def fragile(t):
        if t == 4:
            raise RuntimeError("no plot for t = 4")
        return _draw_line(t)

    w = t_slider(fragile, T=5, value=2)
    w.slider.value = 4
    assert w.state()["error"] and w.last_value == 2
    (out,) = w.output.outputs
    assert out["name"] == "stderr" and "no plot for t = 4" in out["text"]
    w.slider.value = 5
    assert not w.state()["error"] and w.last_value == 5


def test_forward_slider_redraws_x_t_and_schedule():
    w = forward_slider(linear_schedule(), sample(200, generator=0), value=10,
                       generator=torch.Generator().manual_seed(0))
    d10 = w.png_digest
    w.slider.value = 170
    assert w.last_value == 170 and w.png_digest != d10
    assert w.slider.max == 180


def test_float_slider():
    w = float_slider(lambda v: _draw_line(100 * v), value=0.05, min=0.0, max=0.5, step=0.01,
                     description="noise")
    assert isinstance(w.slider, widgets.FloatSlider) and w.slider.continuous_update is False
    w.slider.value = 0.3
    assert w.last_value == pytest.approx(0.3) and w.n_draws == 2


@pytest.mark.parametrize("call,name", [
    (lambda: t_slider(_draw_line, T=0), "T"),
    (lambda: t_slider(_draw_line, T=10, value=11), "value"),
    (lambda: t_slider(_draw_line, T=10, value=0), "value"),
    (lambda: t_slider("plot", T=10), "draw_fn"),
    (lambda: t_slider(_draw_line, T=10, description=3), "description"),
    (lambda: SliderPlot(_draw_line, widgets.Text()), "slider"),
    (lambda: float_slider(_draw_line, 0.5, 1.0, 0.0, 0.1, "x"), "max"),
    (lambda: float_slider(_draw_line, 2.0, 0.0, 1.0, 0.1, "x"), "value"),
    (lambda: forward_slider(linear_schedule(), torch.zeros(3, 2), value=181), "value"),
    (lambda: forward_slider(linear_schedule(), torch.zeros(3, 2), generator=1), "generator"),
    (lambda: figure_to_png("fig"), "fig"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
