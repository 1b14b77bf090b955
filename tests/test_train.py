"""convlens.train: a run writes weights and an honest record, the same command resumes, ``--distribute`` mirrors.

The tests that fit a model are marked ``slow`` (``pytest -m "not slow"`` leaves them out).
A kill is simulated by an exception no ``except Exception`` catches, raised part-way through a
real save (from h5py or the atomic writer) or after a batch of an epoch.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from testkit import write_photo

from convlens import data, models, settings, train, train_files


class Killed(BaseException):
    """Stands for a kill: no ``except Exception`` catches it."""


def run(variant, data_dir, tmp_path, epochs, ckpt="ckpt", out="models", **kwargs) -> dict:
    return train.train(
        variant, epochs=epochs, batch_size=kwargs.pop("batch_size", 4), out_dir=tmp_path / out,
        checkpoint_dir=tmp_path / ckpt, data_dir=data_dir, **kwargs,
    )


def weights_of(folder: Path, variant: str = "baseline") -> list[np.ndarray]:
    """The weights a run exported to ``folder``, loaded into the book's model."""
    net = models.small_convnet(dropout=settings.VARIANTS[variant].dropout, name=variant)
    models.load_weights_checked(net, folder / f"{variant}.weights.h5")
    return net.get_weights()


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
def test_kill_during_the_backup_of_the_weights_keeps_the_previous_backup(tiny_dataset, tmp_path, monkeypatch, capsys):
    ckpt = tmp_path / "ckpt"
    first = run("baseline", tiny_dataset, tmp_path, epochs=1)
    checkpoint = snapshot(ckpt)
    with monkeypatch.context() as patch:
        kill_hdf5_writes(patch, lambda path: path.parent == ckpt)
        with pytest.raises(Killed):
            run("baseline", tiny_dataset, tmp_path, epochs=2)
    assert snapshot(ckpt) == checkpoint, "the backup of epoch 1 is intact, no temporaries left"

    capsys.readouterr()
    record = run("baseline", tiny_dataset, tmp_path, epochs=2)
    assert f"Resuming baseline from {ckpt} after epoch 1" in capsys.readouterr().out
    assert [row["epoch"] for row in record["history"]] == [1, 2]
    assert record["history"][0] == first["history"][0]
    assert set(snapshot(ckpt)) == {"latest.weights.h5", "training_metadata.json"}
    assert json.loads((ckpt / "training_metadata.json").read_text())["epoch"] == 2


@pytest.mark.slow
def test_kill_between_the_two_files_of_the_backup_is_repaired(tiny_dataset, tmp_path, monkeypatch, capsys):
    """The weights file (with its metadata inside) moved into place, Keras's metadata file not yet."""
    ckpt = tmp_path / "ckpt"
    run("baseline", tiny_dataset, tmp_path, epochs=1)
    write = train_files.write_text_atomic

    def killed_on_the_metadata(target, text):
        if Path(target).name == "training_metadata.json":
            raise Killed("killed between the two moves")
        write(target, text)

    with monkeypatch.context() as patch:
        patch.setattr(train_files, "write_text_atomic", killed_on_the_metadata)
        with pytest.raises(Killed):
            run("baseline", tiny_dataset, tmp_path, epochs=2)
    assert json.loads((ckpt / "training_metadata.json").read_text())["epoch"] == 1, "Keras's file is behind"
    capsys.readouterr()
    record = run("baseline", tiny_dataset, tmp_path, epochs=2)
    assert f"Resuming baseline from {ckpt} after epoch 2" in capsys.readouterr().out
    assert json.loads((ckpt / "training_metadata.json").read_text())["epoch"] == 2
    assert [row["epoch"] for row in record["history"]] == [1, 2] and "test_accuracy" in record


