"""The files of a training run (:mod:`convlens.train`): its backup, its committed weights and record.

Two Keras callbacks write them after every epoch, in this order:

- :class:`EpochRecord` writes the weights of the book's model (no optimizer state) and the JSON
  training record, with the epoch's row (accuracy, loss, learning rate, seconds, dead channels);
- :class:`Backup`, Keras's :class:`keras.callbacks.BackupAndRestore`, saves the training model's
  weights with the optimizer's state and the epoch in the run's checkpoint folder; ``fit``
  restores them, so that the same command resumes.

So the backup is never ahead of the record, and the record (read once, :func:`previous_record`)
holds the history that a resumed run goes on from. Every file is written atomically
(:mod:`convlens.files`); what a killed save left behind (``.NAME.*.part*``) is removed at the
start of the next run (:func:`remove_leftovers`).
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import h5py
import keras

from .errors import CheckpointError
from .files import atomic_path, write_text_atomic
from .settings import Recipe

__all__ = [
    "Backup",
    "EpochRecord",
    "Run",
    "export_weights",
    "machine",
    "previous_record",
    "record_base",
    "remove_leftovers",
]

FINAL_KEY = "dead_channels_validation"
"""The record key written only by the end of a run (with the test accuracy): its final measures."""


@dataclass(frozen=True)
class Run:
    """What one call of :func:`convlens.train.train` works with: its settings and its files."""

    variant: str
    recipe: Recipe
    epochs: int
    batch_size: int
    seed: int
    out: Path
    ckpt: Path
    data_root: Path
    distribution: str | None = None
    """The ``tf.distribute`` strategy and its devices, when trained with ``--distribute``."""

    @property
    def weights(self) -> Path:
        return self.out / f"{self.variant}.weights.h5"

    @property
    def record(self) -> Path:
        return self.out / f"{self.variant}.json"

    @property
    def fix(self) -> str:
        """How to get past a checkpoint folder that cannot be resumed from."""
        return f"delete the folder {self.ckpt} to start over (or pass --restart, or another --checkpoint-dir)"


def export_weights(net, path: str | Path) -> None:
    """Save the layer weights of the uncompiled ``net`` (about 14 MB, no optimizer state), atomically."""
    with atomic_path(path) as temporary:
        net.save_weights(temporary)


class Backup(keras.callbacks.BackupAndRestore):
    """Keras's ``BackupAndRestore`` in the run's checkpoint folder, kept after the run, written atomically.

    Keras saves the training model's weights with the optimizer's state (``latest.weights.h5``)
    and the epoch reached (``training_metadata.json``) after every epoch, and ``fit`` restores
    both. Here each file is written to a temporary file and moved into place; the metadata
    also names the variant and optimizer (a backup of another recipe is refused) and is stored
    inside the weights file too, so that a kill between the two moves is repaired by
    :meth:`epochs`. The backup is kept after the run, so that a larger ``--epochs`` trains on.
    """

    def __init__(self, run: Run):
        super().__init__(str(run.ckpt), delete_checkpoint=False)
        self.run = run
        self.signature = {"variant": run.variant, "optimizer": run.recipe.optimizer_text}

    def _save_model(self) -> None:  # Keras's own writes the two files in place, one after the other
        metadata = json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen, **self.signature})
        with atomic_path(self._weights_path) as temporary:
            self.model.save_weights(temporary)
            with h5py.File(temporary, "a") as stream:
                stream.attrs["training_metadata"] = metadata
        write_text_atomic(self._training_metadata_path, metadata)

    def on_train_begin(self, logs=None) -> None:
        try:
            super().on_train_begin(logs)
        except Exception as exc:  # noqa: BLE001 - h5py and Keras fail in many ways
            raise CheckpointError(f"The checkpoint in {self.run.ckpt} cannot be restored "
                                  f"({type(exc).__name__}: {str(exc)[:200]}); {self.run.fix}.") from None

    def epochs(self) -> int:
        """The epochs the backup holds (0 when there is none), after checking that it can be resumed from."""
        ckpt, fix = self.run.ckpt, self.run.fix
        weights, metadata_path = Path(self._weights_path), Path(self._training_metadata_path)
        if (ckpt / "history.json").is_file():
            raise CheckpointError(f"The checkpoint in {ckpt} was written by an earlier convlens.train "
                                  f"(history.json); {fix}.")
        if not weights.is_file():
            if metadata_path.is_file():
                raise CheckpointError(f"The checkpoint in {ckpt} is incomplete (no {weights.name}); {fix}.")
            return 0
        try:
            with h5py.File(weights, "r") as stream:
                text = str(stream.attrs["training_metadata"])
            metadata = json.loads(text)
            epoch = int(metadata["epoch"])
        except Exception as exc:  # noqa: BLE001 - h5py and json fail in many ways
            reason = f"{type(exc).__name__}: {str(exc)[:200]}"
            raise CheckpointError(f"The checkpoint in {ckpt} cannot be read ({reason}); {fix}.") from None
        written_by = {key: metadata.get(key) for key in self.signature}
        if written_by != self.signature:
            raise CheckpointError(
                f"The checkpoint in {ckpt} was written by the {written_by['variant']!r} variant with "
                f"{written_by['optimizer']}, not {self.run.variant!r} with {self.run.recipe.optimizer_text}; {fix}."
            )
        if not metadata_path.is_file() or metadata_path.read_text() != text:
            write_text_atomic(metadata_path, text)  # killed between the two moves: the weights file is right
        return epoch


class EpochRecord(keras.callbacks.Callback):
    """After every epoch: its row in the history, then the weights of ``net`` and the record, atomically.

    ``base`` holds the record's fields that stay the same through the run (:func:`record_base`),
    ``history`` the rows of the epochs already trained.
    """

    def __init__(self, run: Run, net, base: dict, history: list[dict], census_photos):
        super().__init__()
        self.run, self.net, self.base, self.history, self.census_photos = run, net, base, history, census_photos
        self.started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None) -> None:
        from .measures.feature_maps import dead_channel_census

        seconds = time.perf_counter() - self.started
        self.history.append({
            "epoch": epoch + 1,
            **{key: round(float(logs[key]), 5) for key in ("loss", "accuracy", "val_loss", "val_accuracy")},
            "learning_rate": self.run.recipe.learning_rate_at(epoch),
            "seconds": round(seconds, 1),
            "dead_channels": dead_channel_census(self.net, self.census_photos),
        })
        export_weights(self.net, self.run.weights)
        self.write()

    def write(self, final: dict | None = None) -> dict:
        """Write the record with the history so far (and the ``final`` measures at the end); return it."""
        record = {**self.base, "epochs_completed": len(self.history),
                  "complete": len(self.history) >= self.run.epochs,
                  "wall_time_s": round(sum(row["seconds"] for row in self.history), 1),
                  "history": self.history, **(final or {})}
        write_text_atomic(self.run.record, json.dumps(record, indent=1) + "\n")
        return record


def previous_record(run: Run) -> dict | None:
    """The committed record of this recipe, read once; None if there is none, or it is of another recipe."""
    try:
        record = json.loads(run.record.read_text())
    except (OSError, ValueError):
        return None
    if isinstance(record, dict) and record.get("optimizer") == run.recipe.optimizer_text and isinstance(
            record.get("history"), list):
        return record
    print(f"{run.variant}: the committed weights were trained with another recipe; starting afresh.", flush=True)
    return None


def remove_leftovers(run: Run) -> list[Path]:
    """Delete the temporary files a killed save of this run left (its weights, record and backup).

    :func:`convlens.files.atomic_path` writes ``.NAME.XXXX.partSUFFIX`` beside each target and moves
    it into place; a kill (``SIGKILL``, a lost machine) between the two leaves it behind: 14 MB of
    weights in the models folder, 41 MB of backup. Returns what was removed.
    """
    stale = [*run.out.glob(f".{run.weights.name}.*.part*"), *run.out.glob(f".{run.record.name}.*.part*"),
             *run.ckpt.glob(".*.part*")]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def machine() -> str:
    """The machine, as the training record names it."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    device = f"GPU: {len(gpus)}" if gpus else "no GPU"
    return f"{platform.machine()} CPU, {os.cpu_count()} cores, {platform.system()} ({device})"


