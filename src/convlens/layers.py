"""Layer lookup: which layers are convolutions, poolings or have feature maps, and picking them by spec.

Layers are picked with :func:`select_layers` (names, indices or layer types; a list or None for
the default choice) or :func:`find_layer` (exactly one), each checked to be of a kind of
:data:`LAYER_KINDS`; a wrong spec gets a :class:`~convlens.errors.LayerSelectionError` naming
the valid choices. The one place that knows what counts as a convolution (:func:`is_conv_layer`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .errors import ArgumentError, LayerSelectionError

if TYPE_CHECKING:
    import keras

__all__ = [
    "CONV_LAYER_TYPES",
    "LAYER_KINDS",
    "POOLING_LAYER_TYPES",
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
