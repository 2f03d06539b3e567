"""Training speed and sample quality: the article's configuration vs the course default.

    make bench        (or: python benchmarks/bench_training.py [--quick] [--train-seeds 0,1,2])

Trains, in one process, on the same 12 000 points (``helpers.train.default_data``):

* article: ``PredictNoiseNet``, the whole data set as one batch per epoch, Adam at a constant
  1e-3, raw curve units, 1000 epochs (``helpers.train.ARTICLE_RECIPE``), sampled with the
  article's σ_t² = β_t;
* default: notebook 05's run (``helpers.train.DEFAULT_RECIPE`` + ``DEFAULT_NETWORKS``), sampled
  with the course's ``DEFAULT_VARIANCE`` (σ_t² = β̃_t).

Every 100 epochs both are sampled (3 independent sets of 4000 points) and scored against the
noise floor (``helpers.metrics.sample_quality``); the mean over the 3 sets is what counts, since
one set of 4000 scatters by about ±0.15 in MMD ratio. Sampling time is not training time.
At the end each run is scored with both variances over 5 sets, and true data is scored the same
way (the spread of the statistic itself). Prints time-to-quality and final quality as ratios
(article / default), the sampling throughput (points × steps per second) and the machine.
Numbers depend on the machine and its load: compare ratios from one run, not seconds across machines.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import torch

from helpers.data import sample
from helpers.metrics import sample_quality
from helpers.sampling import p_sample_loop
from helpers.schedule import linear_schedule
from helpers.train import (ARTICLE_EPOCHS, ARTICLE_RECIPE, DEFAULT_N_DATA, DEFAULT_RECIPE, DEFAULT_VARIANCE,
                           default_data, default_network, train)

TARGET = {"mmd_ratio": 1.3, "dist_ratio": 1.2}   # the course's goal for the default run
EASY = {"mmd_ratio": 2.0, "dist_ratio": 2.0}     # a looser bar that the article's run may reach
N = 4000                                         # points per scored set (the course's target size)
VARIANCE_NAMES = {"beta": "σ² = β", "beta_tilde": "σ² = β̃"}


def machine() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} logical CPUs, torch {torch.__version__} (training on 1 thread), "
            f"Python {platform.python_version()}, load average {load[0]:.1f}")


def score_sets(x: torch.Tensor) -> dict:
    """Score each consecutive set of N points; mean and range of both ratios."""
    qs = [sample_quality(x[i:i + N]) for i in range(0, x.shape[0] - N + 1, N)]
    out = {}
    for k in ("mmd_ratio", "dist_ratio"):
        v = torch.tensor([q[k] for q in qs])
        out[k], out[k + "_min"], out[k + "_max"] = float(v.mean()), float(v.min()), float(v.max())
    out["sets"] = len(qs)
    return out


def fmt(q: dict) -> str:
    return (f"MMD {q['mmd_ratio']:.2f}× ({q['mmd_ratio_min']:.2f}–{q['mmd_ratio_max']:.2f}), "
            f"distance {q['dist_ratio']:.2f}× ({q['dist_ratio_min']:.2f}–{q['dist_ratio_max']:.2f})")


def run(label: str, name: str, recipe: dict, normalise: bool, variance: str, snapshot_epochs, seed: int) -> dict:
    schedule = linear_schedule()
    x, norm = default_data()
    model = default_network(name, schedule.T, seed=seed)
    r = train(model, x, schedule, normalizer=norm if normalise else None, seed=seed, progress=False,
              snapshot_epochs=snapshot_epochs, n_snapshot=3 * N, snapshot_variance=variance, **recipe)
    curve = []
    for epoch, samples in sorted(r.snapshots.items()):
        q = score_sets(samples)
        curve.append((epoch, r.epoch_seconds[epoch - 1], q))
        print(f"  {label:8s} epoch {epoch:5d}  {r.epoch_seconds[epoch - 1]:7.1f} s  {fmt(q)}", flush=True)
    decode = (lambda v: r.normalizer.decode(v)) if r.normalizer is not None else (lambda v: v)
    t0 = time.perf_counter()
    p_sample_loop(r.sampler, schedule, N, generator=1, variance=variance)
    throughput = N * schedule.T / (time.perf_counter() - t0)
    final = {v: score_sets(decode(p_sample_loop(r.sampler, schedule, 5 * N, generator=100 + seed, variance=v)))
             for v in VARIANCE_NAMES}
    return {"label": label, "elapsed": r.elapsed, "curve": curve, "final": final, "variance": variance,
            "throughput": throughput, "steps": r.settings["steps"]}


def time_to(res: dict, bar: dict) -> float | None:
    for _, seconds, q in res["curve"]:
        if all(q[k] <= v for k, v in bar.items()):
            return seconds
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 epochs each (a smoke test, minutes less)")
    parser.add_argument("--train-seeds", default="0,1", help="comma-separated training seeds of the default run")
    args = parser.parse_args()
    epochs = 100 if args.quick else 1000
    seeds = [int(s) for s in args.train_seeds.split(",")]
    snaps = tuple(e for e in ARTICLE_EPOCHS if e <= epochs) or (epochs,)
    print("machine:", machine())
    print(f"training both for {epochs} epochs on the same {DEFAULT_N_DATA} points; quality every 100 epochs "
          f"(mean and range over 3 sets of {N} samples)")
    truth = score_sets(sample(5 * N, generator=12345))
    print(f"  true data itself, 5 sets of {N}: {fmt(truth)}  <- the statistic's own spread")
    art = run("article", "PredictNoiseNet", ARTICLE_RECIPE | {"epochs": epochs}, False, "beta", snaps, 0)
    defaults = [run("default" if s == seeds[0] else f"seed {s}", "TimeEmbeddingNet",
                    DEFAULT_RECIPE | {"epochs": epochs}, True, DEFAULT_VARIANCE, snaps, s) for s in seeds]
    dflt = defaults[0]

    print("\nresults (ratio = article / default; > 1 means the default is better or faster)")
    for res in [art] + defaults:
        print(f"  {res['label']:8s} {res['steps']:6d} steps in {res['elapsed']:6.1f} s; sampling "
              f"{res['throughput'] / 1e6:.2f} M point-steps/s; final quality, mean (range) of 5 sets of {N}:")
        for v, vname in VARIANCE_NAMES.items():
            mark = "  <- its sampler" if v == res["variance"] else ""
            print(f"  {'':8s}   {vname}: {fmt(res['final'][v])}{mark}")
    for name, bar in (("the course target (MMD ≤ 1.3×, distance ≤ 1.2×)", TARGET),
                      ("a looser bar (both ≤ 2×)", EASY)):
        a, d = time_to(art, bar), time_to(dflt, bar)
        show = lambda v: "not reached" if v is None else f"{v:.1f} s"  # noqa: E731
        if a is not None and d is not None:
            r = f"{a / d:.1f}×"
        elif d is not None:
            r = f"> {art['elapsed'] / d:.1f}× (article did not reach it in {epochs} epochs)"
        else:
            r = "n/a"
        print(f"  time to {name}: article {show(a)}, default {show(d)}, ratio {r}")
    fa, fd = art["final"][art["variance"]], dflt["final"][dflt["variance"]]
    for k, label in (("mmd_ratio", "MMD"), ("dist_ratio", "distance to curve")):
        print(f"  final {label} (each with its sampler): article/default = {fa[k] / fd[k]:.2f}")
    print(f"  training time: article/default = {art['elapsed'] / dflt['elapsed']:.2f}")
    print(f"  sampling throughput: default/article = {dflt['throughput'] / art['throughput']:.2f}")
    ok = all(res["final"][DEFAULT_VARIANCE][k] <= v for res in defaults for k, v in TARGET.items())
    print(f"  default meets the course target (mean of 5 sets, every training seed): {ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
