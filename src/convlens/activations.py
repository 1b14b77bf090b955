"""Intermediate activations: the feature maps every conv and pooling layer makes of an input.

Arrays in, arrays out; nothing here draws. One functional Keras model with one output per
chosen layer (:func:`activation_model`) gives every feature map in a single forward pass
(:func:`get_activations`). The display scaling of a channel is defined here and only here
(:func:`display_scale`). Layers are chosen with :func:`convlens.layers.select_layers`; the
chapter's measurements on the maps (sparsity, linear probe, read-out R^2, edge correlations)
are in :mod:`convlens.measures.feature_maps` and :mod:`convlens.measures.read_out`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from .checks import as_batch, batch_slices, check_channels, check_int
from .errors import ArgumentError, IndexRangeError, LayerSelectionError
from .layers import select_layers
from .submodels import cached

if TYPE_CHECKING:
    import keras

__all__ = [
    "activation_model",
    "channel_map",
    "display_scale",
    "get_activations",
    "layer_channels",
    "layer_shapes",
]

# ----------------------------------------------------------------------------- activation model


def activation_model(model: keras.Model, layers=None) -> keras.Model:
    """One functional Keras model: the input ``E`` of ``model``, one output ``A_i`` per chosen layer.

    The sub-model shares the weights of ``model``; calling it once computes every chosen
    feature map in a single forward pass. ``layers`` as in :func:`convlens.layers.select_layers`.
    """
    import keras

    chosen = select_layers(model, layers)
    outputs = [layer.output for layer in chosen]
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs=inputs, outputs=outputs, name=f"{model.name}_activations")


def get_activations(model: keras.Model, image, layers=None, batch_size: int = 32) -> dict[str, np.ndarray]:
    """Feature maps of every chosen layer for ``image``: ``{layer name: (N, H, W, C) array}``.

    ``image`` is one image (H, W, 3) or a batch (N, H, W, 3) in the model's input scaling
    (for this book: floats in [0, 1], see :func:`convlens.images.load_image`). All layers come
    from one forward pass of one activation model (built once per model and layer choice).
    """
    chosen = select_layers(model, layers)
    names = tuple(layer.name for layer in chosen)
    sub_model = cached(model, ("activation_model", names), lambda: activation_model(model, list(names)))
    batch = as_batch(image, model)
    parts: list[list[np.ndarray]] = [[] for _ in names]
    for rows in batch_slices(len(batch), batch_size):
        outputs = sub_model(batch[rows], training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        for part, output in zip(parts, outputs, strict=True):
            part.append(np.asarray(output))
    return {name: np.concatenate(part, axis=0) for name, part in zip(names, parts, strict=True)}


def channel_map(activations: Mapping[str, np.ndarray], layer: str, channel: int, index: int = 0) -> np.ndarray:
    """The 2-D map of one channel of one layer (image ``index`` of the batch).

    Raises :class:`~convlens.errors.LayerSelectionError` for an unknown layer (listing the valid
    names) and :class:`~convlens.errors.ChannelRangeError` for a channel outside the layer's range
    (giving the range).
    """
    maps = _layer_maps(activations, layer, index)
    (channel,) = check_channels(layer, [channel], maps.shape[-1])
    return maps[:, :, channel]


def _layer_maps(activations: Mapping[str, np.ndarray], layer: str, index: int) -> np.ndarray:
    """The (H, W, C) maps of image ``index`` of ``layer``, or an error naming the valid layers and images."""
    if layer not in activations:
        raise LayerSelectionError(f"No activations for layer {layer!r}; valid layer names: {', '.join(activations)}.")
    maps = as_batch(activations[layer], unit_range=False, what=f"activations of layer {layer!r}")
    index = check_int("The image index", index)
    if not 0 <= index < maps.shape[0]:
        raise IndexRangeError(f"Image index {index} is out of range: the batch holds images 0..{maps.shape[0] - 1}.")
    return maps[index]


# ----------------------------------------------------------------------------- display


def display_scale(channel: np.ndarray) -> np.ndarray:
    """The book's one way of scaling a feature map for display: a ``uint8`` image in 0..255.

    As in Chollet's notebook: subtract the map's mean, divide by its standard deviation,
    multiply by 64, add 128, clip to 0..255. So each channel is shown with its own contrast
    (mean grey-level 128, +-2 standard deviations spanning the range), which makes weak
    channels visible but hides their absolute strength. A constant ("blank") map has no
    contrast to show and becomes all zeros, never NaN (Chollet's code divides 0 by 0 there).
    Works on one map (H, W) or on a stack (..., H, W, C), each channel scaled on its own.
    """
    values = np.asarray(channel, dtype=np.float64)
    if values.ndim < 2:
        raise ArgumentError(f"display_scale needs a 2-D map or a stack of maps; got shape {values.shape}.")
    axes = (0, 1) if values.ndim == 2 else (-3, -2)
    mean = values.mean(axis=axes, keepdims=True)
    std = values.std(axis=axes, keepdims=True)
    blank = ~(std > 1e-12 * np.maximum(1.0, np.abs(mean)))
    scaled = (values - mean) / np.where(blank, 1.0, std) * 64.0 + 128.0
    scaled = np.where(blank, 0.0, scaled)
    return np.clip(scaled, 0, 255).round().astype(np.uint8)


def layer_channels(activations: Mapping[str, np.ndarray], layer: str, index: int = 0) -> list[np.ndarray]:
    """Every channel of a layer as display-scaled ``uint8`` 2-D images (see :func:`display_scale`).

    Errors name the valid layers (:class:`~convlens.errors.LayerSelectionError`) and images.
    """
    maps = _layer_maps(activations, layer, index)
    scaled = display_scale(maps)
    return [scaled[:, :, c] for c in range(scaled.shape[-1])]


def layer_shapes(activations: Mapping[str, np.ndarray]) -> dict[str, tuple[int, ...]]:
    """``{layer: (height, width, channels)}`` of a dict of activations."""
    return {name: tuple(int(s) for s in np.asarray(maps).shape[-3:]) for name, maps in activations.items()}