@pytest.mark.slow
def test_a_run_killed_mid_epoch_resumes_to_the_weights_of_an_uninterrupted_run(tiny_dataset, tmp_path, monkeypatch):
    """dataaug (augmentation and dropout draw at random): killed after the first batch of epoch 2.

    The resumed run restores epoch 1's backup (weights, RMSprop state, epoch) and trains epoch 2
    again on the same order of photos and the same random draws: the weights are bit for bit
    those of the run that was never killed.
    """
    whole = run("dataaug", tiny_dataset, tmp_path, epochs=2, ckpt="a", out="whole")

    def kill_in_epoch_two(self, batch, logs=None):
        if len(self.history) == 1 and batch == 0:
            raise Killed("killed after the first batch of epoch 2")

    with monkeypatch.context() as patch:
        patch.setattr(train_files.EpochRecord, "on_train_batch_end", kill_in_epoch_two, raising=False)
        with pytest.raises(Killed):
            run("dataaug", tiny_dataset, tmp_path, epochs=2, ckpt="b", out="killed")
    assert models.training_record("dataaug", folder=tmp_path / "killed")["epochs_completed"] == 1
    resumed = run("dataaug", tiny_dataset, tmp_path, epochs=2, ckpt="b", out="killed")
    for mine, theirs in zip(weights_of(tmp_path / "whole", "dataaug"), weights_of(tmp_path / "killed", "dataaug"),
                            strict=True):
        np.testing.assert_array_equal(mine, theirs)
    timeless = [{k: v for k, v in row.items() if k != "seconds"} for row in whole["history"]]
    assert [{k: v for k, v in row.items() if k != "seconds"} for row in resumed["history"]] == timeless


@pytest.mark.slow
def test_a_backup_ahead_of_the_record_is_refused(tiny_dataset, tmp_path):
    """As when the committed files were checked out again after the run: the history is missing."""
    out = tmp_path / "models"
    run("baseline", tiny_dataset, tmp_path, epochs=1)
    behind = snapshot(out)
    run("baseline", tiny_dataset, tmp_path, epochs=2)
    for name, content in behind.items():
        (out / name).write_bytes(content)
    with pytest.raises(train.CheckpointError, match="holds 2 epochs, the record .* only 1 .*delete the folder"):
        run("baseline", tiny_dataset, tmp_path, epochs=3)
    assert snapshot(out) == behind


def write_backup(ckpt: Path, variant: str, optimizer: str = "RMSprop, learning rate 0.0001") -> None:
    """A backup as :class:`convlens.train_files.Backup` signs it (no weights inside)."""
    ckpt.mkdir(parents=True, exist_ok=True)
    metadata = json.dumps({"epoch": 1, "batch": 0, "variant": variant, "optimizer": optimizer})
    with h5py.File(ckpt / "latest.weights.h5", "w") as stream:
        stream.attrs["training_metadata"] = metadata
    (ckpt / "training_metadata.json").write_text(metadata)


@pytest.mark.parametrize(
    "files",
    [
        {"history.json": b'{"epochs": []}', "epoch-0001.optimizer.npz": b"PK"},  # the earlier layout
        {"latest.weights.h5": b"<html>captive portal</html>", "training_metadata.json": b'{"epoch": 1}'},
        {"training_metadata.json": b'{"epoch": 1}'},  # incomplete
    ],
)
def test_a_corrupt_checkpoint_names_its_folder_and_how_to_start_over(files, tiny_dataset, tmp_path, capsys):
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    for name, content in files.items():
        (ckpt / name).write_bytes(content)
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
    write_backup(ckpt, variant, optimizer)
    with pytest.raises(train.CheckpointError, match=f"written by {written_by}, not 'dataaug' with RMSprop"):
        train.train("dataaug", epochs=1, out_dir=tmp_path / "m", checkpoint_dir=ckpt, data_dir=tiny_dataset)


DISTRIBUTED = """
import json, sys
import keras, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from convlens import train
train.make_optimizer = lambda recipe: keras.optimizers.SGD(0.01)
made, build = [], train.training_model
train.training_model = lambda *args: made.append(build(*args)) or made[-1]
data, out = sys.argv[1:]
for name, flags in (("one", []), ("two", ["--distribute"])):
    assert train.main(["baseline", "--epochs", "1", "--batch-size", "2", "--out-dir", f"{out}/{name}",
                       "--checkpoint-dir", f"{out}/{name}-ckpt", "--data-dir", data, *flags]) == 0
print(json.dumps([[m.distribute_strategy.num_replicas_in_sync, type(m.trainable_variables[0].value).__name__]
                  for m in made]))
"""


