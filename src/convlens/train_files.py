"""The files of a training run (:mod:`convlens.train`): its checkpoint, its committed weights and record.

A full checkpoint (weights, optimizer state, history, the variant and optimizer that wrote it)
is written after every epoch to the run's checkpoint folder (:func:`save_checkpoint`) and read
back by :func:`load_checkpoint`, which refuses one of another variant or optimizer. Every file is
written atomically (:mod:`convlens.files`); what a killed save left behind (``.NAME.*.part*``)
is removed at the start of the next run (:func:`remove_leftovers`).
"""

from __future__ import annotations

import json
import math
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import CheckpointError
from .files import atomic_path, write_text_atomic
from .settings import Recipe

__all__ = [
    "Run",
    "committed_epochs",
    "load_checkpoint",
    "machine",
    "record_base",
    "remove_leftovers",
    "save_checkpoint",
]


@dataclass
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

    @property
    def weights(self) -> Path:
        return self.out / f"{self.variant}.weights.h5"

    @property
    def record(self) -> Path:
        return self.out / f"{self.variant}.json"


def load_checkpoint(trainer, ckpt: Path, variant: str, recipe: Recipe) -> dict | None:
    """Restore weights, optimizer state and history from ``ckpt``; None if there is no checkpoint.

    ``history.json`` is written last and names the epoch's weight and optimizer files, so a
    kill at any point of a save leaves it naming the previous epoch's complete files.
    """
    fix = f"delete the folder {ckpt} to start over (or pass --restart, or another --checkpoint-dir)"
    if not (ckpt / "history.json").is_file():
        if any(ckpt.glob("epoch-*")):
            raise CheckpointError(f"The checkpoint in {ckpt} is incomplete (no history.json); {fix}.")
        return None  # nothing, or the files of a first save that was interrupted
    try:
        history = json.loads((ckpt / "history.json").read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"The checkpoint in {ckpt} cannot be read ({exc}); {fix}.") from None
    if not isinstance(history, dict) or not isinstance(history.get("epochs"), list):
        raise CheckpointError(f"The checkpoint in {ckpt} cannot be read (history.json has no list of epochs); {fix}.")
    written_by = (history.get("variant", variant), history.get("optimizer"))
    if written_by != (variant, recipe.optimizer_text):
        raise CheckpointError(
            f"The checkpoint in {ckpt} was written by the {written_by[0]!r} variant with {written_by[1]}, "
            f"not {variant!r} with {recipe.optimizer_text}; {fix}."
        )
    _restore(trainer, ckpt, history.get("files", []), fix)
    return history


def _restore(trainer, ckpt: Path, files: list[str], fix: str) -> None:
    missing = [name for name in files if not (ckpt / name).is_file()]
    if len(files) != 2 or missing:
        raise CheckpointError(f"The checkpoint in {ckpt} is incomplete (no {', '.join(missing) or 'files'}); {fix}.")
    try:
        trainer.load_weights(ckpt / files[0])
        with np.load(ckpt / files[1]) as saved:
            for i, variable in enumerate(trainer.optimizer.variables):
                variable.assign(saved[f"v{i}"])
    except Exception as exc:  # noqa: BLE001 - h5py, numpy and Keras fail in many ways
        reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        raise CheckpointError(f"The checkpoint in {ckpt} cannot be read ({reason}); {fix}.") from None


def save_checkpoint(trainer, ckpt: Path, history: dict) -> None:
    """Write the epoch's weights and optimizer state under new names, then ``history.json`` naming them.

    Only then are the previous epoch's files deleted: whenever a kill comes, ``history.json``
    names a complete, matching set.
    """
    epoch = len(history["epochs"])
    files = [f"epoch-{epoch:04d}.weights.h5", f"epoch-{epoch:04d}.optimizer.npz"]
    with atomic_path(ckpt / files[0]) as temporary:
        trainer.save_weights(temporary)
    with atomic_path(ckpt / files[1]) as temporary:
        with open(temporary, "wb") as stream:
            np.savez(stream, **{f"v{i}": v.numpy() for i, v in enumerate(trainer.optimizer.variables)})
    history["files"] = files
    write_text_atomic(ckpt / "history.json", json.dumps(history))
    for old in [*ckpt.glob("epoch-*.weights.h5"), *ckpt.glob("epoch-*.optimizer.npz"), *ckpt.glob(".*.part*")]:
        if old.name not in files:
            old.unlink(missing_ok=True)


def committed_epochs(record_path: Path, recipe: Recipe) -> int:
    """Epochs completed by the committed record of this recipe (0 if missing, unreadable or another recipe)."""
    try:
        record = json.loads(record_path.read_text())
        return int(record["epochs_completed"]) if record.get("optimizer") == recipe.optimizer_text else 0
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return 0


def remove_leftovers(run: Run) -> list[Path]:
    """Delete the temporary files a killed save of this run left (its weights, record and checkpoint).

    :func:`convlens.files.atomic_path` writes ``.NAME.XXXX.partSUFFIX`` beside each target and moves
    it into place; a kill (``SIGKILL``, a lost machine) between the two leaves it behind: 14 MB of
    weights in the models folder, 41 MB of checkpoint. Returns what was removed.
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


def record_base(run: Run, photos: dict) -> dict:
    """The training record's fields that stay the same through the run (command, recipe, data, machine)."""
    import keras
    import tensorflow as tf

    counts = photos["counts"]
    steps = math.ceil(sum(counts["train"].values()) / run.batch_size)
    return {
        "variant": run.variant,
        "command": (f"python -m convlens.train {run.variant} --epochs {run.epochs} "
                    f"--batch-size {run.batch_size} --seed {run.seed}"),
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
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "epochs_planned": run.epochs,
    }
