"""Train the networks that notebook 07 compares (see helpers/variants.py) and save them.

    python scripts/train_variants.py                  # all of them; refuses to overwrite
    python scripts/train_variants.py cosine_eps --force   # retrain one and replace its file

Writes checkpoints/variants/<name>.pt. linear_eps is notebook 05's default run, whose checkpoint
`make checkpoint` writes (checkpoints/butterfly_default.pt); it is not duplicated here.
Takes about half a minute per network on 2 CPU cores (same recipe as `make checkpoint`).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from helpers.checkpoints import save_checkpoint
from helpers.variants import BASELINE, VARIANTS, VARIANTS_DIR, train_variant, variant_path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    others = [n for n in VARIANTS if n != BASELINE]
    parser.add_argument("names", nargs="*", help=f"default: {others} ({BASELINE} is `make checkpoint`'s)")
    parser.add_argument("--force", action="store_true", help="replace existing files")
    args = parser.parse_args(argv)
    VARIANTS_DIR.mkdir(parents=True, exist_ok=True)
    for name in args.names or others:
        path = variant_path(name)
        if path.exists() and not args.force:
            print(f"{path.relative_to(ROOT)} exists; pass --force to retrain it")
            continue
        t0 = time.perf_counter()
        ckpt, seconds = train_variant(name, progress=True)
        save_checkpoint(path, ckpt.model, ckpt.schedule, ckpt.normalizer, ckpt.prediction,
                        info=ckpt.info, overwrite=args.force)
        print(f"{name}: trained in {seconds:.1f} s ({time.perf_counter() - t0:.1f} s in all), "
              f"{path.stat().st_size / 1024:.0f} KB -> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
