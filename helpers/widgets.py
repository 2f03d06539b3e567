"""Sliders that redraw a matplotlib figure (ipywidgets).

:class:`SliderPlot` is a slider above an ``Output`` widget. Each time the slider is
released (``continuous_update=False``) it calls ``draw_fn(value)``, renders the figure
to a PNG and puts that PNG into the ``Output`` (``.widget-output img`` in the browser).
It records what it drew (``last_value``, ``n_draws``, ``history``, ``last_png``) so a
test, or a notebook cell run by nbval without a browser, can check the callback ran::

    w = t_slider(lambda t: my_figure(t), T=180, value=50)
    w                      # shows the slider and the plot
    w.slider.value = 120   # redraws; now w.last_value == 120

:func:`forward_slider` is the ready-made one of notebook 02: x_t next to the schedule
curves, with a marker where t sits on ᾱ_t.
"""
from __future__ import annotations

import base64
import hashlib
import io
import traceback
from typing import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._checks import check_float, check_int, check_points
from .forward import q_sample
from .plotting import BUTTERFLY_COLOR, Limits, plot_schedule, scatter
from .schedule import Schedule, check_schedule

DrawFn = Callable[[object], "Figure | Axes | None"]

_SLIDER_LAYOUT = {"width": "520px"}
_SLIDER_STYLE = {"description_width": "initial"}


