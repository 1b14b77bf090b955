"""Measures of feature maps: which channels fire (sparsity, dead channels), how linearly a layer separates classes.

Arrays in, numbers out; nothing here draws. Built on :func:`convlens.activations.get_activations`:

* sparsity: blank (all-zero) channels, per input, per class, among the channels ever used;
  dead channels, which never fire on any photo (counted after every training epoch);
* a linear probe (ridge classifier) on globally pooled features: how linearly a layer separates
  the classes.

What the maps keep of the photo (read-out R^2, edges) is :mod:`convlens.measures.read_out`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..activations import get_activations
from ..checks import as_batch, batch_slices
from ..errors import ArgumentError
from ..layers import conv_layer_names, select_layers

if TYPE_CHECKING:
    import keras

__all__ = [
    "activation_statistics",
    "blank_channel_fraction",
    "blank_channels",
    "blank_fraction_among_used",
    "blank_fraction_by_class",
    "dead_channel_census",
    "dead_channels",
    "linear_probe_accuracy",
    "probe_by_layer",
]


# ----------------------------------------------------------------------------- sparsity


def blank_channels(maps: np.ndarray) -> np.ndarray:
    """Which channels are blank (all exactly zero) for each input: (N, H, W, C) -> (N, C) bool."""
    maps = as_batch(maps, unit_range=False, what="feature maps")
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


def dead_channels(model, images: np.ndarray, layers: Sequence[str] | None = None,
                  batch_size: int = 64) -> dict[str, np.ndarray]:
    """Per conv layer, the indices of the channels whose activation is 0 at every pixel of every photo.

    A ReLU channel that never fires passes no gradient either, so training cannot revive it: it is
    dead, not merely quiet. ``images`` are (N, 150, 150, 3) in [0, 1] (or ``uint8``, divided by
    255 here). ``layers`` defaults to every ``Conv2D`` layer of ``model``.
    """
    import keras

    names = list(layers) if layers is not None else conv_layer_names(model)
    images = np.asarray(images)
    images = images[None] if images.ndim == 3 else images
    probe = keras.Model(model.input, [model.get_layer(name).output for name in names])
    peaks = [None] * len(names)
    for part in batch_slices(len(images), batch_size):
        chunk = images[part]
        if chunk.dtype == np.uint8:  # photos held as bytes (training): scaled a batch at a time
            chunk = chunk.astype(np.float32) / 255.0
        outputs = probe(as_batch(chunk, model), training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for i, maps in enumerate(outputs):
            peak = np.asarray(maps).max(axis=(0, 1, 2))
            peaks[i] = peak if peaks[i] is None else np.maximum(peaks[i], peak)
    return {name: np.flatnonzero(peak <= 0) for name, peak in zip(names, peaks, strict=True)}


def dead_channel_census(model, images: np.ndarray, layers: Sequence[str] | None = None,
                        batch_size: int = 64) -> dict[str, int]:
    """How many channels of each conv layer never fire on ``images`` (see :func:`dead_channels`)."""
    return {name: int(len(dead)) for name, dead in dead_channels(model, images, layers, batch_size).items()}


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
