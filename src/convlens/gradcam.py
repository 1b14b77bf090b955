"""Class activation heatmaps (Grad-CAM and Grad-CAM++), batched and compiled.

Arrays in, arrays out; nothing here draws (see :mod:`convlens.plotting.gradcam`). A CAM method is
its channel weights alone (:data:`METHODS`: :func:`gradcam_weights`, :func:`gradcam_plus_plus_weights`);
:func:`weighted_cam` turns weights and maps into the heatmap for all of them. The chapter's readable
cell is the plain one-photo version that the tests hold :func:`grad_cam` to. What is measured on the
heatmaps (their spread, randomization and deletion checks) is :mod:`convlens.measures.heatmaps`.

Class handling for the book's cats-vs-dogs models, whose last layer is ``Dense(1, sigmoid)``
giving the probability of "dog" (label 1; "cat" is label 0):

* the score explained for "dog" is the **logit**, the value *before* the sigmoid. It is computed
  here as ``x @ kernel + bias`` of the last Dense layer, where ``x`` is that layer's input tensor
  (a functional sub-model from ``model.inputs`` to ``last_layer.input``); the model itself is not
  modified or cloned. Gradients through a saturated sigmoid vanish (``p = 0.9999`` has a slope of
  ``1e-4``) and give blank heatmaps; the logit's gradient does not;
* the score for "cat" is the negative logit (``logit(1 - p) = -logit(p)``);
* by default (``class_index=None``) each photo's heatmap explains its predicted class.

ImageNet classifiers (VGG16 with its top) become cats-vs-dogs models with
:func:`convlens.adapters.imagenet_cats_vs_dogs`, whose last layer gives this module its logit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .checks import as_batch, batch_slices
from .errors import ArgumentError, ArgumentTypeError
from .layers import find_layer, select_layers
from .submodels import cached

if TYPE_CHECKING:
    import keras

__all__ = [
    "METHODS",
    "GradCamResult",
    "best_and_worst",
    "check_classes",
    "grad_cam",
    "grad_cam_details",
    "gradcam_plus_plus_weights",
    "gradcam_weights",
    "last_conv_layer",
    "logit_head",
    "predict_dog",
    "upsample",
    "weighted_cam",
]


class GradCamResult(NamedTuple):
    """Heatmaps and what they explain, for each photo of a batch."""

    heatmaps: np.ndarray
    """(N, h, w) in [0, 1] at the conv layer's resolution."""
    dog_probability: np.ndarray
    """(N,) the model's probability of "dog"."""
    class_index: np.ndarray
    """(N,) the class each heatmap explains (0 = cat, 1 = dog)."""


# --------------------------------------------------------------------------- layers and scores


def last_conv_layer(model: keras.Model) -> str:
    """Name of the last convolution layer (Grad-CAM's default), or a clear error listing the model's layers."""
    return select_layers(model, None, "convolution")[-1].name


def _check_layer(model: keras.Model, layer: str | None) -> str:
    return last_conv_layer(model) if layer is None else find_layer(model, layer, "convolution").name


def logit_head(model: keras.Model):
    """A function from the last layer's input tensor to the dog logit (N,), see the module docstring."""
    import keras
    from keras import ops

    last = model.layers[-1]
    if getattr(last, "is_cat_dog_head", False):
        return last.logit
    if (
        isinstance(last, keras.layers.Dense)
        and last.units == 1
        and getattr(last.activation, "__name__", "") == "sigmoid"
    ):

        def logit(x):
            z = ops.matmul(x, last.kernel)
            if last.use_bias:
                z = z + last.bias
            return z[:, 0]

        return logit
    raise ArgumentError(
        f"The last layer of {model.name!r} is {type(last).__name__} {last.name!r}; this module explains cats-vs-dogs "
        "models whose last layer is Dense(1, activation='sigmoid') (probability of 'dog') or an ImageNet classifier "
        "wrapped with convlens.adapters.imagenet_cats_vs_dogs()."
    )



# --------------------------------------------------------------------------- CAM methods


def gradcam_weights(fmap, grads):
    """Grad-CAM's channel weights (Selvaraju et al. 2017): the gradient averaged over the positions, (N, K)."""
    import tensorflow as tf

    return tf.reduce_mean(grads, axis=(1, 2))


