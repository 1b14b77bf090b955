"""Shared layer lookup and checks of the techniques: one of each kind, used by every module.

Layers are found with :func:`select_layers` / :func:`find_layer`; images and maps are checked
with :func:`as_batch`, whole numbers with :func:`check_int`, channels with :func:`check_channels`;
a batch is walked with :func:`batch_slices`. Errors come from :mod:`convlens.errors`; sub-models
and the per-model cache are :mod:`convlens.submodels`'. Nothing here draws.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .errors import ArgumentError, ArgumentTypeError, ChannelRangeError, InputImageError, LayerSelectionError

if TYPE_CHECKING:
    import keras

__all__ = [
    "CONV_LAYER_TYPES",
    "LAYER_KINDS",
    "POOLING_LAYER_TYPES",
    "as_batch",
    "batch_slices",
    "check_channels",
    "check_int",
    "conv_and_pooling_layer_names",
    "conv_layer_names",
    "find_layer",
    "has_feature_maps",
    "is_conv_layer",
    "is_pooling_layer",
    "select_layers",
]

CONV_LAYER_TYPES: tuple[str, ...] = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose")
"""The Keras layer classes (and their subclasses) that count as 2-D convolutions."""

POOLING_LAYER_TYPES: tuple[str, ...] = ("MaxPooling2D", "AveragePooling2D")
"""The Keras layer classes (and their subclasses) that count as 2-D poolings."""


# --------------------------------------------------------------------------- layer kinds


def _classes(names: Sequence[str]) -> tuple[type, ...]:
    from keras import layers

    return tuple(getattr(layers, name) for name in names)


def is_conv_layer(layer) -> bool:
    """True for a 2-D convolution layer (:data:`CONV_LAYER_TYPES`): the one convolution test."""
    return isinstance(layer, _classes(CONV_LAYER_TYPES))


def is_pooling_layer(layer) -> bool:
    """True for a 2-D pooling layer (:data:`POOLING_LAYER_TYPES`)."""
    return isinstance(layer, _classes(POOLING_LAYER_TYPES))


def has_feature_maps(layer) -> bool:
    """True for a layer with a 4-D (batch, height, width, channels) output, other than the input."""
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return False
    return len(shape) == 4 and type(layer).__name__ != "InputLayer"


def conv_layer_names(model: keras.Model) -> list[str]:
    """Names of the model's 2-D convolution layers, input to output."""
    return [layer.name for layer in model.layers if is_conv_layer(layer)]


def conv_and_pooling_layer_names(model: keras.Model) -> list[str]:
    """Names of the model's convolution and 2-D pooling layers, input to output: the layers with filters."""
    return [layer.name for layer in model.layers if _conv_or_pooling(layer)]


def _conv_or_pooling(layer) -> bool:
    return is_conv_layer(layer) or is_pooling_layer(layer)


class _Kind(NamedTuple):
    accept: Callable[[Any], bool]  # which layers may be picked
    default: Callable[[Any], bool]  # which layers None picks
    plural: str
    valid_label: str
    lacks: str
    among: str


LAYER_KINDS: dict[str, _Kind] = {
    "feature_maps": _Kind(has_feature_maps, _conv_or_pooling, "convolution or pooling layer",
                          "Valid layer names with feature maps", "has no feature maps to show",
                          "choose among the layers with 4-D outputs"),
    "filters": _Kind(_conv_or_pooling, _conv_or_pooling, "convolution or pooling layer",
                     "Valid layer names with filters (convolution and pooling layers)",
                     "is not a convolution or pooling layer, so it has no filters to visualize", "choose one of"),
    "convolution": _Kind(is_conv_layer, is_conv_layer, "convolution layer", "Valid convolution layer names",
                         "is not a convolution layer", "choose one of"),
}
"""What :func:`select_layers` may pick: ``"feature_maps"`` (a 4-D output; by default the convolution and
pooling layers), ``"filters"`` (convolution and pooling layers), ``"convolution"`` (convolutions only)."""


def _describe(model: keras.Model) -> str:
    return ", ".join(f"{i}: {layer.name} ({type(layer).__name__})" for i, layer in enumerate(model.layers))


