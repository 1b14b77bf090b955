"""What measures the lecture's claims about feature maps: sparsity, linear probes, what the maps keep.

Arrays in, numbers out; nothing here draws. Built on :func:`convlens.activations.get_activations`:

* sparsity: blank (all-zero) channels, per input, per class, among the channels ever used;
* a linear probe (ridge classifier) on globally pooled features: how linearly a layer separates
  the classes;
* what the maps keep: the R^2 of a linear read-out of the photo from each layer's maps aligned to
  the pixels, and the correlation of first-layer maps with grey level and edge maps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from .activations import get_activations
from .core import as_batch, batch_slices, check_int, conv_and_pooling_layer_names, select_layers
from .errors import ArgumentError, LayerSelectionError

if TYPE_CHECKING:
    import keras

__all__ = [
    "EDGE_KINDS",
    "activation_statistics",
    "blank_channel_fraction",
    "blank_channels",
    "blank_fraction_among_used",
    "blank_fraction_by_class",
    "cumulative_stride",
    "edge_correlations",
    "edge_map",
    "edge_maps",
    "linear_probe_accuracy",
    "maps_at_pixels",
    "probe_by_layer",
    "reconstruction_r2",
]


# ----------------------------------------------------------------------------- sparsity


def blank_channels(maps: np.ndarray) -> np.ndarray:
    """Which channels are blank (all exactly zero) for each input: (N, H, W, C) -> (N, C) bool."""
    maps = np.asarray(maps)
    if maps.ndim == 3:
        maps = maps[None]
    if maps.ndim != 4:
        raise ArgumentError(f"Expected feature maps (N, H, W, C) or (H, W, C); got shape {maps.shape}.")
    return ~np.any(maps != 0, axis=(1, 2))


def blank_channel_fraction(maps: np.ndarray) -> float:
    """Fraction of channels that are all zero, averaged over the inputs of the batch."""
    return float(blank_channels(maps).mean())


def activation_statistics(
    model: keras.Model, images: np.ndarray, layers=None, batch_size: int = 16
) -> dict[str, dict]:
    """Per layer, for many inputs, without holding all their feature maps at once.

    Returns ``{layer: {"pooled": (N, C) channel means (global average pooling),
    "blank": (N, C) bool, True where the channel is all zero}}``. The forward passes run
    ``batch_size`` images at a time, so memory stays at one batch of feature maps.
    """
    images = as_batch(images, model)
    names = [layer.name for layer in select_layers(model, layers)]
    pooled: dict[str, list[np.ndarray]] = {name: [] for name in names}
    blank: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for part in batch_slices(len(images), batch_size):
        acts = get_activations(model, images[part], names, batch_size=batch_size)
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
        raise ArgumentError(
            f"Features must be (N, D) arrays with the same D; got {x_train.shape} and {x_test.shape}."
        )
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise ArgumentError("Each feature array needs one label per row.")
    classes = np.unique(y_train)
    if len(classes) != 2:
        raise ArgumentError(f"The probe needs exactly two classes in the training labels; got {classes.tolist()}.")
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
        raise ArgumentError("train_mask must leave some inputs for training and some for testing.")
    return {
        name: linear_probe_accuracy(
            stats["pooled"][train_mask], labels[train_mask], stats["pooled"][~train_mask], labels[~train_mask], l2
        )
        for name, stats in statistics.items()
    }




# ----------------------------------------------------------------------------- what the maps keep


def cumulative_stride(model: keras.Model, layer_name: str) -> int:
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
    model: keras.Model,
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
    train_images = as_batch(train_images, model, what="train_images")
    test_images = as_batch(test_images, model, what="test_images")
    pixel_step = check_int("pixel_step", pixel_step, 1)
    size = train_images.shape[1]
    names = [layer.name for layer in select_layers(model, layers)]
    strides = {name: cumulative_stride(model, name) for name in names}

    def aligned_batches(images):
        for part in batch_slices(len(images), batch_size):
            batch = images[part]
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


def edge_correlations(
    model: keras.Model, images: np.ndarray, layer: str | int | None = None
) -> dict[str, np.ndarray]:
    """Pearson correlation of each channel of ``layer`` with grey level and edge maps.

    Maps are aligned to the pixels (:func:`maps_at_pixels`) and correlations with every map
    of :func:`edge_maps` are computed per image, then averaged over ``images``. Returns those
    (C,) arrays, plus, for each of :data:`EDGE_KINDS`, the better of its polarities
    (``"horizontal edges"``, ``"vertical edges"``) and which one it was
    (``"horizontal edges polarity"``: 0 or 1). Default layer: the first convolution.
    """
    images = as_batch(images, model)
    if layer is None:
        layer = conv_and_pooling_layer_names(model)[0]
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
