"""The compiled gradient ascent behind :mod:`convlens.filters`: one ``tf.function`` per setting.

The ascent is made of small composable functions, each a step of the loop that the compiled
function calls (in the way of lucent's ``transform.py``): :func:`jitter_shift` and :func:`roll`
(shift the image before a step and back after it), :func:`normalized_step` (the lecture's
RMS-normalized gradient step) and :func:`gaussian_blur` (every few steps). A new regularizer is
one more such function.

:func:`compiled_ascent` returns two compiled functions for a layer, an input size and an
:class:`AscentSettings`: ``ascend`` runs gradient-ascent steps on a batch where element ``i`` is
the image of filter ``indices[i]`` (each gradient normalized by its own RMS, so each element
follows the path it would follow alone), and ``mean_activations`` gives each element's own
filter's mean activation. Every number they use is an argument and part of the cache key
(:func:`convlens.submodels.cached`): a call with other settings builds other functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .core import batch_slices, check_int, find_layer, is_conv_layer, is_pooling_layer
from .errors import ArgumentError, ArgumentTypeError, LayerSelectionError
from .submodels import cached, truncated_model

if TYPE_CHECKING:
    import keras

__all__ = [
    "ENGINE_OBJECTIVES",
    "AscentSettings",
    "ascent_settings",
    "compiled_ascent",
    "feature_extractor",
    "gaussian_blur",
    "gaussian_kernel",
    "jitter_shift",
    "normalized_step",
    "roll",
    "run_ascent",
]

ENGINE_OBJECTIVES = ("activation", "pre_activation")
"""What one compiled ascent can climb: the mean activation, or the mean value before the activation function."""


class AscentSettings(NamedTuple):
    """The numbers of one gradient ascent, all part of the key of its compiled function.

    Build it with :func:`ascent_settings` (checked); the lecture's values are the defaults of
    :func:`convlens.filters.filter_patterns`.
    """

    step_size: float
    gradient_epsilon: float
    regularized: bool
    jitter_pixels: int
    blur_sigma: float
    blur_every: int
    jit_compile: bool


def _positive(name: str, value, allow_zero: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ArgumentTypeError(f"{name} must be a number; got {value!r}.")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ArgumentError(f"{name} must be a finite number {'0 or more' if allow_zero else 'above 0'}; got {value}.")
    return value


def ascent_settings(
    step_size: float, gradient_epsilon: float, regularized: bool, jitter_pixels: int, blur_sigma: float,
    blur_every: int, jit_compile: bool = False,
) -> AscentSettings:
    """Checked :class:`AscentSettings`; jitter and blur are kept only when ``regularized`` (else unused)."""
    settings = AscentSettings(
        _positive("step_size", step_size), _positive("gradient_epsilon", gradient_epsilon, allow_zero=True),
        bool(regularized), check_int("jitter_pixels", jitter_pixels, 0), _positive("blur_sigma", blur_sigma),
        check_int("blur_every", blur_every, 1), bool(jit_compile),
    )
    if not regularized:
        settings = settings._replace(jitter_pixels=0, blur_sigma=0.0, blur_every=0)
    return settings


def feature_extractor(model: keras.Model, layer_name: str, objective: str = "activation", size: int | None = None):
    """A callable: images -> the layer's feature maps (or pre-activations), cached per model."""
    if objective not in ENGINE_OBJECTIVES:
        raise ArgumentError(f"Unknown objective {objective!r}; choose one of {', '.join(ENGINE_OBJECTIVES)}.")
    return cached(model, ("filter_features", layer_name, objective, size),
                  lambda: _build_feature_extractor(model, layer_name, objective, size))


def _build_feature_extractor(model: keras.Model, layer_name: str, objective: str, size: int | None):
    layer = find_layer(model, layer_name, "filters")
    if objective == "activation":
        return truncated_model(model, layer, size)
    conv, pool = layer, None
    if is_pooling_layer(layer):
        conv, pool = layer.input._keras_history.operation, layer  # max(relu(z)) = relu(max(z))
        if not is_conv_layer(conv):
            raise LayerSelectionError(
                f"objective='pre_activation' needs pooling layer {layer_name!r} to follow a convolution; "
                f"it follows {conv.name!r} ({type(conv).__name__})."
            )
    below = truncated_model(model, conv, size, include=False)

    def pre_activation(images, training=False):
        z = conv.convolution_op(below(images, training=training), conv.kernel)
        if conv.use_bias:
            z = z + conv.bias
        return pool(z) if pool is not None else z

    return pre_activation


