"""Intermediate activations: the feature maps every conv and pooling layer makes of an input.

Arrays in, arrays out; nothing here draws. One functional Keras model with one output per
chosen layer (:func:`activation_model`) gives every feature map in a single forward pass
(:func:`get_activations`). The display scaling of a channel is defined here and only here
(:func:`display_scale`), and so are the chapter's measurements: blank (all-zero) channels,
globally pooled features and a linear probe on them, the linear recoverability of the photo
from each layer, and the correlation of first-layer maps with edge maps.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence

import numpy as np

FEATURE_MAP_LAYER_TYPES: tuple[str, ...] = (
    "Conv2D",
    "SeparableConv2D",
    "DepthwiseConv2D",
    "MaxPooling2D",
    "AveragePooling2D",
)
"""Layer classes chosen by default: the convolution and pooling layers (4-D feature maps)."""

_activation_model_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class LayerSelectionError(ValueError):
    """A layer name, index or type that does not pick a feature-map layer of the model."""


class ChannelRangeError(IndexError):
    """A channel index outside ``0 .. channels - 1`` of a layer."""


# ----------------------------------------------------------------------------- layer choice


def _is_feature_map_layer(layer) -> bool:
    """True for layers with a 4-D (batch, height, width, channels) output."""
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return False
    return len(shape) == 4 and type(layer).__name__ != "InputLayer"


def feature_map_layer_names(model) -> list[str]:
    """Names of the model's convolution and pooling layers, in order (the default choice)."""
    return [layer.name for layer in model.layers if type(layer).__name__ in FEATURE_MAP_LAYER_TYPES]


def _describe(model) -> str:
    return ", ".join(f"{i}: {layer.name} ({type(layer).__name__})" for i, layer in enumerate(model.layers))


def select_layers(model, layers=None) -> list:
    """The layers picked by ``layers``: None (every conv/pooling layer), or one spec or a list.

    A spec is a layer name (``"conv2d_1"``), an index into ``model.layers`` (negative ones
    count from the end), or a layer type (``keras.layers.MaxPooling2D`` or its class name
    ``"MaxPooling2D"``: every layer of that type). Each chosen layer must output feature maps
    (batch, height, width, channels); anything else raises :class:`LayerSelectionError` naming
    the valid choices. Duplicates are dropped and the model's layer order is kept.
    """
    all_layers = list(model.layers)
    if layers is None:
        chosen = [layer for layer in all_layers if type(layer).__name__ in FEATURE_MAP_LAYER_TYPES]
        if not chosen:
            raise LayerSelectionError(
                f"Model {model.name!r} has no convolution or pooling layer; its layers are: {_describe(model)}."
            )
        return chosen
    specs = list(layers) if isinstance(layers, (list, tuple)) else [layers]
    if not specs:
        raise LayerSelectionError("The list of layers is empty; pass None for every conv/pooling layer.")
    names = [layer.name for layer in all_layers]
    type_names = {type(layer).__name__ for layer in all_layers}
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
                valid = ", ".join(names[i] for i, layer in enumerate(all_layers) if _is_feature_map_layer(layer))
                raise LayerSelectionError(
                    f"No layer named {spec!r} in model {model.name!r}. Valid layer names with feature maps: "
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
            if not _is_feature_map_layer(layer):
                valid = ", ".join(layer.name for layer in all_layers if _is_feature_map_layer(layer))
                raise LayerSelectionError(
                    f"Layer {layer.name!r} ({type(layer).__name__}, output shape {tuple(layer.output.shape)}) "
                    f"has no feature maps to show; choose among the layers with 4-D outputs: {valid}."
                )
            chosen_ids.add(id(layer))
    return [layer for layer in all_layers if id(layer) in chosen_ids]


def activation_model(model, layers=None):
    """One functional Keras model: the input ``E`` of ``model``, one output ``A_i`` per chosen layer.

    The sub-model shares the weights of ``model``; calling it once computes every chosen
    feature map in a single forward pass. ``layers`` as in :func:`select_layers`.
    """
    import keras

    chosen = select_layers(model, layers)
    outputs = [layer.output for layer in chosen]
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs=inputs, outputs=outputs, name=f"{model.name}_activations")


