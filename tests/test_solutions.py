"""Exercise solutions: every answer passes its own check, every notebook check has one."""
import contextlib
import io
import re
from pathlib import Path

import nbformat
import pytest

from helpers.solutions import SOLUTIONS, list_solutions, show_solution, solution_markdown

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHECK_CALL = re.compile(r"\bcheck_(\d\d_\w+)\(")


def _checks_used(path: Path) -> set[str]:
    nb = nbformat.read(path, as_version=4)
    return {m for c in nb.cells if c.cell_type == "code" for m in CHECK_CALL.findall(c.source)}


@pytest.mark.parametrize("key", sorted(SOLUTIONS))
def test_each_solution_passes_its_check(key):
    sol = SOLUTIONS[key]
    ns: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(sol.setup, ns)
        exec(sol.answer, ns)
        result = eval(sol.call.split("=", 1)[1].strip(), ns)   # "passed = check_...(...)"
    assert result is True, f"{key}: {out.getvalue()}"
    assert out.getvalue().startswith("Correct"), out.getvalue()


def test_each_check_called_in_a_notebook_has_a_solution():
    used = {(p.name, k) for p in NOTEBOOKS for k in _checks_used(p)}
    assert used, "no exercise checks found in the notebooks"
    missing = sorted(f"{name}: check_{k}" for name, k in used if k not in SOLUTIONS)
    assert not missing, f"exercises without a solution in helpers/solutions.py: {missing}"
    for name, k in used:
        assert SOLUTIONS[k].notebook == name[:2]


def test_show_solution_prints_markdown_and_rejects_unknown_keys(capsys):
    show_solution("02_closed_form")
    text = capsys.readouterr().out
    assert text.startswith("### Solution 02") and "alpha_bar" in text and "check_02_closed_form" in text
    assert solution_markdown("check_02_closed_form") == solution_markdown("02_closed_form")
    with pytest.raises(ValueError, match="key must be one of"):
        show_solution("02_nope")
    with pytest.raises(ValueError, match="key must be one of"):
        show_solution(2)
    assert "07_ddim_step" in list_solutions("07")
    with pytest.raises(ValueError, match="notebook must be one of"):
        list_solutions("99")


def test_exercise_answer_cells_are_collapsed():
    """Run `python scripts/hide_solutions.py` after editing a notebook to collapse them again."""
    import subprocess
    import sys
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "hide_solutions.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