def select_layers(model: keras.Model, layers=None, kind: str = "feature_maps") -> list:
    """The layers picked by ``layers``: None (the default choice of ``kind``), or one spec or a list.

    A spec is a layer name (``"conv2d_1"``), an index into ``model.layers`` (negative ones
    count from the end), or a layer type (``keras.layers.MaxPooling2D`` or its class name
    ``"MaxPooling2D"``: every layer of that type), each of ``kind`` (:data:`LAYER_KINDS`); else a
    :class:`~convlens.errors.LayerSelectionError` naming the valid choices. In the model's order, once each.
    """
    if kind not in LAYER_KINDS:
        raise ArgumentError(f"Unknown layer kind {kind!r}; choose one of {', '.join(LAYER_KINDS)}.")
    rule = LAYER_KINDS[kind]
    if layers is None:
        chosen = [layer for layer in model.layers if rule.default(layer)]
        if not chosen:
            raise LayerSelectionError(f"Model {model.name!r} has no {rule.plural}; its layers are: {_describe(model)}.")
        return chosen
    specs = list(layers) if isinstance(layers, (list, tuple)) else [layers]
    if not specs:
        raise LayerSelectionError(f"The list of layers is empty; pass None for every {rule.plural}.")
    valid = ", ".join(layer.name for layer in model.layers if rule.accept(layer))
    chosen_ids: set[int] = set()
    for spec in specs:
        for layer in _picked(model, spec, rule, valid):
            chosen_ids.add(id(layer))
    return [layer for layer in model.layers if id(layer) in chosen_ids]


def _picked(model: keras.Model, spec, rule: _Kind, valid: str) -> list:
    """The layers one spec names, each checked to be of the kind ``rule`` accepts."""
    all_layers = list(model.layers)
    names = [layer.name for layer in all_layers]
    if isinstance(spec, (bool, np.bool_)):
        raise LayerSelectionError(f"{spec!r} is not a layer name, index or type.")
    if isinstance(spec, (int, np.integer)):
        if not -len(all_layers) <= spec < len(all_layers):
            raise LayerSelectionError(
                f"Layer index {spec} is out of range: model {model.name!r} has {len(all_layers)} layers "
                f"(valid indices 0..{len(all_layers) - 1}, or negative from the end): {_describe(model)}."
            )
        picked = [all_layers[int(spec)]]
    elif isinstance(spec, str) and spec in names:
        picked = [all_layers[names.index(spec)]]
    elif isinstance(spec, str):
        picked = [layer for layer in all_layers if type(layer).__name__ == spec]
        if not picked:
            raise LayerSelectionError(
                f"No layer named {spec!r} in model {model.name!r}. {rule.valid_label}: {valid}. "
                f"(All layers: {', '.join(names)}.)"
            )
    elif isinstance(spec, type):
        picked = [layer for layer in all_layers if isinstance(layer, spec)]
        if not picked:
            raise LayerSelectionError(
                f"Model {model.name!r} has no layer of type {spec.__name__}; its layers are: {_describe(model)}."
            )
    else:
        raise LayerSelectionError(f"{spec!r} is not a layer name (str), index (int) or type (a Keras layer class).")
    for layer in picked:
        if not rule.accept(layer):
            raise LayerSelectionError(f"Layer {layer.name!r} ({type(layer).__name__}{_shape(layer)}) {rule.lacks}; "
                                      f"{rule.among}: {valid}.")
    return picked


def _shape(layer) -> str:
    try:
        return f", output shape {tuple(layer.output.shape)}"
    except (AttributeError, ValueError):  # no single output
        return ""


def find_layer(model: keras.Model, name: str, kind: str = "feature_maps"):
    """The one layer called ``name`` (or at index ``name``) of ``model``, checked to be of ``kind``.

    :func:`select_layers` for a single layer: the same rules and the same errors.
    """
    type_names = {type(layer).__name__ for layer in model.layers} - {layer.name for layer in model.layers}
    if isinstance(name, type) or (isinstance(name, str) and name in type_names):
        raise LayerSelectionError(f"Pass one layer's name, not a layer type ({name!r}).")
    return select_layers(model, [name], kind)[0]