@pytest.mark.slow  # about 30 s: a new process, TensorFlow's start, two runs of 3 steps
def test_mirrored_training_on_two_cpus_matches_one_processor(tiny_dataset, tmp_path):
    """The same 3 steps of 2 photos, on one device and under ``--distribute`` on two logical CPUs.

    Plain SGD in place of RMSprop: its step is linear in the gradient, so the weights agree
    within float rounding (RMSprop's first steps are nearly the gradient's sign, which rounding
    flips where a gradient is about 0); a gradient summed over the replicas instead of averaged
    would double every step.
    """
    done = subprocess.run([sys.executable, "-c", DISTRIBUTED, str(tiny_dataset), str(tmp_path)],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "CUDA_VISIBLE_DEVICES": "-1", "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [[1, "ResourceVariable"], [2, "MirroredVariable"]]
    record = models.training_record("baseline", folder=tmp_path / "two")
    assert record["command"].endswith("--seed 0 --distribute") and record["distribution"].startswith(
        "MirroredStrategy, 2 replicas")
    assert "distribution" not in models.training_record("baseline", folder=tmp_path / "one")
    for one, two in zip(weights_of(tmp_path / "one"), weights_of(tmp_path / "two"), strict=True):
        np.testing.assert_allclose(two, one, rtol=1e-5, atol=1e-7)
    assert not all(np.array_equal(a, b) for a, b in zip(weights_of(tmp_path / "one"),
                                                       models.small_convnet(name="baseline").get_weights(),
                                                       strict=True)), "the steps changed the weights"


def test_distribute_refuses_a_cluster_that_keras_cannot_train_on(tiny_dataset, tmp_path, monkeypatch, capsys):
    """TF_CONFIG asks for MultiWorkerMirroredStrategy, under which Keras 3's fit fails: refused, not ignored."""
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["localhost:1", "localhost:2"]},
                                                "task": {"type": "worker", "index": 0}}))
    with pytest.raises(train.ArgumentError, match="keras-team/keras#20585.*unset TF_CONFIG"):
        train.strategy(True)
    assert train.strategy(False).num_replicas_in_sync == 1, "without --distribute TF_CONFIG plays no part"
    args = ["baseline", "--distribute", "--out-dir", str(tmp_path / "m"), "--data-dir", str(tiny_dataset)]
    assert train.main(args) == 2
    assert "unset TF_CONFIG" in capsys.readouterr().err and not (tmp_path / "m").exists()


def test_epoch_e_draws_the_same_order_of_photos_whether_the_run_starts_at_0_or_at_e():
    images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1)
    labels = np.arange(10, dtype=np.float32)

    def orders(epochs: range) -> list[list[int]]:
        batches = [y.numpy().astype(int).tolist() for _, y in train._batches(images, labels, 4, 7, epochs)]
        return [sum(batches[i:i + 3], []) for i in range(0, len(batches), 3)]

    from_start, resumed = orders(range(0, 3)), orders(range(2, 3))
    assert resumed == from_start[2:] and sorted(resumed[0]) == list(range(10))
    assert len({tuple(order) for order in from_start}) == 3, "every epoch has its own order"
    assert from_start[0] != list(range(10)), "shuffled"


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
            ckpt / ".latest.weights.h5.q1.part.weights.h5"]
    kept = [out / ".dataaug.weights.h5.z9.part.weights.h5", out / "baseline.weights.h5"]  # another variant's
    write_backup(ckpt, "dataaug")
    for path in left + kept:
        path.write_bytes(b"x" * 10)
    with pytest.raises(train.CheckpointError):  # the run stops at the checkpoint of another variant ...
        run("baseline", tiny_dataset, tmp_path, epochs=1)
    assert not any(path.exists() for path in left), "... after removing the leftovers of killed saves"
    assert all(path.exists() for path in kept)
    assert str(left[0]) in capsys.readouterr().out
