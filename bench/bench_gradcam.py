"""Benchmark: Grad-CAM over the validation photos, the chapter's readable cell vs convlens.gradcam.grad_cam.

Both run in this one process on the same photos and the same model:

* readable: chapter 4's readable cell (``grad_cam_readable``, taken out of the notebook by
  ``tools/readable_cells.py``), the common tutorials' way (Keras example "Grad-CAM class
  activation visualization"): one photo at a time, eager ``tf.GradientTape``, the gradient
  sub-model rebuilt on every call;
* ``grad_cam``: batched (``--batch-size`` photos) through one compiled ``tf.function``.

The two take turns over the same chunks of photos (fair on a busy, shared machine).
Prints a table of wall times, photos per second, speed-up and the largest absolute difference
between the heatmaps. ``--limit N`` uses the first N cats and N dogs (default: the whole split).

    python bench/bench_gradcam.py                # 2,000 validation photos
    python bench/bench_gradcam.py --limit 100    # 200 photos, quicker
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from readable_cells import define  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="photos per class (default: all 1000 + 1000)")
    parser.add_argument("--model", default="baseline", help="trained variant (baseline or dataaug)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--split", default="validation")
    args = parser.parse_args()

    import tensorflow as tf

    from convlens import data, errors, gradcam, models

    try:
        model = models.load_trained(args.model)
        model_note = f"{args.model} (trained weights)"
    except errors.WeightsNotFoundError:
        model = models.small_convnet()
        model_note = "small_convnet (random init: no trained weights here; timings are the same)"
    layer = gradcam.last_conv_layer(model)
    images, _labels, _paths = data.load_split_arrays(args.split, args.limit)
    count = len(images)
    print(f"Grad-CAM benchmark: {count} {args.split} photos, model {model_note}, layer {layer}")
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores, batch size {args.batch_size}\n")

    # Warm-ups (graph tracing, first-call allocations) are timed apart from the runs.
    readable = define("04_gradcam.ipynb", "grad_cam_readable")
    readable(model, images[0], layer)
    start = time.perf_counter()
    gradcam.grad_cam(model, images[: args.batch_size], layer, batch_size=args.batch_size)
    trace_s = time.perf_counter() - start

    # The two methods take turns, chunk by chunk (one batch of photos each), so that a busy
    # machine's changing load falls on both alike; each method's times are summed.
    methods = {
        "readable cell: eager, one photo, sub-model per call":
            lambda chunk: np.stack([readable(model, image, layer) for image in chunk]),
        f"grad_cam: batched ({args.batch_size}) + tf.function":
            lambda chunk: gradcam.grad_cam(model, chunk, layer, batch_size=args.batch_size),
    }
    seconds = dict.fromkeys(methods, 0.0)
    maps: dict[str, list[np.ndarray]] = {name: [] for name in methods}
    for start_index in range(0, count, args.batch_size):
        chunk = images[start_index : start_index + args.batch_size]
        for name, method in methods.items():
            start = time.perf_counter()
            maps[name].append(method(chunk))
            seconds[name] += time.perf_counter() - start
    rows = [(name, seconds[name], np.concatenate(maps[name])) for name in methods]
    reference = rows[0][2]

    slowest = rows[0][1]
    print(f"| {'method':<60} | {'time (s)':>8} | {'photos/s':>8} | {'speed-up':>8} | {'max abs diff':>12} |")
    print(f"|{'-' * 62}|{'-' * 9}:|{'-' * 9}:|{'-' * 9}:|{'-' * 13}:|")
    for name, elapsed, heatmaps in rows:
        diff = float(np.max(np.abs(heatmaps - reference)))
        print(f"| {name:<60} | {elapsed:8.1f} | {count / elapsed:8.1f} | {slowest / elapsed:7.1f}x | {diff:12.2e} |")
    print(f"(one-off tracing of the compiled function, not included above: {trace_s:.1f} s)")


if __name__ == "__main__":
    main()
