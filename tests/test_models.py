"""convlens.models: the reference summary, loading trained weights, VGG16 offline."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from convlens import models, settings

EXPECTED = [
    ("conv2d_1", (148, 148, 32), 896),
    ("max_pooling2d_1", (74, 74, 32), 0),
    ("conv2d_2", (72, 72, 64), 18_496),
    ("max_pooling2d_2", (36, 36, 64), 0),
    ("conv2d_3", (34, 34, 128), 73_856),
    ("max_pooling2d_3", (17, 17, 128), 0),
    ("conv2d_4", (15, 15, 128), 147_584),
    ("max_pooling2d_4", (7, 7, 128), 0),
    ("flatten_1", (6272,), 0),
    ("dense_1", (512,), 3_211_776),
    ("dense_2", (1,), 513),
]


def test_small_convnet_matches_reference_summary():
    model = models.small_convnet()
    rows = [(layer.name, tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers[1:]]
    assert rows == EXPECTED
    assert model.count_params() == 3_453_121


def test_dropout_variant_adds_only_a_parameterless_layer():
    model = models.small_convnet(dropout=0.5)
    assert model.count_params() == 3_453_121
    assert [layer.name for layer in model.layers].index("dropout_1") == 10


def test_missing_weights_name_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVLENS_MODELS", str(tmp_path))
    with pytest.raises(models.WeightsNotFoundError, match="python -m convlens.train dataaug"):
        models.load_trained("dataaug")
    with pytest.raises(ValueError, match="baseline, dataaug"):
        models.load_trained("augmented")


def test_load_trained_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVLENS_MODELS", str(tmp_path))
    model = models.small_convnet(name="baseline")
    model.save_weights(tmp_path / "baseline.weights.h5")
    loaded = models.load_trained("baseline")
    x = np.random.default_rng(0).random((2, 150, 150, 3), dtype=np.float32)
    assert np.allclose(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


@pytest.mark.parametrize("variant", settings.VARIANTS)
def test_committed_weights_load_and_predict(variant):
    model = models.load_trained(variant)
    record = models.training_record(variant)
    assert record["epochs_completed"] == len(record["history"]) > 0
    assert record["learning_rate_schedule"] == settings.VARIANTS[variant].schedule_text
    summary = models.record_summary(variant)
    assert summary.startswith(f"model: {variant}, {len(record['history'])} of") and len(summary) <= 72
    row = next(line for line in models.records_table([variant]).splitlines() if line.startswith(variant + " "))
    assert f"{len(record['history'])} of {record['epochs_planned']}" in row
    test = record.get("test_accuracy")  # measured when training finishes
    assert row.split()[-1] == (f"{test:.3f}" if test is not None else "n/a")
    # The output is the sigmoid of dense_1's activations times dense_2's weights, computed here
    # by hand, and it depends on the input (a model that lost its weights answers a constant).
    import keras

    hidden = keras.Model(model.input, model.get_layer("dense_1").output)
    kernel, bias = model.get_layer("dense_2").get_weights()
    logits = hidden.predict(FIXED_INPUTS, verbose=0) @ kernel + bias
    prediction = model.predict(FIXED_INPUTS, verbose=0)
    assert np.allclose(prediction, 1.0 / (1.0 + np.exp(-logits)), atol=1e-5)
    assert abs(prediction[0, 0] - prediction[1, 0]) > 0.01
    if variant in PINNED:  # the committed weights of the finished models, pinned
        assert prediction[:, 0] == pytest.approx(PINNED[variant], abs=1e-4)


FIXED_INPUTS = np.stack(
    [np.full((150, 150, 3), 0.5, np.float32), np.random.default_rng(0).random((150, 150, 3), dtype=np.float32)]
)
PINNED = {"baseline": [0.239567, 0.999125], "dataaug": [0.076096, 0.000000], "full": [0.312520, 0.122403]}
"""P(dog) of the committed weights of the three variants on FIXED_INPUTS (grey, seeded noise)."""


def save_weights_of_another_architecture(path):
    import keras

    inputs = keras.Input(shape=(150, 150, 3), name="image")
    outputs = keras.layers.Dense(1, name="dense_2")(keras.layers.GlobalAveragePooling2D()(inputs))
    keras.Model(inputs, outputs).save_weights(path)


@pytest.mark.parametrize("damage", ["empty", "truncated", "web page", "other architecture"])
def test_bad_weight_files_name_the_file_and_the_fix(damage, tmp_path, monkeypatch, recwarn):
    monkeypatch.setenv("CONVLENS_MODELS", str(tmp_path))
    path = tmp_path / "baseline.weights.h5"
    if damage == "other architecture":
        save_weights_of_another_architecture(path)
    else:
        models.small_convnet(name="baseline").save_weights(path)
        content = path.read_bytes()
        cut = {"empty": b"", "truncated": content[: len(content) // 3], "web page": b"<!DOCTYPE html><p>Log in"}
        path.write_bytes(cut[damage])
    with pytest.raises(models.BadModelFileError) as caught:
        models.load_trained("baseline")
    message = str(caught.value)
    assert str(path) in message and "python -m convlens.train baseline" in message
    expected = {"empty": "not an HDF5", "truncated": "damaged HDF5", "web page": "not an HDF5",
                "other architecture": "does not hold weights of this model"}[damage]
    assert expected in message
    assert not [w for w in recwarn if "could not be loaded" in str(w.message) or "Skipping" in str(w.message)]


@pytest.mark.parametrize(
    "content, expected",
    [('{"variant": "baseline", "hist', "not valid JSON"), ("{}", "lacks variant"), ("[1, 2]", "lacks variant"),
     (b"\xff\xfe\x00", "not valid JSON"), ('{"variant": "baseline", "epochs_planned": 2, "epochs_completed": 0, '
                                            '"complete": false, "history": [], "trained_on": "x"}', "lacks history")],
)
def test_broken_training_records_name_the_file_and_the_fix(content, expected, tmp_path):
    path = tmp_path / "baseline.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(models.BadModelFileError, match=expected) as caught:
        models.training_record("baseline", folder=tmp_path)
    message = str(caught.value)
    assert str(path) in message and ("retrain" in message or "restore" in message)


def test_vgg16_without_network_raises_one_clear_exception(tmp_path, monkeypatch):
    from keras.src.utils import file_utils

    monkeypatch.setattr(file_utils.config, "keras_home", lambda: str(tmp_path))  # no cached weights for Keras
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # nor for models.vgg16's look at the cache

    def refuse(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", lambda self, *a: refuse())
    with pytest.raises(models.VGG16WeightsUnavailable, match="could not be downloaded"):
        models.vgg16(include_top=False)
