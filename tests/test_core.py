"""Shared plumbing: one error base, one input check, one batcher, one layer lookup, one cache."""

from __future__ import annotations

import numpy as np
import pytest

from convlens import checks, errors, submodels
from convlens import layers as lookup


def test_the_checks_raise_convlens_errors_that_keep_their_builtin_base():
    """Each check's error is caught both as a ConvlensError and as the built-in error it was before."""
    import keras

    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv")(inputs))
    cases = [
        (lambda: lookup.find_layer(model, "nope"), ValueError, errors.LayerSelectionError),
        (lambda: checks.check_channels("conv", [5], 2), IndexError, errors.ChannelRangeError),
        (lambda: checks.as_batch(np.full((8, 8, 3), 2.0)), ValueError, errors.InputImageError),
        (lambda: checks.check_int("steps", 1.5), TypeError, errors.ArgumentTypeError),
        (lambda: checks.check_number("sigma", -1.0, minimum=0.0), ValueError, errors.ArgumentError),
    ]
    for call, builtin, kind in cases:
        with pytest.raises(builtin) as info:
            call()
        assert type(info.value) is kind and isinstance(info.value, errors.ConvlensError)


@pytest.mark.parametrize(
    ("images", "match"),
    [
        (np.full((2, 4, 4, 3), 200, np.uint8), r"uint8 integers, values 200\.\.200.*divide 0-255 values by 255"),
        (np.ones((4, 4, 3), bool), "bool integers"),
        (np.full((4, 4, 3), np.nan, np.float32), "NaN or infinite"),
        (np.full((4, 4, 3), np.inf, np.float32), "NaN or infinite"),
        (np.full((4, 4, 3), 255.0, np.float32), r"must lie in \[0, 1\] \(got 255\.\.255\)"),
        (np.full((4, 4, 3), -0.5), r"must lie in \[0, 1\]"),
        (np.zeros((0, 4, 4, 3), np.float32), "empty"),
        (np.zeros((4, 4), np.float32), r"one image \(H, W, C\) or a batch"),
        (np.array([["a"]]), "float array"),
    ],
)
def test_as_batch_refuses_what_the_models_do_not_take(images, match):
    with pytest.raises(errors.InputImageError, match=match):
        checks.as_batch(images)


def test_as_batch_adds_the_batch_axis_and_may_allow_values_outside_unit_range():
    image = np.linspace(0, 1, 48, dtype=np.float64).reshape(4, 4, 3)
    batch = checks.as_batch(image)
    assert batch.shape == (1, 4, 4, 3) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch[0], image.astype(np.float32))
    assert checks.as_batch(image * 3 - 1, unit_range=False).max() == pytest.approx(2.0)
    with pytest.raises(errors.InputImageError, match="NaN"):
        checks.as_batch(np.full((4, 4, 3), np.nan), unit_range=False)


def test_as_batch_checks_the_models_input_shape():
    import keras

    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3)], name="small")
    assert checks.as_batch(np.zeros((2, 8, 8, 3)), model).shape == (2, 8, 8, 3)
    with pytest.raises(errors.InputImageError, match=r"Expected images of shape \(N, 8, 8, 3\) for model 'small'"):
        checks.as_batch(np.zeros((2, 9, 8, 3)), model)


@pytest.mark.parametrize(("value", "error"), [(0, errors.ArgumentError), (-1, errors.ArgumentError),
                                              (2.5, errors.ArgumentTypeError), (True, errors.ArgumentTypeError)])
def test_batch_slices_refuses_bad_batch_sizes(value, error):
    with pytest.raises(error, match="batch_size"):
        list(checks.batch_slices(10, value))


def test_batch_slices_cover_every_item_once():
    assert [(s.start, s.stop) for s in checks.batch_slices(7, 3)] == [(0, 3), (3, 6), (6, 7)]
    assert list(checks.batch_slices(0, 3)) == []


def test_check_int_names_the_setting_and_its_bounds():
    assert checks.check_int("steps", np.int64(3), 0) == 3
    with pytest.raises(errors.ArgumentTypeError, match=r"steps must be a whole number.*2\.5"):
        checks.check_int("steps", 2.5, 0)
    with pytest.raises(errors.ArgumentError, match="size must be from 1 to 10 pixels; got 11"):
        checks.check_int("size", 11, 1, 10, why=" pixels")


def test_one_layer_lookup_for_every_kind():
    import keras
    from keras import layers

    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(2, 3, name="conv")(inputs)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Conv2DTranspose(2, 3, name="up")(x)
    model = keras.Model(inputs, layers.Dense(1, name="dense")(layers.Flatten(name="flat")(x)), name="m")
    assert lookup.conv_layer_names(model) == ["conv", "up"]
    assert lookup.conv_and_pooling_layer_names(model) == ["conv", "pool", "up"]
    assert lookup.find_layer(model, "pool", "filters").name == "pool"
    with pytest.raises(errors.LayerSelectionError, match=r"'pool' \(MaxPooling2D.*not a convolution layer.*conv, up"):
        lookup.find_layer(model, "pool", "convolution")
    with pytest.raises(errors.LayerSelectionError, match="No layer named 'nope' in model 'm'"):
        lookup.find_layer(model, "nope", "filters")
    with pytest.raises(errors.LayerSelectionError, match="not a layer type"):
        lookup.find_layer(model, "Conv2D", "filters")
    with pytest.raises(errors.ArgumentError, match="Unknown layer kind"):
        lookup.select_layers(model, None, "dense")
    assert submodels.smallest_input_size(model, model.get_layer("conv")) == 3
    assert submodels.smallest_input_size(model, model.get_layer("pool")) == 4


def test_one_cache_keyed_on_model_and_settings():
    import keras

    model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Conv2D(1, 1)])
    calls = []
    first = submodels.cached(model, ("test", 1), lambda: calls.append(1) or object())
    assert submodels.cached(model, ("test", 1), lambda: calls.append(1) or object()) is first
    assert submodels.cached(model, ("test", 2), lambda: calls.append(2) or object()) is not first
    assert calls == [1, 2]


def test_the_techniques_need_no_photo_module():
    """A technique checks sizes with :mod:`convlens.checks`, not through the photo modules."""
    import ast
    from pathlib import Path

    src = Path(checks.__file__).parent
    for module in ("filters.py", "ascent.py", "objectives.py", "transforms.py", "checks.py", "layers.py"):
        imported = {node.module for node in ast.walk(ast.parse((src / module).read_text()))
                    if isinstance(node, ast.ImportFrom) and node.level}
        assert not imported & {"images", "data", "archive"}, (module, imported)
