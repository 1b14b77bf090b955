"""Measures of feature maps: which channels of a layer ever fire on a set of photos."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["dead_channel_census", "dead_channels"]


def dead_channels(model, images: np.ndarray, layers: Sequence[str] | None = None,
                  batch_size: int = 64) -> dict[str, np.ndarray]:
    """Per conv layer, the indices of the channels whose activation is 0 at every pixel of every photo.

    A ReLU channel that never fires passes no gradient either, so training cannot revive it: it is
    dead, not merely quiet. ``images`` are (N, 150, 150, 3) in [0, 1] (or ``uint8``, divided by
    255 here). ``layers`` defaults to every ``Conv2D`` layer of ``model``.
    """
    import keras

    from ..core import as_batch, batch_slices, conv_layer_names

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
