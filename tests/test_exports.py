"""`make html` and `make slides`: build both (from the stored outputs, so it stays fast) and
check that every notebook is there under its title and that the pages need no network."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "export_course.py"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

H1 = re.compile(r"^#\s+(.+?)\s*$", re.MULTILINE)
# a script, style sheet, image or module the browser would fetch on opening the page
LOADS = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']"""
                   r"""|\bimport\s+\w+\s+from\s+["']([^"']+)["']"""
                   r"""|@import\s+(?:url\()?["']?([^"')\s;]+)""", re.IGNORECASE)


def _title(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = H1.search(cell.source)
            if m:
                return m.group(1).strip()
    raise AssertionError(f"{path.name} has no H1 title")


def _build(kind: str, out: Path) -> Path:
    result = subprocess.run([sys.executable, str(SCRIPT), kind, "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


VENDOR = ROOT / "scripts" / "vendor"
ASSETS = [VENDOR / "node_modules" / "reveal.js" / "dist" / "reveal.js",
          VENDOR / "html-manager" / "dist" / "embed-amd.js"]


def _require_npm_or_assets() -> None:
    """The exports fetch their browser assets with npm on first use. Without npm (and without
    the assets) skip with the fix, except under CI=true, where .ci/run installs npm."""
    if all(p.exists() for p in ASSETS) or shutil.which("npm"):
        return
    msg = ("npm is needed once to fetch the offline assets of `make html` / `make slides`: "
           "install Node.js and npm (e.g. `sudo apt-get install npm`) and run the tests again")
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    _require_npm_or_assets()
    base = tmp_path_factory.mktemp("export")
    return {kind: _build(kind, base / kind) for kind in ("html", "slides")}


def _loaded_urls(page: str) -> list[str]:
    return [next(g for g in m.groups() if g) for m in LOADS.finditer(page)]


def test_there_are_notebooks_to_export():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize("kind, suffix", [("html", ".html"), ("slides", ".slides.html")])
def test_every_notebook_title_is_in_its_page_and_the_index(built, kind, suffix):
    out = built[kind]
    index = (out / "index.html").read_text(encoding="utf-8")
    for nb in NOTEBOOKS:
        page = out / (nb.stem + suffix)
        assert page.exists(), f"{kind}: {page.name} was not written"
        title = _title(nb)
        text = page.read_text(encoding="utf-8")
        escaped = title.replace("&", "&amp;")
        assert title in text or escaped in text, f"{kind}: title {title!r} not in {page.name}"
        assert f'href="{page.name}"' in index and (title in index or escaped in index), \
            f"{kind}: index.html does not link {page.name} under {title!r}"


@pytest.mark.parametrize("kind", ["html", "slides"])
def test_pages_load_nothing_from_the_network_and_local_assets_exist(built, kind):
    out = built[kind]
    pages = sorted(out.glob("*.html"))
    extra = 2 if kind == "html" else 1          # index.html (+ instructor_guide.html for html)
    assert len(pages) == len(NOTEBOOKS) + extra
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for url in _loaded_urls(text):
            if url.startswith(("data:", "#")):
                continue
            assert not re.match(r"^(https?:)?//", url), f"{kind}/{page.name} loads {url} from the network"
            local = out / unquote(url.split("?")[0].split("#")[0])
            assert local.exists(), f"{kind}/{page.name} refers to a missing file {url}"
    # the equations, widgets and (for slides) reveal.js are served from _static
    if NOTEBOOKS:
        suffix = ".html" if kind == "html" else ".slides.html"
        text = (out / (NOTEBOOKS[0].stem + suffix)).read_text(encoding="utf-8")
        assert "_static/mathjax/MathJax.js" in text and "_static/require.js" in text
        if kind == "slides":
            assert "_static/reveal.js/dist/reveal.js" in text


def test_html_index_links_the_instructor_guide(built):
    index = (built["html"] / "index.html").read_text(encoding="utf-8")
    guide = (built["html"] / "instructor_guide.html").read_text(encoding="utf-8")
    assert 'href="instructor_guide.html"' in index
    assert re.search(r"<h1[^>]*>Instructor guide", guide) and "<table" in guide


def test_slides_start_a_slide_at_each_h1_h2_heading(built):
    for nb_path in NOTEBOOKS:
        nb = nbformat.read(nb_path, as_version=4)
        headings = sum(1 for c in nb.cells if c.cell_type == "markdown"
                       and re.match(r"^#{1,2}\s", c.source.lstrip()))
        text = (built["slides"] / (nb_path.stem + ".slides.html")).read_text(encoding="utf-8")
        # each slide is an outer <section> holding one or more inner <section>s (sub-slides)
        slides = len(re.findall(r"<section>\s*<section>", text))
        assert slides >= max(headings, 1), (nb_path.name, slides, headings)
