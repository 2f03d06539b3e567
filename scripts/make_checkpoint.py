"""Train notebook 05's two networks with the default recipe and save them to checkpoints/.

    make checkpoint                 (or: python scripts/make_checkpoint.py)
    make checkpoint OVERWRITE=1     (or: python scripts/make_checkpoint.py --overwrite)

Writes ``checkpoints/butterfly_default.pt`` (TimeEmbeddingNet) and
``checkpoints/butterfly_article_net.pt`` (the article's PredictNoiseNet, same data and recipe
with half the epochs: ``helpers.train.default_recipe``), each
with its loss curves and sample snapshots, so notebook 05's ``USE_PRETRAINED = True`` and
notebook 06 need no training. It refuses to replace an existing file unless asked.
"""
from __future__ import annotations

import argparse
import sys

from helpers.train import CHECKPOINT_DIR, CHECKPOINT_NAMES, save_result, train_default


def main() -> int:
    parser = argparse.ArgumentParser(description="Regenerate the committed checkpoints of notebook 05.")
    parser.add_argument("--overwrite", action="store_true", help="replace existing checkpoint files")
    args = parser.parse_args()
    targets = {name: CHECKPOINT_DIR / file for name, file in CHECKPOINT_NAMES.items()}
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing and not args.overwrite:
        print("refusing to overwrite " + ", ".join(existing) +
              "\nrun `make checkpoint OVERWRITE=1` (or pass --overwrite) to replace them", file=sys.stderr)
        return 1
    for name, path in targets.items():
        result = train_default(name)
        save_result(result, path, overwrite=args.overwrite)
        print(f"{name}: trained in {result.elapsed:.1f} s, final loss {result.history[-1]:.4f} "
              f"-> {path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
