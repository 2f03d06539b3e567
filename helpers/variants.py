"""The networks notebook 07 compares, each trained under the same budget.

Five runs with notebook 05's default network, data, seed, recipe and number of gradient steps;
only one thing changes per run:

* ``linear_eps``  — linear schedule, ε-prediction: Ho et al.'s choices, notebook 05's default run
  (its pretrained checkpoint, ``checkpoints/butterfly_default.pt``, is used as is)
* ``cosine_eps``  — cosine schedule (Nichol & Dhariwal 2021), ε-prediction
* ``linear_x0``   — linear schedule, the network predicts x_0 instead of ε
* ``cosine_x0``   — cosine schedule and x_0-prediction
* ``small_data``  — the baseline trained on 200 points instead of the default data set (same number of steps),
  for the memorisation section

``python scripts/train_variants.py`` trains the other four and writes
``checkpoints/variants/*.pt`` (kilobytes each); notebook 07 loads them, or retrains one in
place with :func:`train_variant`.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch

from ._checks import check_int
from .checkpoints import Checkpoint, load_checkpoint
from .schedule import make_schedule
from .train import (CHECKPOINT_DIR, CHECKPOINT_NAMES, DEFAULT_N_DATA, DEFAULT_RECIPE, DEFAULT_SEED,
                    default_data, default_network, train)

NETWORK = "TimeEmbeddingNet"   # the course's default network (notebook 05)

VARIANTS_DIR = CHECKPOINT_DIR / "variants"
N_SMALL = 200
BASELINE = "linear_eps"

VARIANTS = {
    "linear_eps": dict(schedule="linear", prediction="eps", n_data=DEFAULT_N_DATA),
    "cosine_eps": dict(schedule="cosine", prediction="eps", n_data=DEFAULT_N_DATA),
    "linear_x0": dict(schedule="linear", prediction="x0", n_data=DEFAULT_N_DATA),
    "cosine_x0": dict(schedule="cosine", prediction="x0", n_data=DEFAULT_N_DATA),
    "small_data": dict(schedule="linear", prediction="eps", n_data=N_SMALL),
}


def training_data(n_data: int = DEFAULT_N_DATA) -> torch.Tensor:
    """The first ``n_data`` points of the course's training set (curve units)."""
    n_data = check_int("n_data", n_data, 2, DEFAULT_N_DATA)
    return default_data()[0][:n_data]


def data_fingerprint(n_data: int) -> float:
    """A number that changes when the training points change (stored with each variant, so a
    test notices when the course's default data moved on and the variants need retraining)."""
    x = training_data(n_data).double()
    return round(float((x * torch.arange(1, x.shape[0] + 1, dtype=torch.float64)[:, None]).sum()), 6)


def recipe(name: str) -> dict:
    """The training settings of variant ``name``: the course's default recipe, with the same
    number of gradient steps for every variant (fewer points -> more epochs)."""
    v = _spec(name)
    settings = dict(DEFAULT_RECIPE, prediction=v["prediction"])
    settings["batch_size"] = min(DEFAULT_RECIPE["batch_size"], v["n_data"])
    steps = DEFAULT_RECIPE["epochs"] * math.ceil(DEFAULT_N_DATA / DEFAULT_RECIPE["batch_size"])
    settings["epochs"] = steps // math.ceil(v["n_data"] / settings["batch_size"])
    return settings


def _spec(name: str) -> dict:
    if name not in VARIANTS:
        raise ValueError(f"name must be one of {sorted(VARIANTS)}, got {name!r}")
    return VARIANTS[name]


def train_variant(name: str, progress: bool = False) -> tuple[Checkpoint, float]:
    """Train variant ``name`` from scratch; return it as a Checkpoint and the training seconds.

    The network, its initialisation, the data (a prefix of it for ``small_data``), the
    normaliser, seed and recipe are the course's defaults (``helpers.train``); ``linear_eps``
    is exactly the default run of notebook 05.
    """
    v = _spec(name)
    _, norm = default_data()                         # one normaliser for every variant
    schedule = make_schedule(v["schedule"])
    settings = recipe(name)
    net = default_network(NETWORK, schedule.T)
    result = train(net, training_data(v["n_data"]), schedule, seed=DEFAULT_SEED, normalizer=norm,
                   progress=progress, **settings)
    model = result.ema_model if result.ema_model is not None else result.model
    info = {"variant": name, "settings": result.settings, "data_fingerprint": data_fingerprint(v["n_data"])}
    ckpt = Checkpoint(model=model.eval(), schedule=schedule, normalizer=norm,
                      prediction=v["prediction"], info=info)
    return ckpt, result.elapsed


def variant_path(name: str) -> Path:
    """Where the checkpoint of variant ``name`` is stored (``linear_eps`` is notebook 05's
    pretrained ``checkpoints/butterfly_default.pt`` itself, not a copy)."""
    _spec(name)
    if name == BASELINE:
        return CHECKPOINT_DIR / CHECKPOINT_NAMES[NETWORK]
    return VARIANTS_DIR / f"{name}.pt"


def load_variant(name: str) -> Checkpoint:
    """Load the saved checkpoint of variant ``name``."""
    path = variant_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; run `python scripts/train_variants.py` "
                                "(or `make checkpoint` for linear_eps) to create it")
    return load_checkpoint(path)