def figure_to_png(fig: Figure, dpi: float = 80) -> bytes:
    """Render ``fig`` to PNG bytes (independent of the notebook's matplotlib backend)."""
    if not isinstance(fig, Figure):
        raise ValueError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    dpi = check_float("dpi", dpi, 10.0, 600.0)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def show_png(output: widgets.Output, png: bytes, label: str) -> None:
    """Replace an Output's content with one PNG in a single state update (no flicker, and it
    works without a kernel round trip, so the browser and nbval see the same thing)."""
    output.outputs = ({
        "output_type": "display_data",
        "data": {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": label},
        "metadata": {},
    },)


def png_digest(png: bytes | None) -> str | None:
    """Short SHA-1 of a PNG (None for none): changes when the drawing changes."""
    return None if png is None else hashlib.sha1(png).hexdigest()[:12]


class SliderPlot(widgets.VBox):
    """A slider and an ``Output`` showing the PNG of ``draw_fn(slider.value)``.

    ``draw_fn`` takes the slider's value and returns a ``Figure`` or an ``Axes`` (or
    draws on the current figure and returns ``None``); the figure is closed after
    rendering, so it is not shown a second time below the cell.
    """

    def __init__(self, draw_fn: DrawFn, slider: widgets.widget_description.DescriptionWidget,
                 dpi: float = 80):
        if not callable(draw_fn):
            raise ValueError(f"draw_fn must be callable (value -> Figure), got {type(draw_fn).__name__}")
        if not isinstance(slider, (widgets.IntSlider, widgets.FloatSlider)):
            raise ValueError(f"slider must be an ipywidgets IntSlider or FloatSlider, got {type(slider).__name__}")
        self.draw_fn = draw_fn
        self.dpi = check_float("dpi", dpi, 10.0, 600.0)
        self.slider = slider
        self.output = widgets.Output(layout={"min_height": "120px"})
        self.last_value = None
        self.last_png: bytes | None = None
        self.last_error: str | None = None
        self.n_draws = 0
        self.history: list = []
        super().__init__([self.slider, self.output])
        self._render(self.slider.value, raise_errors=True)
        self.slider.observe(self._on_change, names="value")

    def _on_change(self, change: dict) -> None:
        self._render(change["new"], raise_errors=False)

    def _render(self, value, raise_errors: bool) -> None:
        try:
            result = self.draw_fn(value)
            fig = result.figure if isinstance(result, Axes) else result if result is not None else plt.gcf()
            try:
                png = figure_to_png(fig, self.dpi)
            finally:
                plt.close(fig)
        except Exception:
            if raise_errors:
                raise
            # keep the widget alive and say what went wrong where the plot would be
            self.last_error = traceback.format_exc(limit=3)
            self.output.outputs = ({"output_type": "stream", "name": "stderr", "text": self.last_error},)
            return
        self.last_error = None
        self.last_value = value
        self.last_png = png
        self.n_draws += 1
        self.history.append(value)
        show_png(self.output, png, f"<Figure for {self.slider.description} = {value}>")

    @property
    def png_digest(self) -> str | None:
        """Short SHA-1 of the last PNG: changes when the drawing changes."""
        return png_digest(self.last_png)

    def __repr__(self) -> str:  # short: the default repr would include the PNG's base64 text
        return f"SliderPlot({self.slider.description} = {self.slider.value})"

    def state(self) -> dict:
        """What the callback recorded, for printing in a notebook check or a test."""
        return {"value": self.last_value, "n_draws": self.n_draws, "png_digest": self.png_digest,
                "error": self.last_error is not None}


def t_slider(draw_fn: DrawFn, T: int, value: int | None = None, description: str = "t",
             t_min: int = 1, dpi: float = 80) -> SliderPlot:
    """An integer slider for the timestep t in [t_min, T] (readout shows t) that redraws
    ``draw_fn(t)`` when released. Returns a :class:`SliderPlot` (``.slider``, ``.output``)."""
    T = check_int("T", T, 1)
    t_min = check_int("t_min", t_min, 0, T)
    value = max(t_min, T // 2) if value is None else value
    value = check_int("value", value, t_min, T)
    if not isinstance(description, str):
        raise ValueError(f"description must be a string, got {type(description).__name__}")
    slider = widgets.IntSlider(value=value, min=t_min, max=T, step=1, description=description,
                               continuous_update=False, readout=True, layout=_SLIDER_LAYOUT,
                               style=_SLIDER_STYLE)
    return SliderPlot(draw_fn, slider, dpi=dpi)


def float_slider(draw_fn: DrawFn, value: float, min: float, max: float, step: float,
                 description: str, readout_format: str = ".3f", dpi: float = 80) -> SliderPlot:
    """A float slider (e.g. the noise level of the data) that redraws ``draw_fn(value)``."""
    lo = check_float("min", min)
    hi = check_float("max", max, lo, lo_open=True)
    step = check_float("step", step, 0.0, hi - lo, lo_open=True)
    value = check_float("value", value, lo, hi)
    slider = widgets.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                                 continuous_update=False, readout=True, readout_format=readout_format,
                                 layout=_SLIDER_LAYOUT, style=_SLIDER_STYLE)
    return SliderPlot(draw_fn, slider, dpi=dpi)


def forward_figure(schedule: Schedule, x0: torch.Tensor, t: int, noise: torch.Tensor | None = None,
                   lim: Limits = 3.5) -> Figure:
    """x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε (eq. 4) beside β_t, ᾱ_t and SNR with t marked."""
    check_schedule("schedule", schedule)
    x0 = check_points("x0", x0)
    t = check_int("t", t, 0, schedule.T)
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.3), dpi=80,
                             gridspec_kw={"width_ratios": [1.0, 1.15, 1.15, 1.15]})
    xt = q_sample(schedule, x0, t, noise=noise)
    ab = float(schedule.alpha_bar[t])
    scatter(xt, axes[0], lim=lim, s=2, color=BUTTERFLY_COLOR,
            title=f"$x_{{{t}}}$  ($\\sqrt{{\\bar\\alpha_t}}$ = {ab ** 0.5:.3f})")
    plot_schedule(schedule, t_marker=t, axes=axes[1:])
    return fig


def forward_slider(schedule: Schedule, x0: torch.Tensor, value: int | None = None,
                   generator: torch.Generator | None = None, lim: Limits = 3.5) -> SliderPlot:
    """The slider of notebook 02: drag t and see x_t and where t sits on the ᾱ_t curve.

    One noise draw ε is fixed up front, so moving t slides every point smoothly from x_0
    towards its own ε instead of re-rolling the noise each time.
    """
    check_schedule("schedule", schedule)
    x0 = check_points("x0", x0)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
    return t_slider(lambda t: forward_figure(schedule, x0, t, noise=eps, lim=lim), schedule.T, value=value)
