"""Class activation heatmaps (Grad-CAM and Grad-CAM++), batched and compiled, and their checks.

Arrays in, arrays out; nothing here draws (see :mod:`convlens.plotting.gradcam`).

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
:func:`imagenet_cats_vs_dogs`: "dog" is the ImageNet classes 151-268 (the dog breeds), "cat" the
classes 281-285 (tabby, tiger cat, Persian, Siamese, Egyptian cat); the dog logit is
``logsumexp(z[dog]) - logsumexp(z[cat])`` of the 1000 pre-softmax logits ``z``, which is exactly
the logit of ``P(dog) / (P(dog) + P(cat))`` summed over those classes.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

CAT_CLASSES: tuple[int, ...] = tuple(range(281, 286))
"""ImageNet class indices of cats: tabby, tiger cat, Persian cat, Siamese cat, Egyptian cat."""

DOG_CLASSES: tuple[int, ...] = tuple(range(151, 269))
"""ImageNet class indices of dogs: the 118 breeds from Chihuahua (151) to Mexican hairless (268)."""

METHODS: tuple[str, ...] = ("gradcam", "gradcam++")
"""The CAM methods of :func:`grad_cam`."""

VGG16_INPUT_SIZE = (224, 224)
_VGG16_BGR_MEAN = (103.939, 116.779, 123.68)

_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""model -> {(layer name, method): compiled function}; entries vanish with their model."""


class GradCamResult(NamedTuple):
    """Heatmaps and what they explain, for each photo of a batch."""

    heatmaps: np.ndarray
    """(N, h, w) in [0, 1] at the conv layer's resolution."""
    dog_probability: np.ndarray
    """(N,) the model's probability of "dog"."""
    class_index: np.ndarray
    """(N,) the class each heatmap explains (0 = cat, 1 = dog)."""


# --------------------------------------------------------------------------- layers and scores


def _is_conv(layer) -> bool:
    from keras import layers

    conv_types = (layers.Conv2D, layers.SeparableConv2D, layers.DepthwiseConv2D, layers.Conv2DTranspose)
    return isinstance(layer, conv_types)


def conv_layer_names(model) -> list[str]:
    """Names of the model's 2-D convolution layers, input to output."""
    return [layer.name for layer in model.layers if _is_conv(layer)]


def last_conv_layer(model) -> str:
    """Name of the last convolution layer (Grad-CAM's default), or a clear ``ValueError``."""
    names = conv_layer_names(model)
    if not names:
        raise ValueError(
            f"Model {model.name!r} has no convolution layer, so Grad-CAM has no feature maps to weight; "
            "use a convolutional model (its layers: " + ", ".join(layer.name for layer in model.layers) + ")."
        )
    return names[-1]


def _check_layer(model, layer: str | None) -> str:
    if layer is None:
        return last_conv_layer(model)
    names = conv_layer_names(model)
    all_names = [item.name for item in model.layers]
    if layer not in all_names:
        raise ValueError(
            f"Model {model.name!r} has no layer named {layer!r}; Grad-CAM needs one of its convolution layers: "
            + (", ".join(names) if names else "(none)")
            + "."
        )
    if layer not in names:
        kind = type(model.get_layer(layer)).__name__
        raise ValueError(
            f"Layer {layer!r} is a {kind} layer, not a convolution layer; Grad-CAM weights the feature maps of a "
            "convolution layer: choose one of " + (", ".join(names) if names else "(none: the model has none)") + "."
        )
    return layer