# --------------------------------------------------------------------------- whole numbers and channels


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None, why: str = "") -> int:
    """``value`` as an ``int`` if it is a whole number in ``minimum..maximum``, else a clear error naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ArgumentTypeError(f"{name} must be a whole number (an int); got {value!r}.")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = f"{minimum} or more" if maximum is None else f"at most {maximum}" if minimum is None else (
            f"from {minimum} to {maximum}")
        raise ArgumentError(f"{name} must be {bounds}{why}; got {value}.")
    return value


def check_channels(layer_name: str, indices, count: int, noun: str = "channel") -> np.ndarray:
    """Channel (or filter) numbers ``indices`` of a layer with ``count`` channels, as an int32 array.

    A non-empty list of whole numbers in ``0 .. count - 1``; anything else raises an error that
    names the layer and the valid range.
    """
    if np.ndim(indices) == 0:
        raise ArgumentTypeError(f"The {noun}s must be a list of {noun} numbers, e.g. [{indices!r}]; got one value.")
    values = np.asarray(list(indices) if not isinstance(indices, np.ndarray) else indices)
    if values.ndim != 1 or values.size == 0:
        raise ArgumentError(f"The {noun}s must be a non-empty list of {noun} numbers; got {indices!r}.")
    if values.dtype == bool or not np.issubdtype(values.dtype, np.integer):
        raise ArgumentTypeError(f"{noun.capitalize()} numbers must be integers in 0..{count - 1} for layer "
                                f"{layer_name!r}; got {values.dtype} values.")
    bad = [int(v) for v in values if not 0 <= v < count]
    if bad:
        raise ChannelRangeError(f"{noun.capitalize()} {bad[0]} is out of range for layer {layer_name!r}, which has "
                                f"{count} {noun}s: choose a {noun} in 0..{count - 1}.")
    return values.astype(np.int32)


# --------------------------------------------------------------------------- images, maps and batches


def as_batch(
    images, model: keras.Model | None = None, unit_range: bool = True, what: str = "images", *,
    item_ndim: int = 3, bounds: tuple[float | None, float | None] | None = None,
) -> np.ndarray:
    """One item or a batch of them as a finite, non-empty float32 batch: the one batch-axis and input check.

    An item is an image or feature maps (H, W, C), or with ``item_ndim=2`` a heatmap (h, w).
    ``unit_range=True`` (model inputs, as :func:`convlens.images.load_image` makes them): floats in
    [0, 1], never integer (0-255) or boolean arrays; with ``model``, its input height, width and
    channels. ``unit_range=False``: any numbers, within ``bounds`` = (low, high) if given (None: open).
    """
    array = np.asarray(images)
    if unit_range and (array.dtype == bool or np.issubdtype(array.dtype, np.integer)):
        span = f", values {array.min()}..{array.max()}" if array.size else ""
        raise InputImageError(
            f"The {what} are {array.dtype} integers{span}; the models take float images with values in [0, 1]: "
            "divide 0-255 values by 255.0, or load photos with convlens.images.load_image or load_split_arrays."
        )
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise InputImageError(f"The {what} must be a float array (N, H, W, 3); got dtype {array.dtype}.")
    array = array.astype(np.float32, copy=False)
    if array.ndim == item_ndim:
        array = array[None]
    if array.ndim != item_ndim + 1:
        item, batch = ("(H, W, C)", "(N, H, W, C)") if item_ndim == 3 else ("(h, w)", "(N, h, w)")
        raise InputImageError(f"Expected one {what.removesuffix('s')} {item} or a batch {batch}; got {array.shape}.")
    if len(array) == 0:
        raise InputImageError(f"The batch of {what} is empty (shape {array.shape}); pass at least one.")
    if model is not None:
        _check_input_shape(array, model)
    if not np.all(np.isfinite(array)):
        raise InputImageError(f"The {what} hold NaN or infinite values; pass finite values.")
    _check_bounds(array, (0.0, 1.0) if unit_range else bounds, what)
    return array


def _check_input_shape(array: np.ndarray, model: keras.Model) -> None:
    expected = tuple(model.inputs[0].shape[1:])
    if any(e is not None and e != a for e, a in zip(expected, array.shape[1:], strict=True)):
        shown = ", ".join("any" if e is None else str(e) for e in expected)
        raise InputImageError(
            f"Expected images of shape (N, {shown}) for model {model.name!r}, got {array.shape}; "
            "load photos with convlens.images.load_image or load_split_arrays."
        )


def _check_bounds(array: np.ndarray, bounds, what: str) -> None:
    if bounds is None:
        return
    low, high = bounds
    values = float(array.min()), float(array.max())
    if (low is None or values[0] >= low) and (high is None or values[1] <= high):
        return
    if high is None:
        raise InputImageError(f"The {what} must be non-negative; got values down to {values[0]:.3g}.")
    hint = " These look like 0-255 pixel values: divide them by 255.0." if values[1] > 2 else ""
    raise InputImageError(f"The {what} must lie in [{low:g}, {high:g}] (got {values[0]:.3g}..{values[1]:.3g})."
                          f"{hint} Load photos with convlens.images.load_image or load_split_arrays.")


def batch_slices(count: int, batch_size: int) -> Iterator[slice]:
    """Slices of ``batch_size`` items (the last one shorter) covering ``count`` items: the one batcher."""
    batch_size = check_int("batch_size", batch_size, 1)
    for start in range(0, count, batch_size):
        yield slice(start, min(start + batch_size, count))