def gradcam_plus_plus_weights(fmap, grads):
    """Grad-CAM++'s channel weights (Chattopadhyay et al. 2018), closed form for an exponential of the score.

    Each position's positive gradient is weighted by ``alpha = g^2 / (2 g^2 + sum(A) g^3)``, so that
    a channel firing on a small part of the photo counts as much as one firing on a large part.
    """
    import tensorflow as tf

    grads_2 = tf.square(grads)
    denominator = 2.0 * grads_2 + tf.reduce_sum(fmap, axis=(1, 2), keepdims=True) * (grads_2 * grads)
    alphas = grads_2 / tf.where(denominator != 0.0, denominator, tf.ones_like(denominator))
    return tf.reduce_sum(alphas * tf.nn.relu(grads), axis=(1, 2))


METHODS: dict[str, Callable] = {"gradcam": gradcam_weights, "gradcam++": gradcam_plus_plus_weights}
"""The CAM methods of :func:`grad_cam`, by name: each is its channel weights ``(fmap, grads) -> (N, K)``,
and :func:`weighted_cam` does the rest the same way for all."""


def weighted_cam(fmap, weights):
    """The class activation map of feature maps (N, h, w, K) and channel weights (N, K): (N, h, w) in [0, 1].

    The weighted sum of the maps, its ReLU (positive evidence only), divided by its maximum; a map
    that is zero everywhere (a constant photo: zero gradients) stays zero, never NaN.
    """
    import tensorflow as tf

    cam = tf.nn.relu(tf.einsum("nhwc,nc->nhw", fmap, weights))
    return tf.math.divide_no_nan(cam, tf.reduce_max(cam, axis=(1, 2), keepdims=True))


# --------------------------------------------------------------------------- compiled Grad-CAM


def _compiled(model: keras.Model, layer: str, method: str):
    """The compiled CAM of ``layer`` with ``method``, from the one per-model cache."""
    return cached(model, ("grad_cam", layer, method), lambda: _build_compiled(model, layer, METHODS[method]))


def _build_compiled(model: keras.Model, layer: str, channel_weights: Callable):
    import keras
    import tensorflow as tf

    head = logit_head(model)
    sub_model = keras.Model(model.inputs[0], [model.get_layer(layer).output, model.layers[-1].input])
    input_shape = tuple(model.inputs[0].shape[1:])

    @tf.function(input_signature=[tf.TensorSpec((None, *input_shape), tf.float32), tf.TensorSpec((None,), tf.int32)])
    def explain(images, class_index):
        # class_index: 0 = cat, 1 = dog, -1 = the predicted class.
        with tf.GradientTape() as tape:
            fmap, features = sub_model(images, training=False)
            logit = head(features)
            predicted = tf.cast(logit >= 0.0, tf.int32)
            chosen = tf.where(class_index < 0, predicted, class_index)
            sign = tf.cast(2 * chosen - 1, logit.dtype)
            score = tf.reduce_sum(sign * logit)  # photos are independent: the sum's gradient is per photo
        grads = tape.gradient(score, fmap)
        return weighted_cam(fmap, channel_weights(fmap, grads)), tf.sigmoid(logit), chosen

    return explain


def check_classes(class_index, count: int) -> np.ndarray:
    """``class_index`` (None, 0, 1, or one 0/1 per photo) as ``count`` int32 values; -1 stands for "predicted".

    The one class check of the cats-vs-dogs techniques (Grad-CAM, the deletion check).
    """
    if class_index is None:
        return np.full(count, -1, dtype=np.int32)
    message = (
        "class_index must be 0 (cat), 1 (dog), None (each photo's predicted class) or one 0/1 integer per photo; "
        f"got {class_index!r}."
    )
    values = np.asarray(class_index)
    if values.dtype != bool and not np.issubdtype(values.dtype, np.integer):
        raise ArgumentTypeError(message)
    try:
        values = np.broadcast_to(values, (count,)).astype(np.int64)
    except ValueError:
        raise ArgumentError(f"{message} ({count} photos, {values.size} class indices)") from None
    if not np.all((values == 0) | (values == 1)):
        raise ArgumentError(message)
    return values.astype(np.int32)



