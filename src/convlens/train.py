"""Train the three variants of the small convnet the lecture's way, resumably, and record how.

Usage::

    python -m convlens.train baseline   # 30 epochs, no augmentation, no dropout: it overfits
    python -m convlens.train dataaug    # 160 epochs (10,080 steps of 32), augmentation + dropout
    python -m convlens.train full       # the dataaug recipe on train + extra (21,000 photos), 50 epochs

Every variant uses the lecture's (and Chollet's) optimizer, RMSprop with learning rate 1e-4,
and binary cross-entropy. Adam at 1e-3 killed a quarter to a third of the deep ReLU channels
of this convnet (issue 17 of the project; chapter 1 shows the census). Only ``full`` takes its
last 5 epochs at 1e-5 (:attr:`convlens.settings.Recipe.final_learning_rate`, through Keras's
``LearningRateScheduler``; its record says why), and every record names its learning rate epoch
by epoch.

Every photo is decoded once and held in memory as ``uint8``; the rescaling and the random
augmentation run as layers inside the training graph (:mod:`convlens.augment`). Every random
draw of an epoch (its order of photos, its augmentations and dropout masks) depends only on the
seed and the epoch's number, so a resumed run trains as the uninterrupted one would.

Training runs on Keras's own machinery (:mod:`convlens.train_files`): after every epoch one
callback writes the weights and the JSON training record to ``data/models/``, then Keras's
``BackupAndRestore`` backs up the weights, the optimizer's state and the epoch in
``--checkpoint-dir`` (default ``~/.cache/convlens/checkpoints/VARIANT``,
:func:`convlens.settings.checkpoint_dir`); running the same command again resumes from it.
``--distribute`` trains under ``tf.distribute.MirroredStrategy`` on every local GPU, or the CPU
(:func:`strategy`).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from . import settings
from .checks import check_int
from .errors import ArgumentError, CheckpointError
from .settings import VARIANTS, Recipe
from .train_files import (
    FINAL_KEY,
    Backup,
    EpochRecord,
    Run,
    export_weights,
    previous_record,
    record_base,
    remove_leftovers,
)

__all__ = ["CENSUS_PHOTOS", "export_weights", "main", "make_optimizer", "strategy", "train", "training_model"]


CENSUS_PHOTOS = 500
"""Validation photos on which the dead channels are counted after every epoch (all at the end)."""

DRAWS_PER_EPOCH = 1_000_000
"""The stride of the random generators' counters from one epoch to the next (far above the draws of an epoch)."""


def training_model(net, augmentation: dict | None, seed: int):
    """``net`` behind the layers that only training needs: ``uint8`` photos to [0, 1], augmentation.

    The layers of ``net`` are shared, so ``net`` itself holds the trained weights and is
    exported as it is: the book's models take [0, 1] images and know nothing of augmentation.
    """
    import keras

    from .augment import augmentation_layer

    inputs = keras.Input(shape=net.inputs[0].shape[1:], dtype="uint8", name="photo")
    x = keras.layers.Rescaling(1.0 / 255, name="to_unit_range")(inputs)
    if augmentation:
        x = augmentation_layer(augmentation, seed)(x)
    return keras.Model(inputs, net(x), name=f"{net.name}_training")


def make_optimizer(recipe: Recipe):
    import keras

    optimizers = {"RMSprop": keras.optimizers.RMSprop, "Adam": keras.optimizers.Adam}
    return optimizers[recipe.optimizer](learning_rate=recipe.learning_rate)


def strategy(distribute: bool):
    """The ``tf.distribute`` strategy of a run: Keras's default (one device) unless ``distribute``.

    With ``distribute``: ``MirroredStrategy`` over every local GPU, or over the CPUs when there
    is none (one, unless the process split it into logical devices). A ``TF_CONFIG`` variable,
    which would ask for ``MultiWorkerMirroredStrategy`` over several machines, is refused: Keras
    3's ``fit`` fails under that strategy (keras-team/keras#20585).
    """
    import keras
    import tensorflow as tf

    if not distribute:
        return tf.distribute.get_strategy()
    if tf.distribute.cluster_resolver.TFConfigClusterResolver().cluster_spec().jobs:  # TF reads TF_CONFIG
        raise ArgumentError(
            f"--distribute with TF_CONFIG set asks for MultiWorkerMirroredStrategy, under which the fit of "
            f"Keras {keras.__version__} fails (keras-team/keras#20585: it averages each step's scalar logs along "
            "an axis they lack); unset TF_CONFIG to train on this machine's GPUs.")
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([device.name for device in devices])


