"""What a student does in JupyterLab, as Playwright steps: open, Run All, move a slider.

Selectors were measured on JupyterLab 4.6 + ipywidgets 8.1 (see the README's browser-test part).
"""
from __future__ import annotations

import base64
import io
import json
import os
import re
import time
import uuid
from datetime import datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = Path(os.environ.get("LAB_TEST_NOTEBOOKS", REPO / "notebooks")).resolve()
SCREENSHOT_DIR = Path(os.environ.get("LAB_SCREENSHOTS", REPO / "artifacts" / "screenshots"))
RUN_TIMEOUT_S = float(os.environ.get("LAB_RUN_TIMEOUT", "600"))


def notebook_paths() -> list[Path]:
    """Every course notebook, found by glob so a new notebook is tested without editing tests."""
    return sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def stored_run_seconds(notebook: Path) -> float:
    """How long the stored outputs took to compute (nbclient's per-cell timestamps), 0 if unknown."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        stamps = [c["metadata"]["execution"] for c in cells
                  if "execution" in c.get("metadata", {})]
        start = min(datetime.fromisoformat(s["iopub.status.busy"].replace("Z", "+00:00"))
                    for s in stamps)
        end = max(datetime.fromisoformat(s["shell.execute_reply"].replace("Z", "+00:00"))
                  for s in stamps)
        return max((end - start).total_seconds(), 0.0)
    except (ValueError, KeyError, TypeError, OSError):
        return 0.0


def notebook_shard(index: int, shards: int, overhead_s: float = 10.0) -> list[Path]:
    """Part `index` of the notebooks split into `shards` parts of about equal run time
    (longest first into the lightest part); the same on every xdist worker."""
    loads, parts = [0.0] * shards, [[] for _ in range(shards)]
    paths = notebook_paths()
    cost = {p: stored_run_seconds(p) + overhead_s for p in paths}
    for path in sorted(paths, key=lambda p: (-cost[p], p.name)):
        lightest = loads.index(min(loads))
        parts[lightest].append(path)
        loads[lightest] += cost[path]
    return sorted(parts[index])


# An output that is an exception: IPython's traceback header, or "SomethingError: ..." on its own
# line (a SyntaxError has no "Traceback" header). Plain warnings on stderr do not match.
TRACEBACK_RE = re.compile(
    r"Traceback \(most recent call last\)|^\s*\w*(Error|Exception|Interrupt)\b[^\n]*:", re.M)
# Shown instead of a widget when the front end cannot render it.
WIDGET_FAILURE_RE = re.compile(r"Error displaying widget|Failed to load model class|"
                               r"Loading widget\.\.\.")

ACTIVE = ".jp-NotebookPanel:not(.lm-mod-hidden)"

# Everything the checks need from the page, read in one round trip.
_STATE_JS = """
(active) => {
  const panel = document.querySelector(active);
  const status = [...document.querySelectorAll('#jp-main-statusbar .jp-StatusBar-TextItem')]
      .map(e => e.textContent.trim()).filter(t => t.includes('|'));
  if (!panel) return {panel: false, status};
  const cells = [...panel.querySelectorAll('.jp-Notebook .jp-Cell')].map((cell, index) => {
    const code = cell.classList.contains('jp-CodeCell');
    const prompt = code ? (cell.querySelector('.jp-InputPrompt')?.textContent.trim() || '') : '';
    const stderr = [...cell.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
        .map(e => e.textContent);
    const text = [...cell.querySelectorAll('.jp-OutputArea-output')].map(e => e.textContent);
    return {index, code, prompt, stderr, text};
  });
  return {panel: true, status, cells,
          dialogs: [...document.querySelectorAll('.jp-Dialog')].map(e => e.textContent.trim())};
}
"""


def decode_png(src: str) -> np.ndarray:
    """Pixels of a data:image/png;base64 URL (RGBA float array)."""
    from PIL import Image

    payload = src.split(",", 1)[1]
    with Image.open(io.BytesIO(base64.b64decode(payload))) as image:
        return np.asarray(image.convert("RGBA"), dtype=np.int16)


def pixels_differ(before: list[str], after: list[str]) -> bool:
    """True when some output image has different pixels (not only different PNG bytes)."""
    if len(before) != len(after):
        return True
    for old, new in zip(before, after):
        if old == new:
            continue
        a, b = decode_png(old), decode_png(new)
        if a.shape != b.shape or np.any(a != b):
            return True
    return False


class LabPage:
    """One browser tab on the test JupyterLab."""

    def __init__(self, page, server):
        self.page = page
        self.server = server
        self.console_errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        page.on("pageerror", lambda e: self.console_errors.append(f"pageerror: {e}"))

    # ---------------------------------------------------------------- opening and running
    def open(self, name: str, timeout_s: float = 120) -> None:
        """Open notebooks/<name> in a fresh workspace and wait for its kernel to be idle."""
        workspace = "t" + uuid.uuid4().hex[:8]
        self.page.goto(f"{self.server.url}/lab/workspaces/{workspace}/tree/{name}"
                       f"?reset&token={self.server.token}")
        self.page.wait_for_selector(f"{ACTIVE} .jp-Notebook .jp-Cell", timeout=timeout_s * 1000)
        self.wait_idle(timeout_s)

    def state(self) -> dict:
        return self.page.evaluate(_STATE_JS, ACTIVE)

    def kernel_status(self) -> str:
        status = self.state()["status"]
        return status[0] if status else ""

    def wait_idle(self, timeout_s: float = 120, settle_s: float = 0.3) -> None:
        """Wait until the status bar reads '... | Idle' (the toolbar indicator turns idle too early)."""
        deadline = time.monotonic() + timeout_s
        idle_since = None
        while time.monotonic() < deadline:
            if self.kernel_status().endswith("| Idle"):
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since >= settle_s:
                    return
            else:
                idle_since = None
            time.sleep(0.1)
        raise TimeoutError(f"kernel not idle after {timeout_s:.0f} s: {self.kernel_status()!r}")

    def menu(self, menu: str, command: str) -> None:
        """Click a menu-bar menu, then the item that runs `command` (as a user would)."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
        self.page.locator(f"li.lm-Menu-item[data-command='{command}']").click()

    def run_all(self, n_code_cells: int, timeout_s: float) -> dict:
        """Clear stored outputs, Run All, wait until every code cell ran (or one failed).

        Stored outputs carry prompts like [3]: already, so they are cleared first; a finished
        run is then: `n_code_cells` numbered prompts, none pending ([*]), and the kernel idle
        for a moment (Run All queues every cell at once, so the kernel stays busy until the
        last one, hidden-input cells included, has run). Returns the final page state.
        """
        self.menu("Edit", "editmenu:clear-all")
        self.page.wait_for_function(
            """(active) => [...document.querySelectorAll(active + ' .jp-CodeCell .jp-InputPrompt')]
                 .every(p => !/\\[\\d+\\]/.test(p.textContent))""", arg=ACTIVE, timeout=10_000)
        self.menu("Run", "runmenu:run-all")
        deadline = time.monotonic() + timeout_s
        idle_since = None
        while time.monotonic() < deadline:
            state = self.state()
            prompts = [c["prompt"] for c in state["cells"] if c["code"]]
            numbered = sum(bool(re.fullmatch(r"\[\d+\]:?", p)) for p in prompts)
            pending = any("*" in p for p in prompts)
            failed = any(TRACEBACK_RE.search(s) for c in state["cells"] for s in c["stderr"])
            idle = bool(state["status"]) and state["status"][0].endswith("| Idle")
            if state["dialogs"] or (state["status"] and "Dead" in state["status"][0]):
                return state  # e.g. "Kernel Restarting": the kernel died; the test reports it
            # widget views may still say "Loading widget..." for a moment; after 15 s the
            # test reports them as not rendered
            loading = any("Loading widget..." in s for c in state["cells"] for s in c["text"])
            if idle and not pending and (numbered >= n_code_cells or failed):
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > (15 if loading else 0.5):
                    return state
            else:
                idle_since = None
            time.sleep(0.25)
        raise TimeoutError(f"Run All not finished after {timeout_s:.0f} s "
                           f"({numbered}/{n_code_cells} cells ran, kernel {self.kernel_status()!r})")

    # ---------------------------------------------------------------- widgets
    def sliders(self):
        return self.page.locator(f"{ACTIVE} .widget-slider")

    def cell_of(self, locator):
        return locator.locator("xpath=ancestor::div[contains(@class,'jp-Cell')][1]")

    def images(self, cell) -> list[str]:
        """The data:image/png sources of the plots in a cell's widget outputs (or all its outputs)."""
        srcs = cell.locator(".widget-output img").evaluate_all("els => els.map(e => e.src)")
        if not srcs:
            srcs = cell.locator(".jp-OutputArea-output img").evaluate_all(
                "els => els.map(e => e.src)")
        return [s for s in srcs if s.startswith("data:image/png")]

    def wait_images_change(self, cell, before: list[str], timeout_s: float = 60,
                           quiet_s: float = 0.8) -> list[str]:
        """Wait until the cell's images differ from `before` and then stop changing, kernel idle."""
        deadline = time.monotonic() + timeout_s
        current, last_change = self.images(cell), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.images(cell)
            if now != current:
                current, last_change = now, time.monotonic()
            if (current != before and time.monotonic() - last_change >= quiet_s
                    and self.kernel_status().endswith("| Idle")):
                return current
        return current

    @staticmethod
    def stderr_texts(cell) -> list[str]:
        return cell.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
                            ).evaluate_all("els => els.map(e => e.textContent)")

    @staticmethod
    def readout(slider) -> str:
        return slider.locator(".widget-readout").inner_text().strip()

    @staticmethod
    def handle_values(slider) -> dict:
        handle = slider.locator(".noUi-handle").first
        values = {key: handle.get_attribute(f"aria-value{key}") for key in ("min", "max", "now")}
        # aria-valuenow is rounded to 1 decimal by noUiSlider; aria-valuetext has 2 decimals
        values["text"] = handle.get_attribute("aria-valuetext") or values["now"]
        return values

    def press_slider(self, slider, key: str) -> None:
        """Focus the slider's handle and press a key (End, Home, ArrowRight...)."""
        handle = slider.locator(".noUi-handle").first
        handle.scroll_into_view_if_needed()
        handle.focus()
        self.page.keyboard.press(key)

    def drag_slider(self, slider, fraction: float) -> None:
        """Drag the handle with the mouse to `fraction` (0..1) of the track's width."""
        handle = slider.locator(".noUi-handle").first
        handle.scroll_into_view_if_needed()
        track = slider.locator(".noUi-target").first.bounding_box()
        box = handle.bounding_box()
        self.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        self.page.mouse.down()
        target_x = track["x"] + fraction * track["width"]
        self.page.mouse.move(target_x, box["y"] + box["height"] / 2, steps=8)
        self.page.mouse.up()

    # ---------------------------------------------------------------- artifacts
    def screenshot(self, path: Path, full: bool = False) -> None:
        """Save what the student sees; with full=True the window is made as tall as the notebook."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if full:
            to_top = """(active) => { const n = document.querySelector(active + ' .jp-WindowedPanel-outer')
                                      || document.querySelector(active + ' .jp-Notebook');
                                      if (!n) return 900; n.scrollTop = 0; return n.scrollHeight; }"""
            height = self.page.evaluate(to_top, ACTIVE)
            width = self.page.viewport_size["width"]
            self.page.set_viewport_size({"width": width, "height": int(min(height + 200, 16000))})
            self.page.wait_for_timeout(500)
            self.page.evaluate(to_top, ACTIVE)
            last = self.page.locator(f"{ACTIVE} .jp-Notebook .jp-Cell").last.bounding_box()
            if last:  # cut the empty "scroll past the end" space below the last cell
                bottom = min(last["y"] + last["height"] + 40, self.page.viewport_size["height"])
                self.page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": width,
                                                           "height": bottom})
                return
        self.page.screenshot(path=str(path))
