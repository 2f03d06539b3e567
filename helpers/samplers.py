"""One entry point for every sampler of the course, and a widget to compare them (notebook 07).

=================  =========================================================  ===============
name               what it runs                                               steps
=================  =========================================================  ===============
``"DDPM"``         Ho et al. Algorithm 2 (``helpers.sampling.p_sample_loop``)  always all T
``"DDIM η=0"``     Song et al. eq. 12, deterministic (``helpers.ddim``)       any S ≤ T
``"DDIM η=1"``     Song et al. eq. 12 with σ of eq. 16 at η = 1               any S ≤ T
=================  =========================================================  ===============

DDIM η = 1 with S = T is the DDPM step with σ_t² = β̃_t; with S < T it is "DDPM with
fewer steps" on the strided sequence. Everything is in model units; decode for plots.
"""
from __future__ import annotations

from typing import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from ._checks import check_int
from .ddim import ddim_sample_loop
from .sampling import EpsModel, p_sample_loop
from .schedule import Schedule
from .widgets import figure_to_png, png_digest, show_png

SAMPLERS = ("DDPM", "DDIM η=0", "DDIM η=1")
_ETA = {"DDIM η=0": 0.0, "DDIM η=1": 1.0}


def check_sampler(sampler: str) -> str:
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    return sampler


def sample_with(sampler: str, model: EpsModel, schedule: Schedule, n: int, n_steps: int | None = None,
                generator: torch.Generator | int | None = None, x_T: torch.Tensor | None = None,
                clip_x0: float | None = None) -> torch.Tensor:
    """Draw ``n`` samples (model units) with ``sampler`` (see the table above).

    ``n_steps`` is the number of network calls: ignored by ``"DDPM"`` (always T; pass None or
    T), 1..T for DDIM (default T). ``clip_x0`` applies to DDIM only (see ``helpers.ddim``).
    """
    check_sampler(sampler)
    if sampler == "DDPM":
        if n_steps is not None and check_int("n_steps", n_steps, 1, schedule.T) != schedule.T:
            raise ValueError(f"n_steps must be T = {schedule.T} (or None) for DDPM, which walks "
                             f"every step; use a DDIM sampler for fewer steps, got {n_steps}")
        return p_sample_loop(model, schedule, n, generator=generator, x_T=x_T)
    steps = schedule.T if n_steps is None else n_steps
    return ddim_sample_loop(model, schedule, n, steps, eta=_ETA[sampler], generator=generator,
                            x_T=x_T, clip_x0=clip_x0)


DrawFn = Callable[[str, int], Figure]


class SamplerExplorer(widgets.VBox):
    """A sampler dropdown, a number-of-steps slider and the picture ``draw_fn(sampler, steps)``.

    Redraws when either control changes (the slider acts on release). DDPM always takes all
    T steps, so choosing it moves the slider to T and disables it. Records what it drew
    (``last``, ``n_draws``, ``history``) for checks without a browser. ``steps``: the choices
    of the slider (default 10, 20, 50, 100 where below T; T is always added).
    """

    def __init__(self, draw_fn: DrawFn, T: int, steps=None, sampler: str = "DDIM η=0",
                 n_steps: int | None = None, dpi: float = 80):
        if not callable(draw_fn):
            raise ValueError(f"draw_fn must be callable (sampler, steps) -> Figure, got {type(draw_fn).__name__}")
        T = check_int("T", T, 1)
        if steps is None:              # the usual choices that fit below T
            steps = [s for s in (10, 20, 50, 100) if s < T]
        options = sorted({check_int("steps", s, 1, T) for s in steps} | {T})
        check_sampler(sampler)
        n_steps = check_int("n_steps", n_steps, 1, T) if n_steps is not None else options[0]
        if n_steps not in options:
            raise ValueError(f"n_steps must be one of {options}, got {n_steps}")
        self.draw_fn, self.T, self.dpi = draw_fn, T, dpi
        self.sampler = widgets.Dropdown(options=list(SAMPLERS), value=sampler, description="sampler")
        self.steps = widgets.SelectionSlider(options=options, value=T if sampler == "DDPM" else n_steps,
                                             description="steps", continuous_update=False,
                                             disabled=sampler == "DDPM", layout={"width": "420px"})
        self.output = widgets.Output(layout={"min_height": "120px"})
        self.last: tuple[str, int] | None = None
        self.last_png: bytes | None = None
        self.last_error: str | None = None
        self.n_draws = 0
        self.history: list[tuple[str, int]] = []
        super().__init__([widgets.HBox([self.sampler, self.steps]), self.output])
        self._busy = False
        self._render(raise_errors=True)
        self.sampler.observe(self._on_sampler, names="value")
        self.steps.observe(lambda change: self._render(), names="value")

    def _on_sampler(self, change: dict) -> None:
        ddpm = change["new"] == "DDPM"
        self._busy = True          # one redraw, not two, when DDPM also moves the slider
        try:
            if ddpm:
                self._saved_steps = self.steps.value
                self.steps.value = self.T
            elif change["old"] == "DDPM":
                self.steps.value = getattr(self, "_saved_steps", self.steps.value)
            self.steps.disabled = ddpm
        finally:
            self._busy = False
        self._render()

    def _render(self, raise_errors: bool = False) -> None:
        if self._busy:
            return
        key = (self.sampler.value, int(self.steps.value))
        try:
            fig = self.draw_fn(*key)
            try:
                png = figure_to_png(fig, self.dpi)
            finally:
                plt.close(fig)
        except Exception as err:
            if raise_errors:
                raise
            self.last_error = f"{type(err).__name__}: {err}"
            self.output.outputs = ({"output_type": "stream", "name": "stderr", "text": self.last_error},)
            return
        self.last_error = None
        self.last, self.last_png = key, png
        self.n_draws += 1
        self.history.append(key)
        show_png(self.output, png, f"<Figure for {key[0]}, {key[1]} steps>")

    @property
    def png_digest(self) -> str | None:
        return png_digest(self.last_png)

    def state(self) -> dict:
        """What the callback recorded: sampler, steps, number of draws, whether it failed."""
        sampler, steps = self.last if self.last else (None, None)
        return {"sampler": sampler, "steps": steps, "n_draws": self.n_draws, "error": self.last_error is not None}
