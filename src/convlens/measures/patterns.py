"""Measures of filter patterns: does a pattern excite its own filter, and is it flat or rough?

Arrays in, numbers out; nothing here draws. :func:`own_filter_check` asks whether the pattern
optimized for filter ``i`` excites filter ``i`` more than the layer's other filters;
:func:`roughness` measures how much a pattern changes from one pixel to the next, and
:func:`flat_change_spread` whether the ascent added the same colour to every interior pixel (a
flat pattern, what a first layer gives).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ..checks import as_batch, check_channels, check_int
from ..errors import ArgumentError

if TYPE_CHECKING:
    import keras

__all__ = [
    "OwnFilterCheck",
    "flat_change_spread",
    "own_filter_check",
    "own_filter_scores",
    "roughness",
]


class OwnFilterCheck(NamedTuple):
    """Per pattern ``i``: how its own filter ``indices[i]`` responds, against the layer's other filters."""

    own: np.ndarray
    """(N,) mean activation of filter ``indices[i]`` on pattern ``i``."""
    others: np.ndarray
    """(N,) mean activation of the layer's other filters on pattern ``i``, averaged over those filters."""
    rank: np.ndarray
    """(N,) rank of filter ``indices[i]`` among all the layer's filters on pattern ``i`` (1: the most excited)."""

    @property
    def passes(self) -> np.ndarray:
        """(N,) bool: the own filter responds more than the mean of the others (``own > others``)."""
        return self.own > self.others


def own_filter_scores(activations: np.ndarray, indices: Sequence[int]) -> OwnFilterCheck:
    """:class:`OwnFilterCheck` from the mean activations of every filter on every pattern.

    ``activations`` is (N, filters): row ``i`` the mean activation of each filter of the layer
    on pattern ``i`` (``filters.mean_filter_activations(model, layer, patterns)``); pattern ``i``
    was optimized for filter ``indices[i]``. A single row (filters,) with one index is accepted.
    """
    acts = np.asarray(activations)
    if not np.issubdtype(acts.dtype, np.floating):
        acts = acts.astype(np.float64)
    if acts.ndim == 1:
        acts = acts[None]
    if acts.ndim != 2 or acts.shape[1] < 2:
        raise ArgumentError(
            "activations must be (N, filters) with at least 2 filters: the mean activation of every filter on "
            f"every pattern (filters.mean_filter_activations(model, layer, patterns)); got shape {acts.shape}."
        )
    values = check_channels("of the patterns", np.atleast_1d(indices), acts.shape[1], noun="filter")
    if len(values) != len(acts):
        raise ArgumentError(f"indices must hold one integer filter number per pattern ({len(acts)}); got {indices!r}.")
    rows = np.arange(len(acts))
    own = acts[rows, values]
    others = (acts.sum(axis=1) - own) / (acts.shape[1] - 1)
    rank = (acts > own[:, None]).sum(axis=1) + 1
    return OwnFilterCheck(own, others, rank.astype(int))


def own_filter_check(
    model: keras.Model, layer_name: str, patterns: np.ndarray, indices: Sequence[int]
) -> OwnFilterCheck:
    """Is pattern ``i`` more exciting to its own filter ``indices[i]`` than to the layer's other filters?

    ``patterns`` are raw optimized inputs (N, H, W, 3) in [0, 1] units (``deprocess=False``),
    pattern ``i`` optimized for filter ``indices[i]`` of ``layer_name``. Returns the own filter's
    mean activation, the mean over the other filters, and the own filter's rank (1 = first).
    """
    from ..filters import mean_filter_activations

    return own_filter_scores(mean_filter_activations(model, layer_name, patterns), indices)


def roughness(images: np.ndarray) -> float | np.ndarray:
    """How much an image changes between neighbouring pixels, relative to its variance.

    The mean squared difference between vertical neighbours divided by the image's variance,
    plus the same for horizontal neighbours: about 4 for white noise, near 0 for a smooth image,
    and independent of contrast. One image (H, W) or (H, W, C) gives a float; a batch
    (N, H, W, C) gives one value per image. A constant image gives NaN.
    """
    values = np.asarray(images)
    if values.ndim == 4:
        return np.array([roughness(image) for image in values])
    if values.ndim not in (2, 3):
        raise ArgumentError(
            f"roughness expects an image (H, W[, C]) or a batch (N, H, W, C); got shape {values.shape}."
        )
    values = values.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(
            (np.diff(values, axis=0) ** 2).mean() / values.var() + (np.diff(values, axis=1) ** 2).mean() / values.var()
        )


def flat_change_spread(patterns: np.ndarray, starts: np.ndarray, border: int = 2) -> np.ndarray:
    """How unevenly the ascent changed each pattern's interior: 0 for a flat colour added everywhere.

    The change ``patterns - starts`` (raw optimized inputs and their starts, (N, H, W, C)) away
    from a ``border`` of pixels; per pattern, the largest (over the colour channels) standard
    deviation of the change across the interior, divided by the largest absolute mean change. A
    first-layer filter is linear in the pixels, so its ascent adds the same colour to every
    interior pixel: chapter 3 counts a pattern as flat below 0.01.
    """
    change = as_batch(patterns, unit_range=False, what="patterns") - as_batch(
        starts, unit_range=False, what="start images")
    border = check_int("border", border, 0, (min(change.shape[1:3]) - 1) // 2)
    inner = change[:, border:change.shape[1] - border, border:change.shape[2] - border, :].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return inner.std(axis=(1, 2)).max(axis=-1) / np.abs(inner.mean(axis=(1, 2))).max(axis=-1)
