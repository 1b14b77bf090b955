"""convlens.models: the reference summary, loading trained weights, VGG16 offline."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from convlens import models

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


@pytest.mark.parametrize("variant", models.VARIANTS)
def test_committed_weights_load_and_predict(variant):
    model = models.load_trained(variant)
    record = models.training_record(variant)
    assert record["epochs_completed"] == len(record["history"]) > 0
    assert models.record_summary(variant).startswith(f"model: {variant}, epochs trained: {len(record['history'])} of")
    row = next(line for line in models.records_table([variant]).splitlines() if line.startswith(variant + " "))
    assert f"{len(record['history'])} of {record['epochs_planned']}" in row
    assert row.split()[-1] == f"{record['test_accuracy']:.3f}"
    prediction = model.predict(np.full((1, 150, 150, 3), 0.5, np.float32), verbose=0)
    assert prediction.shape == (1, 1) and 0.0 <= prediction[0, 0] <= 1.0


def test_vgg16_without_network_raises_one_clear_exception(tmp_path, monkeypatch):
    from keras.src.utils import file_utils

    monkeypatch.setattr(file_utils.config, "keras_home", lambda: str(tmp_path))  # no cached weights

    def refuse(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", lambda self, *a: refuse())
    with pytest.raises(models.VGG16WeightsUnavailable, match="could not be downloaded"):
        models.vgg16(include_top=False)