def _photos(run: Run) -> dict:
    """Training and validation photos decoded once (``uint8``), their labels, and their counts."""
    from . import data

    train_paths, train_labels = data.labelled_splits(run.recipe.splits, run.data_root)
    data.require_photos(train_paths, run.recipe.splits, run.data_root)
    val_paths, val_labels = data.labelled_files("validation", run.data_root)
    data.require_photos(val_paths, ["validation"], run.data_root)
    started = time.perf_counter()
    photos = {
        "train": (data.decode_all(train_paths), train_labels.astype(np.float32)),
        "validation": (data.decode_all(val_paths), val_labels.astype(np.float32)),
    }
    print(f"Decoded {len(train_paths)} + {len(val_paths)} photos in {time.perf_counter() - started:.0f} s.",
          flush=True)
    photos["counts"] = {
        split: {name: int(np.sum(labels == label)) for label, name in enumerate(data.CLASS_NAMES)}
        for split, labels in (("train", train_labels), ("validation", val_labels))
    }
    return photos


def _batches(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int, epochs: range):
    """The batches of ``epochs``, one epoch after another: photos gathered from memory in shuffled order.

    Epoch ``e``'s order is a stateless shuffle seeded by ``(seed, e)``, the same whether the
    run started at epoch 0 or resumed at ``e``.
    """
    import tensorflow as tf

    images, labels = tf.constant(images), tf.constant(labels)

    def epoch_order(epoch):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(len(labels), dtype=tf.int64), seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    batches = tf.data.Dataset.range(epochs.start, epochs.stop).flat_map(epoch_order)
    return batches.map(lambda index: (tf.gather(images, index), tf.gather(labels, index))).prefetch(2)


