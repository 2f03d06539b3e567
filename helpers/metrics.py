"""Sample quality, measured against the data's own noise floor.

Two statistics, both in curve units (decode model samples first):

* ``mmd``: multi-scale kernel maximum mean discrepancy (Gretton et al. 2012) with a sum
  of Gaussian kernels k(x, y) = Σ_h exp(−‖x − y‖² / (2h²)), from fine (the jitter) to coarse
  (the wings). We report √MMD², with the biased (V-statistic) estimate, which is ≥ 0.
* ``curve_distance``: mean distance from each point to the nearest point of the clean
  curve c(θ), θ ∈ [0, 2π], on a dense θ grid.

A finite sample of the *true* distribution does not score 0: two independent draws of
n points differ (MMD > 0), and jittered points lie off the curve. That value is the
**noise floor**; :func:`sample_quality` reports each statistic as "× noise floor", so
1.0 means "as good as real data at this sample size".
"""
from __future__ import annotations

import torch

from ._checks import check_float, check_int, check_points
from .data import DEFAULT_NOISE, TWO_PI, butterfly_curve, sample
from .sampling import torch_threads

DEFAULT_BANDWIDTHS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)  # curve units: the jitter … a wing
_CHUNK = 1024


def _kernel_sum(x: torch.Tensor, y: torch.Tensor, bandwidths: tuple[float, ...]) -> float:
    """Σ_i Σ_j Σ_h exp(−‖x_i − y_j‖²/(2h²)), computed in chunks (memory stays small).

    When each bandwidth is twice the previous one (the default), the finer kernel is the
    coarser one to the 4th power, so one ``exp`` per pair serves every scale.
    """
    hs = sorted(bandwidths, reverse=True)  # coarse first
    doubling = all(abs(a / b - 2.0) < 1e-12 for a, b in zip(hs, hs[1:]))
    total = torch.zeros((), dtype=torch.float64)
    with torch_threads(1):  # see torch_threads: a second thread only waits on a shared CPU
        for i in range(0, x.shape[0], _CHUNK):
            total += _kernel_chunk(x[i:i + _CHUNK], y, hs, doubling)
    return float(total)


def _kernel_chunk(x: torch.Tensor, y: torch.Tensor, hs: list[float], doubling: bool) -> torch.Tensor:
    total = torch.zeros((), dtype=torch.float64)
    d2 = torch.cdist(x, y).pow_(2)
    if doubling:
        k = torch.exp(d2.mul_(-1.0 / (2 * hs[0] ** 2)))
        total += k.sum(dtype=torch.float64)
        for _ in hs[1:]:
            k = k.square_().square_()
            total += k.sum(dtype=torch.float64)
    else:
        for h in hs:
            total += torch.exp(d2 * (-1.0 / (2 * h * h))).sum(dtype=torch.float64)
    return total


def _mmd2(kxx: float, kyy: float, kxy: float, n: int, m: int) -> float:
    return kxx / (n * n) + kyy / (m * m) - 2 * kxy / (n * m)


def mmd(x: torch.Tensor, y: torch.Tensor, bandwidths=DEFAULT_BANDWIDTHS) -> float:
    """√MMD²_b(x, y) with the multi-scale Gaussian kernel (biased estimate, Gretton et al. eq. 5).

    MMD²_b = mean k(x, x') + mean k(y, y') − 2 mean k(x, y), all pairs including i = j.
    """
    x = check_points("x", x).double()
    y = check_points("y", y).double()
    bandwidths = tuple(check_float("bandwidths", h, 0.0, lo_open=True) for h in bandwidths)
    if not bandwidths:
        raise ValueError("bandwidths must hold at least one positive number")
    mmd2 = _mmd2(_kernel_sum(x, x, bandwidths), _kernel_sum(y, y, bandwidths),
                 _kernel_sum(x, y, bandwidths), x.shape[0], y.shape[0])
    return max(mmd2, 0.0) ** 0.5


_CURVE_CACHE: dict[int, torch.Tensor] = {}


def clean_curve(n_grid: int = 20_000) -> torch.Tensor:
    """c(θ) on an even grid of ``n_grid`` values of θ in [0, 2π] (float64, cached)."""
    n_grid = check_int("n_grid", n_grid, 2)
    if n_grid not in _CURVE_CACHE:
        _CURVE_CACHE[n_grid] = butterfly_curve(torch.linspace(0, TWO_PI, n_grid, dtype=torch.float64))
    return _CURVE_CACHE[n_grid]


def distance_to_curve(x: torch.Tensor, n_grid: int = 20_000) -> torch.Tensor:
    """Distance from each point to the nearest of ``n_grid`` points of the clean curve, shape (n,).

    The grid spacing is at most about 0.003 curve units at 20 000 points, so the error is far
    below the data's jitter of 0.05.
    """
    x = check_points("x", x).double()
    curve = clean_curve(n_grid)
    out = torch.empty(x.shape[0], dtype=torch.float64)
    with torch_threads(1):
        for i in range(0, x.shape[0], _CHUNK):
            out[i:i + _CHUNK] = torch.cdist(x[i:i + _CHUNK], curve).min(dim=1).values
    return out


def curve_distance(x: torch.Tensor, n_grid: int = 20_000) -> float:
    """Mean distance of the points to the clean curve (curve units)."""
    return float(distance_to_curve(x, n_grid).mean())