# --------------------------------------------------------------------------- the transforms


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


def normalized_step(images, grads, step_size: float, epsilon: float):
    """One ascent step: each element's gradient divided by its own RMS (plus ``epsilon``), times ``step_size``."""
    import tensorflow as tf

    rms = tf.sqrt(tf.reduce_mean(tf.square(grads), axis=[1, 2, 3], keepdims=True))
    return images + grads / (rms + epsilon) * step_size


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


# --------------------------------------------------------------------------- the compiled loop


def compiled_ascent(
    model: keras.Model, layer_name: str, channels: int, objective: str, size: int, settings: AscentSettings
):
    """``(ascend, mean_activations)``: ``tf.function`` s for a batch (one filter per element), cached.

    Every number the functions use comes from the arguments, all of them in the cache key.
    """
    key = ("filter_ascent", layer_name, channels, objective, size, settings)
    return cached(model, key, lambda: _build_ascent(model, layer_name, channels, objective, size, settings))


def _build_ascent(model: keras.Model, layer_name: str, channels: int, objective: str, size: int, s: AscentSettings):
    import tensorflow as tf

    extractor = feature_extractor(model, layer_name, objective, size)
    kernel = tf.constant(gaussian_kernel(s.blur_sigma, channels)) if s.regularized else None

    def mean_activations(images, indices):
        features = extractor(images, training=False)
        chosen = tf.gather(features, indices, axis=-1, batch_dims=1)  # (N, h, w): each element's own filter
        return tf.reduce_mean(chosen, axis=[1, 2])

    def one_step(images, indices, step, seed):
        if s.regularized:  # a Python choice, fixed when the function is built
            shift = jitter_shift(seed, step, s.jitter_pixels)
            images = roll(images, shift)
        with tf.GradientTape() as tape:
            tape.watch(images)
            loss = tf.reduce_sum(mean_activations(images, indices))  # elements are independent
        images = normalized_step(images, tape.gradient(loss, images), s.step_size, s.gradient_epsilon)
        if s.regularized:
            images = roll(images, -shift)
            images = tf.cond((step + 1) % s.blur_every == 0, lambda: gaussian_blur(images, kernel), lambda: images)
        return images

    batch = tf.TensorSpec([None, size, size, channels], tf.float32)
    scalar = tf.TensorSpec([], tf.int32)

    @tf.function(input_signature=[batch, tf.TensorSpec([None], tf.int32), scalar, scalar, scalar],
                 reduce_retracing=True, jit_compile=s.jit_compile)
    def ascend(images, indices, first_step, n_steps, seed):
        _, images = tf.while_loop(
            lambda step, _: step < first_step + n_steps,
            lambda step, images: (step + 1, one_step(images, indices, step, seed)),
            (first_step, images),
            shape_invariants=(first_step.shape, tf.TensorShape([None, size, size, channels])),
        )
        return images

    return ascend, tf.function(mean_activations, input_signature=[batch, tf.TensorSpec([None], tf.int32)])


def run_ascent(ascend, images: np.ndarray, indices: np.ndarray, steps: int, seed: int, batch_size: int,
               callback=None, offset: int = 0, total: int | None = None) -> np.ndarray:
    """``steps`` of ``ascend`` on ``images`` (element ``i`` climbs filter ``indices[i]``), ``batch_size`` at a time.

    Without ``callback`` all steps of a batch run inside one compiled call; with it, one step per
    call, and ``callback(offset + done, total)`` after each (``total`` defaults to all steps here).
    """
    import tensorflow as tf

    from .submodels import quiet_tensorflow

    chunk = 1 if callback is not None else max(steps, 1)
    total = steps * len(indices) if total is None else total
    results, done = [], offset
    for rows in batch_slices(len(indices), batch_size):
        batch, batch_indices = tf.constant(images[rows]), tf.constant(indices[rows])
        for first in range(0, steps, chunk):
            n = min(chunk, steps - first)
            with quiet_tensorflow():
                batch = ascend(batch, batch_indices, tf.constant(first), tf.constant(n), tf.constant(seed))
            done += n * int(batch_indices.shape[0])
            if callback is not None:
                callback(done, total)
        results.append(batch.numpy())
    return np.concatenate(results)
