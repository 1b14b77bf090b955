"""Benchmark: batched, compiled filter patterns against the chapter's readable loop, one filter at a time.

The plain loop is chapter 3's readable cell (``filter_pattern_readable``, taken out of the notebook
by ``tools/readable_cells.py``): the package keeps no second copy. Both compute the patterns of
the first 64 filters of the small convnet's last convolution (``conv2d_4``) from the same start
images (``filters.start_image``), with the same 40 steps, in one process on the same machine; the
table gives both times, their ratio and the largest difference between the patterns.
Usage: ``python bench/bench_filters.py [--filters 64] [--size 80] [--steps 40]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from readable_cells import define  # noqa: E402

from convlens import errors, filters, models  # noqa: E402

LAYER = "conv2d_4"


def load_model():
    """The dataaug model when its weights exist, else the baseline, else a seeded random one (said so)."""
    for variant in ("dataaug", "baseline"):
        try:
            return models.load_trained(variant), variant
        except errors.WeightsNotFoundError:
            continue
    import keras

    keras.utils.set_random_seed(0)
    return models.small_convnet(), "small_convnet (random init: no trained weights found)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filters", type=int, default=64)
    parser.add_argument("--size", type=int, default=80, help="image size (the chapter's; the lecture's is 150)")
    parser.add_argument("--steps", type=int, default=filters.STEPS)
    args = parser.parse_args()
    model, variant = load_model()
    indices = list(range(args.filters))
    size = args.size
    starts = np.stack([filters.start_image(i, 0, size) for i in indices])

    # Warm up both (graph tracing, first-call allocations) outside the timed region.
    filters.filter_patterns(model, LAYER, indices[:2], steps=1, start=starts[:2])
    readable = define("03_filters.ipynb", "filter_pattern_readable")
    readable(model, LAYER, 0, size, steps=1)

    t0 = time.perf_counter()
    reference = np.stack([readable(model, LAYER, i, size, steps=args.steps) for i in indices])
    t_reference = time.perf_counter() - t0
    t0 = time.perf_counter()
    batched = filters.filter_patterns(model, LAYER, indices, steps=args.steps, start=starts, deprocess=False)
    t_batched = time.perf_counter() - t0

    diff_raw = float(np.abs(batched - reference).max())
    diff_uint8 = int(np.abs(filters.deprocess_image(batched).astype(int)
                            - filters.deprocess_image(reference).astype(int)).max())
    moved = int((np.abs(batched - starts).max(axis=(1, 2, 3)) > 0).sum())
    print(f"filter patterns: {len(indices)} filters of {LAYER}, {args.steps} steps, {size} x {size} inputs, "
          f"model {variant}; {os.cpu_count()} CPUs, {platform.machine()}, load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    print(f"filters whose pattern moved from its start (the others never fire): {moved} of {len(indices)}")
    print()
    print("| method | time (s) | per filter (s) |")
    print("|---|---:|---:|")
    print(f"| readable cell: eager GradientTape, one filter at a time | {t_reference:.1f} | "
          f"{t_reference / len(indices):.2f} |")
    print(f"| filter_patterns: one compiled batch | {t_batched:.1f} | {t_batched / len(indices):.2f} |")
    print()
    print(f"speed-up (readable / batched): {t_reference / t_batched:.1f}x")
    print(f"max abs difference of the raw patterns ([0, 1] units): {diff_raw:.2e}; "
          f"of the displayed uint8 images: {diff_uint8}")


if __name__ == "__main__":
    main()
