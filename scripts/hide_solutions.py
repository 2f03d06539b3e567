"""Collapse the exercise answer cells of the notebooks, so the answer is not in the student's face.

    python scripts/hide_solutions.py            # collapse them (edits notebooks/*.ipynb in place)
    python scripts/hide_solutions.py --check    # exit 1 and list the cells that are not collapsed

An exercise answer cell is a code cell that calls an exercise check, ``check_NN_name(...)``.
Its input gets ``metadata.jupyter.source_hidden = true``: JupyterLab shows it collapsed (click
the bar to open it), it still runs with the rest of the notebook, and its verdict ("Correct:
…") stays visible. Only that metadata changes: sources and stored outputs are left as they are,
so nbval's comparison is unaffected. The worked solution with its reasoning is one call away:
``helpers.solutions.show_solution("NN_name")``.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CHECK_CALL = re.compile(r"\bcheck_\d\d_\w+\(")


def answer_cells(nb) -> list[int]:
    """Indices of the code cells that call an exercise check."""
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and CHECK_CALL.search(c.source)]


def is_hidden(cell) -> bool:
    return bool(cell.get("metadata", {}).get("jupyter", {}).get("source_hidden", False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if any is visible")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    visible = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        todo = [i for i in answer_cells(nb) if not is_hidden(nb.cells[i])]
        if args.check:
            visible += [f"{path.name}: cell {i}" for i in todo]
            continue
        if todo:
            for i in todo:
                nb.cells[i].metadata.setdefault("jupyter", {})["source_hidden"] = True
            nbformat.write(nb, path)
            print(f"{path.name}: collapsed {len(todo)} answer cell(s)")
    if args.check and visible:
        print("exercise answer cells not collapsed:\n  " + "\n  ".join(visible))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