_REF_CACHE: dict[tuple, dict] = {}


def _references(n: int, noise: float, seed: int, n_refs: int, bandwidths: tuple[float, ...]) -> dict:
    """Reference draws R_1..R_k, their self-kernel sums and the noise floors (cached)."""
    key = (n, noise, seed, n_refs, bandwidths)
    if key not in _REF_CACHE:
        gen = torch.Generator().manual_seed(seed)
        refs = [sample(n, noise, generator=gen).double() for _ in range(n_refs)]
        kself = [_kernel_sum(r, r, bandwidths) for r in refs]
        pairs = [(i, j) for i in range(n_refs) for j in range(i + 1, n_refs)]
        floor2 = sum(_mmd2(kself[i], kself[j], _kernel_sum(refs[i], refs[j], bandwidths), n, n)
                     for i, j in pairs) / len(pairs)
        dist = sum(curve_distance(r) for r in refs) / n_refs
        _REF_CACHE.clear()  # keep one entry: a few reference sets of n points
        _REF_CACHE[key] = {"refs": refs, "kself": kself, "floor2": floor2, "dist": dist}
    return _REF_CACHE[key]


def sample_quality(samples: torch.Tensor, noise: float = DEFAULT_NOISE, seed: int = 0,
                   n_refs: int = 3, bandwidths=DEFAULT_BANDWIDTHS) -> dict[str, float]:
    """Both statistics for ``samples`` (curve units) and their noise floors, as ratios.

    ``n_refs`` independent true draws R_1..R_k of the same size n as ``samples`` (seeded
    by ``seed``). The floor is what real data scores: the MMD between two true draws
    (averaged over the pairs R_i, R_j) and the mean curve distance of a true draw.
    Averaging steadies the numbers (a single pair scatters by about ±15 %).

    * ``mmd`` = √(mean_k MMD²(samples, R_k)), ``mmd_floor`` = √(mean_{i<j} MMD²(R_i, R_j));
    * ``dist`` = curve_distance(samples), ``dist_floor`` = mean_k curve_distance(R_k);
    * ``mmd_ratio``, ``dist_ratio``: statistic / floor ("× noise floor", 1.0 = real data).
    """
    samples = check_points("samples", samples).double()
    noise = check_float("noise", noise, 0.0, lo_open=True)
    seed = check_int("seed", seed)
    n_refs = check_int("n_refs", n_refs, 2, 20)
    bandwidths = tuple(check_float("bandwidths", h, 0.0, lo_open=True) for h in bandwidths)
    if not bandwidths:
        raise ValueError("bandwidths must hold at least one positive number")
    n = samples.shape[0]
    ref = _references(n, noise, seed, n_refs, bandwidths)
    kss = _kernel_sum(samples, samples, bandwidths)
    mmd2 = sum(_mmd2(kss, krr, _kernel_sum(samples, r, bandwidths), n, n)
               for r, krr in zip(ref["refs"], ref["kself"])) / n_refs
    out = {"mmd": max(mmd2, 0.0) ** 0.5, "mmd_floor": max(ref["floor2"], 0.0) ** 0.5,
           "dist": curve_distance(samples), "dist_floor": ref["dist"]}
    out["mmd_ratio"] = out["mmd"] / out["mmd_floor"]
    out["dist_ratio"] = out["dist"] / out["dist_floor"]
    return out


def denoiser_error(model, schedule, reference, x0: torch.Tensor, timesteps, seed: int = 0) -> dict[str, torch.Tensor]:
    """How far ``model``'s ε̂ is from the exact ε* = ``reference`` (e.g. ``OptimalDenoiser``), per t.

    For each t, x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε is drawn from q (``x0`` in model units) and
    ``excess[t]`` = mean ‖ε_θ(x_t) − ε*(x_t)‖² / 2 (averaged over coordinates like the loss);
    ``floor[t]`` = mean ‖ε − ε*(x_t)‖² / 2 is the loss that even the exact denoiser pays. The
    simple loss at t is floor + excess (ε* is the conditional mean, so the cross term vanishes):
    training can only remove the excess. Returns tensors ``t``, ``excess``, ``floor``.
    """
    from .forward import q_sample
    from .schedule import Schedule

    if not isinstance(schedule, Schedule):
        raise ValueError(f"schedule must be a helpers.schedule.Schedule, got {type(schedule).__name__}")
    x0 = check_points("x0", x0).float()
    ts = [check_int("timesteps", t, 1, schedule.T) for t in timesteps]
    if not ts:
        raise ValueError("timesteps must hold at least one t in [1, T]")
    gen = torch.Generator().manual_seed(check_int("seed", seed))
    excess, floor = [], []
    with torch.no_grad():
        for t in ts:
            eps = torch.randn(x0.shape, generator=gen)
            x_t = q_sample(schedule, x0, t, noise=eps)
            tt = torch.full((x0.shape[0],), t, dtype=torch.long)
            exact = reference(x_t, tt).float()
            excess.append(float((model(x_t, tt).float() - exact).square().mean()))
            floor.append(float((eps - exact).square().mean()))
    return {"t": torch.tensor(ts), "excess": torch.tensor(excess), "floor": torch.tensor(floor)}
