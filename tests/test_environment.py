"""environment.yml (conda) must describe the same pinned packages as requirements.txt (pip).

The conda file is parsed with PyYAML; conda names are mapped to pip names (pytorch → torch),
python and pip themselves are dropped, entries of the ``pip:`` section count as pip
requirements, and ``-e .`` (the course's own package) is ignored. Names are compared after
PEP 503 normalisation, versions exactly.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_TO_PIP = {"pytorch": "torch"}
NOT_PACKAGES = {"python", "pip"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pip_line(line: str) -> tuple[str, str] | None:
    """``name==version`` → (name, version); comments, blanks and ``-e``/``-r`` lines → None."""
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;,]+)", line)
    if m is None:
        raise ValueError(f"requirement {line!r} is not pinned exactly as name==version")
    return normalise(m.group(1)), m.group(2)


def parse_conda_spec(spec: str) -> tuple[str, str | None]:
    """``numpy=2.4.6`` / ``numpy==2.4.6`` / ``numpy 2.4.6`` / ``numpy=2.4.6=build`` → (pip name, version)."""
    spec = spec.split("::")[-1].strip()  # drop a channel prefix
    m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:==?|\s)\s*([^\s=]+)(?:=\S+)?", spec)
    if m is None:
        name, version = spec, None
    else:
        name, version = m.group(1), m.group(2)
    name = normalise(name)
    return CONDA_TO_PIP.get(name, name), version


def env_packages(text: str) -> dict[str, str | None]:
    """Package → version for every entry of an environment.yml (conda and pip sections)."""
    env = yaml.safe_load(text)
    if not isinstance(env, dict) or not isinstance(env.get("dependencies"), list):
        raise ValueError("environment.yml needs a 'dependencies' list")
    out: dict[str, str | None] = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for line in dep.get("pip", []):
                parsed = parse_pip_line(str(line))
                if parsed:
                    out[parsed[0]] = parsed[1]
            continue
        name, version = parse_conda_spec(str(dep))
        if name not in NOT_PACKAGES:
            out[name] = version
    return out


def requirement_packages(text: str) -> dict[str, str]:
    return dict(p for p in map(parse_pip_line, text.splitlines()) if p)


def drift(env_text: str, req_text: str) -> list[str]:
    """Human-readable differences between the two files (empty list: they agree)."""
    env, req = env_packages(env_text), requirement_packages(req_text)
    problems = [f"{n} only in environment.yml" for n in sorted(env.keys() - req.keys())]
    problems += [f"{n} only in requirements.txt" for n in sorted(req.keys() - env.keys())]
    problems += [f"{n}: environment.yml has {env[n]!r}, requirements.txt has {req[n]!r}"
                 for n in sorted(env.keys() & req.keys()) if env[n] != req[n]]
    return problems


def test_environment_yml_matches_requirements():
    env_text = (ROOT / "environment.yml").read_text()
    req_text = (ROOT / "requirements.txt").read_text()
    assert drift(env_text, req_text) == []


def test_requirements_are_exact_pins_with_torch_2_13():
    req = requirement_packages((ROOT / "requirements.txt").read_text())
    assert req["torch"] == "2.13.0"  # an open range pulls a CUDA build (see DEVELOPERS.md)


def test_environment_yml_python_fits_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    py = next(str(d) for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    major, minor = map(int, re.search(r"(\d+)\.(\d+)", py).groups())
    need = re.search(r'requires-python\s*=\s*">=(\d+)\.(\d+)"', (ROOT / "pyproject.toml").read_text())
    assert (major, minor) >= tuple(map(int, need.groups()))


REQ = "torch==2.13.0\nnumpy==2.4.6  # comment\n\nnbval==0.11.0\n"
ENV = """
dependencies:
  - python=3.11
  - pip
  - numpy=2.4.6
  - conda-forge::nbval==0.11.0
  - pip:
      - torch==2.13.0
      - -e .
"""


def test_drift_checker_accepts_equal_sets():
    assert drift(ENV, REQ) == []
    assert env_packages(ENV.replace("- pip:\n      - torch==2.13.0", "- pytorch=2.13.0\n  - pip:")) == \
        {"numpy": "2.4.6", "nbval": "0.11.0", "torch": "2.13.0"}


@pytest.mark.parametrize("env_text,req_text,expected", [
    (ENV.replace("numpy=2.4.6", "numpy=2.4.5"), REQ, "numpy: environment.yml has '2.4.5'"),
    (ENV.replace("  - numpy=2.4.6\n", ""), REQ, "numpy only in requirements.txt"),
    (ENV, REQ.replace("nbval==0.11.0\n", ""), "nbval only in environment.yml"),
    (ENV.replace("torch==2.13.0", "torch==2.15.0"), REQ, "torch: environment.yml has '2.15.0'"),
    (ENV.replace("numpy=2.4.6", "numpy"), REQ, "numpy: environment.yml has None"),
])
def test_drift_checker_catches_drift(env_text, req_text, expected):
    assert any(expected in p for p in drift(env_text, req_text))


def test_unpinned_requirement_is_an_error():
    with pytest.raises(ValueError, match="not pinned"):
        requirement_packages("torch>=2.0\n")
