"""The compiled gradient ascent behind :mod:`convlens.filters`: one ``tf.function`` per setting.

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

from .core import check_int, find_layer, is_conv_layer, is_pooling_layer
from .errors import ArgumentError, ArgumentTypeError, LayerSelectionError
from .submodels import cached, truncated_model

if TYPE_CHECKING:
    import keras

__all__ = ["ENGINE_OBJECTIVES", "AscentSettings", "ascent_settings", "compiled_ascent", "feature_extractor"]

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


def _gaussian_kernel(sigma: float, channels: int) -> np.ndarray:
    radius = max(1, int(np.ceil(2 * sigma)))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k1 = np.exp(-0.5 * (x / sigma) ** 2)
    k1 /= k1.sum()
    k2 = np.outer(k1, k1)
    return np.repeat(k2[:, :, None, None], channels, axis=2).astype(np.float32)


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
    if s.regularized:
        kernel = tf.constant(_gaussian_kernel(s.blur_sigma, channels))
        radius = kernel.shape[0] // 2

    def mean_activations(images, indices):
        features = extractor(images, training=False)
        chosen = tf.gather(features, indices, axis=-1, batch_dims=1)  # (N, h, w): each element's own filter
        return tf.reduce_mean(chosen, axis=[1, 2])

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, size, size, channels], tf.float32),
            tf.TensorSpec([None], tf.int32),
            tf.TensorSpec([], tf.int32),
            tf.TensorSpec([], tf.int32),
            tf.TensorSpec([], tf.int32),
        ],
        reduce_retracing=True,
        jit_compile=s.jit_compile,
    )
    def ascend(images, indices, first_step, n_steps, seed):
        def one_step(step, images):
            shift = tf.zeros([2], tf.int32)
            if s.regularized:  # a Python choice, fixed when the function is built
                shift = tf.random.stateless_uniform(
                    [2], seed=tf.stack([seed, step]), minval=-s.jitter_pixels, maxval=s.jitter_pixels + 1,
                    dtype=tf.int32,
                )
                images = tf.roll(images, shift, axis=[1, 2])
            with tf.GradientTape() as tape:
                tape.watch(images)
                loss = tf.reduce_sum(mean_activations(images, indices))  # elements are independent
            grads = tape.gradient(loss, images)
            rms = tf.sqrt(tf.reduce_mean(tf.square(grads), axis=[1, 2, 3], keepdims=True))  # each element's own
            images = images + grads / (rms + s.gradient_epsilon) * s.step_size
            if s.regularized:
                images = tf.roll(images, -shift, axis=[1, 2])
                images = tf.cond(
                    (step + 1) % s.blur_every == 0,
                    lambda: tf.nn.depthwise_conv2d(
                        tf.pad(images, [[0, 0], [radius, radius], [radius, radius], [0, 0]], "REFLECT"),
                        kernel, [1, 1, 1, 1], "VALID",
                    ),
                    lambda: images,
                )
            return step + 1, images

        _, images = tf.while_loop(
            lambda step, _: step < first_step + n_steps,
            one_step,
            (first_step, images),
            shape_invariants=(first_step.shape, tf.TensorShape([None, size, size, channels])),
        )
        return images

    mean_signature = [tf.TensorSpec([None, size, size, channels], tf.float32), tf.TensorSpec([None], tf.int32)]
    return ascend, tf.function(mean_activations, input_signature=mean_signature)
