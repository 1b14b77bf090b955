"""Transforms of a filter-pattern ascent, passed in as a list, in the way of lucent's ``transform.py``.

A transform wraps one ascent step: ``transform.wrap(step, channels)`` returns a new step
``(images, number, seed) -> images``. :class:`Jitter` shifts the image by a random few pixels
before the step and back after it, so a pattern must excite the filter wherever it stands;
:class:`Blur` smooths the image every few steps, removing the finest grain. A list
``[t1, t2, ...]`` wraps in order: ``t2`` wraps ``t1``'s step, so ``[Jitter(4), Blur(0.7, 4)]``
shifts, steps, shifts back, then blurs. A new regularizer is one more such class.

Transforms are frozen, hashable dataclasses: part of the key of the compiled ascent. The small
functions they use (:func:`jitter_shift`, :func:`roll`, :func:`gaussian_kernel`,
:func:`gaussian_blur`) are TensorFlow operations on a batch (N, H, W, C).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .checks import check_int, check_number

__all__ = ["Blur", "Jitter", "Transform", "gaussian_blur", "gaussian_kernel", "jitter_shift", "roll"]

Step = Callable[[Any, Any, Any], Any]
"""One ascent step: ``(images, step number, seed) -> images``, all tensors."""


class Transform:
    """Base of the transforms: :meth:`wrap` a step into a new step. Subclasses are frozen dataclasses."""

    def wrap(self, step: Step, channels: int) -> Step:
        """The step with this transform around it; ``channels`` is the images' last axis."""
        raise NotImplementedError


@dataclass(frozen=True)
class Jitter(Transform):
    """Shift the image by up to ``pixels`` (rows and columns, wrapping around) before a step, back after it."""

    pixels: int

    def __post_init__(self) -> None:
        check_int("jitter_pixels", self.pixels, 0)

    def wrap(self, step: Step, channels: int) -> Step:
        def jittered(images, number, seed):
            shift = jitter_shift(seed, number, self.pixels)
            return roll(step(roll(images, shift), number, seed), -shift)

        return jittered


@dataclass(frozen=True)
class Blur(Transform):
    """A Gaussian blur of ``sigma`` pixels after every ``every``-th step (edges reflected)."""

    sigma: float
    every: int = 1

    def __post_init__(self) -> None:
        check_number("blur_sigma", self.sigma, minimum=0.0, allow_minimum=False)
        check_int("blur_every", self.every, 1)

    def wrap(self, step: Step, channels: int) -> Step:
        import tensorflow as tf

        kernel = tf.constant(gaussian_kernel(self.sigma, channels))

        def blurred(images, number, seed):
            images = step(images, number, seed)
            return tf.cond((number + 1) % self.every == 0, lambda: gaussian_blur(images, kernel), lambda: images)

        return blurred


def jitter_shift(seed, step, pixels: int):
    """A random shift (rows, columns) in ``-pixels..pixels``, drawn from ``(seed, step)``: the same every run."""
    import tensorflow as tf

    return tf.random.stateless_uniform(
        [2], seed=tf.stack([seed, step]), minval=-pixels, maxval=pixels + 1, dtype=tf.int32
    )


def roll(images, shift):
    """Images (N, H, W, C) shifted by ``shift`` = (rows, columns), wrapping around the edges."""
    import tensorflow as tf

    return tf.roll(images, shift, axis=[1, 2])


def gaussian_kernel(sigma: float, channels: int) -> np.ndarray:
    """A depthwise Gaussian kernel (2r + 1, 2r + 1, channels, 1), r = ceil(2 sigma), summing to 1 per channel."""
    radius = max(1, int(np.ceil(2 * sigma)))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k1 = np.exp(-0.5 * (x / sigma) ** 2)
    k1 /= k1.sum()
    k2 = np.outer(k1, k1)
    return np.repeat(k2[:, :, None, None], channels, axis=2).astype(np.float32)


def gaussian_blur(images, kernel):
    """Images blurred by a :func:`gaussian_kernel`, edges reflected (the size is kept)."""
    import tensorflow as tf

    radius = kernel.shape[0] // 2
    padded = tf.pad(images, [[0, 0], [radius, radius], [radius, radius], [0, 0]], "REFLECT")
    return tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID")
