"""convlens.measures.heatmaps.deletion_curve: what fills the deleted pixels (issue 18).

Black is a colour no training photo holds in large patches, so a deletion check that blanks to
black partly measures how the model reacts to an unnatural photo. The curve can instead fill
each deleted pixel with the photo's own mean colour or with the same pixel of the photo blurred.
Each fill is checked at its two ends: nothing deleted is the intact photo, everything deleted is
the photo made entirely of the fill.
"""

from __future__ import annotations

import numpy as np
import pytest

from convlens import gradcam
from convlens.errors import ArgumentError
from convlens.measures import heatmaps

SIZE = 24


@pytest.fixture(scope="module")
def model():
    """Dog logit = 12 x (mean red - mean green) - 1 (1 x 1 convolution, global average, dense)."""
    import keras
    from keras import layers

    inputs = keras.Input((SIZE, SIZE, 3))
    conv = layers.Conv2D(1, 1, name="red_minus_green")
    dense = layers.Dense(1, activation="sigmoid", name="decision")
    outputs = dense(layers.GlobalAveragePooling2D()(conv(inputs)))
    net = keras.Model(inputs, outputs)
    conv.set_weights([np.array([1.0, -1.0, 0.0], np.float32).reshape(1, 1, 3, 1), np.zeros(1, np.float32)])
    dense.set_weights([np.full((1, 1), 12.0, np.float32), np.full(1, -1.0, np.float32)])
    return net


@pytest.fixture(scope="module")
def photos():
    """Two photos: a red square in the top-left corner of grey noise, and a smooth red-to-green ramp."""
    rng = np.random.default_rng(0)
    first = 0.4 + 0.2 * rng.random((SIZE, SIZE, 3))
    first[:8, :8] = (1.0, 0.0, 0.0)
    ramp = np.linspace(0.0, 1.0, SIZE)[None, :].repeat(SIZE, 0)
    second = np.stack([1.0 - ramp, ramp, np.full_like(ramp, 0.5)], axis=-1)
    return np.stack([first, second]).astype(np.float32)


def _dog(model, images):
    return gradcam.predict_dog(model, images)


@pytest.mark.parametrize("fill", [0.0, 0.5, "mean", "blur"])
def test_nothing_deleted_is_the_intact_photo(model, photos, fill):
    rows = heatmaps.deletion_curve(model, photos, None, class_index=1, fractions=[0.0], fill=fill, per_photo=True)
    np.testing.assert_allclose(rows[:, 0], _dog(model, photos), rtol=1e-6)


def test_everything_deleted_is_the_fill(model, photos):
    ends = {fill: heatmaps.deletion_curve(model, photos, None, class_index=1, fractions=[1.0], fill=fill,
                                          per_photo=True)[:, 0]
            for fill in (0.0, "mean", "blur")}
    black = np.zeros_like(photos)
    mean_colour = np.broadcast_to(photos.mean(axis=(1, 2), keepdims=True), photos.shape)
    np.testing.assert_allclose(ends[0.0], _dog(model, black), rtol=1e-6)
    np.testing.assert_allclose(ends["mean"], _dog(model, mean_colour), rtol=1e-5)
    np.testing.assert_allclose(ends["blur"], _dog(model, heatmaps.blurred(photos)), rtol=1e-5)
    # The mean colour keeps this model's evidence (its logit is linear in the mean colour); black
    # removes the red square's (photo 0; the ramp's red and green cancel out).
    np.testing.assert_allclose(ends["mean"], _dog(model, photos), rtol=1e-4)
    assert abs(ends[0.0][0] - _dog(model, photos[:1])[0]) > 0.05


def test_blur_keeps_the_colours_and_removes_the_detail(photos):
    soft = heatmaps.blurred(photos)
    assert soft.shape == photos.shape and soft.dtype == np.float32
    np.testing.assert_allclose(soft.mean(axis=(1, 2)), photos.mean(axis=(1, 2)), atol=0.02)
    assert np.std(np.diff(soft[0], axis=0)) < 0.2 * np.std(np.diff(photos[0], axis=0))
    flat = np.full((1, SIZE, SIZE, 3), 0.3, np.float32)
    np.testing.assert_allclose(heatmaps.blurred(flat), flat, atol=1e-6)
    assert heatmaps.BLUR_SIGMA > 0 and set(heatmaps.FILLS) == {"mean", "blur"}


def test_a_partial_deletion_replaces_only_the_deleted_pixels(model, photos):
    """Deleting the red square (the heatmap's hot cells) with its mean colour lowers P(dog); elsewhere less."""
    hot = np.zeros((2, 3, 3), np.float32)
    hot[0, 0, 0] = 1.0  # the top-left cell of a 3 x 3 grid holds the red square of photo 0
    hot[1, 2, 2] = 1.0
    fractions = [0.0, 0.1]
    guided = heatmaps.deletion_curve(model, photos[:1], hot[:1], 1, fractions, fill="mean", per_photo=True)
    away = heatmaps.deletion_curve(model, photos[:1], hot[1:], 1, fractions, fill="mean", per_photo=True)
    assert guided[0, 1] < guided[0, 0] - 0.05
    assert guided[0, 1] < away[0, 1]


@pytest.mark.parametrize("fill", ["black", "noise", 2.0, -0.1])
def test_an_unknown_fill_is_refused_with_the_choices(model, photos, fill):
    with pytest.raises(ArgumentError, match=r"fill must be a pixel value in \[0, 1\]"):
        heatmaps.deletion_curve(model, photos, None, class_index=1, fill=fill)
