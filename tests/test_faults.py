"""The last faults and bad input of issue 20, each with a clear error or a correct result.

Tested here: a heatmap upsampled to (0, 0); an image over PIL's own decompression-bomb limit; the
``vgg16`` user-error message's pointer. The others are tested beside their code: a scalar filter
index, ``seed=-1`` and start images in 0-255 units (``test_filters.py``), the leftovers of a
killed save (``test_train.py``), a server that trickles bytes and a downloaded archive that is not
a zip (``test_download.py``). The Grad-CAM browser with 0 images, the overlay pager
with mismatched lengths and ``image_pager_html`` with fewer titles are the widgets' tests.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from convlens import adapters, errors, gradcam, images, models


@pytest.mark.parametrize("size", [(0, 0), (150, 0), (-1, 5), (150,), 150, (1.5, 2)])
def test_upsampling_to_an_empty_or_odd_size_is_refused(size):
    heat = np.random.default_rng(0).random((2, 5, 5)).astype(np.float32)
    with pytest.raises(errors.ConvlensError, match="size must be|height|width"):
        gradcam.upsample(heat, size)
    assert gradcam.upsample(heat[0], (1, 1)).shape == (1, 1)


def _png_header(width: int, height: int) -> bytes:
    """The first bytes of an RGB PNG of ``width`` x ``height`` (no pixel data): what a decompression bomb shows."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


@pytest.mark.parametrize(("side", "words"), [(20_000, "larger than PIL will open"), (10_000, "10000 x 10000")])
def test_a_huge_image_is_refused_from_its_header_not_decoded(side, words):
    """400 MP is over PIL's own limit (PIL raises, which the check once swallowed); 100 MP only over ours."""
    with pytest.raises(errors.ImageLoadError, match=f"{words}.*shrink it first"):
        images.load_image(_png_header(side, side))


def test_the_vgg16_argument_error_points_at_the_adapter_where_it_lives():
    """The message sends 150 x 150 users to the adapter, which does take 150 x 150 photos for a 224 x 224 VGG16."""
    import keras

    with pytest.raises(errors.ArgumentError, match=r"convlens\.adapters\.imagenet_cats_vs_dogs resizes") as caught:
        models.vgg16(include_top=True, input_shape=(150, 150, 3))
    assert "gradcam.imagenet" not in str(caught.value)
    inputs = keras.Input((models.VGG16_SIZE, models.VGG16_SIZE, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(2, 3, name="block5_conv3")(inputs))
    classifier = keras.Model(inputs, keras.layers.Dense(1000, name="predictions")(pooled))
    wrapped = adapters.imagenet_cats_vs_dogs(classifier)
    assert tuple(wrapped.inputs[0].shape[1:]) == (150, 150, 3)
    assert tuple(wrapped.get_layer("resize_to_classifier").output.shape[1:3]) == (models.VGG16_SIZE, models.VGG16_SIZE)
