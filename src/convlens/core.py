"""Shared Keras plumbing of the techniques: layer kinds and lookup, one cache, batching, input checks.

Every technique module (:mod:`~convlens.activations`, :mod:`~convlens.filters`,
:mod:`~convlens.gradcam`, :mod:`~convlens.checks`, :mod:`~convlens.probes`) finds its layers with
:func:`select_layers` / :func:`find_layer`, keeps its sub-models and compiled functions in the one
per-model cache (:func:`cached`), checks its images with :func:`as_batch` and its whole-number
settings with :func:`check_int`, and walks a batch with :func:`batch_slices`. Errors come from
:mod:`convlens.errors`. Nothing here draws.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Hashable, Iterator, Sequence
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
    "cached",
    "check_channels",
    "check_int",
    "conv_layer_names",
    "conv_and_pooling_layer_names",
    "find_layer",
    "has_feature_maps",
    "is_conv_layer",
    "is_pooling_layer",
    "quiet_tensorflow",
    "select_layers",
    "smallest_input_size",
    "truncated_model",
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
"""What :func:`select_layers` may pick: ``"feature_maps"`` (any layer with a 4-D output; by default
the convolution and pooling layers), ``"filters"`` (convolution and pooling layers) and
``"convolution"`` (convolution layers only)."""


def _describe(model: keras.Model) -> str:
    return ", ".join(f"{i}: {layer.name} ({type(layer).__name__})" for i, layer in enumerate(model.layers))


def select_layers(model: keras.Model, layers=None, kind: str = "feature_maps") -> list:
    """The layers picked by ``layers``: None (the default choice of ``kind``), or one spec or a list.

    A spec is a layer name (``"conv2d_1"``), an index into ``model.layers`` (negative ones
    count from the end), or a layer type (``keras.layers.MaxPooling2D`` or its class name
    ``"MaxPooling2D"``: every layer of that type). Each chosen layer must be of ``kind`` (see
    :data:`LAYER_KINDS`); anything else raises :class:`~convlens.errors.LayerSelectionError`
    naming the valid choices. Duplicates are dropped and the model's layer order is kept.
    """
    if kind not in LAYER_KINDS:
        raise ArgumentError(f"Unknown layer kind {kind!r}; choose one of {', '.join(LAYER_KINDS)}.")
    rule = LAYER_KINDS[kind]
    all_layers = list(model.layers)
    if layers is None:
        chosen = [layer for layer in all_layers if rule.default(layer)]
        if not chosen:
            raise LayerSelectionError(f"Model {model.name!r} has no {rule.plural}; its layers are: {_describe(model)}.")
        return chosen
    specs = list(layers) if isinstance(layers, (list, tuple)) else [layers]
    if not specs:
        raise LayerSelectionError(f"The list of layers is empty; pass None for every {rule.plural}.")
    names = [layer.name for layer in all_layers]
    type_names = {type(layer).__name__ for layer in all_layers}
    valid = ", ".join(layer.name for layer in all_layers if rule.accept(layer))
    chosen_ids: set[int] = set()
    for spec in specs:
        if isinstance(spec, (bool, np.bool_)):
            raise LayerSelectionError(f"{spec!r} is not a layer name, index or type.")
        if isinstance(spec, (int, np.integer)):
            if not -len(all_layers) <= spec < len(all_layers):
                raise LayerSelectionError(
                    f"Layer index {spec} is out of range: model {model.name!r} has {len(all_layers)} layers "
                    f"(valid indices 0..{len(all_layers) - 1}, or negative from the end): {_describe(model)}."
                )
            picked = [all_layers[int(spec)]]
        elif isinstance(spec, str):
            if spec in names:
                picked = [all_layers[names.index(spec)]]
            elif spec in type_names:
                picked = [layer for layer in all_layers if type(layer).__name__ == spec]
            else:
                raise LayerSelectionError(
                    f"No layer named {spec!r} in model {model.name!r}. {rule.valid_label}: "
                    f"{valid}. (All layers: {', '.join(names)}.)"
                )
        elif isinstance(spec, type):
            picked = [layer for layer in all_layers if isinstance(layer, spec)]
            if not picked:
                raise LayerSelectionError(
                    f"Model {model.name!r} has no layer of type {spec.__name__}; its layers are: {_describe(model)}."
                )
        else:
            raise LayerSelectionError(
                f"{spec!r} is not a layer name (str), index (int) or type (a Keras layer class)."
            )
        for layer in picked:
            if not rule.accept(layer):
                try:
                    shape = f", output shape {tuple(layer.output.shape)}"
                except (AttributeError, ValueError):
                    shape = ""
                raise LayerSelectionError(
                    f"Layer {layer.name!r} ({type(layer).__name__}{shape}) {rule.lacks}; {rule.among}: {valid}."
                )
            chosen_ids.add(id(layer))
    return [layer for layer in all_layers if id(layer) in chosen_ids]


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
    values = np.asarray(list(indices) if not isinstance(indices, np.ndarray) else indices)
    if values.ndim != 1 or values.size == 0:
        raise ArgumentError(f"The {noun}s must be a non-empty list of {noun} numbers; got {indices!r}.")
    if values.dtype == bool or not np.issubdtype(values.dtype, np.integer):
        raise ArgumentTypeError(
            f"{noun.capitalize()} numbers must be integers in 0..{count - 1} for layer {layer_name!r}; "
            f"got {values.dtype} values."
        )
    bad = [int(v) for v in values if not 0 <= v < count]
    if bad:
        raise ChannelRangeError(
            f"{noun.capitalize()} {bad[0]} is out of range for layer {layer_name!r}, which has {count} {noun}s: "
            f"choose a {noun} in 0..{count - 1}."
        )
    return values.astype(np.int32)


# --------------------------------------------------------------------------- one cache


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""model -> {key: sub-model or compiled function}; an entry goes when its model goes."""


