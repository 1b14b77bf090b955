"""Random flips, rotations, zooms and shifts of training batches, as one affine warp in the graph.

Keras' ``RandomFlip``, ``RandomRotation``, ``RandomZoom`` and ``RandomTranslation`` each resample
the whole batch; on two CPU cores the four resamplings cost about as much as the convnet's own
forward pass. :class:`RandomAffine` draws the same four random choices per image, composes them
into one 2 x 3 matrix and resamples once (bilinear, reflected edges, as Keras' layers do).
The ranges mean what they mean in Keras: ``rotation=0.1`` is up to 10 % of a full turn either
way, ``zoom=0.2`` scales each axis by a factor in [0.8, 1.2], ``translation=0.2`` shifts by up
to 20 % of the side.
"""

from __future__ import annotations

import math

import keras
from keras import ops

__all__ = ["RandomAffine", "augmentation_layer"]


@keras.saving.register_keras_serializable(package="convlens")
class RandomAffine(keras.layers.Layer):
    """One random horizontal flip, rotation, zoom and shift per image, in one resampling."""

    def __init__(self, flip: bool = True, rotation: float = 0.0, zoom: float = 0.0,
                 translation: float = 0.0, seed: int | None = None, fill_mode: str = "reflect", **kwargs):
        super().__init__(**kwargs)
        self.flip, self.rotation, self.zoom, self.translation = flip, rotation, zoom, translation
        self.seed, self.fill_mode = seed, fill_mode
        self.seed_generator = keras.random.SeedGenerator(seed)

    def matrices(self, batch: int, height, width):
        """The (batch, 8) output-to-input transforms of ``ops.image.affine_transform``."""
        draws = keras.random.uniform((batch, 6), -1.0, 1.0, seed=self.seed_generator)
        angle = draws[:, 0] * self.rotation * 2 * math.pi
        zoom_x, zoom_y = 1.0 + draws[:, 1] * self.zoom, 1.0 + draws[:, 2] * self.zoom
        shift_x, shift_y = draws[:, 3] * self.translation * width, draws[:, 4] * self.translation * height
        mirror = ops.where(draws[:, 5] < 0, -1.0, 1.0) if self.flip else ops.ones((batch,))
        cos, sin = ops.cos(angle), ops.sin(angle)
        centre_x, centre_y = (width - 1) / 2, (height - 1) / 2
        # input = A (output - centre) + centre - shift, A = rotation . zoom . mirror
        a0, a1 = cos * zoom_x * mirror, -sin * zoom_y
        b0, b1 = sin * zoom_x * mirror, cos * zoom_y
        a2 = centre_x - a0 * centre_x - a1 * centre_y - shift_x
        b2 = centre_y - b0 * centre_x - b1 * centre_y - shift_y
        zero = ops.zeros((batch,))
        return ops.stack([a0, a1, a2, b0, b1, b2, zero, zero], axis=1)

    def call(self, images, training=True):
        if not training:
            return images
        shape = ops.shape(images)
        height, width = ops.cast(shape[1], "float32"), ops.cast(shape[2], "float32")
        transforms = self.matrices(shape[0], height, width)
        return ops.image.affine_transform(images, transforms, interpolation="bilinear", fill_mode=self.fill_mode)

    def get_config(self) -> dict:
        return {**super().get_config(), "flip": self.flip, "rotation": self.rotation, "zoom": self.zoom,
                "translation": self.translation, "seed": self.seed, "fill_mode": self.fill_mode}


def augmentation_layer(augmentation: dict, seed: int) -> RandomAffine:
    """The layer for a recipe's ``augmentation`` dict (``flip``, ``rotation``, ``zoom``, ``translation``)."""
    return RandomAffine(
        flip=augmentation.get("flip") == "horizontal",
        rotation=augmentation.get("rotation", 0.0),
        zoom=augmentation.get("zoom", 0.0),
        translation=augmentation.get("translation", 0.0),
        seed=seed,
        name="augmentation",
    )
