"""Save a trained ε_θ with everything needed to sample from it, and load it back.

The file is a plain ``dict`` that ``torch.load(path, weights_only=True)`` reads safely
(no pickled classes, no code runs on load)::

    {"format": "ddpm-butterfly-checkpoint", "version": 1,
     "meta": "<JSON text>",          # network class + config, schedule betas + T,
                                    # normalizer, prediction type, notes
     "state_dict": {name: tensor},   # the weights (the EMA weights if you pass them)
     "extras": {name: tensor}}       # optional: loss curves, sample snapshots, …

Saving never overwrites an existing file unless ``overwrite=True``; a wrong, truncated
or mismatched file raises a ``ValueError`` that says what is wrong.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .data import Normalizer
from .networks import NETWORKS, build_network
from .schedule import Schedule
from .train import PREDICTIONS, as_eps_model

FORMAT = "ddpm-butterfly-checkpoint"
VERSION = 1


@dataclass
class Checkpoint:
    """A loaded checkpoint: the network (eval mode) and what sampling needs."""

    model: nn.Module
    schedule: Schedule
    normalizer: Normalizer | None
    prediction: str = "eps"
    info: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)

    @property
    def sampler(self) -> nn.Module:
        """The network in the ε contract (wrapped if it predicts x_0)."""
        return as_eps_model(self.model, self.schedule, self.prediction)


def save_checkpoint(path: str | os.PathLike, model: nn.Module, schedule: Schedule,
                    normalizer: Normalizer | None = None, prediction: str = "eps",
                    info: dict | None = None, extras: dict | None = None,
                    overwrite: bool = False) -> Path:
    """Write ``model``'s weights, class name, config, the schedule, normalizer and prediction type.

    ``info`` is any JSON-serialisable dict (e.g. training settings); ``extras`` a dict of
    name → tensor (e.g. the loss history) stored next to the weights. Raises
    ``FileExistsError`` if ``path`` exists and ``overwrite`` is False. The file is written
    to a temporary name first and then renamed, so a crash never leaves half a file.
    """
    path = Path(path)
    name = type(model).__name__
    if NETWORKS.get(name) is not type(model):
        raise ValueError(f"model must be one of the networks in helpers.networks {sorted(NETWORKS)}, "
                         f"got {name}")
    if not isinstance(schedule, Schedule):
        raise ValueError(f"schedule must be a helpers.schedule.Schedule, got {type(schedule).__name__}")
    if normalizer is not None and not isinstance(normalizer, Normalizer):
        raise ValueError(f"normalizer must be a helpers.data.Normalizer or None, got {type(normalizer).__name__}")
    if prediction not in PREDICTIONS:
        raise ValueError(f"prediction must be one of {PREDICTIONS}, got {prediction!r}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    meta = {"network": name, "config": model.config(), "schedule": schedule.to_dict(), "T": schedule.T,
            "normalizer": None if normalizer is None else normalizer.to_dict(),
            "prediction": prediction, "info": info or {}, "torch": torch.__version__}
    try:
        meta_text = json.dumps(meta)
    except TypeError as err:
        raise ValueError(f"info must be JSON-serialisable: {err}") from err
    extras = extras or {}
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in extras.items()):
        raise ValueError("extras must map names (str) to tensors")
    payload = {"format": FORMAT, "version": VERSION, "meta": meta_text,
               "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
               "extras": {k: v.detach().cpu().clone() for k, v in extras.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual mode
    try:
        torch.save(payload, tmp)
        if path.exists() and not overwrite:  # appeared meanwhile
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu",
                    expect_network: str | None = None, expect_T: int | None = None,
                    expect_schedule: Schedule | None = None) -> Checkpoint:
    """Read a file written by :func:`save_checkpoint` with ``torch.load(weights_only=True)``.

    ``expect_network``/``expect_T``/``expect_schedule`` check that the file holds what you
    meant to load (a network sampled with another schedule than it was trained on is wrong).
    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for anything else
    wrong: not a checkpoint, corrupt, or weights that do not fit the stored network.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # truncated or not a torch file: say so plainly
        raise ValueError(f"{path} is not a readable checkpoint (corrupt or not written by "
                         f"save_checkpoint): {type(err).__name__}: {err}") from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} file")
    if payload.get("version") != VERSION:
        raise ValueError(f"{path} has format version {payload.get('version')!r}; this code reads {VERSION}")
    try:
        meta = json.loads(payload["meta"])
        state = payload["state_dict"]
        name, config = meta["network"], meta["config"]
        schedule = Schedule.from_dict(meta["schedule"])
        normalizer = None if meta["normalizer"] is None else Normalizer.from_dict(meta["normalizer"])
        prediction = meta["prediction"]
        extras = dict(payload.get("extras", {}))
    except (KeyError, TypeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} has missing or malformed metadata: {err}") from err
    if schedule.T != meta.get("T"):
        raise ValueError(f"{path} is inconsistent: T = {meta.get('T')} but the schedule has {schedule.T} steps")
    if prediction not in PREDICTIONS:
        raise ValueError(f"{path} has prediction {prediction!r}; expected one of {PREDICTIONS}")
    if expect_network is not None and name != expect_network:
        raise ValueError(f"{path} holds a {name}, expected a {expect_network}")
    if expect_T is not None and schedule.T != expect_T:
        raise ValueError(f"{path} was trained with T = {schedule.T}, expected T = {expect_T}")
    if expect_schedule is not None and (expect_schedule.T != schedule.T or not torch.allclose(
            expect_schedule.beta, schedule.beta, rtol=1e-9, atol=0.0)):
        raise ValueError(f"{path} was trained with the schedule {schedule!r}, expected {expect_schedule!r}")
    model = build_network(name, **config)
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"{path}: the weights do not fit {name}({config}): {err}") from err
    model.to(map_location).eval()
    return Checkpoint(model=model, schedule=schedule, normalizer=normalizer, prediction=prediction,
                      info=meta.get("info", {}), extras=extras)
