"""Train the two variants of the small convnet, resumably, and record how.

Usage::

    python -m convlens.train dataaug            # 100 epochs, augmentation + dropout
    python -m convlens.train baseline           # 12 epochs, neither (it overfits)

A full checkpoint (weights and optimizer state) is written after every epoch to
``--checkpoint-dir`` (default ``~/.cache/convlens/checkpoints/VARIANT``); running the same
command again resumes from it. After every epoch the weights (without optimizer state)
and a JSON training record are also written to ``data/models/`` so that an interrupted
run still leaves a usable, honestly labelled model.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

DEFAULT_EPOCHS = {"baseline": 12, "dataaug": 100}
LEARNING_RATE = 1e-3
AUGMENTATION = {"flip": "horizontal", "rotation": 0.1, "zoom": 0.2, "translation": 0.2}


def augmentation_layers(seed: int):
    """Random flips, rotations, zooms and shifts, applied to training batches only."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.RandomFlip(AUGMENTATION["flip"], seed=seed),
            layers.RandomRotation(AUGMENTATION["rotation"], seed=seed + 1),
            layers.RandomZoom(AUGMENTATION["zoom"], seed=seed + 2),
            layers.RandomTranslation(AUGMENTATION["translation"], AUGMENTATION["translation"], seed=seed + 3),
        ],
        name="augmentation",
    )


def export_weights(model, path: str | Path, variant: str) -> None:
    """Save only the layer weights (about 14 MB), without the optimizer state.

    Keras 3's ``save_weights`` on a compiled model also stores the Adam moments (three
    times the size), so the weights go through a fresh, uncompiled copy of the model.
    """
    from . import models

    plain = models.small_convnet(dropout=models.VARIANT_DROPOUT[variant], name=variant)
    plain.set_weights(model.get_weights())
    plain.save_weights(path)


def _machine() -> str:
    import os

    return f"{platform.machine()} CPU, {os.cpu_count()} cores, {platform.system()} (no GPU)"


def train(
    variant: str,
    epochs: int | None = None,
    batch_size: int = 32,
    seed: int = 0,
    out_dir: str | Path | None = None,
    checkpoint_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
) -> dict:
    """Train ``variant`` up to ``epochs`` (resuming from a checkpoint) and return its record."""
    import keras
    import tensorflow as tf

    from . import data, models

    models._check_variant(variant)
    epochs = epochs or DEFAULT_EPOCHS[variant]
    out = Path(out_dir) if out_dir else models.models_dir()
    out.mkdir(parents=True, exist_ok=True)
    ckpt = Path(checkpoint_dir or Path.home() / ".cache" / "convlens" / "checkpoints" / variant)
    ckpt.mkdir(parents=True, exist_ok=True)
    data_root = Path(data_dir) if data_dir else data.find_data_dir()

    keras.utils.set_random_seed(seed)
    augment = augmentation_layers(seed) if variant == "dataaug" else None
    train_ds = data.make_dataset("train", batch_size, seed=seed, data_dir=data_root, augment=augment)
    val_ds = data.make_dataset("validation", batch_size, data_dir=data_root)

    history_path = ckpt / "history.json"
    ckpt_weights = ckpt / "last.weights.h5"
    ckpt_optimizer = ckpt / "optimizer.npz"
    committed_weights = out / f"{variant}.weights.h5"
    committed_record = out / f"{variant}.json"

    model = models.small_convnet(dropout=models.VARIANT_DROPOUT[variant], name=variant)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="binary_crossentropy", metrics=["accuracy"])
    model.optimizer.build(model.trainable_variables)
    history = {"epochs": [], "wall_time_s": 0.0}
    resumed_note = None
    if ckpt_weights.is_file() and ckpt_optimizer.is_file() and history_path.is_file():
        model.load_weights(ckpt_weights)
        saved = np.load(ckpt_optimizer)
        for i, variable in enumerate(model.optimizer.variables):
            variable.assign(saved[f"v{i}"])
        history = json.loads(history_path.read_text())
        print(f"Resuming {variant} from {ckpt} after epoch {len(history['epochs'])}.", flush=True)
    elif committed_weights.is_file() and committed_record.is_file():
        # No checkpoint (a new machine): go on from the committed weights, with a fresh
        # optimizer state, and say so in the record.
        previous = json.loads(committed_record.read_text())
        with warnings.catch_warnings():
            # The committed file holds no optimizer state, on purpose: Keras would warn about it.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(committed_weights)
        history = {"epochs": previous["history"], "wall_time_s": previous["wall_time_s"]}
        resumed_note = (
            f"resumed from the committed weights after epoch {len(history['epochs'])} "
            "with a fresh Adam state (no checkpoint was available)"
        )
        print(f"Resuming {variant}: {resumed_note}.", flush=True)

    command = f"python -m convlens.train {variant} --epochs {epochs} --batch-size {batch_size} --seed {seed}"
    record_base = {
        "variant": variant,
        "command": command,
        "seed": seed,
        "batch_size": batch_size,
        "optimizer": f"Adam(learning_rate={LEARNING_RATE})",
        "loss": "binary_crossentropy",
        "augmentation": AUGMENTATION if variant == "dataaug" else None,
        "dropout": models.VARIANT_DROPOUT[variant],
        "data": f"{data_root.name}: 1000 cats + 1000 dogs for training, validation split for validation",
        "trained_on": _machine(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "epochs_planned": epochs,
    }
    if committed_record.is_file():
        previous_notes = json.loads(committed_record.read_text()).get("notes", [])
        record_base["notes"] = previous_notes + ([resumed_note] if resumed_note else [])
    elif resumed_note:
        record_base["notes"] = [resumed_note]

    def write_record(test: dict | None = None) -> dict:
        record = dict(record_base)
        record["epochs_completed"] = len(history["epochs"])
        record["complete"] = len(history["epochs"]) >= epochs
        record["wall_time_s"] = round(history["wall_time_s"], 1)
        record["history"] = history["epochs"]
        if test is not None:
            record.update(test)
        (out / f"{variant}.json").write_text(json.dumps(record, indent=1) + "\n")
        return record

    class EpochSaver(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
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
                    "seconds": round(seconds, 1),
                }
            )
            self.model.save_weights(ckpt_weights)
            np.savez(ckpt_optimizer, **{f"v{i}": v.numpy() for i, v in enumerate(self.model.optimizer.variables)})
            history_path.write_text(json.dumps(history))
            export_weights(self.model, committed_weights, variant)
            write_record()

    start_epoch = len(history["epochs"])
    if start_epoch < epochs:
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
    if (data_root / "test").is_dir():
        test_ds = data.make_dataset("test", batch_size, data_dir=data_root, cache=False)
        loss, accuracy = model.evaluate(test_ds, verbose=0)
        test = {"test_loss": round(float(loss), 5), "test_accuracy": round(float(accuracy), 5)}
    export_weights(model, committed_weights, variant)
    record = write_record(test)
    print(json.dumps({k: v for k, v in record.items() if k != "history"}, indent=1), flush=True)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convlens.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("variant", choices=sorted(DEFAULT_EPOCHS))
    parser.add_argument("--epochs", type=int, default=None, help="total epochs (default: 12 baseline, 100 dataaug)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", default=None, help="where weights and record go (default data/models)")
    parser.add_argument("--checkpoint-dir", default=None)
    parser.add_argument("--data-dir", default=None, help="default: $CONVLENS_DATA, then the download")
    args = parser.parse_args(argv)
    train(args.variant, args.epochs, args.batch_size, args.seed, args.out_dir, args.checkpoint_dir, args.data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
