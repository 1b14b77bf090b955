"""convlens.train: a run writes weights and an honest record, and the same command resumes."""

from __future__ import annotations

import json

from convlens import train


def test_training_writes_record_and_resumes(tiny_dataset, tmp_path):
    out, ckpt = tmp_path / "models", tmp_path / "ckpt"
    first = train.train("baseline", epochs=1, batch_size=4, out_dir=out, checkpoint_dir=ckpt, data_dir=tiny_dataset)
    assert first["epochs_completed"] == 1 and first["complete"]
    assert (out / "baseline.weights.h5").is_file()
    assert (out / "baseline.weights.h5").stat().st_size < 15_000_000, "weights only, no optimizer state"
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"} <= set(first["history"][0])
    assert "test_accuracy" in first and first["command"].startswith("python -m convlens.train baseline")

    second = train.train("baseline", epochs=2, batch_size=4, out_dir=out, checkpoint_dir=ckpt, data_dir=tiny_dataset)
    assert [row["epoch"] for row in second["history"]] == [1, 2]
    assert second["history"][0] == first["history"][0], "resuming keeps the earlier epochs"
    assert json.loads((out / "baseline.json").read_text())["epochs_completed"] == 2


def test_resume_from_committed_weights_without_checkpoint(tiny_dataset, tmp_path):
    out = tmp_path / "models"
    train.train("baseline", epochs=1, batch_size=4, out_dir=out, checkpoint_dir=tmp_path / "a", data_dir=tiny_dataset)
    record = train.train(
        "baseline", epochs=2, batch_size=4, out_dir=out, checkpoint_dir=tmp_path / "b", data_dir=tiny_dataset
    )
    assert record["epochs_completed"] == 2
    assert any("fresh Adam state" in note for note in record["notes"])