def _logit_head(model):
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
    raise ValueError(
        f"The last layer of {model.name!r} is {type(last).__name__} {last.name!r}; this module explains cats-vs-dogs "
        "models whose last layer is Dense(1, activation='sigmoid') (probability of 'dog') or an ImageNet classifier "
        "wrapped with imagenet_cats_vs_dogs()."
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


def _compiled(model, layer: str, method: str):
    import keras
    import tensorflow as tf

    per_model = _COMPILED.setdefault(model, {})
    key = (layer, method)
    if key in per_model:
        return per_model[key]
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

    per_model[key] = explain
    return explain


def _as_batch(model, images) -> np.ndarray:
    array = np.asarray(images, dtype=np.float32)
    if array.ndim == 3:
        array = array[None]
    expected = tuple(model.inputs[0].shape[1:])
    if array.ndim != 4 or tuple(array.shape[1:]) != expected:
        raise ValueError(
            f"Expected images of shape (N, {', '.join(map(str, expected))}) for model {model.name!r}, "
            f"got {array.shape}; "
            "load photos with convlens.data.load_image or load_split_arrays."
        )
    return array


def _class_array(class_index, count: int) -> np.ndarray:
    if class_index is None:
        return np.full(count, -1, dtype=np.int32)
    values = np.broadcast_to(np.asarray(class_index), (count,)).astype(np.int64)
    if not np.all((values == 0) | (values == 1)):
        raise ValueError(f"class_index must be 0 (cat), 1 (dog) or None (the predicted class); got {class_index!r}.")
    return values.astype(np.int32)


def grad_cam_details(
    model, images, layer: str | None = None, class_index=None, method: str = "gradcam", batch_size: int = 32
) -> GradCamResult:
    """Heatmaps of ``images`` with the dog probability and the class each map explains.

    ``class_index``: None (each photo's predicted class), 0 (cat), 1 (dog), or one value per photo.
    ``layer``: a convolution layer's name, by default the last one. ``method``: "gradcam" or "gradcam++".
    Photos go through one compiled function (``tf.function``) ``batch_size`` at a time.
    """
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    layer = _check_layer(model, layer)
    batch = _as_batch(model, images)
    classes = _class_array(class_index, len(batch))
    explain = _compiled(model, layer, method)
    maps, probs, chosen = [], [], []
    for start in range(0, len(batch), batch_size):
        cam, prob, cls = explain(batch[start : start + batch_size], classes[start : start + batch_size])
        maps.append(cam.numpy())
        probs.append(prob.numpy())
        chosen.append(cls.numpy())
    if not maps:
        shape = tuple(model.get_layer(layer).output.shape[1:3])
        return GradCamResult(np.zeros((0, *shape), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32))
    return GradCamResult(np.concatenate(maps), np.concatenate(probs), np.concatenate(chosen))


def grad_cam(
    model, images, layer: str | None = None, class_index=None, method: str = "gradcam", batch_size: int = 32
) -> np.ndarray:
    """Grad-CAM heatmaps (N, h, w) in [0, 1] of a batch of photos (N, H, W, 3) in [0, 1].

    The gradient of the class score (the logit for "dog", its negative for "cat", see the
    module docstring) with respect to ``layer``'s feature maps, spatially averaged, weights
    the maps; their weighted sum goes through a ReLU and is divided by its maximum.
    """
    return grad_cam_details(model, images, layer, class_index, method, batch_size).heatmaps


def reference_grad_cam(
    model, image: np.ndarray, layer: str | None = None, class_index: int | None = None
) -> np.ndarray:
    """The common tutorials' Grad-CAM, one photo, eager: the benchmark's and the tests' reference.

    As in the Keras example "Grad-CAM class activation visualization", the gradient sub-model is
    rebuilt on every call and everything runs eagerly; the class score is the same logit as in
    :func:`grad_cam` (so the heatmaps must agree), and a zero map stays zero instead of 0/0.
    """
    import keras
    import tensorflow as tf

    layer = _check_layer(model, layer)
    head = _logit_head(model)
    grad_model = keras.Model(model.inputs[0], [model.get_layer(layer).output, model.layers[-1].input])
    with tf.GradientTape() as tape:
        fmap, features = grad_model(np.asarray(image, np.float32)[None] if np.ndim(image) == 3 else image)
        logit = head(features)[0]
        chosen = int(logit >= 0) if class_index is None else int(class_index)
        score = logit if chosen == 1 else -logit
    grads = tape.gradient(score, fmap)
    pooled = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.squeeze(fmap[0] @ pooled[..., tf.newaxis], axis=-1)
    heatmap = tf.maximum(heatmap, 0.0)
    peak = tf.reduce_max(heatmap)
    return (heatmap / peak).numpy() if float(peak) > 0 else np.zeros(heatmap.shape, np.float32)


# --------------------------------------------------------------------------- predictions


def predict_dog(model, images, batch_size: int = 100) -> np.ndarray:
    """The model's probability of "dog" for each photo, computed ``batch_size`` photos at a time."""
    import tensorflow as tf

    batch = _as_batch(model, images)
    per_model = _COMPILED.setdefault(model, {})
    if "predict" not in per_model:
        shape = tuple(model.inputs[0].shape[1:])

        @tf.function(input_signature=[tf.TensorSpec((None, *shape), tf.float32)])
        def forward(x):
            return tf.reshape(model(x, training=False), (-1,))

        per_model["predict"] = forward
    forward = per_model["predict"]
    out = [forward(batch[start : start + batch_size]).numpy() for start in range(0, len(batch), batch_size)]
    return np.concatenate(out) if out else np.zeros(0, np.float32)


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
        raise ValueError(f"dog_probability {p.shape} and labels {labels.shape} must have the same shape.")
    predicted = (p >= 0.5).astype(labels.dtype)
    confidence = np.maximum(p, 1.0 - p)
    order = np.lexsort((np.arange(len(p)), -confidence))  # most confident first, then by index
    correct = order[predicted[order] == labels[order]][:count]
    wrong = order[predicted[order] != labels[order]][:count]
    return correct, wrong


# --------------------------------------------------------------------------- ImageNet classifiers


def _imagenet_head_class():
    import keras
    from keras import ops

    class _Head(keras.layers.Layer):
        """P(dog) from an ImageNet classifier's last Dense layer, dog vs cat classes (see the module)."""

        is_cat_dog_head = True

        def __init__(self, dense, cat_classes=CAT_CLASSES, dog_classes=DOG_CLASSES, **kwargs):
            super().__init__(**kwargs)
            self.dense = dense
            self.cat_classes = list(cat_classes)
            self.dog_classes = list(dog_classes)

        def logit(self, x):
            z = ops.matmul(x, self.dense.kernel)
            if self.dense.use_bias:
                z = z + self.dense.bias
            dog = ops.logsumexp(ops.take(z, self.dog_classes, axis=1), axis=1)
            cat = ops.logsumexp(ops.take(z, self.cat_classes, axis=1), axis=1)
            return dog - cat

        def call(self, x):
            return ops.expand_dims(ops.sigmoid(self.logit(x)), -1)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], 1)

    return _Head


