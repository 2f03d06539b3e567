"""Training ε_θ with the simple loss (Ho et al. 2020, Algorithm 1 and eq. 14).

Each step, for a batch of data points x_0 (all at once, no Python loop over points)::

    t ~ Uniform{1, …, T},  ε ~ N(0, I),  x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε   (eq. 4)
    loss = ‖ε − ε_θ(x_t, t)‖²  averaged over the batch                    (eq. 14)
    clip the gradient norm (the article clips at 1.0), take an Adam step.

``prediction="x0"`` trains the network to output x_0 instead of ε (target x_0, same
x_t); :func:`as_eps_model` turns such a network back into the ε contract for sampling.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ._checks import check_float, check_int, check_points
from .data import Normalizer
from .device import default_device
from .elbo import simple_loss
from .forward import q_sample
from .sampling import p_sample_loop, torch_threads
from .schedule import Schedule

PREDICTIONS = ("eps", "x0")
LR_SCHEDULES = ("constant", "cosine", "onecycle")
ARTICLE_EPOCHS = tuple(range(100, 1001, 100))  # the article's snapshots: epoch 100, 200, …, 1000


class EpsFromX0(nn.Module):
    """Wrap a network that predicts x_0 so it follows the ε contract:
    ε̂ = (x_t − √ᾱ_t x̂_0)/√(1 − ᾱ_t) (eq. 4 solved for ε, via ``helpers.posterior``)."""

    def __init__(self, x0_model: nn.Module, schedule: Schedule):
        super().__init__()
        self.x0_model = x0_model
        self.schedule = schedule

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        from .posterior import predict_eps_from_x0

        return predict_eps_from_x0(self.schedule, x_t, t, self.x0_model(x_t, t))


def as_eps_model(model: nn.Module, schedule: Schedule, prediction: str = "eps") -> nn.Module:
    """The model in the ε contract: itself for ``"eps"``, wrapped by :class:`EpsFromX0` for ``"x0"``."""
    if prediction not in PREDICTIONS:
        raise ValueError(f"prediction must be one of {PREDICTIONS}, got {prediction!r}")
    return model if prediction == "eps" else EpsFromX0(model, schedule)


@dataclass
class TrainResult:
    """What :func:`train` returns.

    ``history``: mean loss per epoch. ``bucket_history``: (epochs, n_buckets) mean loss per
    t bucket per epoch; ``bucket_edges[k] .. bucket_edges[k+1]−1`` are the t of bucket k.
    ``snapshots``: epoch → samples (in data units if a normalizer was given).
    ``elapsed``: seconds of training (snapshot sampling excluded; ``snapshot_seconds``);
    ``epoch_seconds[k]``: training seconds at the end of epoch k + 1 (for time-to-quality).
    """

    model: nn.Module
    ema_model: nn.Module | None
    schedule: Schedule
    prediction: str
    normalizer: Normalizer | None
    history: list[float]
    bucket_history: torch.Tensor
    bucket_edges: torch.Tensor
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)
    elapsed: float = 0.0
    snapshot_seconds: float = 0.0
    settings: dict = field(default_factory=dict)
    epoch_seconds: list[float] = field(default_factory=list)

    @property
    def sampler(self) -> nn.Module:
        """The network to sample with, in the ε contract (the EMA weights when there are any)."""
        net = self.ema_model if self.ema_model is not None else self.model
        return as_eps_model(net, self.schedule, self.prediction)

    def bucket_centers(self) -> torch.Tensor:
        """Mid t of each bucket, for plotting the per-t loss."""
        e = self.bucket_edges.double()
        return (e[:-1] + e[1:] - 1) / 2


def _check_settings(model, x0_data, schedule, epochs, batch_size, lr, clip, ema, snapshot_epochs,
                    prediction, lr_schedule, n_buckets):
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(schedule, Schedule):
        raise ValueError(f"schedule must be a helpers.schedule.Schedule, got {type(schedule).__name__}")
    x0 = check_points("x0_data", x0_data)
    epochs = check_int("epochs", epochs, 1)
    batch_size = x0.shape[0] if batch_size is None else check_int("batch_size", batch_size, 1, x0.shape[0])
    lr = check_float("lr", lr, 0.0, lo_open=True)
    clip = None if clip is None else check_float("clip", clip, 0.0, lo_open=True)
    ema = None if ema is None else check_float("ema", ema, 0.0, 1.0, hi_open=True)
    snaps = sorted({check_int("snapshot_epochs", e, 1, epochs) for e in snapshot_epochs})
    if prediction not in PREDICTIONS:
        raise ValueError(f"prediction must be one of {PREDICTIONS}, got {prediction!r}")
    if lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {lr_schedule!r}")
    n_buckets = check_int("n_buckets", n_buckets, 1, schedule.T)
    return x0, epochs, batch_size, lr, clip, ema, snaps, n_buckets


def train(model: nn.Module, x0_data: torch.Tensor, schedule: Schedule, epochs: int = 1000,
          batch_size: int | None = None, lr: float = 1e-3, clip: float | None = 1.0,
          ema: float | None = None, snapshot_epochs=(), seed: int = 0,
          device: torch.device | str | None = None, prediction: str = "eps", progress: bool = True,
          normalizer: Normalizer | None = None, lr_schedule: str = "constant",
          n_buckets: int = 10, n_snapshot: int = 1000, snapshot_variance: str = "beta",
          threads: int | None = 1) -> TrainResult:
    """Train ``model`` in place with the simple loss (Algorithm 1, eq. 14); return a :class:`TrainResult`.

    One epoch is one pass over ``x0_data`` in shuffled batches of ``batch_size`` (``None``:
    the whole set in one batch, as the article does). With ``normalizer`` the data are in
    curve units and are encoded first; snapshots are decoded back. ``ema`` is the decay of
    an exponential moving average of the weights (``None``: off). ``lr_schedule``:
    ``"constant"`` (the article), ``"cosine"`` decay to 0, or ``"onecycle"`` (warm up then
    anneal). ``seed`` fixes t, ε, the shuffling and the snapshot noise (initialise the
    model under your own seed). ``threads``: torch CPU threads during training, restored
    after (default 1, see ``helpers.sampling.torch_threads``; ``None`` leaves it alone).
    """
    x0, epochs, batch_size, lr, clip, ema, snaps, n_buckets = _check_settings(
        model, x0_data, schedule, epochs, batch_size, lr, clip, ema, snapshot_epochs, prediction,
        lr_schedule, n_buckets)
    seed = check_int("seed", seed)
    if threads is not None:
        threads = check_int("threads", threads, 1)
    device = torch.device(device) if device is not None else default_device()
    if normalizer is not None:
        x0 = normalizer.encode(x0)
    x0 = x0.to(device=device, dtype=torch.float32)
    model.to(device)
    model.train()
    n, T = x0.shape[0], schedule.T
    steps_per_epoch = math.ceil(n / batch_size)
    total_steps = epochs * steps_per_epoch

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    if lr_schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
    elif lr_schedule == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total_steps)
    else:
        sched = None
    ema_model = None
    if ema is not None:
        ema_model = copy.deepcopy(model).eval()
        ema_model.requires_grad_(False)
        ema_params = list(ema_model.parameters())
    params = list(model.parameters())

    gen = torch.Generator().manual_seed(seed)
    edges = torch.tensor([1 + (k * T) // n_buckets for k in range(n_buckets + 1)])
    bucket_of_t = torch.bucketize(torch.arange(T + 1), edges, right=True) - 1  # t -> bucket
    bucket_of_t = bucket_of_t.clamp(0, n_buckets - 1).to(device)
    history: list[float] = []
    bucket_history = torch.zeros(epochs, n_buckets, dtype=torch.float64)
    snapshots: dict[int, torch.Tensor] = {}
    snap_seconds = 0.0
    epoch_seconds: list[float] = []

    from tqdm.auto import tqdm

    start = time.perf_counter()
    step = 0
    with torch_threads(threads):
        bar = tqdm(range(1, epochs + 1), desc=type(model).__name__, disable=not progress,
                   mininterval=0.5, leave=True)
        for epoch in bar:
            perm = torch.randperm(n, generator=gen).to(device)
            t_all = torch.randint(1, T + 1, (n,), generator=gen).to(device)
            eps_all = torch.randn((n, 2), generator=gen).to(device)
            sums = torch.zeros(n_buckets, dtype=torch.float64, device=device)
            counts = torch.zeros(n_buckets, dtype=torch.float64, device=device)
            for b in range(steps_per_epoch):
                idx = perm[b * batch_size:(b + 1) * batch_size]
                xb, t, eps = x0[idx], t_all[idx], eps_all[idx]
                if prediction == "eps":  # eq. 14, one loss per point
                    per_point = simple_loss(model, schedule, xb, t=t, noise=eps, reduction="none")
                else:  # the same x_t, but the target is x_0
                    x_t = q_sample(schedule, xb, t, noise=eps)
                    per_point = (model(x_t, t) - xb).square().mean(dim=1)
                loss = per_point.mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if clip is not None:
                    nn.utils.clip_grad_norm_(params, clip)
                opt.step()
                if sched is not None:
                    sched.step()
                step += 1
                if ema_model is not None:
                    decay = min(ema, (1 + step) / (10 + step))  # warm-up: early weights fade fast
                    with torch.no_grad():
                        for pe, p in zip(ema_params, params):
                            pe.lerp_(p, 1 - decay)
                bucket = bucket_of_t[t]
                sums.index_add_(0, bucket, per_point.detach().double())
                counts.index_add_(0, bucket, torch.ones_like(per_point, dtype=torch.float64))
            per_bucket = (sums / counts.clamp_min(1)).cpu()
            per_bucket[counts.cpu() == 0] = float("nan")
            bucket_history[epoch - 1] = per_bucket
            history.append(float((sums.sum() / counts.sum()).item()))
            epoch_seconds.append(time.perf_counter() - start - snap_seconds)
            if progress and (epoch % 10 == 0 or epoch == epochs):
                bar.set_postfix(loss=f"{history[-1]:.4f}", refresh=False)
            if epoch in snaps:
                t0 = time.perf_counter()
                net = ema_model if ema_model is not None else model
                x = p_sample_loop(as_eps_model(net, schedule, prediction), schedule, n_snapshot,
                                  generator=torch.Generator().manual_seed(seed + 1),
                                  variance=snapshot_variance, device=device).cpu()
                snapshots[epoch] = normalizer.decode(x) if normalizer is not None else x
                model.train()
                snap_seconds += time.perf_counter() - t0
        bar.close()
    elapsed = time.perf_counter() - start - snap_seconds
    model.eval()
    settings = dict(epochs=epochs, batch_size=batch_size, lr=lr, clip=clip, ema=ema, seed=seed,
                    prediction=prediction, lr_schedule=lr_schedule, n_data=n, steps=total_steps,
                    device=str(device))
    return TrainResult(model=model, ema_model=ema_model, schedule=schedule, prediction=prediction,
                       normalizer=normalizer, history=history, bucket_history=bucket_history,
                       bucket_edges=edges, snapshots=snapshots, elapsed=elapsed,
                       snapshot_seconds=snap_seconds, settings=settings, epoch_seconds=epoch_seconds)


# ---------------------------------------------------------------------------------------
# The course's default run (notebook 05, ``make checkpoint``, ``make bench``): one place.
# ---------------------------------------------------------------------------------------
CHECKPOINT_DIR = Path(__file__).resolve().parents[1] / "checkpoints"
DEFAULT_N_DATA = 12000
DEFAULT_DATA_SEED = 0
DEFAULT_SEED = 0
#: network name -> keyword arguments (besides T) of the default run
DEFAULT_NETWORKS = {"PredictNoiseNet": dict(num_units=128), "TimeEmbeddingNet": dict(hidden=32, fourier=6)}
#: the fast recipe (measured in benchmarks/bench_training.py): 12 000 normalised points, batches
#: of 2000 (6 steps per epoch, 6000 steps), a one-cycle learning rate peaking at 1e-2; 1000 epochs
#: so the snapshots fall on the article's epochs. Tried and dropped (no gain on both statistics
#: within ~30 s): EMA of the weights, peak lr 2e-2 or 5e-3, a wider net (hidden 48: slightly better,
#: 40 % slower), batches of 1000 on 8000 points, 16 000 points in batches of 2667 (twice as slow).
DEFAULT_RECIPE = dict(epochs=1000, batch_size=2000, lr=1e-2, lr_schedule="onecycle", ema=None, clip=1.0)
#: per-network changes to DEFAULT_RECIPE in notebook 05: the article's PredictNoiseNet costs about
#: 1.3-1.75x as much per step (measured, depending on load), so it gets half the epochs (3000 steps) -- about the same training time
#: -- which keeps notebook 05 near a minute and a half in all.
RECIPE_OVERRIDES = {"PredictNoiseNet": dict(epochs=500)}
#: the course's sampling variance: the posterior's sigma_t^2 = beta-tilde_t (Ho et al. found it as
#: good as the article's beta_t); notebook 06 compares both. Our small, fast network is too smooth
#: at small t, and beta-tilde keeps its samples on the curve (distance ~1.05x vs ~1.35x the noise floor).
DEFAULT_VARIANCE = "beta_tilde"
#: the article's recipe: the whole data set in one batch per epoch, Adam at a constant
#: 1e-3 (its optimiser is not shown; 1e-3 is Adam's default), raw curve units, clip 1.0
ARTICLE_RECIPE = dict(epochs=1000, batch_size=None, lr=1e-3, lr_schedule="constant", ema=None, clip=1.0)
CHECKPOINT_NAMES = {"TimeEmbeddingNet": "butterfly_default.pt", "PredictNoiseNet": "butterfly_article_net.pt"}


def default_data(n: int = DEFAULT_N_DATA, seed: int = DEFAULT_DATA_SEED) -> tuple[torch.Tensor, Normalizer]:
    """The training set of the default run (curve units) and its fitted :class:`Normalizer`."""
    from .data import sample

    x = sample(n, generator=seed)
    return x, Normalizer.fit(x)


def default_network(name: str, T: int, seed: int = DEFAULT_SEED) -> nn.Module:
    """A freshly initialised network of the default run (initialised under ``seed``)."""
    from .networks import build_network

    if name not in DEFAULT_NETWORKS:
        raise ValueError(f"name must be one of {sorted(DEFAULT_NETWORKS)}, got {name!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_network(name, T=T, **DEFAULT_NETWORKS[name])


def default_recipe(name: str) -> dict:
    """The training settings of network ``name`` in notebook 05 (DEFAULT_RECIPE + RECIPE_OVERRIDES)."""
    if name not in DEFAULT_NETWORKS:
        raise ValueError(f"name must be one of {sorted(DEFAULT_NETWORKS)}, got {name!r}")
    return DEFAULT_RECIPE | RECIPE_OVERRIDES.get(name, {})


def train_default(name: str, schedule: Schedule | None = None, progress: bool = True,
                  snapshot_epochs=ARTICLE_EPOCHS, **overrides) -> TrainResult:
    """Train network ``name`` with the default data and recipe (``overrides`` replace recipe items).

    Snapshots (500 points, sampled with ``DEFAULT_VARIANCE``) at those of ``snapshot_epochs``
    that the run reaches.
    """
    from .schedule import linear_schedule

    schedule = linear_schedule() if schedule is None else schedule
    x, norm = default_data()
    recipe = default_recipe(name) | overrides
    snaps = tuple(e for e in snapshot_epochs if e <= recipe["epochs"])
    return train(default_network(name, schedule.T), x, schedule, normalizer=norm, seed=DEFAULT_SEED,
                 snapshot_epochs=snaps, progress=progress, n_snapshot=500,
                 snapshot_variance=DEFAULT_VARIANCE, **recipe)


def save_result(result: TrainResult, path, overwrite: bool = False):
    """Save the sampling weights of a :class:`TrainResult` (EMA if any) with its curves and snapshots."""
    from .checkpoints import save_checkpoint

    net = result.ema_model if result.ema_model is not None else result.model
    extras = {"history": torch.tensor(result.history, dtype=torch.float32),
              "bucket_history": result.bucket_history.float(), "bucket_edges": result.bucket_edges}
    extras |= {f"snapshot_{e}": s.float() for e, s in result.snapshots.items()}
    info = {"settings": result.settings, "elapsed": round(result.elapsed, 2)}
    return save_checkpoint(path, net, result.schedule, result.normalizer, result.prediction,
                           info=info, extras=extras, overwrite=overwrite)


def load_result(path) -> TrainResult:
    """A :class:`TrainResult` rebuilt from a file written by :func:`save_result` (no training)."""
    from .checkpoints import load_checkpoint

    ck = load_checkpoint(path)
    ex = ck.extras
    snaps = {int(k.split("_", 1)[1]): v for k, v in ex.items() if k.startswith("snapshot_")}
    return TrainResult(model=ck.model, ema_model=None, schedule=ck.schedule, prediction=ck.prediction,
                       normalizer=ck.normalizer, history=ex["history"].double().tolist(),
                       bucket_history=ex["bucket_history"].double(), bucket_edges=ex["bucket_edges"],
                       snapshots=dict(sorted(snaps.items())), elapsed=float(ck.info.get("elapsed", 0.0)),
                       settings=dict(ck.info.get("settings", {}), loaded_from=str(path)))


def train_or_load(name: str, use_pretrained: bool, progress: bool = True) -> TrainResult:
    """Notebook 05's switch: load ``checkpoints/<name>.pt`` or train the default run now."""
    if use_pretrained:
        path = CHECKPOINT_DIR / CHECKPOINT_NAMES[name]
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing; run `make checkpoint` to create it")
        return load_result(path)
    return train_default(name, progress=progress)
