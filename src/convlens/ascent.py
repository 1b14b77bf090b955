"""The compiled gradient ascent behind :mod:`convlens.filters`: one ``tf.function`` per target and setting.

The ascent climbs an objective (:mod:`convlens.objectives`) of a :class:`Target` (a model, one
of its layers with filters, an input size: checked once, by :mod:`convlens.filters`), with the
lecture's RMS-normalized step (:class:`Step`, :func:`normalized_step`) wrapped by a list of
transforms (:mod:`convlens.transforms`), in the way of lucent's ``render``.

:func:`compiled_ascent` returns the compiled function that runs ascent steps on a batch where
element ``i`` is the image of filter ``indices[i]`` (each gradient normalized by its own RMS, so
each element follows the path it would follow alone); :func:`compiled_objective` the one that
gives each element's objective value. Both are cached per model (:func:`convlens.submodels.cached`),
under keys that hold every setting they use: the objective, the step and the transforms are
frozen, hashable dataclasses, so a call with other settings builds other functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .checks import batch_slices, check_number
from .errors import LayerSelectionError
from .layers import find_layer, is_conv_layer, is_pooling_layer
from .objectives import Objective
from .submodels import cached, quiet_tensorflow, truncated_model
from .transforms import Transform

if TYPE_CHECKING:
    import keras

__all__ = [
    "Step",
    "Target",
    "compiled_ascent",
    "compiled_objective",
    "feature_extractor",
    "layer_maps",
    "normalized_step",
    "run_ascent",
]


@dataclass(frozen=True, eq=False)
class Target:
    """What an ascent optimizes for: ``model``, its ``layer`` (a layer object) and the input ``size`` (pixels).

    Built once per call by :mod:`convlens.filters`, after checking the layer and the size; the
    functions here trust it. Not a cache key (it holds the model): :meth:`key` is.
    """

    model: Any
    layer: Any
    size: int

    @property
    def channels(self) -> int:
        """The input images' channels (3)."""
        return int(self.model.inputs[0].shape[-1])

    def key(self) -> tuple[str, int, int]:
        """What, besides the model, a compiled function for this target depends on."""
        return self.layer.name, self.size, self.channels


@dataclass(frozen=True)
class Step:
    """The lecture's step: the gradient divided by its RMS plus ``epsilon``, times ``size`` (0-1 units)."""

    size: float
    epsilon: float

    def __post_init__(self) -> None:
        check_number("step_size", self.size, minimum=0.0, allow_minimum=False)
        check_number("gradient_epsilon", self.epsilon, minimum=0.0)


def feature_extractor(model: keras.Model, layer_name: str, size: int | None = None, pre_activation: bool = False):
    """A callable: images -> the layer's feature maps (or its pre-activations), at ``size``, cached per model."""
    return layer_maps(model, find_layer(model, layer_name, "filters"), size, pre_activation)


def layer_maps(model: keras.Model, layer, size: int | None, pre_activation: bool = False):
    """:func:`feature_extractor` for a layer already found (a layer object, not a name)."""
    return cached(model, ("filter_features", layer.name, bool(pre_activation), size),
                  lambda: _build_maps(model, layer, size, bool(pre_activation)))


def _build_maps(model: keras.Model, layer, size: int | None, pre_activation: bool):
    if not pre_activation:
        return truncated_model(model, layer, size)
    conv, pool = layer, None
    if is_pooling_layer(layer):
        conv, pool = layer.input._keras_history.operation, layer  # max(relu(z)) = relu(max(z))
        if not is_conv_layer(conv):
            raise LayerSelectionError(
                f"A pre-activation objective needs pooling layer {layer.name!r} to follow a convolution; "
                f"it follows {conv.name!r} ({type(conv).__name__})."
            )
    below = truncated_model(model, conv, size, include=False)

    def pre_activation_maps(images, training=False):
        z = conv.convolution_op(below(images, training=training), conv.kernel)
        if conv.use_bias:
            z = z + conv.bias
        return pool(z) if pool is not None else z

    return pre_activation_maps


def normalized_step(images, grads, step_size: float, epsilon: float):
    """One ascent step: each element's gradient divided by its own RMS (plus ``epsilon``), times ``step_size``."""
    import tensorflow as tf

    rms = tf.sqrt(tf.reduce_mean(tf.square(grads), axis=[1, 2, 3], keepdims=True))
    return images + grads / (rms + epsilon) * step_size


def _values(target: Target, objective: Objective):
    """images, indices -> each element's objective value (N,), as a plain (traceable) function."""
    taps = {tap: layer_maps(target.model, target.layer, target.size, tap) for tap in sorted(objective.taps)}

    def values(images, indices):
        return objective({tap: maps(images, training=False) for tap, maps in taps.items()}, indices)

    return values


def _specs(target: Target):
    import tensorflow as tf

    return tf.TensorSpec([None, target.size, target.size, target.channels], tf.float32), tf.TensorSpec([None], tf.int32)


def compiled_objective(target: Target, objective: Objective):
    """A ``tf.function`` (images, indices) -> each element's ``objective`` value, cached per target."""
    import tensorflow as tf

    key = ("filter_objective", *target.key(), objective)
    return cached(target.model, key, lambda: tf.function(_values(target, objective), input_signature=_specs(target)))


def compiled_ascent(target: Target, objective: Objective, step: Step, transforms: Sequence[Transform] = (),
                    jit_compile: bool = False):
    """``ascend(images, indices, first_step, n_steps, seed)``: a ``tf.function`` for a batch, cached.

    Every number it uses comes from the arguments, all of them in the cache key.
    """
    key = ("filter_ascent", *target.key(), objective, step, tuple(transforms), bool(jit_compile))
    return cached(target.model, key, lambda: _build_ascent(target, objective, step, tuple(transforms),
                                                           bool(jit_compile)))


def _build_ascent(target: Target, objective: Objective, step: Step, transforms: tuple[Transform, ...],
                  jit_compile: bool):
    import tensorflow as tf

    values = _values(target, objective)
    batch, indices_spec = _specs(target)
    scalar = tf.TensorSpec([], tf.int32)

    @tf.function(input_signature=[batch, indices_spec, scalar, scalar, scalar], reduce_retracing=True,
                 jit_compile=jit_compile)
    def ascend(images, indices, first_step, n_steps, seed):
        def climb(images, number, seed):
            with tf.GradientTape() as tape:
                tape.watch(images)
                loss = tf.reduce_sum(values(images, indices))  # elements are independent
            return normalized_step(images, tape.gradient(loss, images), step.size, step.epsilon)

        one_step = climb
        for transform in transforms:
            one_step = transform.wrap(one_step, target.channels)
        _, images = tf.while_loop(
            lambda number, _: number < first_step + n_steps,
            lambda number, images: (number + 1, one_step(images, number, seed)),
            (first_step, images),
            shape_invariants=(first_step.shape, tf.TensorShape(batch.shape)),
        )
        return images

    return ascend


def run_ascent(ascend, images: np.ndarray, indices: np.ndarray, steps: int, seed: int, batch_size: int,
               callback=None, offset: int = 0, total: int | None = None) -> np.ndarray:
    """``steps`` of ``ascend`` on ``images`` (element ``i`` climbs filter ``indices[i]``), ``batch_size`` at a time.

    Without ``callback`` all steps of a batch run inside one compiled call; with it, one step per
    call, and ``callback(offset + done, total)`` after each (``total`` defaults to all steps here).
    """
    import tensorflow as tf

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
