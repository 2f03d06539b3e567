"""The checks of the browser tests, one notebook at a time (used by test_lab_shard_*.py).

For a notebook: open it in JupyterLab, clear the stored outputs, Run All, wait for the kernel
to be idle; then assert that no cell shows an exception and no widget failed to render, that
the page shows as many sliders as the stored outputs do, and that moving each slider (mouse
drag for the first, keyboard for all) changes its readout and the pixels of the plot it drives;
a dropdown next to a plot (07's sampler) must redraw it too. Screenshots go to
artifacts/screenshots/<notebook>.png (the first slider in view) and <notebook>-full.png.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from lab_driver import (RUN_TIMEOUT_S, SCREENSHOT_DIR, TRACEBACK_RE, WIDGET_FAILURE_RE,
                        pixels_differ)

# Fallback when a notebook has no stored widget state: calls in its code that make one slider.
SLIDER_CALL_RE = re.compile(
    r"(?<!def )\b(\w*_slider|IntSlider|FloatSlider|FloatLogSlider|IntRangeSlider|"
    r"FloatRangeSlider|SelectionSlider|SelectionRangeSlider)\s*\(")
# interact(f, t=(1, 180)) and friends make sliders too (how many depends on the arguments).
INTERACT_RE = re.compile(r"\binteract(ive)?(_manual)?\s*\(")
SLIDER_MODELS = {"IntSliderModel", "FloatSliderModel", "FloatLogSliderModel",
                 "IntRangeSliderModel", "FloatRangeSliderModel", "SelectionSliderModel",
                 "SelectionRangeSliderModel"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def source(cell: dict) -> str:
    text = cell["source"]
    return text if isinstance(text, str) else "".join(text)


def input_hidden(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("jupyter", {}).get("source_hidden", False))


def stored_slider_models(nb: dict) -> list[dict] | None:
    """The sliders on screen in the notebook's stored outputs (the nbconvert run that made
    them), in page order: slider models reachable from the displayed widget views.
    None if the notebook stores no widget state."""
    state = nb.get("metadata", {}).get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state")
    if not state:
        return None

    def views(outputs):
        return [o["data"][WIDGET_VIEW]["model_id"] for o in outputs
                if WIDGET_VIEW in o.get("data", {})]

    found: list[dict] = []
    seen: set = set()

    def visit(model_id: str) -> None:
        if model_id in seen or model_id not in state:
            return
        seen.add(model_id)
        model = state[model_id]
        if model["model_name"] in SLIDER_MODELS:
            found.append(model)
        for ref in model["state"].get("children", []) + views(model["state"].get("outputs", [])):
            visit(ref.removeprefix("IPY_MODEL_"))

    for cell in nb["cells"]:
        for model_id in views(cell.get("outputs", [])):
            visit(model_id)
    return found


def expected_sliders(nb: dict) -> tuple[int, bool, list[dict] | None]:
    """(number of sliders a student should see, whether that number is exact, their stored
    models or None). From the stored widget state when there is one; else at least the slider
    calls in the code (interact() and helpers may make more than the calls show)."""
    models = stored_slider_models(nb)
    if models is not None:
        return len(models), True, models
    code = "\n".join(re.sub(r"#.*", "", source(c)) for c in nb["cells"]
                     if c["cell_type"] == "code")
    calls = len(SLIDER_CALL_RE.findall(code))
    return max(calls, bool(INTERACT_RE.search(code))), False, None


def _value(text: str) -> float:
    return float(re.sub(r"[^0-9eE+\-.]", "", text))


def _is_number(text: str) -> bool:
    try:
        _value(text)
        return True
    except ValueError:
        return False


def move_and_check(lab, slider, how: str, model: dict | None = None) -> tuple[str, str]:
    """Move one slider as a user would; assert the readout and the plot's pixels changed.

    `model` is the slider's stored widget model, if known: a SelectionSlider's handle moves
    over option indices and its readout shows the option's label."""
    cell = lab.cell_of(slider)
    before_readout, before_images = lab.readout(slider), lab.images(cell)
    values = lab.handle_values(slider)
    if how == "drag":
        lab.drag_slider(slider, 0.3 if _value(values["now"]) > _value(values["min"]) + 1 else 0.7)
    else:  # keyboard: End, or Home when the handle already sits at the maximum
        at_max = _value(values["now"]) >= _value(values["max"])
        lab.press_slider(slider, "Home" if at_max else "End")
    after_images = lab.wait_images_change(cell, before_images)
    after_readout = lab.readout(slider)
    after_values = lab.handle_values(slider)
    label = slider.locator(".widget-label").first.inner_text().strip() or "slider"
    assert after_readout != before_readout, (
        f"{how}: readout of {label!r} stayed {before_readout!r}")
    labels = (model or {}).get("state", {}).get("_options_labels")
    if labels:  # SelectionSlider: handle at index i, readout shows labels[i]
        index = round(_value(after_values["now"]))
        assert after_readout == str(labels[index]), (
            f"{how}: readout {after_readout!r}, handle at option {index} = {labels[index]!r}")
    elif _is_number(after_readout):
        handle_text = after_values["text"]  # the handle's value as noUiSlider rounds it for ARIA
        decimals = len(handle_text.split(".")[1]) if "." in handle_text else 0
        assert _value(after_readout) == pytest.approx(
                _value(handle_text), abs=0.51 * 10.0 ** -decimals, rel=1e-6), (
            f"{how}: readout {after_readout!r} does not show the handle's value {handle_text}")
    if how != "drag":
        target = values["min"] if at_max else values["max"]
        assert _value(after_values["now"]) == pytest.approx(_value(target)), (
            f"{how}: handle at {after_values['now']}, expected {target}")
    errors = [s for s in lab.stderr_texts(cell) if TRACEBACK_RE.search(s)]
    assert not errors, f"{how}: moving {label!r} raised in the callback:\n{errors[0][-1500:]}"
    assert before_images, f"{label!r}: no PNG plot found in the slider's cell before moving it"
    assert after_images, f"{how}: the plot of {label!r} vanished after moving it"
    changed = pixels_differ(before_images, after_images)
    assert changed, (
        f"{how}: moving {label!r} from {before_readout} to {after_readout} did not change the plot")
    return before_readout, after_readout


