"""Fixtures for the end-to-end tests: a real JupyterLab driven by headless Chromium.

One JupyterLab server and one Chromium per pytest(-xdist) worker (session scope, started only
when a worker runs a browser test), one fresh browser page per test. The server serves a
temporary COPY of the course, so "Run All" never touches the committed notebooks; its config,
data, settings and workspace folders are temporary too, so a student's own JupyterLab set-up
is neither read nor changed. The server and every kernel it started are stopped at the end,
also when a test fails.

Environment variables:
  CHROMIUM_PATH        Chromium/Chrome executable (default: /usr/bin/chromium, then PATH).
  CI=true              a missing browser fails the tests instead of skipping them.
  LAB_TEST_NOTEBOOKS   folder whose *.ipynb are tested (default: the repo's notebooks/).
  LAB_RUN_TIMEOUT      seconds allowed for Run All of one notebook (default 600).
  LAB_SCREENSHOTS      where screenshots go (default: artifacts/screenshots/, git-ignored).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from lab_driver import NOTEBOOK_DIR, REPO


CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-dev-shm-usage",
]
INSTALL_HINT = (
    "Install Debian's Chromium (`sudo apt-get install chromium`) or point CHROMIUM_PATH at a "
    "Chromium/Chrome executable; the Python side is `pip install -r requirements.txt` (playwright)."
)

# JupyterLab user settings for the test server: render every cell (no windowing, so all cells
# are in the page), no autosave, no news/update pop-ups.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}
# Not copied into the server's temporary course folder.
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "artifacts", "*.egg-info", "__pycache__", ".pytest_cache",
    ".ipynb_checkpoints", "node_modules", "build")


def _missing_browser(reason: str) -> None:
    message = f"{reason}. {INSTALL_HINT}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and no usable browser: {message}", pytrace=False)
    pytest.skip(message)


def find_chromium() -> str | None:
    """$CHROMIUM_PATH if set (only it), else /usr/bin/chromium, else chromium on PATH."""
    if os.environ.get("CHROMIUM_PATH"):
        candidates = [os.environ["CHROMIUM_PATH"]]
    else:
        candidates = ["/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """A JupyterLab process on 127.0.0.1 serving a temporary copy of the course."""

    def __init__(self, base: Path):
        self.base = base
        self.course = base / "course"
        if NOTEBOOK_DIR.parent == REPO:
            # the whole course, not only notebooks/, so paths such as ../checkpoints still work
            shutil.copytree(REPO, self.course, ignore=COPY_IGNORE)
            self.root = self.course / NOTEBOOK_DIR.name
        else:
            shutil.copytree(NOTEBOOK_DIR, self.course, ignore=COPY_IGNORE)
            self.root = self.course
        self.token = secrets.token_hex(16)
        self.log_path = base / "jupyterlab.log"
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        dirs = {"JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data",
                "JUPYTER_RUNTIME_DIR": "runtime", "IPYTHONDIR": "ipython",
                "JUPYTERLAB_SETTINGS_DIR": "settings", "JUPYTERLAB_WORKSPACES_DIR": "workspaces"}
        for name, sub in dirs.items():
            (self.base / sub).mkdir(exist_ok=True)
            env[name] = str(self.base / sub)
        for rel, value in LAB_SETTINGS.items():
            path = self.base / "settings" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        env.pop("JUPYTER_PATH", None)
        env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
        return env

    def start(self, attempts: int = 3, timeout_s: float = 90.0) -> None:
        for _ in range(attempts):
            self.port = _free_port()
            cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
                   f"--port={self.port}", "--port-retries=0",
                   f"--IdentityProvider.token={self.token}", "--LabApp.news_url=None",
                   f"--ServerApp.root_dir={self.root}"]
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                cmd.append("--allow-root")
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(cmd, cwd=self.base, env=self._env(), stdout=log,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             start_new_session=True)
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break  # died (port taken?): try another port
                try:
                    self.api("GET", "/api/status", timeout=2)
                    return
                except OSError:
                    time.sleep(0.25)
            self.stop()
        raise RuntimeError(f"JupyterLab did not start; log:\n{self.log_tail()}")

    def api(self, method: str, path: str, timeout: float = 10):
        request = urllib.request.Request(self.url + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Stop every kernel (called after each test, so notebooks never share a kernel)."""
        try:
            for session in self.api("GET", "/api/sessions") or []:
                self.api("DELETE", f"/api/sessions/{session['id']}", timeout=30)
            for kernel in self.api("GET", "/api/kernels") or []:
                self.api("DELETE", f"/api/kernels/{kernel['id']}", timeout=30)
        except OSError:
            pass

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the server and every process it started (kernels run in their own sessions)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            import psutil
            children = psutil.Process(proc.pid).children(recursive=True)
        except Exception:  # psutil missing or process gone
            children = []
        try:
            self.api("POST", "/api/shutdown", timeout=5)  # graceful: also stops kernels
            proc.wait(timeout=15)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if proc.poll() is not None:
                break
            try:
                os.killpg(proc.pid, sig)
                proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        for child in children:  # kernels left behind by a hard kill
            try:
                child.kill()
            except Exception:
                pass


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None and os.environ.get("CHROMIUM_PATH"):
        _missing_browser(f"CHROMIUM_PATH={os.environ['CHROMIUM_PATH']} is not an executable file")
    if path is None:
        _missing_browser("No Chromium found (looked at /usr/bin/chromium and PATH)")
    return path


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory, chromium_path):
    """One JupyterLab per worker; always stopped, also when a test fails or pytest is interrupted."""
    server = LabServer(tmp_path_factory.mktemp("jupyterlab"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser(chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing_browser("Python package playwright is not installed")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=chromium_path,
                                                  args=CHROMIUM_FLAGS, headless=True)
        except Exception as exc:  # a broken or incompatible browser binary
            _missing_browser(f"Chromium at {chromium_path} did not start ({exc})")
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def lab_page(browser, lab_server):
    """A fresh browser page on the test server; kernels are stopped afterwards."""
    from lab_driver import LabPage

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield LabPage(page, lab_server)
    finally:
        context.close()
        lab_server.shutdown_kernels()
