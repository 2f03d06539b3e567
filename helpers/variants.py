"""The networks notebook 07 compares, each trained under the same budget.

Five runs with the same network, data, seed, optimiser and number of gradient steps; only one
thing changes per run:

* ``linear_eps``  — linear schedule, ε-prediction (the baseline: Ho et al.'s choices)
* ``cosine_eps``  — cosine schedule (Nichol & Dhariwal 2021), ε-prediction
* ``linear_x0``   — linear schedule, the network predicts x_0 instead of ε
* ``cosine_x0``   — cosine schedule and x_0-prediction
* ``small_data``  — the baseline trained on 200 points instead of 4000 (same number of steps),
  for the memorisation section

``python scripts/train_variants.py`` trains them and writes ``checkpoints/variants/*.pt``
(kilobytes each); notebook 07 loads them, or retrains one in place with :func:`train_variant`.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch

from .checkpoints import Checkpoint, load_checkpoint
from .data import Normalizer, sample
from .networks import build_network
from .schedule import make_schedule
from .train import train

VARIANTS_DIR = Path(__file__).resolve().parents[1] / "checkpoints" / "variants"

N_DATA, N_SMALL, DATA_SEED, SEED = 4000, 200, 0, 0
NETWORK = ("TimeEmbeddingNet", dict(hidden=64))
TRAIN = dict(epochs=100, batch_size=256, lr=3e-3, ema=0.99, lr_schedule="onecycle")

VARIANTS = {
    "linear_eps": dict(schedule="linear", prediction="eps", n_data=N_DATA),
    "cosine_eps": dict(schedule="cosine", prediction="eps", n_data=N_DATA),
    "linear_x0": dict(schedule="linear", prediction="x0", n_data=N_DATA),
    "cosine_x0": dict(schedule="cosine", prediction="x0", n_data=N_DATA),
    "small_data": dict(schedule="linear", prediction="eps", n_data=N_SMALL),
}


def training_data(n_data: int) -> torch.Tensor:
    """The first ``n_data`` points of the course's data set (curve units)."""
    return sample(N_DATA, generator=DATA_SEED)[:n_data]


def train_variant(name: str, progress: bool = False) -> tuple[Checkpoint, float]:
    """Train variant ``name`` from scratch; return it as a Checkpoint and the training seconds."""
    if name not in VARIANTS:
        raise ValueError(f"name must be one of {sorted(VARIANTS)}, got {name!r}")
    v = VARIANTS[name]
    x = training_data(v["n_data"])
    norm = Normalizer.fit(training_data(N_DATA))     # one normaliser for every variant
    schedule = make_schedule(v["schedule"])
    settings = dict(TRAIN)
    # the same number of gradient steps for every variant: fewer points -> more epochs
    settings["batch_size"] = min(TRAIN["batch_size"], v["n_data"])
    steps = TRAIN["epochs"] * math.ceil(N_DATA / TRAIN["batch_size"])
    settings["epochs"] = steps // math.ceil(v["n_data"] / settings["batch_size"])
    torch.manual_seed(SEED)
    net = build_network(NETWORK[0], T=schedule.T, **NETWORK[1])
    result = train(net, x, schedule, seed=SEED, normalizer=norm, prediction=v["prediction"],
                   progress=progress, **settings)
    model = result.ema_model if result.ema_model is not None else result.model
    info = {"variant": name, "n_data": v["n_data"], "data_seed": DATA_SEED, "seed": SEED,
            "steps": result.settings["steps"], **{k: settings[k] for k in settings}}
    ckpt = Checkpoint(model=model.eval(), schedule=schedule, normalizer=norm,
                      prediction=v["prediction"], info=info)
    return ckpt, result.elapsed


def variant_path(name: str) -> Path:
    """Where the checkpoint of variant ``name`` is stored."""
    if name not in VARIANTS:
        raise ValueError(f"name must be one of {sorted(VARIANTS)}, got {name!r}")
    return VARIANTS_DIR / f"{name}.pt"


def load_variant(name: str) -> Checkpoint:
    """Load the saved checkpoint of variant ``name``."""
    if name not in VARIANTS:
        raise ValueError(f"name must be one of {sorted(VARIANTS)}, got {name!r}")
    return load_checkpoint(variant_path(name))