def choose_and_check(lab, dropdown) -> None:
    """Pick another option of a dropdown (e.g. the sampler); assert the plot's pixels changed."""
    cell = lab.cell_of(dropdown)
    select = dropdown.locator("select")
    options = select.locator("option").evaluate_all("els => els.map(e => e.value)")
    current = select.input_value()
    others = [o for o in options if o != current]
    if not others:
        return
    before = lab.images(cell)
    select.scroll_into_view_if_needed()
    select.select_option(others[0])
    after = lab.wait_images_change(cell, before)
    errors = [s for s in lab.stderr_texts(cell) if TRACEBACK_RE.search(s)]
    assert not errors, f"choosing {others[0]!r} raised in the callback:\n{errors[0][-1500:]}"
    assert before and after, f"dropdown {options}: no PNG plot in its cell (before/after)"
    changed = pixels_differ(before, after)
    assert changed, f"choosing {others[0]!r} instead of {current!r} did not change the plot"


def check_notebook(lab, notebook: Path) -> dict:
    """Open `notebook`, Run All, check errors/sliders/dropdowns, save screenshots.

    Returns the timings (seconds) of the steps."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    # Prompts [n] to wait for: JupyterLab skips empty cells, and a cell whose code is hidden
    # (metadata jupyter.source_hidden, e.g. an exercise's solution) shows no prompt at all.
    n_code = sum(bool(source(c).strip()) and not input_hidden(c) for c in cells)
    n_sliders, exact, models = expected_sliders(nb)
    shot = SCREENSHOT_DIR / f"{notebook.stem}.png"
    timings = {}
    try:
        t0 = time.monotonic()
        lab.open(notebook.name)
        timings["open"] = time.monotonic() - t0
        t0 = time.monotonic()
        state = lab.run_all(n_code, RUN_TIMEOUT_S)
        timings["run_all"] = time.monotonic() - t0

        # 1. No cell shows an exception (cells tagged raises-exception are meant to), no widget
        #    shows a rendering failure instead of itself.
        code_dom = [c for c in state["cells"] if c["code"]]
        assert len(code_dom) == len(cells), "page shows a different number of code cells"
        problems = []
        for number, (dom, cell) in enumerate(zip(code_dom, cells), start=1):
            allowed = "raises-exception" in cell.get("metadata", {}).get("tags", [])
            for text in dom["stderr"]:
                if TRACEBACK_RE.search(text) and not allowed:
                    problems.append(f"code cell {number} shows an error:\n{text[-1500:]}")
            for text in dom["text"]:
                if WIDGET_FAILURE_RE.search(text):
                    problems.append(f"code cell {number}: widget not rendered: {text[:300]}")
        assert not problems, "\n\n".join(problems)
        assert not state["dialogs"], f"JupyterLab shows a dialog: {state['dialogs']}"
        ran = sum(bool(re.fullmatch(r"\[\d+\]:?", c["prompt"])) for c in code_dom)
        assert ran >= n_code, f"only {ran} of {n_code} code cells ran"

        # 2. Every slider the source creates is on the page and visible.
        sliders = lab.sliders()
        shown = sliders.count()
        if exact:
            assert shown == n_sliders, (
                f"{shown} sliders on the page, the stored outputs show {n_sliders}")
        else:
            assert shown >= n_sliders, f"{shown} sliders on the page, the code makes {n_sliders}"
        for i in range(shown):
            box = sliders.nth(i).bounding_box()
            assert box and box["width"] > 50, f"slider {i} is not visible ({box})"

        # 3. Moving a slider as a student would redraws its plot and shows the new value.
        t0 = time.monotonic()
        for i in range(shown):
            slider, model = sliders.nth(i), models[i] if models else None
            if i == 0:
                move_and_check(lab, slider, "drag", model)
            move_and_check(lab, slider, "keyboard", model)
        # Dropdowns that sit with a plot in their cell (e.g. the sampler of 07) redraw it too.
        dropdowns = lab.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .widget-dropdown")
        for i in range(dropdowns.count()):
            if lab.images(lab.cell_of(dropdowns.nth(i))):
                choose_and_check(lab, dropdowns.nth(i))
        timings["widgets"] = time.monotonic() - t0
        if shown:  # the screenshot shows the first slider and its plot
            lab.sliders().first.evaluate("""e => { e.scrollIntoView({block: 'start'});
                const s = e.closest('.jp-WindowedPanel-outer'); if (s) s.scrollTop -= 60; }""")
        lab.screenshot(shot)
        lab.screenshot(SCREENSHOT_DIR / f"{notebook.stem}-full.png", full=True)
    except BaseException:
        try:
            lab.screenshot(shot)
        except Exception:
            pass
        if lab.console_errors:
            print("browser console errors:\n" + "\n".join(lab.console_errors[-20:]))
        print("server log tail:\n" + lab.server.log_tail(2000))
        raise
    finally:
        print(f"{notebook.name}: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    return timings
