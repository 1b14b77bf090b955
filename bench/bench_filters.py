"""Benchmark: batched, compiled filter patterns against the plain eager loop, one filter at a time.

Both compute the patterns of the first 64 filters of the small convnet's last convolution
(``conv2d_4``) from the same start images, with the same 40 steps, in one process on the same
machine; the table gives both times, their ratio and the largest difference between the patterns.
Usage: ``python bench/bench_filters.py [--filters 64] [--size 80] [--steps 40]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")

import numpy as np

from convlens import filters, models

LAYER = "conv2d_4"


def load_model():
    """The dataaug model when its weights exist, else the baseline, else a seeded random one (said so)."""
    for variant in ("dataaug", "baseline"):
        try:
            return models.load_trained(variant), variant
        except models.WeightsNotFoundError:
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
    filters.reference_filter_pattern(model, LAYER, 0, steps=1, start=starts[0])

    t0 = time.perf_counter()
    reference = np.stack([
        filters.reference_filter_pattern(model, LAYER, i, steps=args.steps, start=starts[k])
        for k, i in enumerate(indices)
    ])
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
    print(f"| reference: eager GradientTape, one filter at a time | {t_reference:.1f} | "
          f"{t_reference / len(indices):.2f} |")
    print(f"| filter_patterns: one compiled batch | {t_batched:.1f} | {t_batched / len(indices):.2f} |")
    print()
    print(f"speed-up (reference / batched): {t_reference / t_batched:.1f}x")
    print(f"max abs difference of the raw patterns ([0, 1] units): {diff_raw:.2e}; "
          f"of the displayed uint8 images: {diff_uint8}")


if __name__ == "__main__":
    main()