def cached(model: keras.Model, key: Hashable, build: Callable[[], Any]) -> Any:
    """The cached value for ``(model, key)``, built by ``build()`` on first use.

    The one cache of sub-models and compiled functions. ``key`` must hold every setting the
    value depends on (start it with the technique's name), so that a call with other settings
    never gets a function built for the old ones.
    """
    per_model = _CACHE.setdefault(model, {})
    if key not in per_model:
        per_model[key] = build()
    return per_model[key]


# --------------------------------------------------------------------------- images and batches


def as_batch(images, model: keras.Model | None = None, unit_range: bool = True, what: str = "images") -> np.ndarray:
    """One image (H, W, C) or a batch (N, H, W, C) as a float32 batch, checked: the one input check.

    The rules are those of :func:`convlens.images.load_image`'s arrays, for model inputs: float
    values, finite, in [0, 1] (``unit_range=False`` drops this last rule, for optimized filter
    patterns), at least one image, and, with ``model``, the model's input height, width and channels.
    Integer (0-255) or boolean arrays are refused rather than guessed at.
    """
    array = np.asarray(images)
    if array.dtype == bool or np.issubdtype(array.dtype, np.integer):
        span = f", values {array.min()}..{array.max()}" if array.size else ""
        raise InputImageError(
            f"The {what} are {array.dtype} integers{span}; the models take float images with values in [0, 1]: "
            "divide 0-255 values by 255.0, or load photos with convlens.images.load_image or load_split_arrays."
        )
    if not np.issubdtype(array.dtype, np.floating):
        raise InputImageError(
            f"The {what} must be a float array (N, H, W, 3) with values in [0, 1]; got dtype {array.dtype}."
        )
    array = array.astype(np.float32, copy=False)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4:
        raise InputImageError(f"Expected one image (H, W, C) or a batch (N, H, W, C); got shape {array.shape}.")
    if len(array) == 0:
        raise InputImageError(f"The batch of {what} is empty (shape {array.shape}); pass at least one image.")
    if model is not None:
        expected = tuple(model.inputs[0].shape[1:])
        if any(e is not None and e != a for e, a in zip(expected, array.shape[1:], strict=True)):
            shown = ", ".join("any" if e is None else str(e) for e in expected)
            raise InputImageError(
                f"Expected images of shape (N, {shown}) for model {model.name!r}, got {array.shape}; "
                "load photos with convlens.images.load_image or load_split_arrays."
            )
    if not np.all(np.isfinite(array)):
        raise InputImageError(f"The {what} hold NaN or infinite values; pass finite values in [0, 1].")
    if unit_range:
        low, high = float(array.min()), float(array.max())
        if low < 0.0 or high > 1.0:
            raise InputImageError(
                f"Float image values must lie in [0, 1] (got {low:.3g}..{high:.3g}); divide 0-255 values by 255.0, "
                "or load photos with convlens.images.load_image or load_split_arrays."
            )
    return array


