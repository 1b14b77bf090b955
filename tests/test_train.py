"""convlens.train: a run writes weights and an honest record, and the same command resumes.

The tests that fit a model are marked ``slow`` (``pytest -m "not slow"`` leaves them out).
A kill is simulated by making h5py (or numpy's ``savez``) raise part-way through a real save.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from testkit import write_photo

from convlens import data, models, settings, train


class Killed(BaseException):
    """Stands for a kill: no ``except Exception`` catches it."""


def run(variant, data_dir, tmp_path, epochs, ckpt="ckpt", **kwargs) -> dict:
    return train.train(
        variant, epochs=epochs, batch_size=kwargs.pop("batch_size", 4), out_dir=tmp_path / "models",
        checkpoint_dir=tmp_path / ckpt, data_dir=data_dir, **kwargs,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def kill_hdf5_writes(monkeypatch, wanted, after: int = 2) -> None:
    """Make h5py raise :class:`Killed` after ``after`` datasets of a file ``wanted(path)`` selects."""
    original = h5py.Group.create_dataset
    written = []

    def create_dataset(self, *args, **kwargs):
        if wanted(Path(self.file.filename)):
            written.append(args[0] if args else kwargs.get("name"))
            if len(written) > after:
                raise Killed("killed in the middle of an HDF5 save")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "create_dataset", create_dataset)


@pytest.mark.slow
def test_training_writes_record_and_resumes(tiny_dataset, tmp_path, capsys):
    (tiny_dataset / "train" / "cats" / "broken.jpg").write_bytes(b"\xff\xd8 not a JPEG")
    out = tmp_path / "models"
    with pytest.warns(UserWarning, match="broken.jpg"):
        first = run("baseline", tiny_dataset, tmp_path, epochs=1)
    assert first["epochs_completed"] == 1 and first["complete"]
    assert (out / "baseline.weights.h5").is_file()
    assert (out / "baseline.weights.h5").stat().st_size < 15_000_000, "weights only, no optimizer state"
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"} <= set(first["history"][0])
    assert "test_accuracy" in first and first["command"].startswith("python -m convlens.train baseline")
    # The real counts (3 + 3 readable photos per split; the broken file is not counted).
    assert "train = 3 cats + 3 dogs for training; validation 3 + 3" in first["data"]
    assert first["test_photos"] == 6

    with pytest.warns(UserWarning, match="broken.jpg"):  # every run names the skipped file
        second = run("baseline", tiny_dataset, tmp_path, epochs=2)
    assert "Resuming baseline from" in capsys.readouterr().out
    assert [row["epoch"] for row in second["history"]] == [1, 2]
    assert second["history"][0] == first["history"][0], "resuming keeps the earlier epochs"
    assert json.loads((out / "baseline.json").read_text())["epochs_completed"] == 2


@pytest.mark.slow
def test_resume_from_committed_weights_without_checkpoint(tiny_dataset, tmp_path):
    run("baseline", tiny_dataset, tmp_path, epochs=1, ckpt="a")
    record = run("baseline", tiny_dataset, tmp_path, epochs=2, ckpt="b")
    assert record["epochs_completed"] == 2
    assert any("fresh RMSprop state" in note for note in record["notes"])


@pytest.mark.slow
def test_rerun_with_other_settings_and_nothing_to_train_changes_no_file(tiny_dataset, tmp_path, capsys):
    run("baseline", tiny_dataset, tmp_path, epochs=2)
    out = tmp_path / "models"
    before = snapshot(out)
    stamps = {path.name: path.stat().st_mtime_ns for path in out.iterdir()}
    capsys.readouterr()
    record = run("baseline", tiny_dataset, tmp_path, epochs=1, batch_size=2, seed=5)
    assert "nothing to do" in capsys.readouterr().out
    record_again = run("baseline", tiny_dataset, tmp_path, epochs=2, batch_size=3, ckpt="fresh")  # no checkpoint
    assert snapshot(out) == before, "the committed weights and record are byte-identical"
    assert {path.name: path.stat().st_mtime_ns for path in out.iterdir()} == stamps
    assert record["epochs_planned"] == record_again["epochs_planned"] == 2 and record["batch_size"] == 4
    assert not any("resumed" in note for note in record_again["notes"])


@pytest.mark.slow
def test_kill_during_the_epoch_export_keeps_the_committed_files_and_the_next_run_resumes(
    tiny_dataset, tmp_path, monkeypatch, capsys
):
    out, ckpt = tmp_path / "models", tmp_path / "ckpt"
    first = run("baseline", tiny_dataset, tmp_path, epochs=1)
    committed, checkpoint = snapshot(out), snapshot(ckpt)
    with monkeypatch.context() as patch:
        kill_hdf5_writes(patch, lambda path: "baseline.weights.h5" in path.name)
        with pytest.raises(Killed):
            run("baseline", tiny_dataset, tmp_path, epochs=2)
    assert snapshot(out) == committed, "the previous weights and record are intact"
    assert snapshot(ckpt) == checkpoint, "the checkpoint is not ahead of the committed files"
    models.load_weights_checked(models.small_convnet(name="baseline"), out / "baseline.weights.h5")
    assert models.training_record("baseline", folder=out)["epochs_completed"] == 1

    capsys.readouterr()
    record = run("baseline", tiny_dataset, tmp_path, epochs=2)
    assert f"Resuming baseline from {ckpt} after epoch 1" in capsys.readouterr().out
    assert [row["epoch"] for row in record["history"]] == [1, 2]
    assert record["history"][0] == first["history"][0]
    assert sorted(path.name for path in out.iterdir()) == ["baseline.json", "baseline.weights.h5"], "no temporaries"


@pytest.mark.slow
@pytest.mark.parametrize("killed", ["weights", "optimizer"])
def test_kill_during_the_checkpoint_save_keeps_the_previous_checkpoint(
    killed, tiny_dataset, tmp_path, monkeypatch, capsys
):
    ckpt = tmp_path / "ckpt"
    first = run("baseline", tiny_dataset, tmp_path, epochs=1)
    checkpoint = snapshot(ckpt)
    with monkeypatch.context() as patch:
        if killed == "weights":
            kill_hdf5_writes(patch, lambda path: path.parent == ckpt)
        else:
            def savez(*args, **kwargs):
                raise Killed("killed while saving the optimizer state")

            patch.setattr(np, "savez", savez)
        with pytest.raises(Killed):
            run("baseline", tiny_dataset, tmp_path, epochs=2)
    assert {name: content for name, content in snapshot(ckpt).items() if name in checkpoint} == checkpoint
    assert not [name for name in snapshot(ckpt) if ".part" in name], "no temporaries left"

    capsys.readouterr()
    record = run("baseline", tiny_dataset, tmp_path, epochs=2)
    assert f"Resuming baseline from {ckpt} after epoch 1" in capsys.readouterr().out
    assert [row["epoch"] for row in record["history"]] == [1, 2]
    assert record["history"][0] == first["history"][0]
    assert set(snapshot(ckpt)) == {"history.json", "epoch-0002.weights.h5", "epoch-0002.optimizer.npz"}


@pytest.mark.slow
def test_a_checkpoint_ahead_of_the_committed_files_is_exported_on_the_next_run(tiny_dataset, tmp_path, capsys):
    """As after a kill during the export under the earlier order (checkpoint saved first)."""
    out = tmp_path / "models"
    run("baseline", tiny_dataset, tmp_path, epochs=1)
    behind = snapshot(out)
    run("baseline", tiny_dataset, tmp_path, epochs=2)
    for name, content in behind.items():
        (out / name).write_bytes(content)
    capsys.readouterr()
    record = run("baseline", tiny_dataset, tmp_path, epochs=2)
    assert "exporting it" in capsys.readouterr().out
    assert record["epochs_completed"] == 2 and [row["epoch"] for row in record["history"]] == [1, 2]
    assert models.training_record("baseline", folder=out)["epochs_completed"] == 2
    assert (out / "baseline.weights.h5").read_bytes() != behind["baseline.weights.h5"]


def write_history(ckpt: Path, variant: str, files: dict[str, bytes],
                  optimizer: str = "RMSprop, learning rate 0.0001") -> None:
    ckpt.mkdir(parents=True, exist_ok=True)
    history = {"epochs": [{"epoch": 1}], "wall_time_s": 1.0, "variant": variant, "optimizer": optimizer}
    if "last.weights.h5" not in files:
        history["files"] = ["epoch-0001.weights.h5", "epoch-0001.optimizer.npz"]
    (ckpt / "history.json").write_text(json.dumps(history))
    for name, content in files.items():
        (ckpt / name).write_bytes(content)


@pytest.mark.parametrize(
    "files",
    [
        {"last.weights.h5": b"\x89HDF\r\n\x1a\n truncated", "optimizer.npz": b"PK"},  # earlier layout
        {"epoch-0001.weights.h5": b"", "epoch-0001.optimizer.npz": b""},
        {"epoch-0001.weights.h5": b"<html>captive portal</html>"},  # incomplete
    ],
)
def test_a_corrupt_checkpoint_names_its_folder_and_how_to_start_over(files, tiny_dataset, tmp_path, capsys):
    ckpt = tmp_path / "ckpt"
    write_history(ckpt, "baseline", files)
    with pytest.raises(train.CheckpointError, match="delete the folder") as caught:
        run("baseline", tiny_dataset, tmp_path, epochs=1)
    assert str(ckpt) in str(caught.value)
    args = ["baseline", "--checkpoint-dir", str(ckpt), "--out-dir", str(tmp_path / "m"),
            "--data-dir", str(tiny_dataset)]
    assert train.main(args) == 2
    error = capsys.readouterr().err
    assert str(ckpt) in error and "delete the folder" in error


@pytest.mark.parametrize(
    ("variant", "optimizer", "written_by"),
    [
        ("baseline", "RMSprop, learning rate 0.0001", "the 'baseline' variant with RMSprop, learning rate 0.0001"),
        ("dataaug", "Adam, learning rate 0.001", "the 'dataaug' variant with Adam, learning rate 0.001"),
    ],
)
def test_a_checkpoint_of_another_variant_or_optimizer_is_refused(variant, optimizer, written_by, tiny_dataset,
                                                                  tmp_path):
    ckpt = tmp_path / "shared"
    write_history(ckpt, variant, {"epoch-0001.weights.h5": b"", "epoch-0001.optimizer.npz": b""}, optimizer)
    with pytest.raises(train.CheckpointError, match=f"written by {written_by}, not 'dataaug' with RMSprop"):
        train.train("dataaug", epochs=1, out_dir=tmp_path / "m", checkpoint_dir=ckpt, data_dir=tiny_dataset)


@pytest.mark.slow
def test_committed_weights_of_another_recipe_are_not_resumed_from(tiny_dataset, tmp_path, capsys):
    run("baseline", tiny_dataset, tmp_path, epochs=1, ckpt="a")
    record_path = tmp_path / "models" / "baseline.json"
    record = json.loads(record_path.read_text())
    record_path.write_text(json.dumps({**record, "optimizer": "Adam(learning_rate=0.001)"}))
    capsys.readouterr()
    again = run("baseline", tiny_dataset, tmp_path, epochs=1, ckpt="b")
    assert "trained with another recipe; starting afresh" in capsys.readouterr().out
    assert again["epochs_completed"] == 1 and again["optimizer"] == "RMSprop, learning rate 0.0001"
    assert not any("resumed" in note for note in again["notes"])


def test_export_weights_writes_the_weights_of_the_net_atomically(tmp_path):
    net = models.small_convnet(name="baseline")
    target = tmp_path / "models" / "baseline.weights.h5"
    train.export_weights(net, target)
    assert sorted(path.name for path in target.parent.iterdir()) == ["baseline.weights.h5"]
    copy = models.small_convnet(name="baseline")
    models.load_weights_checked(copy, target)
    for mine, theirs in zip(net.get_weights(), copy.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_every_variant_trains_the_lectures_way():
    """RMSprop at 1e-4 for every variant; augmentation and dropout go together; only full's last
    5 epochs take a smaller step, and its record says why."""
    for variant, recipe in settings.VARIANTS.items():
        assert recipe.optimizer_text == "RMSprop, learning rate 0.0001", variant
        assert (recipe.augmentation is None) == (recipe.dropout == 0.0), variant
        if variant != "full":
            assert recipe.final_learning_rate is None and recipe.schedule_text == "constant", variant
    full = settings.VARIANTS["full"]
    assert full.final_learning_rate == (45, 1e-5) and full.epochs == 50 and full.final_why
    assert [full.learning_rate_at(epoch) for epoch in (0, 44, 45, 49)] == [1e-4, 1e-4, 1e-5, 1e-5]
    assert full.schedule_text == "0.0001 through epoch 45, then 1e-05"


@pytest.mark.slow
def test_the_final_learning_rate_reaches_the_optimizer(tiny_dataset, tmp_path, monkeypatch):
    """A drop to 0 after epoch 1: epochs 2 and 3 leave the weights as epoch 1 left them (RMSprop, no momentum)."""
    recipe = dataclasses.replace(settings.VARIANTS["baseline"], final_learning_rate=(1, 0.0), final_why="test")
    monkeypatch.setitem(settings.VARIANTS, "baseline", recipe)
    weights = tmp_path / "models" / "baseline.weights.h5"
    first = run("baseline", tiny_dataset, tmp_path, epochs=1)
    after_one = models.small_convnet(name="baseline")
    models.load_weights_checked(after_one, weights)
    second = run("baseline", tiny_dataset, tmp_path, epochs=3)
    after_three = models.small_convnet(name="baseline")
    models.load_weights_checked(after_three, weights)
    for mine, theirs in zip(after_one.get_weights(), after_three.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert [row["learning_rate"] for row in second["history"]] == [1e-4, 0.0, 0.0]
    assert first["learning_rate_schedule"] == "0.0001 through epoch 1, then 0"
    assert second["schedule_reason"] == "test"


def test_zero_epochs_or_batch_size_are_refused(tmp_path, capsys):
    nowhere = tmp_path / "no-photos"  # the refusal comes before any data is looked for
    for bad, error, match in (({"epochs": 0}, ValueError, "1 or more"), ({"epochs": -3}, ValueError, "1 or more"),
                              ({"batch_size": 0}, ValueError, "1 or more"),
                              ({"epochs": 2.5}, TypeError, "whole number")):
        with pytest.raises(error, match=match):
            train.train("baseline", out_dir=tmp_path / "m", checkpoint_dir=tmp_path / "c", data_dir=nowhere, **bad)
    for flag in ("--epochs", "--batch-size"):
        with pytest.raises(SystemExit) as caught:
            train.main(["baseline", flag, "0", "--data-dir", str(nowhere), "--out-dir", str(tmp_path / "m")])
        assert caught.value.code == 2
        assert f"{flag}: the count must be 1 or more; got 0" in capsys.readouterr().err
    assert not (tmp_path / "m").exists(), "nothing was written"


def add_extra_photos(folder: Path, tiny_dataset: Path, cat_dir="cats", dog_dir="dogs") -> None:
    """Two new photos per class, a copy of a validation photo, a broken file and a TIFF named .jpg."""
    for i in range(2):
        write_photo(folder / cat_dir / f"{i}.jpg", seed=500 + i)
        write_photo(folder / dog_dir / f"{i}.jpg", seed=600 + i)
    shutil.copy(tiny_dataset / "validation" / "dogs" / "dog.1.jpg", folder / cat_dir / "copy.jpg")
    (folder / dog_dir / "666.jpg").write_bytes(b"")  # the Kaggle archive has such files
    write_photo(folder / dog_dir / "tiff.jpg", seed=700, fmt="TIFF")


@pytest.mark.parametrize("layout", ["extra folder", "Kaggle PetImages via CONVLENS_EXTRA"])
def test_full_variant_reads_train_and_extra(layout, tiny_dataset, tmp_path, monkeypatch):
    monkeypatch.delenv(settings.EXTRA_ENV, raising=False)
    if layout == "extra folder":
        add_extra_photos(tiny_dataset / "extra", tiny_dataset)
    else:
        add_extra_photos(tmp_path / "PetImages", tiny_dataset, "Cat", "Dog")
        monkeypatch.setenv(settings.EXTRA_ENV, str(tmp_path / "PetImages"))
    with pytest.warns(UserWarning) as caught:
        paths, labels = data.labelled_files("extra", tiny_dataset)
    messages = " ".join(str(w.message) for w in caught)
    assert "copy.jpg: the same photo is in the validation or test split" in messages
    assert "666.jpg: not a readable image" in messages and "tiff.jpg: not a readable image" in messages
    assert [p.name for p in paths] == ["0.jpg", "1.jpg", "0.jpg", "1.jpg"] and labels.tolist() == [0, 0, 1, 1]
    with pytest.warns(UserWarning):
        batches = list(data.make_dataset(["train", "extra"], batch_size=4, data_dir=tiny_dataset))
    assert sum(len(y) for _, y in batches) == 6 + 4, "train (3 + 3) then extra (2 + 2)"


@pytest.mark.slow
def test_full_variant_trains_on_train_plus_extra(tiny_dataset, tmp_path, monkeypatch):
    add_extra_photos(tmp_path / "PetImages", tiny_dataset, "Cat", "Dog")
    monkeypatch.setenv(settings.EXTRA_ENV, str(tmp_path / "PetImages"))
    with pytest.warns(UserWarning) as caught:
        record = run("full", tiny_dataset, tmp_path, epochs=1)
    messages = " ".join(str(warning.message) for warning in caught)
    assert "tiff.jpg: not a readable image" in messages and "666.jpg: not a readable image" in messages
    assert "copy.jpg: the same photo is in the validation or test split" in messages
    assert "train + extra = 5 cats + 5 dogs for training; validation 3 + 3" in record["data"]
    assert record["dropout"] == 0.5 and record["augmentation"] == settings.LECTURE_AUGMENTATION
    assert record["optimizer"] == "RMSprop, learning rate 0.0001"
    assert set(record["history"][0]["dead_channels"]) == {"conv2d_1", "conv2d_2", "conv2d_3", "conv2d_4"}
    model = models.small_convnet(dropout=0.5, name="full")
    models.load_weights_checked(model, tmp_path / "models" / "full.weights.h5")


def test_what_a_killed_save_left_is_removed_by_the_next_run(tiny_dataset, tmp_path, capsys):
    out, ckpt = tmp_path / "models", tmp_path / "ckpt"
    out.mkdir()
    left = [out / ".baseline.weights.h5.k2j3.part.weights.h5", out / ".baseline.json.x81.part.json",
            ckpt / ".epoch-0003.weights.h5.q1.part.weights.h5"]
    kept = [out / ".dataaug.weights.h5.z9.part.weights.h5", out / "baseline.weights.h5"]  # another variant's
    write_history(ckpt, "dataaug", {"epoch-0001.weights.h5": b"", "epoch-0001.optimizer.npz": b""})
    for path in left + kept:
        path.write_bytes(b"x" * 10)
    with pytest.raises(train.CheckpointError):  # the run stops at the checkpoint of another variant ...
        run("baseline", tiny_dataset, tmp_path, epochs=1)
    assert not any(path.exists() for path in left), "... after removing the leftovers of killed saves"
    assert all(path.exists() for path in kept)
    assert str(left[0]) in capsys.readouterr().out
