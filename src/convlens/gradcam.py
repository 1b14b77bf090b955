"""Class activation heatmaps (Grad-CAM and Grad-CAM++), batched and compiled.

Arrays in, arrays out; nothing here draws (see :mod:`convlens.plotting.gradcam`). The checks of
the heatmaps (randomisation, deletion) are in :mod:`convlens.checks`.

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

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .core import as_batch, batch_slices, cached, find_layer, select_layers
from .errors import ArgumentError, ArgumentTypeError

if TYPE_CHECKING:
    import keras

__all__ = [
    "METHODS",
    "GradCamResult",
    "best_and_worst",
    "grad_cam",
    "grad_cam_details",
    "last_conv_layer",
    "predict_dog",
    "reference_grad_cam",
    "upsample",
]

METHODS: tuple[str, ...] = ("gradcam", "gradcam++")
"""The CAM methods of :func:`grad_cam`."""


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


def _logit_head(model: keras.Model):
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



# --------------------------------------------------------------------------- compiled Grad-CAM


def _cam_from(fmap, grads, method: str):
    """Weighted sum of feature maps (N, h, w, c) -> ReLU -> per-photo max-normalised maps (N, h, w)."""
    import tensorflow as tf

    if method == "gradcam":
        weights = tf.reduce_mean(grads, axis=(1, 2))
    else:  # Grad-CAM++ (Chattopadhyay et al. 2018), closed form for an exponential of the score
        grads_2 = tf.square(grads)
        grads_3 = grads_2 * grads
        sum_a = tf.reduce_sum(fmap, axis=(1, 2), keepdims=True)
        denominator = 2.0 * grads_2 + sum_a * grads_3
        denominator = tf.where(denominator != 0.0, denominator, tf.ones_like(denominator))
        alphas = grads_2 / denominator
        weights = tf.reduce_sum(alphas * tf.nn.relu(grads), axis=(1, 2))
    cam = tf.nn.relu(tf.einsum("nhwc,nc->nhw", fmap, weights))
    peak = tf.reduce_max(cam, axis=(1, 2), keepdims=True)
    # A photo whose map is zero everywhere (e.g. a constant image: zero gradients) stays zero, never NaN.
    return tf.math.divide_no_nan(cam, peak)


def _compiled(model: keras.Model, layer: str, method: str):
    """The compiled Grad-CAM of ``layer`` with ``method``, from the one per-model cache."""
    return cached(model, ("grad_cam", layer, method), lambda: _build_compiled(model, layer, method))


def _build_compiled(model: keras.Model, layer: str, method: str):
    import keras
    import tensorflow as tf

    head = _logit_head(model)
    sub_model = keras.Model(model.inputs[0], [model.get_layer(layer).output, model.layers[-1].input])
    input_shape = tuple(model.inputs[0].shape[1:])

    @tf.function(
        input_signature=[
            tf.TensorSpec((None, *input_shape), tf.float32),
            tf.TensorSpec((None,), tf.int32),
        ]
    )
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
        return _cam_from(fmap, grads, method), tf.sigmoid(logit), chosen

    return explain



def _class_array(class_index, count: int) -> np.ndarray:
    """``class_index`` (None, 0, 1, or one per photo) as an int32 array of ``count`` values (-1: predicted)."""
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
    """Heatmaps of ``images`` with the dog probability and the class each map explains.

    ``class_index``: None (each photo's predicted class), 0 (cat), 1 (dog), or one value per photo.
    ``layer``: a convolution layer's name, by default the last one. ``method``: "gradcam" or "gradcam++".
    Photos go through one compiled function (``tf.function``) ``batch_size`` at a time.
    """
    if method not in METHODS:
        raise ArgumentError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    layer = _check_layer(model, layer)
    batch = as_batch(images, model)
    classes = _class_array(class_index, len(batch))
    explain = _compiled(model, layer, method)
    maps, probs, chosen = [], [], []
    for rows in batch_slices(len(batch), batch_size):
        cam, prob, cls = explain(batch[rows], classes[rows])
        maps.append(cam.numpy())
        probs.append(prob.numpy())
        chosen.append(cls.numpy())
    return GradCamResult(np.concatenate(maps), np.concatenate(probs), np.concatenate(chosen))


def grad_cam(
    model: keras.Model,
    images,
    layer: str | None = None,
    class_index=None,
    method: str = "gradcam",
    batch_size: int = 32,
) -> np.ndarray:
    """Grad-CAM heatmaps (N, h, w) in [0, 1] of a batch of photos (N, H, W, 3) in [0, 1].

    The gradient of the class score (the logit for "dog", its negative for "cat", see the
    module docstring) with respect to ``layer``'s feature maps, spatially averaged, weights
    the maps; their weighted sum goes through a ReLU and is divided by its maximum.
    """
    return grad_cam_details(model, images, layer, class_index, method, batch_size).heatmaps


def reference_grad_cam(
    model: keras.Model, image: np.ndarray, layer: str | None = None, class_index: int | None = None
) -> np.ndarray:
    """The common tutorials' Grad-CAM, one photo, eager: the benchmark's and the tests' reference.

    As in the Keras example "Grad-CAM class activation visualization", the gradient sub-model is
    rebuilt on every call and everything runs eagerly; the class score is the same logit as in
    :func:`grad_cam` (so the heatmaps must agree), and a zero map stays zero instead of 0/0.
    """
    import keras
    import tensorflow as tf

    layer = _check_layer(model, layer)
    batch = as_batch(image, model)[:1]
    (class_index,) = _class_array(class_index, 1).tolist()
    head = _logit_head(model)
    grad_model = keras.Model(model.inputs[0], [model.get_layer(layer).output, model.layers[-1].input])
    with tf.GradientTape() as tape:
        fmap, features = grad_model(batch)
        logit = head(features)[0]
        chosen = int(logit >= 0) if class_index < 0 else class_index
        score = logit if chosen == 1 else -logit
    grads = tape.gradient(score, fmap)
    pooled = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.squeeze(fmap[0] @ pooled[..., tf.newaxis], axis=-1)
    heatmap = tf.maximum(heatmap, 0.0)
    peak = tf.reduce_max(heatmap)
    return (heatmap / peak).numpy() if float(peak) > 0 else np.zeros(heatmap.shape, np.float32)



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

    maps = np.asarray(heatmaps, dtype=np.float32)
    single = maps.ndim == 2
    if single:
        maps = maps[None]
    resized = tf.image.resize(maps[..., None], (int(size[0]), int(size[1])), method="bilinear").numpy()[..., 0]
    resized = np.clip(resized, 0.0, 1.0)
    return resized[0] if single else resized
