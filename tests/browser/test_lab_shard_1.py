"""Browser tests, part 1 of 2: each notebook run in JupyterLab in headless Chromium.

The notebooks are split over two files so that `pytest -n 2 --dist loadfile` runs the two
parts on two workers (each with its own JupyterLab); lab_driver.notebook_shard balances them
by the run time stored in the notebooks. The checks are in notebook_checks.py.
"""
import pytest

from lab_driver import notebook_shard
from notebook_checks import check_notebook


@pytest.mark.parametrize("notebook", notebook_shard(0, 2), ids=lambda p: p.stem)
def test_notebook_in_jupyterlab(lab_page, notebook):
    check_notebook(lab_page, notebook)