def batch_slices(count: int, batch_size: int) -> Iterator[slice]:
    """Slices of ``batch_size`` items (the last one shorter) covering ``count`` items: the one batcher."""
    batch_size = check_int("batch_size", batch_size, 1)
    for start in range(0, count, batch_size):
        yield slice(start, min(start + batch_size, count))


@contextlib.contextmanager
def quiet_tensorflow():
    """Silence TensorFlow's Python warnings (e.g. "retracing") during a call: one traced function per
    setting is intended here, and notebook outputs must not change from run to run."""
    import tensorflow as tf

    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


# --------------------------------------------------------------------------- sub-models


def truncated_model(model: keras.Model, layer, size: int | None = None, include: bool = True) -> keras.Model:
    """A functional sub-model from the input to ``layer``'s output (or input), at ``size`` x ``size`` pixels.

    Where the model's input has another fixed size (the small convnet is built for 150 x 150),
    its layers are called again, in order, on a new input of the requested size: the same layer
    objects, so the same weights (for chain models such as the small convnet and VGG16).
    """
    import keras

    shape = tuple(model.inputs[0].shape)
    if size is None or shape[1:3] in ((size, size), (None, None)):
        try:
            return keras.Model(model.inputs, layer.output if include else layer.input)
        except ValueError:  # the layer's first use is in another graph (e.g. under scaled_input): replay below
            pass
    spatial = shape[1:3] if size is None else (size, size)
    inputs = keras.Input(shape=(*spatial, shape[-1]), name=f"image_{size}")
    x = inputs
    for current in model.layers:
        if isinstance(current, keras.layers.InputLayer):
            continue
        if current is layer and not include:
            break
        x = current(x)
        if current is layer:
            break
    return keras.Model(inputs, x, name=f"{model.name}_{size}_to_{layer.name}")


def smallest_input_size(model: keras.Model, layer, largest: int = 4096) -> int | None:
    """The smallest square input (pixels) for which ``layer`` still has an output of at least 1 x 1.

    Found by passing shapes through the model's layers in order (a chain model, as
    :func:`truncated_model` assumes); None when that does not work for any size up to ``largest``.
    """
    import keras

    def fits(size: int) -> bool:
        shape: tuple = (1, size, size, int(model.inputs[0].shape[-1]))
        try:
            for current in model.layers:
                if isinstance(current, keras.layers.InputLayer):
                    continue
                shape = tuple(current.compute_output_shape(shape))
                if len(shape) == 4 and any(d is not None and d < 1 for d in shape[1:3]):
                    return False
                if current is layer:
                    return True
        except Exception:  # noqa: BLE001 - Keras raises ValueError or others for too small inputs
            return False
        return False

    def search() -> int | None:
        if not fits(largest):
            return None
        low, high = 1, largest  # output sizes grow with the input size: bisect
        while low < high:
            middle = (low + high) // 2
            if fits(middle):
                high = middle
            else:
                low = middle + 1
        return low

    return cached(model, ("smallest_input_size", layer.name, largest), search)
