"""Training speed: photos held in memory with the augmentation in the graph, against the old pipeline.

Run with ``make bench`` (or ``python bench/bench_train.py``) on the real photos ($CONVLENS_DATA).
Both pipelines train the ``dataaug`` recipe (augmentation, dropout 0.5, batch 32, RMSprop 1e-4)
for the same number of steps, in this process, one after the other:

- reference: what training did before, a ``tf.data`` pipeline that reads and decodes every photo
  file each epoch and augments with Keras' four ``RandomFlip``/``RandomRotation``/``RandomZoom``/
  ``RandomTranslation`` layers;
- in memory: :func:`convlens.data.decode_all` once, ``uint8`` batches gathered from memory,
  and :class:`convlens.augment.RandomAffine` (one resampling) inside the training graph.

It prints seconds per step for each, their ratio, and the epoch times they imply: a ``dataaug``
epoch (63 steps + the 2,000 validation photos) against the goal of 30 s on 2 idle cores, and a
``full`` epoch (656 steps, 21,000 photos) against 10.5 times that. No assertion: a benchmark
reports, a test decides.
"""

from __future__ import annotations

import argparse
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from convlens import data, models, settings, train  # noqa: E402
from convlens.images import decode_file  # noqa: E402

GOAL_DATAAUG_EPOCH_S = 30.0
FULL_PHOTOS = 21_000


def reference_batches(paths, labels, batch_size: int, seed: int):
    """The old pipeline: decode every file each epoch, scale, then four Keras augmentation layers."""
    layers = keras.Sequential([
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.RandomRotation(0.1, seed=seed + 1),
        keras.layers.RandomZoom(0.2, seed=seed + 2),
        keras.layers.RandomTranslation(0.2, 0.2, seed=seed + 3),
    ])
    dataset = tf.data.Dataset.from_tensor_slices(([str(p) for p in paths], labels.astype(np.float32)))
    dataset = dataset.shuffle(len(paths), seed=seed).repeat()
    dataset = dataset.map(lambda p, y: (decode_file(tf, p), y), num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.batch(batch_size).map(lambda x, y: (layers(tf.cast(x, tf.float32) / 255.0, training=True), y),
                                           num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def memory_batches(images, labels, batch_size: int, seed: int):
    """The new pipeline's input: shuffled indices, ``uint8`` photos gathered from memory."""
    images, labels = tf.constant(images), tf.constant(labels.astype(np.float32))
    order = tf.data.Dataset.range(len(labels)).shuffle(len(labels), seed=seed).repeat()
    return order.batch(batch_size).map(lambda i: (tf.gather(images, i), tf.gather(labels, i))).prefetch(2)


def seconds_per_step(model, batches, steps: int, warmup: int = 5) -> float:
    model.fit(batches, steps_per_epoch=warmup, epochs=1, verbose=0)  # tracing and first batches
    start = time.perf_counter()
    model.fit(batches, steps_per_epoch=steps, epochs=1, verbose=0)
    return (time.perf_counter() - start) / steps


def compiled(model):
    model.compile(optimizer=train.make_optimizer(settings.VARIANTS["dataaug"]), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40, help="timed steps per pipeline (default 40)")
    args = parser.parse_args()
    recipe = settings.VARIANTS["dataaug"]
    paths, labels = data.labelled_files("train")
    val_paths, _ = data.labelled_files("validation")
    started = time.perf_counter()
    images = data.decode_all(paths)
    val_images = data.decode_all(val_paths)
    decode_s = time.perf_counter() - started

    old = keras.Sequential([keras.Input((150, 150, 3)), models.small_convnet(dropout=0.5)])
    old_step = seconds_per_step(compiled(old), reference_batches(paths, labels, 32, 0), args.steps)
    net = models.small_convnet(dropout=0.5)
    new = compiled(train.training_model(net, recipe.augmentation, 0))
    new_step = seconds_per_step(new, memory_batches(images, labels, 32, 0), args.steps)
    started = time.perf_counter()
    new.evaluate(val_images, np.zeros(len(val_images), np.float32), batch_size=64, verbose=0)
    validation_s = time.perf_counter() - started

    steps = math.ceil(len(paths) / 32)
    full_steps = math.ceil(FULL_PHOTOS / 32)
    dataaug_epoch = steps * new_step + validation_s
    full_epoch = full_steps * new_step + validation_s
    print(f"photos: {len(paths)} training, {len(val_paths)} validation; decoded once in {decode_s:.1f} s")
    print(f"{'pipeline':<44}{'s/step':>8}{'epoch s':>9}")
    old_epoch = steps * old_step + validation_s
    print(f"{'reference (decode each epoch, 4 Keras layers)':<44}{old_step:>8.3f}{old_epoch:>9.1f}")
    print(f"{'in memory, one affine warp in the graph':<44}{new_step:>8.3f}{dataaug_epoch:>9.1f}")
    print(f"speed-up per step: {old_step / new_step:.2f}x (same process, {args.steps} timed steps each)")
    print(f"dataaug epoch ({steps} steps + validation {validation_s:.1f} s): {dataaug_epoch:.1f} s, "
          f"goal {GOAL_DATAAUG_EPOCH_S:.0f} s")
    print(f"full epoch, estimated from the same step time ({full_steps} steps + validation): {full_epoch:.1f} s, "
          f"goal {10.5 * GOAL_DATAAUG_EPOCH_S:.0f} s ({full_epoch / dataaug_epoch:.1f} times a dataaug epoch)")
    print(f"cores: {os.cpu_count()}; TensorFlow {tf.__version__}")


if __name__ == "__main__":
    main()