def _epoch_seeds(trainer):
    """A callback that sets the counters of the random generators (augmentation, dropout) to the epoch's.

    Keras's ``SeedGenerator`` draws from ``(seed, counter)`` and counts up; the backup does not
    keep the counters, so each epoch starts them at ``epoch * DRAWS_PER_EPOCH`` instead.
    """
    import keras

    states = [variable for variable in trainer.variables if variable.path.endswith("seed_generator_state")]

    class EpochSeeds(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            for state in states:
                seed = keras.ops.convert_to_numpy(state)[0]
                state.assign(np.array([seed, epoch * DRAWS_PER_EPOCH]).astype(state.dtype))

    return EpochSeeds()


def _final_measures(run: Run, net, photos: dict) -> dict:
    """Test accuracy (when there is a test split) and the dead-channel census on every validation photo."""
    from . import data
    from .measures.feature_maps import dead_channel_census

    result = {FINAL_KEY: dead_channel_census(net, photos["validation"][0])}
    test_counts = data.count_images(run.data_root).get("test", {})
    if sum(test_counts.values()):
        test_ds = data.make_dataset("test", 64, data_dir=run.data_root, cache=False)
        loss, accuracy = net.evaluate(test_ds, verbose=0)
        result.update(test_loss=round(float(loss), 5), test_accuracy=round(float(accuracy), 5),
                      test_photos=sum(test_counts.values()))
    return result


def _setup(variant, epochs, batch_size, seed, out_dir, checkpoint_dir, data_dir, strategy=None) -> Run:
    from . import data, models

    recipe = settings.recipe(variant)
    epochs = recipe.epochs if epochs is None else check_int("epochs", epochs, 1)
    batch_size = recipe.batch_size if batch_size is None else check_int("batch_size", batch_size, 1)
    out = Path(out_dir) if out_dir else models.models_dir()
    ckpt = Path(checkpoint_dir) if checkpoint_dir else settings.checkpoint_dir(variant)
    distribution = None if strategy is None else (f"{type(strategy).__name__}, {strategy.num_replicas_in_sync} "
                                                  f"replicas ({', '.join(strategy.extended.worker_devices)})")
    out.mkdir(parents=True, exist_ok=True)
    ckpt.mkdir(parents=True, exist_ok=True)
    data_root = Path(data_dir) if data_dir else data.find_data_dir()
    run = Run(variant, recipe, epochs, batch_size, seed, out, ckpt, data_root, distribution)
    for path in remove_leftovers(run):
        print(f"Removed {path}, left by a killed save.", flush=True)
    return run


def _start(run: Run, backup: Backup, net) -> tuple[int, dict | None, list[dict], list[str]]:
    """Where the run goes on from: the epoch, the committed record (read once), its history up to it, notes.

    From the backup when there is one; else, when the record of this recipe and its weights are
    there (a new machine), from those weights with a fresh optimizer state, said in the notes.
    """
    from . import models

    previous = previous_record(run)
    history = previous["history"] if previous else []
    notes = list(previous.get("notes", [])) if previous else []
    start = backup.epochs()
    if start > len(history):
        raise CheckpointError(f"The checkpoint in {run.ckpt} holds {start} epochs, the record {run.record} "
                              f"only {len(history)} (replaced since?); {run.fix}.")
    if start:
        print(f"Resuming {run.variant} from {run.ckpt} after epoch {start}.", flush=True)
    elif history and run.weights.is_file():
        start = len(history)
        models.load_weights_checked(net, run.weights)
        notes.append(f"resumed from the committed weights after epoch {start} with a fresh "
                     f"{run.recipe.optimizer} state (no checkpoint was available)")
    return start, previous, history[:start], notes if start else []


def train(variant: str, epochs: int | None = None, batch_size: int | None = None, seed: int = 0,
          out_dir: str | Path | None = None, checkpoint_dir: str | Path | None = None,
          data_dir: str | Path | None = None, distribute: bool = False) -> dict:
    """Train ``variant`` up to ``epochs`` (resuming from its backup) and return its record.

    The committed weights and record are rewritten only after an epoch has been trained (or
    the final measures are due): a run with nothing left to do prints so and changes no file.
    ``distribute`` trains under :func:`strategy`'s ``tf.distribute`` strategy.
    """
    import keras

    from . import models

    strategy_ = strategy(distribute)
    run = _setup(variant, epochs, batch_size, seed, out_dir, checkpoint_dir, data_dir,
                 strategy_ if distribute else None)
    with strategy_.scope():
        keras.utils.set_random_seed(seed)
        net = models.small_convnet(dropout=run.recipe.dropout, name=variant)
        trainer = training_model(net, run.recipe.augmentation, seed)
        trainer.compile(optimizer=make_optimizer(run.recipe), loss="binary_crossentropy", metrics=["accuracy"])
        backup = Backup(run)
        start, previous, history, notes = _start(run, backup, net)
        finished = previous is not None and len(previous["history"]) == start and FINAL_KEY in previous
        if start >= run.epochs and finished:
            print(f"{variant}: {start} epochs already trained (asked for {run.epochs}); nothing to do, "
                  "no file changed.", flush=True)
            return previous
        photos = _photos(run)
        saver = EpochRecord(run, net, record_base(run, photos, notes), history,
                            photos["validation"][0][:CENSUS_PHOTOS])
        images, labels = photos["train"]
        schedule = keras.callbacks.LearningRateScheduler(lambda epoch, _: run.recipe.learning_rate_at(epoch))
        trainer.fit(_batches(images, labels, run.batch_size, seed, range(start, run.epochs)),
                    steps_per_epoch=math.ceil(len(labels) / run.batch_size),
                    validation_data=(*photos["validation"],), validation_batch_size=64, epochs=run.epochs,
                    initial_epoch=start, shuffle=False, verbose=2,
                    callbacks=[schedule, _epoch_seeds(trainer), saver, backup])
        net.compile(loss="binary_crossentropy", metrics=["accuracy"])
        record = saver.write(_final_measures(run, net, photos))
    if len(history) == start:  # no epoch trained now (only the final measures were due)
        export_weights(net, run.weights)
    print(json.dumps({k: v for k, v in record.items() if k != "history"}, indent=1), flush=True)
    return record


def _count(text: str) -> int:
    """A command-line count (epochs, batch size): :func:`convlens.checks.check_int`, said in argparse's way."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    try:
        return check_int("the count", value, 1)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convlens.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("variant", choices=sorted(VARIANTS))
    defaults = ", ".join(f"{v} {r.epochs}" for v, r in VARIANTS.items())
    parser.add_argument("--epochs", type=_count, default=None, help=f"total epochs (default: {defaults})")
    parser.add_argument("--batch-size", type=_count, default=None, help="default: 32 (the global batch)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", default=None, help="where weights and record go (default data/models)")
    parser.add_argument("--checkpoint-dir", default=None)
    parser.add_argument("--data-dir", default=None, help="default: $CONVLENS_DATA, then the download")
    parser.add_argument("--restart", action="store_true", help="delete the checkpoint folder first")
    parser.add_argument("--distribute", action="store_true",
                        help="train on every GPU of this machine (MirroredStrategy), or its CPU")
    args = parser.parse_args(argv)
    if args.restart:
        shutil.rmtree(args.checkpoint_dir or settings.checkpoint_dir(args.variant), ignore_errors=True)
    try:
        train(args.variant, args.epochs, args.batch_size, args.seed, args.out_dir, args.checkpoint_dir,
              args.data_dir, args.distribute)
    except (ArgumentError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