def _cached_activation_model(model, names: tuple[str, ...]):
    per_model = _activation_model_cache.setdefault(model, {})
    if names not in per_model:
        per_model[names] = activation_model(model, list(names))
    return per_model[names]


def _as_batch(images) -> np.ndarray:
    array = np.asarray(images, dtype=np.float32)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4:
        raise ValueError(f"Expected one image (H, W, C) or a batch (N, H, W, C); got shape {array.shape}.")
    return array


def get_activations(model, image, layers=None, batch_size: int = 32) -> dict[str, np.ndarray]:
    """Feature maps of every chosen layer for ``image``: ``{layer name: (N, H, W, C) array}``.

    ``image`` is one image (H, W, 3) or a batch (N, H, W, 3) in the model's input scaling
    (for this book: floats in [0, 1], see :func:`convlens.data.load_image`). All layers come
    from one forward pass of one activation model (built once per model and layer choice).
    """
    chosen = select_layers(model, layers)
    names = tuple(layer.name for layer in chosen)
    sub_model = _cached_activation_model(model, names)
    batch = _as_batch(image)
    parts: list[list[np.ndarray]] = [[] for _ in names]
    for start in range(0, len(batch), batch_size):
        outputs = sub_model(batch[start : start + batch_size], training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        for part, output in zip(parts, outputs, strict=True):
            part.append(np.asarray(output))
    return {name: np.concatenate(part, axis=0) for name, part in zip(names, parts, strict=True)}


def channel_map(activations: Mapping[str, np.ndarray], layer: str, channel: int, index: int = 0) -> np.ndarray:
    """The 2-D map of one channel of one layer (image ``index`` of the batch).

    Raises :class:`LayerSelectionError` for an unknown layer (listing the valid names) and
    :class:`ChannelRangeError` for a channel outside the layer's range (giving the range).
    """
    if layer not in activations:
        raise LayerSelectionError(f"No activations for layer {layer!r}; valid layer names: {', '.join(activations)}.")
    maps = np.asarray(activations[layer])
    if maps.ndim == 3:
        maps = maps[None]
    count = maps.shape[-1]
    if isinstance(channel, (bool, np.bool_)) or not isinstance(channel, (int, np.integer)):
        raise ChannelRangeError(
            f"The channel must be an integer in 0..{count - 1} for layer {layer!r}; got {channel!r}."
        )
    if not 0 <= channel < count:
        raise ChannelRangeError(
            f"Channel {channel} is out of range for layer {layer!r}, which has {count} channels: "
            f"choose a channel in 0..{count - 1}."
        )
    if not 0 <= index < maps.shape[0]:
        raise IndexError(f"Image index {index} is out of range: the batch holds images 0..{maps.shape[0] - 1}.")
    return maps[index, :, :, channel]


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
        raise ValueError(f"display_scale needs a 2-D map or a stack of maps; got shape {values.shape}.")
    axes = (0, 1) if values.ndim == 2 else (-3, -2)
    mean = values.mean(axis=axes, keepdims=True)
    std = values.std(axis=axes, keepdims=True)
    blank = ~(std > 1e-12 * np.maximum(1.0, np.abs(mean)))
    scaled = (values - mean) / np.where(blank, 1.0, std) * 64.0 + 128.0
    scaled = np.where(blank, 0.0, scaled)
    return np.clip(scaled, 0, 255).round().astype(np.uint8)


def layer_channels(activations: Mapping[str, np.ndarray], layer: str, index: int = 0) -> list[np.ndarray]:
    """Every channel of a layer as display-scaled ``uint8`` 2-D images (see :func:`display_scale`)."""
    maps = np.asarray(activations[layer])
    if maps.ndim == 4:
        maps = maps[index]
    scaled = display_scale(maps)
    return [scaled[:, :, c] for c in range(scaled.shape[-1])]


# ----------------------------------------------------------------------------- sparsity


def blank_channels(maps: np.ndarray) -> np.ndarray:
    """Which channels are blank (all exactly zero) for each input: (N, H, W, C) -> (N, C) bool."""
    maps = np.asarray(maps)
    if maps.ndim == 3:
        maps = maps[None]
    if maps.ndim != 4:
        raise ValueError(f"Expected feature maps (N, H, W, C) or (H, W, C); got shape {maps.shape}.")
    return ~np.any(maps != 0, axis=(1, 2))


def blank_channel_fraction(maps: np.ndarray) -> float:
    """Fraction of channels that are all zero, averaged over the inputs of the batch."""
    return float(blank_channels(maps).mean())


def activation_statistics(model, images: np.ndarray, layers=None, batch_size: int = 16) -> dict[str, dict]:
    """Per layer, for many inputs, without holding all their feature maps at once.

    Returns ``{layer: {"pooled": (N, C) channel means (global average pooling),
    "blank": (N, C) bool, True where the channel is all zero}}``. The forward passes run
    ``batch_size`` images at a time, so memory stays at one batch of feature maps.
    """
    images = _as_batch(images)
    names = [layer.name for layer in select_layers(model, layers)]
    pooled: dict[str, list[np.ndarray]] = {name: [] for name in names}
    blank: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for start in range(0, len(images), batch_size):
        acts = get_activations(model, images[start : start + batch_size], names, batch_size=batch_size)
        for name in names:
            pooled[name].append(acts[name].mean(axis=(1, 2)))
            blank[name].append(blank_channels(acts[name]))
    return {
        name: {"pooled": np.concatenate(pooled[name]), "blank": np.concatenate(blank[name])} for name in names
    }


def blank_fraction_by_class(blank: Mapping[str, np.ndarray], labels: np.ndarray) -> dict[str, dict[int, float]]:
    """``{layer: {label: mean fraction of blank channels over that label's inputs}}``."""
    labels = np.asarray(labels)
    return {
        name: {int(c): float(np.asarray(flags)[labels == c].mean()) for c in np.unique(labels)}
        for name, flags in blank.items()
    }


def blank_fraction_among_used(blank: Mapping[str, np.ndarray]) -> dict[str, float]:
    """``{layer: fraction of blank (input, channel) pairs among the channels used at least once}``.

    Channels blank for every input ("dead" ReLUs) are left out: they are wasted capacity, not
    selectivity, and would otherwise hide how selective the working channels are. A layer whose
    channels are all dead gives NaN.
    """
    fractions = {}
    for name, flags in blank.items():
        flags = np.asarray(flags, dtype=bool)
        used = flags[:, ~flags.all(axis=0)]
        fractions[name] = float(used.mean()) if used.size else float("nan")
    return fractions


# ----------------------------------------------------------------------------- linear probe


def linear_probe_accuracy(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    test_features: np.ndarray,
    test_labels: np.ndarray,
    l2: float = 1.0,
) -> float:
    """Test accuracy of a ridge classifier (least squares on +-1 labels), pure numpy.

    Features are standardized with the training mean and standard deviation (constant
    features, e.g. always-blank channels, are left at zero); ``l2`` is the ridge penalty per
    training example. Deterministic: the closed-form solution, no random start. It measures
    how *linearly* a layer separates the two classes: chance is about 0.5.
    """
    x_train = np.asarray(train_features, dtype=np.float64)
    x_test = np.asarray(test_features, dtype=np.float64)
    y_train = np.asarray(train_labels)
    y_test = np.asarray(test_labels)
    if x_train.ndim != 2 or x_test.ndim != 2 or x_train.shape[1] != x_test.shape[1]:
        raise ValueError(
            f"Features must be (N, D) arrays with the same D; got {x_train.shape} and {x_test.shape}."
        )
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise ValueError("Each feature array needs one label per row.")
    classes = np.unique(y_train)
    if len(classes) != 2:
        raise ValueError(f"The probe needs exactly two classes in the training labels; got {classes.tolist()}.")
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    x_train = (x_train - mean) / std
    x_test = (x_test - mean) / std
    target = np.where(y_train == classes[1], 1.0, -1.0)
    n, d = x_train.shape
    design = np.hstack([x_train, np.ones((n, 1))])
    penalty = l2 * n * np.eye(d + 1)
    penalty[-1, -1] = 0.0  # no penalty on the bias
    weights = np.linalg.solve(design.T @ design + penalty, design.T @ target)
    scores = np.hstack([x_test, np.ones((len(x_test), 1))]) @ weights
    predicted = np.where(scores > 0, classes[1], classes[0])
    return float(np.mean(predicted == y_test))


def probe_by_layer(
    statistics: Mapping[str, Mapping[str, np.ndarray]],
    labels: np.ndarray,
    train_mask: np.ndarray,
    l2: float = 1.0,
) -> dict[str, float]:
    """Linear-probe test accuracy per layer on the pooled features of :func:`activation_statistics`.

    ``train_mask`` (bool, one per input) says which inputs train the probe; the others test it.
    """
    train_mask = np.asarray(train_mask, dtype=bool)
    labels = np.asarray(labels)
    if train_mask.all() or not train_mask.any():
        raise ValueError("train_mask must leave some inputs for training and some for testing.")
    return {
        name: linear_probe_accuracy(
            stats["pooled"][train_mask], labels[train_mask], stats["pooled"][~train_mask], labels[~train_mask], l2
        )
        for name, stats in statistics.items()
    }


# ----------------------------------------------------------------------------- what the maps keep


def cumulative_stride(model, layer_name: str) -> int:
    """Input pixels per feature-map cell at ``layer_name``: the product of the strides up to it.

    Assumes a chain of layers (as in this book's convnet and VGG16).
    """
    stride = 1
    for layer in model.layers:
        strides = getattr(layer, "strides", None)
        if strides is not None:
            stride *= int(np.atleast_1d(strides)[0])
        if layer.name == layer_name:
            return stride
    valid = ", ".join(layer.name for layer in model.layers)
    raise LayerSelectionError(f"No layer named {layer_name!r}; valid names: {valid}.")


def maps_at_pixels(maps: np.ndarray, image_size: int, stride: int, pixel_step: int = 1) -> np.ndarray:
    """Feature maps (N, h, w, C) interpolated at the input pixels: (N, P, P, C).

    ``P = ceil(image_size / pixel_step)``: every ``pixel_step``-th pixel row and column
    (1: every pixel).

    Cell ``i`` of a map with cumulative stride ``s`` is centred on input pixel
    ``o + s * i``, where ``o`` centres the map on the image (valid convolutions and pooling
    shrink it evenly on both sides); between centres the maps are interpolated bilinearly,
    beyond them held constant. This aligns every layer with the photo for the measurements below.
    """
    maps = np.asarray(maps, dtype=np.float32)
    out = maps

    def along(values: np.ndarray, axis: int) -> np.ndarray:
        size = values.shape[axis]
        offset = (image_size - 1 - stride * (size - 1)) / 2.0
        pixels = np.arange(0, image_size, pixel_step)
        coords = np.clip((pixels - offset) / stride, 0, size - 1)
        low = np.floor(coords).astype(int)
        high = np.minimum(low + 1, size - 1)
        weight = (coords - low).astype(np.float32)
        shape = [1] * values.ndim
        shape[axis] = len(pixels)
        weight = weight.reshape(shape)
        return np.take(values, low, axis=axis) * (1 - weight) + np.take(values, high, axis=axis) * weight

    out = along(out, 1)
    return along(out, 2)


def _with_bias(aligned: np.ndarray) -> np.ndarray:
    """(H, W, C) aligned maps -> (H * W, C + 1) float32 design rows (last column: 1)."""
    rows = aligned.reshape(-1, aligned.shape[-1]).astype(np.float32)
    return np.hstack([rows, np.ones((len(rows), 1), dtype=np.float32)])


def reconstruction_r2(
    model,
    train_images: np.ndarray,
    test_images: np.ndarray,
    layers=None,
    l2: float = 1e-3,
    batch_size: int = 8,
    pixel_step: int = 1,
) -> dict[str, float]:
    """How much of the photo each layer keeps: R^2 of a linear read-out of the RGB pixels.

    For every input pixel the chosen layer's maps are aligned to it (:func:`maps_at_pixels`),
    a ridge regression from the channel values (plus a bias) to the pixel's colour is fitted
    on ``train_images`` and scored on ``test_images`` (1 = photo recovered exactly, 0 = no
    better than the mean colour of the test photos). A lower bound on the information kept:
    the read-out is linear and per pixel. Fitted from running sums, one batch at a time;
    ``pixel_step > 1`` uses every ``pixel_step``-th pixel row and column only (faster).
    """
    train_images = _as_batch(train_images)
    test_images = _as_batch(test_images)
    size = train_images.shape[1]
    names = [layer.name for layer in select_layers(model, layers)]
    strides = {name: cumulative_stride(model, name) for name in names}

    def aligned_batches(images):
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            acts = get_activations(model, batch, names, batch_size=batch_size)
            for i, image in enumerate(batch):
                aligned = {
                    name: maps_at_pixels(acts[name][i : i + 1], size, strides[name], pixel_step)[0] for name in names
                }
                yield image[::pixel_step, ::pixel_step], aligned

    sums = {name: None for name in names}
    for image, aligned in aligned_batches(train_images):
        target = image.reshape(-1, image.shape[-1]).astype(np.float32)
        for name in names:
            x = _with_bias(aligned[name])
            xtx, xty = (x.T @ x).astype(np.float64), (x.T @ target).astype(np.float64)  # sums kept in float64
            sums[name] = (xtx, xty) if sums[name] is None else (sums[name][0] + xtx, sums[name][1] + xty)
    weights = {}
    for name in names:
        xtx, xty = sums[name]
        penalty = l2 * np.trace(xtx) / len(xtx) * np.eye(len(xtx))
        penalty[-1, -1] = 0.0  # no penalty on the bias
        weights[name] = np.linalg.solve(xtx + penalty, xty)
    sse = dict.fromkeys(names, 0.0)
    targets = []
    for image, aligned in aligned_batches(test_images):
        target = image.reshape(-1, image.shape[-1]).astype(np.float64)
        targets.append(target)
        for name in names:
            sse[name] += float(((_with_bias(aligned[name]).astype(np.float64) @ weights[name] - target) ** 2).sum())
    stacked = np.concatenate(targets)
    sst = float(((stacked - stacked.mean(axis=0)) ** 2).sum())
    return {name: 1.0 - sse[name] / sst for name in names}


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a.ravel() - a.mean()
    b = b.ravel() - b.mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0


EDGE_KINDS: tuple[str, ...] = ("intensity", "horizontal edges", "vertical edges")
"""The references of :func:`edge_correlations`: grey level and the two edge orientations."""


def edge_maps(image: np.ndarray) -> dict[str, np.ndarray]:
    """Grey level and one-sided Sobel edge maps of one RGB image (H, W, 3) in [0, 1].

    A horizontal edge is a change of brightness from one row to the next, found by the
    vertical derivative; a ReLU unit can only respond to one sign of it, so each orientation
    comes in two polarities: ``"horizontal edges, lighter below"`` / ``"..., lighter above"``,
    ``"vertical edges, lighter right"`` / ``"..., lighter left"``.
    """
    from scipy import ndimage

    grey = np.asarray(image, dtype=np.float64) @ np.array([0.299, 0.587, 0.114])
    down = ndimage.sobel(grey, axis=0)
    right = ndimage.sobel(grey, axis=1)
    return {
        "intensity": grey,
        "horizontal edges, lighter below": np.maximum(down, 0),
        "horizontal edges, lighter above": np.maximum(-down, 0),
        "vertical edges, lighter right": np.maximum(right, 0),
        "vertical edges, lighter left": np.maximum(-right, 0),
    }


def edge_map(image: np.ndarray, kind: str, polarity: int) -> np.ndarray:
    """One reference of :func:`edge_maps`: ``kind`` in :data:`EDGE_KINDS`, ``polarity`` 0 or 1."""
    maps = edge_maps(image)
    matching = [key for key in maps if key.startswith(kind)]
    return maps[matching[min(polarity, len(matching) - 1)]]


def edge_correlations(model, images: np.ndarray, layer: str | int | None = None) -> dict[str, np.ndarray]:
    """Pearson correlation of each channel of ``layer`` with grey level and edge maps.

    Maps are aligned to the pixels (:func:`maps_at_pixels`) and correlations with every map
    of :func:`edge_maps` are computed per image, then averaged over ``images``. Returns those
    (C,) arrays, plus, for each of :data:`EDGE_KINDS`, the better of its polarities
    (``"horizontal edges"``, ``"vertical edges"``) and which one it was
    (``"horizontal edges polarity"``: 0 or 1). Default layer: the first convolution.
    """
    images = _as_batch(images)
    if layer is None:
        layer = feature_map_layer_names(model)[0]
    (chosen,) = select_layers(model, [layer])
    stride = cumulative_stride(model, chosen.name)
    acts = get_activations(model, images, [chosen.name])[chosen.name]
    totals: dict[str, np.ndarray] | None = None
    for image, maps in zip(images, acts, strict=True):
        maps = maps_at_pixels(maps[None], images.shape[1], stride)[0]
        row = {
            key: np.array([_pearson(maps[:, :, c], reference) for c in range(maps.shape[-1])])
            for key, reference in edge_maps(image).items()
        }
        totals = row if totals is None else {key: totals[key] + row[key] for key in row}
    assert totals is not None
    result = {key: value / len(images) for key, value in totals.items()}
    for kind in EDGE_KINDS[1:]:
        pair = np.stack([value for key, value in result.items() if key.startswith(kind)])
        result[kind] = pair.max(axis=0)
        result[kind + " polarity"] = pair.argmax(axis=0)
    return result


def layer_shapes(activations: Mapping[str, np.ndarray]) -> dict[str, tuple[int, ...]]:
    """``{layer: (height, width, channels)}`` of a dict of activations."""
    return {name: tuple(int(s) for s in np.asarray(maps).shape[-3:]) for name, maps in activations.items()}


def summarize(values: Mapping[str, float], digits: int = 3) -> dict[str, float]:
    """Rounded copies of per-layer numbers, for printing stable notebook outputs."""
    return {name: round(float(value), digits) for name, value in values.items()}


__all__: Sequence[str] = [
    "ChannelRangeError",
    "LayerSelectionError",
    "activation_model",
    "activation_statistics",
    "blank_channel_fraction",
    "blank_channels",
    "blank_fraction_by_class",
    "channel_map",
    "cumulative_stride",
    "display_scale",
    "EDGE_KINDS",
    "edge_correlations",
    "edge_map",
    "edge_maps",
    "feature_map_layer_names",
    "get_activations",
    "layer_channels",
    "layer_shapes",
    "linear_probe_accuracy",
    "maps_at_pixels",
    "probe_by_layer",
    "reconstruction_r2",
    "select_layers",
    "summarize",
]
