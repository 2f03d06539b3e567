"""Training speed and sample quality: the article's configuration vs the course default.

    make bench        (or: python benchmarks/bench_training.py [--quick])

Trains, in one process, on the same 8000 points (``helpers.train.default_data``):

* article: ``PredictNoiseNet``, the whole data set as one batch per epoch, Adam at a constant
  1e-3, raw curve units, 1000 epochs (``helpers.train.ARTICLE_RECIPE``);
* default: notebook 05's run (``helpers.train.DEFAULT_RECIPE`` + ``DEFAULT_NETWORKS``).

Every 100 epochs both are sampled (4000 points, σ² = β) and scored against the noise floor
(``helpers.metrics.sample_quality``); sampling time is not counted as training time. Prints
time-to-quality and final quality as ratios (article / default), the sampling throughput
(points × steps per second), and the machine. Numbers depend on the machine and its load:
compare ratios from one run, not seconds across machines.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import torch

from helpers.metrics import sample_quality
from helpers.sampling import p_sample_loop
from helpers.schedule import linear_schedule
from helpers.train import (ARTICLE_EPOCHS, ARTICLE_RECIPE, DEFAULT_N_DATA, DEFAULT_RECIPE, default_data,
                           default_network,
                           train)

TARGET = {"mmd_ratio": 1.3, "dist_ratio": 1.2}   # the course's goal for the default run
EASY = {"mmd_ratio": 2.0, "dist_ratio": 2.0}     # a looser bar that the article's run may reach


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


def run(label: str, name: str, recipe: dict, normalise: bool, snapshot_epochs) -> dict:
    schedule = linear_schedule()
    x, norm = default_data()
    model = default_network(name, schedule.T)
    r = train(model, x, schedule, normalizer=norm if normalise else None, seed=0, progress=False,
              snapshot_epochs=snapshot_epochs, n_snapshot=4000, **recipe)
    curve = []
    for epoch, samples in sorted(r.snapshots.items()):
        q = sample_quality(samples)
        curve.append((epoch, r.epoch_seconds[epoch - 1], q))
        print(f"  {label:8s} epoch {epoch:5d}  {r.epoch_seconds[epoch - 1]:7.1f} s  "
              f"MMD {q['mmd_ratio']:.2f}×  distance {q['dist_ratio']:.2f}× noise floor", flush=True)
    t0 = time.perf_counter()
    n = 4000
    p_sample_loop(r.sampler, schedule, n, generator=1)
    throughput = n * schedule.T / (time.perf_counter() - t0)
    x = p_sample_loop(r.sampler, schedule, n, generator=2, variance="beta_tilde")
    tilde = sample_quality(r.normalizer.decode(x) if r.normalizer is not None else x)
    return {"label": label, "elapsed": r.elapsed, "curve": curve, "final": curve[-1][2],
            "throughput": throughput, "steps": r.settings["steps"], "tilde": tilde}


def time_to(res: dict, bar: dict) -> float | None:
    for _, seconds, q in res["curve"]:
        if all(q[k] <= v for k, v in bar.items()):
            return seconds
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 epochs each (a smoke test, minutes less)")
    args = parser.parse_args()
    epochs = 100 if args.quick else 1000
    snaps = tuple(e for e in ARTICLE_EPOCHS if e <= epochs) or (epochs,)
    print("machine:", machine())
    print(f"training both for {epochs} epochs on the same {DEFAULT_N_DATA} points; quality every 100 epochs "
          "(4000 samples, σ² = β)")
    art = run("article", "PredictNoiseNet", ARTICLE_RECIPE | {"epochs": epochs}, False, snaps)
    dflt = run("default", "TimeEmbeddingNet", DEFAULT_RECIPE | {"epochs": epochs}, True, snaps)

    print("\nresults (ratio = article / default; > 1 means the default is better or faster)")
    for res in (art, dflt):
        f = res["final"]
        print(f"  {res['label']:8s} {res['steps']:6d} steps in {res['elapsed']:6.1f} s; final MMD "
              f"{f['mmd_ratio']:.2f}×, distance {f['dist_ratio']:.2f}× noise floor; sampling "
              f"{res['throughput'] / 1e6:.2f} M point-steps/s")
        f = res["tilde"]
        print(f"  {'':8s} sampled with σ² = β̃ instead: MMD {f['mmd_ratio']:.2f}×, distance {f['dist_ratio']:.2f}×")
    for name, bar in (("the course target (MMD ≤ 1.3×, distance ≤ 1.2×)", TARGET),
                      ("a looser bar (both ≤ 2×)", EASY)):
        a, d = time_to(art, bar), time_to(dflt, bar)
        fmt = lambda v: "not reached" if v is None else f"{v:.1f} s"  # noqa: E731
        if a is not None and d is not None:
            r = f"{a / d:.1f}×"
        elif d is not None:
            r = f"> {art['elapsed'] / d:.1f}× (article did not reach it in {epochs} epochs)"
        else:
            r = "n/a"
        print(f"  time to {name}: article {fmt(a)}, default {fmt(d)}, ratio {r}")
    for k, label in (("mmd_ratio", "MMD"), ("dist_ratio", "distance to curve")):
        print(f"  final {label}: article/default = {art['final'][k] / dflt['final'][k]:.2f}")
    print(f"  training time: article/default = {art['elapsed'] / dflt['elapsed']:.2f}")
    print(f"  sampling throughput: default/article = {dflt['throughput'] / art['throughput']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
