"""Model adapters: other classifiers made to take this book's inputs and answer its question.

* :func:`scaled_input`: a model that works on 0-255 pixel values (Keras' VGG16) behind a
  ``Rescaling`` layer, so that it takes this book's [0, 1] inputs (chapter 3's VGG16 patterns).
* :func:`imagenet_cats_vs_dogs`: an ImageNet classifier that gives logits (VGG16 with its top,
  built with ``classifier_activation=None`` as :func:`convlens.models.vgg16` does) as a
  cats-vs-dogs model. "Dog" is the ImageNet classes 151-268 (the dog breeds), "cat" the classes
  281-285 (tabby, tiger cat, Persian, Siamese, Egyptian cat); the dog logit is
  ``logsumexp(z[dog]) - logsumexp(z[cat])`` of the 1000 logits ``z``, which is exactly the logit
  of ``P(dog) / (P(dog) + P(cat))`` summed over those classes. Its last layer has a ``logit``
  method that :mod:`convlens.gradcam` explains (chapter 4's second model).

Both return new functional models; the wrapped model is not modified.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .errors import ArgumentError

if TYPE_CHECKING:
    import keras

__all__ = ["CAT_CLASSES", "DOG_CLASSES", "imagenet_cats_vs_dogs", "scaled_input"]

CAT_CLASSES: tuple[int, ...] = tuple(range(281, 286))
"""ImageNet class indices of cats: tabby, tiger cat, Persian cat, Siamese cat, Egyptian cat."""


DOG_CLASSES: tuple[int, ...] = tuple(range(151, 269))
"""ImageNet class indices of dogs: the 118 breeds from Chihuahua (151) to Mexican hairless (268)."""



def scaled_input(model: keras.Model, scale: float = 255.0, size: int | None = None) -> keras.Model:
    """``model`` behind a ``Rescaling(scale)`` layer: it takes [0, 1] inputs and sees them times ``scale``.

    Keras' VGG16 works on 0-255 pixel values, and the lecture feeds it its gray noise (128 + 20 u)
    directly, with a step of 1.0; wrapped this way it takes this book's [0, 1] inputs, so the same
    constants (:data:`convlens.filters.NOISE_OFFSET`, :data:`convlens.filters.STEP_SIZE` ...)
    reproduce the lecture exactly. The
    layers (and weights) are the model's own, under their own names.
    """
    import keras

    channels = int(model.inputs[0].shape[-1])
    inputs = keras.Input(shape=(size, size, channels), name="image_0_1")
    x = keras.layers.Rescaling(scale, name="to_pixel_values")(inputs)
    for layer in model.layers:
        if not isinstance(layer, keras.layers.InputLayer):
            x = layer(x)
    return keras.Model(inputs, x, name=f"{model.name}_0_1")



def _imagenet_head_class():
    import keras
    from keras import ops

    class _Head(keras.layers.Layer):
        """P(dog) from an ImageNet classifier's 1000 logits, dog vs cat classes (see the module)."""

        is_cat_dog_head = True

        def __init__(self, cat_classes=CAT_CLASSES, dog_classes=DOG_CLASSES, **kwargs):
            super().__init__(**kwargs)
            self.cat_classes = list(cat_classes)
            self.dog_classes = list(dog_classes)

        def logit(self, z):
            dog = ops.logsumexp(ops.take(z, self.dog_classes, axis=1), axis=1)
            cat = ops.logsumexp(ops.take(z, self.cat_classes, axis=1), axis=1)
            return dog - cat

        def call(self, z):
            return ops.expand_dims(ops.sigmoid(self.logit(z)), -1)

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
    classifier: keras.Model, cat_classes: Sequence[int] = CAT_CLASSES, dog_classes: Sequence[int] = DOG_CLASSES
) -> keras.Model:
    """A cats-vs-dogs model from an ImageNet classifier such as ``convlens.models.vgg16(include_top=True)``.

    The classifier must end with its 1000 logits (``keras.applications.VGG16(classifier_activation=None)``).
    The new model takes the book's photos (150 x 150, values in [0, 1]), resizes them to the
    classifier's input size, applies VGG16's preprocessing (``keras.applications.vgg16.preprocess_input``
    on 0-255 values), runs copies of the classifier's layers (same weights) and ends with the
    probability of "dog" among the dog and cat classes (module docstring). The copies make its
    layers flat and its own, so its convolution layers (``block5_conv3`` ...) and their outputs are
    visible to :func:`convlens.gradcam.grad_cam`; the classifier can be dropped afterwards.
    """
    import keras
    from keras import layers

    last = classifier.layers[-1]
    if (
        not isinstance(last, layers.Dense)
        or last.units < max(*cat_classes, *dog_classes) + 1
        or last.get_config().get("activation") != "linear"
    ):
        raise ArgumentError(
            f"{classifier.name!r} does not end with the logits of an ImageNet Dense layer of 1000 classes; pass the "
            "classifier with its top and no softmax, e.g. convlens.models.vgg16(include_top=True) "
            "(keras.applications.VGG16(classifier_activation=None))."
        )
    from .images import IMAGE_SIZE

    target = tuple(classifier.inputs[0].shape[1:3])
    inputs = keras.Input(shape=(*IMAGE_SIZE, 3), name="image")
    x = layers.Resizing(*target, interpolation="bilinear", name="resize_to_classifier")(inputs)
    preprocess = keras.applications.vgg16.preprocess_input
    x = layers.Lambda(lambda t: preprocess(t * 255.0), name="vgg16_preprocess")(x)
    for layer in classifier.layers[1:]:
        # A fresh copy of each layer (same config, same weights) so that its output tensors belong to
        # this model's graph, which Grad-CAM's sub-models need; memory is briefly doubled.
        copy = type(layer).from_config(layer.get_config())
        x = copy(x)
        copy.set_weights(layer.get_weights())
    outputs = _head_cls()(cat_classes, dog_classes, name="cat_vs_dog")(x)
    return keras.Model(inputs, outputs, name=f"{classifier.name}_cats_vs_dogs")