def grad_cam_details(
    model: keras.Model,
    images,
    layer: str | None = None,
    class_index=None,
    method: str = "gradcam",
    batch_size: int = 32,
) -> GradCamResult:
    """Heatmaps (N, h, w) in [0, 1] of photos (N, H, W, 3) in [0, 1], with the dog probability and the class explained.

    The gradient of the class score (the logit for "dog", its negative for "cat", see the module
    docstring) with respect to ``layer``'s feature maps gives the channel weights of ``method``
    (:data:`METHODS`); :func:`weighted_cam` makes the map. ``class_index``: None (each photo's
    predicted class), 0 (cat), 1 (dog), or one value per photo. ``layer``: a convolution layer's
    name, by default the last one. Photos go through one compiled function ``batch_size`` at a time.
    """
    if method not in METHODS:
        raise ArgumentError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    layer = _check_layer(model, layer)
    batch = as_batch(images, model)
    classes = check_classes(class_index, len(batch))
    explain = _compiled(model, layer, method)
    maps, probs, chosen = [], [], []
    for rows in batch_slices(len(batch), batch_size):
        cam, prob, cls = explain(batch[rows], classes[rows])
        maps.append(cam.numpy())
        probs.append(prob.numpy())
        chosen.append(cls.numpy())
    return GradCamResult(np.concatenate(maps), np.concatenate(probs), np.concatenate(chosen))


def grad_cam(model: keras.Model, images, layer: str | None = None, class_index=None, method: str = "gradcam",
             batch_size: int = 32) -> np.ndarray:
    """The heatmaps (N, h, w) of :func:`grad_cam_details`, without the probabilities and classes."""
    return grad_cam_details(model, images, layer, class_index, method, batch_size).heatmaps


# --------------------------------------------------------------------------- predictions


def predict_dog(model: keras.Model, images, batch_size: int = 100) -> np.ndarray:
    """The model's probability of "dog" for each photo, computed ``batch_size`` photos at a time."""
    import tensorflow as tf

    batch = as_batch(images, model)

    def build():
        shape = tuple(model.inputs[0].shape[1:])

        @tf.function(input_signature=[tf.TensorSpec((None, *shape), tf.float32)])
        def forward(x):
            return tf.reshape(model(x, training=False), (-1,))

        return forward

    forward = cached(model, ("predict_dog",), build)
    return np.concatenate([forward(batch[rows]).numpy() for rows in batch_slices(len(batch), batch_size)])


def best_and_worst(
    dog_probability: np.ndarray, labels: np.ndarray, count: int = 6
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the ``count`` most confident correct and the ``count`` most confident wrong predictions.

    Confidence is the probability the model gives its predicted class (``max(p, 1 - p)``); ties are
    broken by index, so the choice is reproducible. Fewer than ``count`` wrong ones are returned when
    the model makes fewer mistakes.
    """
    p = np.asarray(dog_probability, dtype=np.float64)
    labels = np.asarray(labels)
    if p.shape != labels.shape:
        raise ArgumentError(f"dog_probability {p.shape} and labels {labels.shape} must have the same shape.")
    predicted = (p >= 0.5).astype(labels.dtype)
    confidence = np.maximum(p, 1.0 - p)
    order = np.lexsort((np.arange(len(p)), -confidence))  # most confident first, then by index
    correct = order[predicted[order] == labels[order]][:count]
    wrong = order[predicted[order] != labels[order]][:count]
    return correct, wrong



# --------------------------------------------------------------------------- heatmaps


def upsample(heatmaps: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """Heatmaps (N, h, w) or (h, w) resized bilinearly to ``size`` = (height, width), kept in [0, 1]."""
    import tensorflow as tf

    from .checks import check_size

    maps = as_batch(heatmaps, unit_range=False, what="heatmaps", item_ndim=2)
    height, width = check_size(size, "size")
    resized = tf.image.resize(maps[..., None], (height, width), method="bilinear").numpy()[..., 0]
    resized = np.clip(resized, 0.0, 1.0)
    return resized[0] if np.ndim(heatmaps) == 2 else resized