def _head_cls():
    global _HEAD_CLS
    if _HEAD_CLS is None:
        _HEAD_CLS = _imagenet_head_class()
    return _HEAD_CLS


_HEAD_CLS = None


def imagenet_cats_vs_dogs(
    classifier, cat_classes: Sequence[int] = CAT_CLASSES, dog_classes: Sequence[int] = DOG_CLASSES
):
    """A cats-vs-dogs model from an ImageNet classifier such as ``convlens.models.vgg16(include_top=True)``.

    The new model takes the book's photos (150 x 150, values in [0, 1]), resizes them to the
    classifier's input size, applies VGG16's preprocessing (RGB -> BGR, ImageNet mean subtracted
    from 0-255 values), runs the classifier's layers (copies with the same weights) and ends
    with the probability of "dog" among the dog and cat classes (module docstring). Its layers are
    flat, so its convolution layers (``block5_conv3`` ...) are visible to :func:`grad_cam`.
    Each layer is copied with its weights; the classifier itself can be dropped afterwards.
    """
    import keras
    from keras import layers, ops

    from .data import IMAGE_SIZE

    chain = classifier.layers[1:]
    if not chain or not isinstance(chain[-1], layers.Dense) or chain[-1].units < max(*cat_classes, *dog_classes) + 1:
        raise ValueError(
            f"{classifier.name!r} does not end with an ImageNet Dense layer of 1000 classes; pass the classifier "
            "with its top, e.g. convlens.models.vgg16(include_top=True)."
        )
    target = tuple(classifier.inputs[0].shape[1:3])
    inputs = keras.Input(shape=(*IMAGE_SIZE, 3), name="image")
    x = layers.Resizing(*target, interpolation="bilinear", name="resize_to_classifier")(inputs)
    mean = np.asarray(_VGG16_BGR_MEAN, dtype=np.float32)
    x = layers.Lambda(lambda t: ops.flip(t, axis=-1) * 255.0 - mean, name="vgg16_preprocess")(x)
    for layer in chain[:-1]:
        # A fresh copy of each layer (same config, same weights) so that its output tensors belong to
        # this model's graph, which Grad-CAM's sub-models need; memory is briefly doubled.
        copy = type(layer).from_config(layer.get_config())
        x = copy(x)
        copy.set_weights(layer.get_weights())
    dense = type(chain[-1]).from_config(chain[-1].get_config())
    dense.build(tuple(x.shape))
    dense.set_weights(chain[-1].get_weights())
    outputs = _head_cls()(dense, cat_classes, dog_classes, name="cat_vs_dog")(x)
    return keras.Model(inputs, outputs, name=f"{classifier.name}_cats_vs_dogs")


# --------------------------------------------------------------------------- checks


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


