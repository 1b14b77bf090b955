"""Train the three variants of the small convnet the lecture's way, resumably, and record how.

Usage::

    python -m convlens.train baseline   # 30 epochs, no augmentation, no dropout: it overfits
    python -m convlens.train dataaug    # 160 epochs (10,080 steps of 32), augmentation + dropout
    python -m convlens.train full       # the dataaug recipe on train + extra (21,000 photos), 50 epochs

Every variant uses the lecture's (and Chollet's) optimizer, RMSprop with learning rate 1e-4,
and binary cross-entropy. Adam at 1e-3 killed a quarter to a third of the deep ReLU channels
of this convnet (issue 17 of the project; chapter 1 shows the census). Only ``full`` takes its
last 5 epochs at 1e-5 (:attr:`convlens.settings.Recipe.final_learning_rate`; its record says why),
and every record names its learning rate epoch by epoch.

Every photo is decoded once and held in memory as ``uint8``; the rescaling and the random
augmentation run as layers inside the training graph (:mod:`convlens.augment`).

A full checkpoint (weights, optimizer state, history, the variant and optimizer that wrote it)
is written after every epoch to ``--checkpoint-dir`` (default
``~/.cache/convlens/checkpoints/VARIANT``, :func:`convlens.settings.checkpoint_dir`); running the
same command again resumes from it. After every epoch the weights (without optimizer state) and a
JSON training record are also written to ``data/models/``, so that an interrupted run still leaves
a usable, honestly labelled model. Every file is written atomically; the files of a run are
:mod:`convlens.train_files`'.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from . import settings
from .core import check_int
from .errors import CheckpointError
from .files import atomic_path, write_text_atomic
from .settings import VARIANTS, Recipe
from .train_files import Run, committed_epochs, load_checkpoint, record_base, remove_leftovers, save_checkpoint

__all__ = ["CENSUS_PHOTOS", "export_weights", "main", "make_optimizer", "train", "training_model"]


CENSUS_PHOTOS = 500
"""Validation photos on which the dead channels are counted after every epoch (all at the end)."""


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


def export_weights(net, path: str | Path) -> None:
    """Save the layer weights of the uncompiled ``net`` (about 14 MB, no optimizer state), atomically."""
    with atomic_path(path) as temporary:
        net.save_weights(temporary)


def _resume(run: Run, net, trainer) -> tuple[dict, str | None]:
    """The history to go on from: the checkpoint's, the committed weights' (same recipe), or none."""
    from . import models

    history = load_checkpoint(trainer, run.ckpt, run.variant, run.recipe)
    if history is not None:
        print(f"Resuming {run.variant} from {run.ckpt} after epoch {len(history['epochs'])}.", flush=True)
        return history, None
    done = committed_epochs(run.record, run.recipe)
    if done and run.weights.is_file():
        # No checkpoint (a new machine): go on from the committed weights of the same recipe,
        # with a fresh optimizer state, and say so in the record.
        previous = models.training_record(run.variant, folder=run.out)
        models.load_weights_checked(net, run.weights)
        note = (f"resumed from the committed weights after epoch {done} with a fresh "
                f"{run.recipe.optimizer} state (no checkpoint was available)")
        return {"epochs": previous["history"], "wall_time_s": previous["wall_time_s"]}, note
    if run.record.is_file():
        print(f"{run.variant}: the committed weights were trained with another recipe; starting afresh.", flush=True)
    return {"epochs": [], "wall_time_s": 0.0}, None


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


def _batches(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int):
    """Shuffled batches of photos held in memory: indices are shuffled, photos gathered per batch."""
    import tensorflow as tf

    images, labels = tf.constant(images), tf.constant(labels)
    order = tf.data.Dataset.range(len(labels)).shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    batches = order.batch(batch_size).map(lambda index: (tf.gather(images, index), tf.gather(labels, index)))
    return batches.prefetch(2)


def _epoch_saver(run: Run, net, history: dict, write_record, census_photos: np.ndarray):
    """The callback that records, exports and checkpoints after every epoch, in that order."""
    import keras

    from .measures.feature_maps import dead_channel_census

    class EpochSaver(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.perf_counter() - self.start
            history["wall_time_s"] += seconds
            history["epochs"].append({
                "epoch": epoch + 1,
                **{key: round(float(logs[key]), 5) for key in ("loss", "accuracy", "val_loss", "val_accuracy")},
                "learning_rate": run.recipe.learning_rate_at(epoch),
                "seconds": round(seconds, 1),
                "dead_channels": dead_channel_census(net, census_photos),
            })
            # The committed files first, the checkpoint last: the checkpoint is never ahead of
            # them, so "nothing to do" on a re-run never leaves a trained epoch unexported.
            export_weights(net, run.weights)
            write_record()
            save_checkpoint(self.model, run.ckpt, history)

    return EpochSaver()


def _final_measures(run: Run, net, photos: dict) -> dict:
    """Test accuracy (when there is a test split) and the dead-channel census on every validation photo."""
    from . import data
    from .measures.feature_maps import dead_channel_census

    result = {"dead_channels_validation": dead_channel_census(net, photos["validation"][0])}
    test_counts = data.count_images(run.data_root).get("test", {})
    if sum(test_counts.values()):
        test_ds = data.make_dataset("test", 64, data_dir=run.data_root, cache=False)
        loss, accuracy = net.evaluate(test_ds, verbose=0)
        result.update(test_loss=round(float(loss), 5), test_accuracy=round(float(accuracy), 5),
                      test_photos=sum(test_counts.values()))
    return result


def _setup(variant, epochs, batch_size, seed, out_dir, checkpoint_dir, data_dir) -> Run:
    from . import data, models

    recipe = settings.recipe(variant)
    epochs = recipe.epochs if epochs is None else check_int("epochs", epochs, 1)
    batch_size = recipe.batch_size if batch_size is None else check_int("batch_size", batch_size, 1)
    out = Path(out_dir) if out_dir else models.models_dir()
    ckpt = Path(checkpoint_dir) if checkpoint_dir else settings.checkpoint_dir(variant)
    out.mkdir(parents=True, exist_ok=True)
    ckpt.mkdir(parents=True, exist_ok=True)
    data_root = Path(data_dir) if data_dir else data.find_data_dir()
    run = Run(variant, recipe, epochs, batch_size, seed, out, ckpt, data_root)
    for path in remove_leftovers(run):
        print(f"Removed {path}, left by a killed save.", flush=True)
    return run


def train(variant: str, epochs: int | None = None, batch_size: int | None = None, seed: int = 0,
          out_dir: str | Path | None = None, checkpoint_dir: str | Path | None = None,
          data_dir: str | Path | None = None) -> dict:
    """Train ``variant`` up to ``epochs`` (resuming from a checkpoint) and return its record.

    The committed weights and record are rewritten only after an epoch has been trained:
    a run with nothing left to do prints the record and changes no file.
    """
    import keras

    from . import models

    run = _setup(variant, epochs, batch_size, seed, out_dir, checkpoint_dir, data_dir)
    net = models.small_convnet(dropout=run.recipe.dropout, name=variant)
    trainer = training_model(net, run.recipe.augmentation, seed)
    trainer.compile(optimizer=make_optimizer(run.recipe), loss="binary_crossentropy", metrics=["accuracy"])
    trainer.optimizer.build(trainer.trainable_variables)
    history, resumed_note = _resume(run, net, trainer)
    history.update(variant=variant, optimizer=run.recipe.optimizer_text)
    start_epoch = len(history["epochs"])
    behind = start_epoch > committed_epochs(run.record, run.recipe)
    if start_epoch >= run.epochs and not behind:
        print(f"{variant}: {start_epoch} epochs already trained (asked for {run.epochs}); nothing to do, "
              "no file changed.", flush=True)
        return models.training_record(variant, folder=run.out) if run.record.is_file() else {}
    if start_epoch >= run.epochs:  # behind: the trained epochs are exported even with nothing to train
        print(f"{variant}: the checkpoint has {start_epoch} epochs, the committed files fewer: exporting it.",
              flush=True)
    run.epochs = max(run.epochs, start_epoch)
    keras.utils.set_random_seed(seed + start_epoch)  # a resumed run does not replay epoch 1's draws
    photos = _photos(run)
    notes = models.training_record(variant, folder=run.out).get("notes", []) if committed_epochs(
        run.record, run.recipe) else []
    base = {**record_base(run, photos), "notes": notes + ([resumed_note] if resumed_note else [])}

    def write_record(extra: dict | None = None) -> dict:
        record = {**base, "epochs_completed": len(history["epochs"]),
                  "complete": len(history["epochs"]) >= run.epochs,
                  "wall_time_s": round(history["wall_time_s"], 1), "history": history["epochs"], **(extra or {})}
        write_text_atomic(run.record, json.dumps(record, indent=1) + "\n")
        return record

    images, labels = photos["train"]
    trainer.fit(_batches(images, labels, run.batch_size, seed + start_epoch),
                validation_data=(*photos["validation"],), validation_batch_size=64, epochs=run.epochs,
                initial_epoch=start_epoch, shuffle=False, verbose=2,
                callbacks=[keras.callbacks.LearningRateScheduler(lambda epoch, _: run.recipe.learning_rate_at(epoch)),
                           _epoch_saver(run, net, history, write_record, photos["validation"][0][:CENSUS_PHOTOS])])
    if behind and len(history["epochs"]) == start_epoch:  # nothing trained now: export the checkpoint's
        export_weights(net, run.weights)
    net.compile(loss="binary_crossentropy", metrics=["accuracy"])
    record = write_record(_final_measures(run, net, photos))
    print(json.dumps({k: v for k, v in record.items() if k != "history"}, indent=1), flush=True)
    return record


def _count(text: str) -> int:
    """A command-line count (epochs, batch size): :func:`convlens.core.check_int`, said in argparse's way."""
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
    parser.add_argument("--batch-size", type=_count, default=None, help="default: 32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", default=None, help="where weights and record go (default data/models)")
    parser.add_argument("--checkpoint-dir", default=None)
    parser.add_argument("--data-dir", default=None, help="default: $CONVLENS_DATA, then the download")
    parser.add_argument("--restart", action="store_true", help="delete the checkpoint folder first")
    args = parser.parse_args(argv)
    if args.restart:
        shutil.rmtree(args.checkpoint_dir or settings.checkpoint_dir(args.variant), ignore_errors=True)
    try:
        train(args.variant, args.epochs, args.batch_size, args.seed, args.out_dir, args.checkpoint_dir,
              args.data_dir)
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
