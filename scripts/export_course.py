"""Export the course to static pages that work offline: ``make html`` and ``make slides``.

    python scripts/export_course.py html    [--out build/html]   [--execute] [notebooks ...]
    python scripts/export_course.py slides  [--out build/slides] [--execute] [notebooks ...]

By default the notebooks' stored outputs are used (they are the executed course: nbval
checks them against a fresh run); ``--execute`` runs each notebook first, in memory, on a
fresh kernel (the files in notebooks/ are never changed).

Offline: every script and style sheet the pages load (MathJax 2 for the equations,
require.js, jQuery, reveal.js 4, Font Awesome for the animation player's buttons, the
ipywidgets HTML manager that shows the stored widget outputs) is copied next to the pages
into ``<out>/_static/``; nothing is fetched from a CDN
when a page is opened. The assets come from the npm registry once, on first use, into the
git-ignored ``scripts/vendor/node_modules`` and ``scripts/vendor/html-manager`` (versions
pinned in scripts/vendor/package.json, its lock file, and HTML_MANAGER below).

Slides: a cell's own ``slideshow.slide_type`` metadata wins. Cells without it follow one
rule, so notebooks need no slide markup: a Markdown cell that starts with an H1 or H2
heading starts a new slide, one that starts with an H3 heading starts a sub-slide (reveal.js
shows those below the slide; press ↓), the first code cell (the imports) and every code cell
whose output holds a figure start a sub-slide, and every other cell continues the current
slide (long slides scroll).
"""
from __future__ import annotations

import argparse
import copy
import html
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
VENDOR = ROOT / "scripts" / "vendor"
MODULES = VENDOR / "node_modules"
HTML_MANAGER = "@jupyter-widgets/html-manager@1.0.7"  # ipywidgets 8's static renderer (npm pack: no deps)
HTML_MANAGER_DIR = VENDOR / "html-manager"   # outside node_modules, which `npm install` prunes

# What is copied into <out>/_static (source relative to node_modules -> target in _static).
MATHJAX_PARTS = ["MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions", "jax/input/TeX",
                 "jax/output/CommonHTML", "jax/element", "fonts/HTML-CSS/TeX/woff"]
MATHJAX_CONFIG = "TeX-AMS_CHTML-full,Safe"

# The slides template imports mermaid.js (diagrams) unconditionally; the course has no
# diagrams, so an inline no-op module stands in (a file would be blocked on file:// pages).
MERMAID_STUB = "data:text/javascript,export%20default%20%7Binitialize()%7B%7D%2Crun()%7B%7D%7D"

H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