def rank_correlation(maps_a: np.ndarray, maps_b: np.ndarray) -> np.ndarray:
    """Spearman rank correlation between paired heatmaps, one value per photo (NaN if a map is constant)."""
    from scipy.stats import spearmanr

    a = np.asarray(maps_a, dtype=np.float64).reshape(len(maps_a), -1)
    b = np.asarray(maps_b, dtype=np.float64).reshape(len(maps_b), -1)
    if a.shape != b.shape:
        raise ValueError(
            f"Heatmaps to compare must have the same shapes, got {np.shape(maps_a)} and {np.shape(maps_b)}."
        )
    out = np.full(len(a), np.nan)
    for i in range(len(a)):
        if np.ptp(a[i]) > 0 and np.ptp(b[i]) > 0:
            out[i] = spearmanr(a[i], b[i]).statistic
    return out


def randomized_copy(model, seed: int = 0):
    """The same architecture with freshly initialised weights (Adebayo et al.'s model randomization)."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.models.clone_model(model)


def deletion_curve(
    model,
    images: np.ndarray,
    heatmaps: np.ndarray | None,
    class_index,
    fractions: Sequence[float] = tuple(np.linspace(0.0, 1.0, 11)),
    fill: float = 0.0,
    seed: int = 0,
    batch_size: int = 100,
    per_photo: bool = False,
) -> np.ndarray:
    """Mean probability of ``class_index`` as growing fractions of pixels are set to ``fill``.

    Pixels are blanked from the highest heatmap value down (``heatmaps`` at any resolution,
    upsampled to the photo); the control is :func:`random_heatmaps` of the same grid size, or a
    pixel-by-pixel random order when ``heatmaps`` is None.
    Returns an array with one mean class probability per fraction, or with ``per_photo`` one row
    per photo (N, fractions). A faithful heatmap makes the curve fall faster than the random one:
    a smaller area under it (:func:`curve_area`).
    """
    batch = _as_batch(model, images)
    count, height, width = batch.shape[:3]
    classes = _class_array(class_index, count)
    if np.any(classes < 0):
        raise ValueError("deletion_curve needs the class to follow: 0 (cat) or 1 (dog) per photo.")
    pixels = height * width
    if heatmaps is None:
        rng = np.random.default_rng(seed)
        ranks = np.stack([rng.permutation(pixels) for _ in range(count)])
    else:
        full = upsample(heatmaps, (height, width)).reshape(count, pixels)
        order = np.argsort(-full, axis=1, kind="stable")  # most important pixel first
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(pixels)[None].repeat(count, 0), axis=1)
    ranks = ranks.reshape(count, height, width, 1)
    columns = []
    for fraction in fractions:
        removed = ranks < int(round(float(fraction) * pixels))
        blanked = np.where(removed, np.float32(fill), batch)
        p_dog = predict_dog(model, blanked, batch_size)
        columns.append(np.where(classes == 1, p_dog, 1.0 - p_dog))
    curves = np.stack(columns, axis=1).astype(np.float64)
    return curves if per_photo else curves.mean(axis=0)


def random_heatmaps(count: int, shape: Sequence[int], seed: int = 0) -> np.ndarray:
    """Uniform random heatmaps (count, h, w): the control order for :func:`deletion_curve`.

    At the same grid size as the real heatmaps and upsampled the same way, they blank pixels in
    blobs of the same size, in a random place; a pixel-by-pixel random order (``heatmaps=None``)
    would instead sprinkle black dots everywhere, which is a much harsher change to a photo.
    """
    return np.random.default_rng(seed).random((int(count), *map(int, shape))).astype(np.float32)


def curve_area(fractions: Sequence[float], values) -> float | np.ndarray:
    """Area under a curve by the trapezoidal rule (the deletion AUC: lower is more faithful).

    ``values`` may hold one curve or one per row (then one area per row is returned).
    """
    x = np.asarray(fractions, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    areas = np.sum((x[1:] - x[:-1]) * (y[..., 1:] + y[..., :-1]) / 2.0, axis=-1)
    return float(areas) if y.ndim == 1 else areas


def paired_sign_test(smaller: np.ndarray, larger: np.ndarray) -> tuple[int, int, float]:
    """How many pairs have ``smaller < larger``, out of how many unequal pairs, and the one-sided sign-test p.

    Used on per-photo deletion areas: a heatmap passes when its areas are lower than the random
    order's on clearly more than half of the photos (p < 0.05), not merely on average.
    """
    from scipy.stats import binomtest

    a, b = np.asarray(smaller, dtype=np.float64), np.asarray(larger, dtype=np.float64)
    wins, ties = int(np.sum(a < b)), int(np.sum(a == b))
    trials = len(a) - ties
    p_value = float(binomtest(wins, trials, 0.5, alternative="greater").pvalue) if trials else 1.0
    return wins, trials, p_value
