# Two commands do everything (see README.md):
#   make lab    set up on first use, then open the course in JupyterLab
#   make test   set up on first use, then run every test
# Both create and reuse a virtual environment in .venv (no conda needed).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Port and kernel-cell timeout can be changed: make lab PORT=8899
PORT   ?= 8888

.PHONY: lab test test-browser setup outputs html slides clean-venv checkpoint bench

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "Python >= 3.10 is needed; run: make PYTHON=python3.11 ..."; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -r requirements.txt -e .
	touch $(STAMP)

# Bound to 127.0.0.1 with token auth on; --allow-root only when run as root (containers).
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=notebooks \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

# One torch/BLAS thread per worker: two workers with two threads each oversubscribe a 2-core
# machine and make small tensor ops 10x slower (measured).
test: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 --dist loadfile tests notebooks \
	  --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

# Only the browser tests: each notebook run in JupyterLab in headless Chromium, sliders moved
# (needs chromium: sudo apt-get install chromium, or CHROMIUM_PATH=...). Screenshots: artifacts/screenshots/
test-browser: $(STAMP)
	$(PY) -m pytest tests/browser -v

# Re-create the stored notebook outputs from a clean kernel (what nbval compares against).
outputs: $(STAMP)
	$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.timeout=1200 notebooks/*.ipynb

# Static exports that work offline (scripts/export_course.py; npm fetches reveal.js, MathJax,
# require.js and jQuery once into scripts/vendor/node_modules). EXECUTE=1 re-runs the notebooks first.
html: $(STAMP)
	$(PY) scripts/export_course.py html $(if $(EXECUTE),--execute)

slides: $(STAMP)
	$(PY) scripts/export_course.py slides $(if $(EXECUTE),--execute)

# Retrain notebook 05's networks into checkpoints/ (refuses to overwrite; OVERWRITE=1 replaces them).
checkpoint: $(STAMP)
	$(PY) scripts/make_checkpoint.py $(if $(OVERWRITE),--overwrite,)

# Article configuration vs the course default: time-to-quality, final quality, sampling speed.
bench: $(STAMP)
	$(PY) benchmarks/bench_training.py

clean-venv:
	rm -rf $(VENV)