# ----------------------------------------------------------------------------- assets
def _run(cmd: list[str], cwd: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is needed once to fetch reveal.js, MathJax, require.js and jQuery for offline "
                 "pages; install Node.js (e.g. `apt-get install npm`) and run the command again.")
    print("$", " ".join(cmd), flush=True)
    result = subprocess.run([npm] + cmd[1:], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    if result.returncode != 0:
        sys.exit(f"`{' '.join(cmd)}` failed:\n{result.stdout}")


def ensure_assets() -> None:
    """Install the pinned browser assets into scripts/vendor/node_modules on first use."""
    needed = ["reveal.js/dist/reveal.js", "requirejs/require.js", "jquery/dist/jquery.min.js",
              "mathjax/MathJax.js", "font-awesome/css/font-awesome.min.css"]
    if not all((MODULES / p).exists() for p in needed):
        install = "ci" if (VENDOR / "package-lock.json").exists() else "install"
        _run(["npm", install, "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], VENDOR)
    if not (HTML_MANAGER_DIR / "dist" / "embed-amd.js").exists():
        # `npm pack` fetches just this package's tarball: its dist/ is self-contained, and a
        # full `npm install` would pull ~300 MB of build-time dependencies we do not need.
        with tempfile.TemporaryDirectory() as tmp:
            _run(["npm", "pack", HTML_MANAGER, "--pack-destination", tmp, "--loglevel=error"], VENDOR)
            (tgz,) = Path(tmp).glob("*.tgz")
            with tarfile.open(tgz) as tar:
                members = [m for m in tar.getmembers()
                           if m.isfile() and m.name.startswith("package/dist/") and not m.name.endswith(".map")]
                tar.extractall(tmp, members=members, filter="data")
            if HTML_MANAGER_DIR.exists():
                shutil.rmtree(HTML_MANAGER_DIR)
            shutil.copytree(Path(tmp) / "package", HTML_MANAGER_DIR)


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dst)


def copy_static(out: Path, slides: bool) -> None:
    """Copy the assets the pages load into ``out/_static`` (so ``out`` works on its own)."""
    static = out / "_static"
    _copy(MODULES / "requirejs" / "require.js", static / "require.js")
    _copy(MODULES / "jquery" / "dist" / "jquery.min.js", static / "jquery.min.js")
    for part in MATHJAX_PARTS:
        _copy(MODULES / "mathjax" / part, static / "mathjax" / part)
    for f in (HTML_MANAGER_DIR / "dist").iterdir():
        if f.name == "embed-amd.js" or not f.name.endswith(".js"):   # the AMD bundle + its fonts
            _copy(f, static / "html-manager" / f.name)
    for part in ("css", "fonts"):
        _copy(MODULES / "font-awesome" / part, static / "font-awesome" / part)
    if slides:
        for part in ("dist", "plugin"):
            _copy(MODULES / "reveal.js" / part, static / "reveal.js" / part)


def exporter_settings(slides: bool) -> dict:
    settings = {
        "mathjax_url": f"_static/mathjax/MathJax.js?config={MATHJAX_CONFIG}",
        "require_js_url": "_static/require.js",
        "jquery_url": "_static/jquery.min.js",
        "widget_renderer_url": "_static/html-manager/embed-amd.js",
        "mermaid_js_url": MERMAID_STUB,
        "mermaid_layout_elk_js_url": "",
    }
    if slides:
        # "white": its fonts ship with reveal.js (the default "simple" loads Google Fonts)
        settings.update(reveal_url_prefix="_static/reveal.js", reveal_theme="white",
                        font_awesome_url="", reveal_scroll=True)
    return settings


# Outputs may link a CDN themselves (matplotlib's animation player links Font Awesome for its
# buttons); such links are pointed at the local copy in _static.
LOCAL_COPIES = {
    re.compile(r"https?://[^\"'\s]*font-awesome/4\.\d+\.\d+/css/font-awesome(\.min)?\.css"):
        "_static/font-awesome/css/font-awesome.min.css",
}


def localise(page: str) -> str:
    """Replace the CDN links that notebook outputs carry by the local copies in _static."""
    for pattern, local in LOCAL_COPIES.items():
        page = pattern.sub(local, page)
    return page


# ----------------------------------------------------------------------------- notebooks
def notebook_title(nb) -> str:
    """The notebook's H1 heading ("# 07 · Beyond DDPM"), or its file name if it has none."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = H1.search(cell.source)
            if m:
                return m.group(1).strip()
    return ""


def find_notebooks(paths: list[str]) -> list[Path]:
    nbs = [Path(p).resolve() for p in paths] if paths else sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not nbs:
        sys.exit(f"no notebooks found in {NOTEBOOKS}")
    for p in nbs:
        if not p.exists():
            sys.exit(f"notebook not found: {p}")
    return nbs


def execute(nb, path: Path):
    from nbconvert.preprocessors import ExecutePreprocessor
    nb = copy.deepcopy(nb)
    ExecutePreprocessor(timeout=1200, kernel_name="python3").preprocess(
        nb, {"metadata": {"path": str(path.parent)}})
    return nb


def _starts_with_heading(source: str, levels: str) -> bool:
    first = source.lstrip().split("\n", 1)[0]
    return re.match(rf"^#{{{levels}}}\s", first) is not None


def _has_figure(cell) -> bool:
    return any("image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})
               for o in cell.get("outputs", []))


def slide_type(cell, first_code: bool = False) -> str:
    """The reveal.js slide type of a cell: its own metadata, else the rule in the module docstring."""
    own = cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
    if own:
        return own
    if cell.cell_type == "markdown":
        if _starts_with_heading(cell.source, "1,2"):
            return "slide"
        if _starts_with_heading(cell.source, "3"):
            return "subslide"
    if cell.cell_type == "code" and (first_code or _has_figure(cell)):
        return "subslide"
    return "-"


def mark_slides(nb):
    """A copy of ``nb`` with ``slideshow.slide_type`` set on every cell (the first one a slide)."""
    nb = copy.deepcopy(nb)
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), None)
    for i, cell in enumerate(nb.cells):
        kind = slide_type(cell, first_code=i == first_code)
        if i == 0 and kind in ("-", "fragment", "subslide"):
            kind = "slide"
        cell.metadata.setdefault("slideshow", {})["slide_type"] = kind
    return nb


# ----------------------------------------------------------------------------- pages
INDEX = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title}</title>
<style>
 body {{ font-family: system-ui, sans-serif; max-width: 46rem; margin: 3rem auto; line-height: 1.5;
        padding: 0 1rem; color: #222; }}
 li {{ margin: .4rem 0; }} a {{ color: #1a6e43; }} small {{ color: #666; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{intro}</p>
<ol>
{items}
</ol>
<p><small>Built from the notebooks in <code>notebooks/</code> by
<code>scripts/export_course.py</code>; works offline (all scripts are in <code>_static/</code>).</small></p>
</body></html>
"""


def write_index(out: Path, entries: list[tuple[str, str]], slides: bool) -> None:
    items = "\n".join(f'<li><a href="{html.escape(href)}">{html.escape(title)}</a></li>'
                      for title, href in entries)
    what = "Slides" if slides else "Notebooks"
    intro = ("Slides made from the notebooks (arrow keys move; ↓ opens a sub-slide, "
             "<kbd>s</kbd> opens speaker notes)." if slides else
             "The executed notebooks of the course as static pages. To run and change them, "
             "open the course in JupyterLab (<code>make lab</code>).")
    (out / "index.html").write_text(INDEX.format(title=f"DDPM on the butterfly curve — {what}",
                                                 intro=intro, items=items), encoding="utf-8")


GUIDE = ROOT / "INSTRUCTOR_GUIDE.md"
GUIDE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Instructor guide</title>
<style>
 body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; line-height: 1.5;
        padding: 0 1rem; color: #222; }}
 table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: .2rem .5rem; }}
 pre {{ background: #f4f4f4; padding: .6rem; overflow-x: auto; }}
</style>
<script type="text/x-mathjax-config">
MathJax.Hub.Config({{tex2jax: {{inlineMath: [["$", "$"], ["\\(", "\\)"]], processEscapes: true}},
                    messageStyle: "none"}});
</script>
<script src="_static/mathjax/MathJax.js?config={mathjax_config}"></script>
</head><body>
{body}
</body></html>
"""


def write_guide(out: Path) -> str:
    """Render INSTRUCTOR_GUIDE.md to ``out/instructor_guide.html``; return the file name."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    body = markdown2html_mistune(GUIDE.read_text(encoding="utf-8"))
    (out / "instructor_guide.html").write_text(GUIDE_PAGE.format(body=body, mathjax_config=MATHJAX_CONFIG), encoding="utf-8")
    return "instructor_guide.html"


def export(kind: str, out: Path, paths: list[str], run: bool) -> list[Path]:
    from nbconvert import HTMLExporter, SlidesExporter

    slides = kind == "slides"
    nbs = find_notebooks(paths)
    ensure_assets()
    out.mkdir(parents=True, exist_ok=True)
    copy_static(out, slides)
    exporter = (SlidesExporter if slides else HTMLExporter)(**exporter_settings(slides))
    if not slides:
        exporter.template_name = "lab"
    entries, written = [], []
    for path in nbs:
        nb = nbformat.read(path, as_version=4)
        if run:
            print(f"executing {path.name} ...", flush=True)
            nb = execute(nb, path)
        title = notebook_title(nb) or path.stem
        nb.metadata["title"] = title   # the page's <title>
        if slides:
            nb = mark_slides(nb)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
        target = out / (path.stem + (".slides.html" if slides else ".html"))
        target.write_text(localise(body), encoding="utf-8")
        entries.append((title, target.name))
        written.append(target)
        print(f"wrote {target.relative_to(out.parent) if out.parent in target.parents else target}")
    if not slides and GUIDE.exists():
        entries.append(("Instructor guide", write_guide(out)))
    write_index(out, entries, slides)
    print(f"open {out / 'index.html'}")
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["html", "slides"])
    parser.add_argument("notebooks", nargs="*", help="default: notebooks/NN_*.ipynb")
    parser.add_argument("--out", type=Path, help="default: build/html or build/slides")
    parser.add_argument("--execute", action="store_true",
                        help="run each notebook on a fresh kernel first (default: use stored outputs)")
    args = parser.parse_args(argv)
    out = (args.out or ROOT / "build" / args.kind).resolve()
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    export(args.kind, out, args.notebooks, args.execute)


if __name__ == "__main__":
    main()