def record_base(run: Run, photos: dict, notes: list[str]) -> dict:
    """The training record's fields that stay the same through the run (command, recipe, data, machine)."""
    import tensorflow as tf

    counts = photos["counts"]
    steps = math.ceil(sum(counts["train"].values()) / run.batch_size)
    return {
        "variant": run.variant,
        "command": (f"python -m convlens.train {run.variant} --epochs {run.epochs} "
                    f"--batch-size {run.batch_size} --seed {run.seed}" + (" --distribute" if run.distribution else "")),
        "seed": run.seed,
        "batch_size": run.batch_size,
        "steps_per_epoch": steps,
        "optimizer": run.recipe.optimizer_text,
        "learning_rate_schedule": run.recipe.schedule_text,
        **({"schedule_reason": run.recipe.final_why} if run.recipe.final_why else {}),
        "loss": "binary_crossentropy",
        "augmentation": run.recipe.augmentation,
        "dropout": run.recipe.dropout,
        "recipe_reason": run.recipe.why,
        "data": (f"{run.data_root.name}: {' + '.join(run.recipe.splits)} = {counts['train']['cats']} cats + "
                 f"{counts['train']['dogs']} dogs for training; validation "
                 f"{counts['validation']['cats']} + {counts['validation']['dogs']}"),
        "trained_on": machine(),
        **({"distribution": run.distribution} if run.distribution else {}),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "epochs_planned": run.epochs,
        "notes": notes,
    }
