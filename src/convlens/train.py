"""Train the three variants of the small convnet, resumably, and record how.

Usage::

    python -m convlens.train baseline   # 12 epochs, no augmentation, no dropout: it overfits
    python -m convlens.train dataaug    # 100 epochs, flips/rotations/zooms/shifts + dropout
    python -m convlens.train full       # 18 epochs on train + extra (21,000 photos)

A full checkpoint (weights, optimizer state, history, and the variant that wrote it) is
written after every epoch to ``--checkpoint-dir`` (default
``~/.cache/convlens/checkpoints/VARIANT``); running the same command again resumes from it.
After every epoch the weights (without optimizer state) and a JSON training record are
also written to ``data/models/`` so that an interrupted run still leaves a usable, honestly
labelled model. Every file is written atomically (:mod:`convlens.files`): a kill during a
save leaves the previous good file in place.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ConvlensError
from .files import atomic_path, write_text_atomic

__all__ = [
    "CHECKPOINT_FILES", "DEFAULT_EPOCHS", "FLIPS_ONLY", "LECTURE_AUGMENTATION", "RECIPES",
    "CheckpointError", "Recipe", "augmentation_layers", "export_weights", "main", "train",
]


@dataclass(frozen=True)
class Recipe:
    """How one variant is trained: data, epochs, batch size, augmentation, learning rate."""

    epochs: int
    batch_size: int
    augmentation: dict | None
    splits: tuple[str, ...] = ("train",)
    learning_rates: dict[int, float] = field(default_factory=lambda: {1: 1e-3})
    """Learning rate from a given epoch (1-based) on: ``{1: 1e-3, 13: 1e-4}``."""
    why: str = ""

    def learning_rate(self, epoch: int) -> float:
        """The learning rate of 1-based ``epoch``."""
        return [rate for start, rate in sorted(self.learning_rates.items()) if start <= epoch][-1]


LECTURE_AUGMENTATION = {"flip": "horizontal", "rotation": 0.1, "zoom": 0.2, "translation": 0.2}
FLIPS_ONLY = {"flip": "horizontal"}

RECIPES: dict[str, Recipe] = {
    "baseline": Recipe(12, 32, None, why="the lecture's first model: no augmentation, no dropout; it overfits"),
    "dataaug": Recipe(
        100, 32, LECTURE_AUGMENTATION, why="the lecture's augmented model: 2,000 photos need strong augmentation"
    ),
    "full": Recipe(
        18,
        64,
        FLIPS_ONLY,
        splits=("train", "extra"),
        learning_rates={1: 1e-3, 13: 1e-4},
        why=(
            "ten times more photos already regularize, so horizontal flips alone (cheap on 2 CPU cores) "
            "plus dropout 0.5; the learning rate drops tenfold for the last 6 epochs to settle the weights"
        ),
    ),
}
DEFAULT_EPOCHS = {variant: recipe.epochs for variant, recipe in RECIPES.items()}
CHECKPOINT_FILES = ("last.weights.h5", "optimizer.npz", "history.json")
"""The checkpoint files of earlier versions, still read (``history.json`` without ``files``)."""


class CheckpointError(ConvlensError, RuntimeError):
    """A checkpoint folder that cannot be resumed from (corrupt, or written by another variant)."""


def augmentation_layers(augmentation: dict, seed: int):
    """Random flips (and rotations, zooms, shifts when asked), for training batches only."""
    import keras
    from keras import layers

    steps = [layers.RandomFlip(augmentation["flip"], seed=seed)]
    if "rotation" in augmentation:
        steps.append(layers.RandomRotation(augmentation["rotation"], seed=seed + 1))
    if "zoom" in augmentation:
        steps.append(layers.RandomZoom(augmentation["zoom"], seed=seed + 2))
    if "translation" in augmentation:
        shift = augmentation["translation"]
        steps.append(layers.RandomTranslation(shift, shift, seed=seed + 3))
    return keras.Sequential(steps, name="augmentation")


def export_weights(model, path: str | Path, variant: str) -> None:
    """Save only the layer weights (about 14 MB), without the optimizer state, atomically.

    Keras 3's ``save_weights`` on a compiled model also stores the Adam moments (three
    times the size), so the weights go through a fresh, uncompiled copy of the model.
    """
    from . import models

    plain = models.small_convnet(dropout=models.VARIANT_DROPOUT[variant], name=variant)
    plain.set_weights(model.get_weights())
    with atomic_path(path) as temporary:
        plain.save_weights(temporary)


def _machine() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    device = f"GPU: {len(gpus)}" if gpus else "no GPU"
    return f"{platform.machine()} CPU, {os.cpu_count()} cores, {platform.system()} ({device})"


def _load_checkpoint(model, ckpt: Path, variant: str) -> dict | None:
    """Restore weights, Adam state and history from ``ckpt``; None if there is no checkpoint.

    ``history.json`` is written last and names the epoch's weight and optimizer files, so a
    kill at any point of a save leaves it naming the previous epoch's complete files.
    """
    fix = f"delete the folder {ckpt} to start over (or pass another --checkpoint-dir)"
    if not (ckpt / "history.json").is_file():
        if any((ckpt / name).is_file() for name in CHECKPOINT_FILES[:2]):
            raise CheckpointError(f"The checkpoint in {ckpt} is incomplete (no history.json); {fix}.")
        return None  # nothing, or the files of a first save that was interrupted
    try:
        history = json.loads((ckpt / "history.json").read_text())
        if not isinstance(history, dict) or not isinstance(history.get("epochs"), list):
            raise ValueError("history.json has no list of epochs")
        written_by = history.get("variant", variant)
        if written_by != variant:
            raise CheckpointError(
                f"The checkpoint in {ckpt} was written by the {written_by!r} variant, not {variant!r}; "
                f"pass the {variant!r} checkpoint folder, or {fix}."
            )
        weights_file, optimizer_file = history.get("files", CHECKPOINT_FILES[:2])
        missing = [name for name in (weights_file, optimizer_file) if not (ckpt / name).is_file()]
        if missing:
            raise CheckpointError(f"The checkpoint in {ckpt} is incomplete (no {', '.join(missing)}); {fix}.")
        model.load_weights(ckpt / weights_file)
        with np.load(ckpt / optimizer_file) as saved:
            for i, variable in enumerate(model.optimizer.variables):
                variable.assign(saved[f"v{i}"])
    except CheckpointError:
        raise
    except Exception as exc:  # noqa: BLE001 - h5py, numpy, json and Keras fail in many ways
        reason = f"{type(exc).__name__}: {exc}"
        raise CheckpointError(f"The checkpoint in {ckpt} cannot be read ({reason}); {fix}.") from None
    return history


def _save_checkpoint(model, ckpt: Path, history: dict) -> None:
    """Write the epoch's weights and Adam state under new names, then ``history.json`` naming them.

    Only then are the previous epoch's files deleted: whenever a kill comes, ``history.json``
    names a complete, matching set.
    """
    epoch = len(history["epochs"])
    files = [f"epoch-{epoch:04d}.weights.h5", f"epoch-{epoch:04d}.optimizer.npz"]
    with atomic_path(ckpt / files[0]) as temporary:
        model.save_weights(temporary)
    with atomic_path(ckpt / files[1]) as temporary:
        with open(temporary, "wb") as stream:
            np.savez(stream, **{f"v{i}": v.numpy() for i, v in enumerate(model.optimizer.variables)})
    history["files"] = files
    write_text_atomic(ckpt / "history.json", json.dumps(history))
    for old in [*ckpt.glob("epoch-*.weights.h5"), *ckpt.glob("epoch-*.optimizer.npz"),
                *(ckpt / name for name in CHECKPOINT_FILES[:2])]:
        if old.name not in files:
            old.unlink(missing_ok=True)


def _committed_epochs(record_path: Path) -> int:
    """Epochs completed according to a committed record (0 if missing or unreadable)."""
    try:
        return int(json.loads(record_path.read_text())["epochs_completed"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def train(
    variant: str,
    epochs: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    out_dir: str | Path | None = None,
    checkpoint_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
) -> dict:
    """Train ``variant`` up to ``epochs`` (resuming from a checkpoint) and return its record.

    The committed weights and record are rewritten only after an epoch has been trained:
    a run with nothing left to do prints the record and changes no file.
    """
    import keras
    import tensorflow as tf

    from . import data, models

    models._check_variant(variant)
    recipe = RECIPES[variant]
    if epochs is not None and (not isinstance(epochs, int) or epochs < 1):
        raise ValueError(f"epochs must be a whole number of at least 1, not {epochs!r}.")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a whole number of at least 1, not {batch_size!r}.")
    epochs = epochs or recipe.epochs
    batch_size = batch_size or recipe.batch_size
    out = Path(out_dir) if out_dir else models.models_dir()
    out.mkdir(parents=True, exist_ok=True)
    ckpt = Path(checkpoint_dir or Path.home() / ".cache" / "convlens" / "checkpoints" / variant)
    ckpt.mkdir(parents=True, exist_ok=True)
    data_root = Path(data_dir) if data_dir else data.find_data_dir()
    committed_weights = out / f"{variant}.weights.h5"
    committed_record = out / f"{variant}.json"

    model = models.small_convnet(dropout=models.VARIANT_DROPOUT[variant], name=variant)
    model.compile(optimizer=keras.optimizers.Adam(recipe.learning_rate(1)), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.optimizer.build(model.trainable_variables)
    history = _load_checkpoint(model, ckpt, variant)
    from_checkpoint = history is not None
    resumed_note = None
    if history is not None:
        print(f"Resuming {variant} from {ckpt} after epoch {len(history['epochs'])}.", flush=True)
    elif committed_weights.is_file() and committed_record.is_file():
        # No checkpoint (a new machine): go on from the committed weights, with a fresh
        # optimizer state, and say so in the record.
        previous = models.training_record(variant, folder=out)
        models.load_weights_checked(model, committed_weights)
        history = {"epochs": previous["history"], "wall_time_s": previous["wall_time_s"]}
        resumed_note = (
            f"resumed from the committed weights after epoch {len(history['epochs'])} "
            "with a fresh Adam state (no checkpoint was available)"
        )
    else:
        history = {"epochs": [], "wall_time_s": 0.0}
    history["variant"] = variant

    start_epoch = len(history["epochs"])
    # A checkpoint ahead of the committed files (an export killed by an earlier version, which
    # saved the checkpoint first): its trained epochs are exported even with nothing to train.
    behind = from_checkpoint and _committed_epochs(committed_record) < start_epoch
    if start_epoch >= epochs and behind:
        print(f"{variant}: the checkpoint has {start_epoch} epochs, the committed files fewer: exporting it.",
              flush=True)
        epochs = start_epoch
    elif start_epoch >= epochs:
        print(f"{variant}: {start_epoch} epochs already trained (asked for {epochs}); nothing to do, "
              "no file changed.", flush=True)
        return models.training_record(variant, folder=out) if committed_record.is_file() else {}
    if resumed_note:
        print(f"Resuming {variant}: {resumed_note}.", flush=True)

    keras.utils.set_random_seed(seed)
    augment = augmentation_layers(recipe.augmentation, seed) if recipe.augmentation else None
    train_files = data.labelled_splits(recipe.splits, data_root)
    train_ds = data.make_dataset(
        list(recipe.splits), batch_size, seed=seed, data_dir=data_root, augment=augment, files=train_files
    )
    val_ds = data.make_dataset("validation", batch_size, data_dir=data_root)
    counts = data.count_images(data_root)
    train_counts = {name: int(np.sum(train_files[1] == label)) for label, name in enumerate(data.CLASS_NAMES)}

    command = f"python -m convlens.train {variant} --epochs {epochs} --batch-size {batch_size} --seed {seed}"
    record_base = {
        "variant": variant,
        "command": command,
        "seed": seed,
        "batch_size": batch_size,
        "optimizer": "Adam, learning rate " + ", ".join(
            f"{rate:g} from epoch {start}" for start, rate in sorted(recipe.learning_rates.items())
        ),
        "loss": "binary_crossentropy",
        "augmentation": recipe.augmentation,
        "dropout": models.VARIANT_DROPOUT[variant],
        "recipe_reason": recipe.why,
        "data": (
            f"{data_root.name}: {' + '.join(recipe.splits)} = {train_counts['cats']} cats + "
            f"{train_counts['dogs']} dogs for training; validation "
            f"{counts['validation']['cats']} + {counts['validation']['dogs']}"
        ),
        "trained_on": _machine(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "epochs_planned": epochs,
    }
    notes = models.training_record(variant, folder=out).get("notes", []) if committed_record.is_file() else []
    record_base["notes"] = notes + ([resumed_note] if resumed_note else [])

    def write_record(test: dict | None = None) -> dict:
        record = dict(record_base)
        record["epochs_completed"] = len(history["epochs"])
        record["complete"] = len(history["epochs"]) >= epochs
        record["wall_time_s"] = round(history["wall_time_s"], 1)
        record["history"] = history["epochs"]
        if test is not None:
            record.update(test)
        write_text_atomic(committed_record, json.dumps(record, indent=1) + "\n")
        return record

    class EpochSaver(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.model.optimizer.learning_rate.assign(recipe.learning_rate(epoch + 1))
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.perf_counter() - self.start
            history["wall_time_s"] += seconds
            history["epochs"].append(
                {
                    "epoch": epoch + 1,
                    "loss": round(float(logs["loss"]), 5),
                    "accuracy": round(float(logs["accuracy"]), 5),
                    "val_loss": round(float(logs["val_loss"]), 5),
                    "val_accuracy": round(float(logs["val_accuracy"]), 5),
                    "learning_rate": recipe.learning_rate(epoch + 1),
                    "seconds": round(seconds, 1),
                }
            )
            # The committed files first, the checkpoint last: the checkpoint is never ahead of
            # them, so "nothing to do" on a re-run never leaves a trained epoch unexported.
            export_weights(self.model, committed_weights, variant)
            write_record()
            _save_checkpoint(self.model, ckpt, history)

    model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=epochs,
        initial_epoch=start_epoch,
        callbacks=[EpochSaver()],
        shuffle=False,  # the dataset shuffles itself
        verbose=2,
    )
    test = {}
    if sum(counts.get("test", {}).values()):  # a test split with readable photos
        test_ds = data.make_dataset("test", batch_size, data_dir=data_root, cache=False)
        loss, accuracy = model.evaluate(test_ds, verbose=0)
        test = {
            "test_loss": round(float(loss), 5),
            "test_accuracy": round(float(accuracy), 5),
            "test_photos": sum(counts["test"].values()),
        }
    if behind and len(history["epochs"]) == start_epoch:  # nothing trained in this run
        export_weights(model, committed_weights, variant)
    record = write_record(test)
    print(json.dumps({k: v for k, v in record.items() if k != "history"}, indent=1), flush=True)
    return record


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convlens.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("variant", choices=sorted(RECIPES))
    defaults = ", ".join(f"{v} {r.epochs}" for v, r in RECIPES.items())
    parser.add_argument("--epochs", type=_positive_int, default=None, help=f"total epochs (default: {defaults})")
    parser.add_argument("--batch-size", type=_positive_int, default=None, help="default: 32 (full: 64)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", default=None, help="where weights and record go (default data/models)")
    parser.add_argument("--checkpoint-dir", default=None)
    parser.add_argument("--data-dir", default=None, help="default: $CONVLENS_DATA, then the download")
    parser.add_argument("--restart", action="store_true", help="delete the checkpoint folder first")
    args = parser.parse_args(argv)
    if args.restart:
        ckpt = Path(args.checkpoint_dir or Path.home() / ".cache" / "convlens" / "checkpoints" / args.variant)
        shutil.rmtree(ckpt, ignore_errors=True)
    try:
        train(args.variant, args.epochs, args.batch_size, args.seed, args.out_dir, args.checkpoint_dir,
              args.data_dir)
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
