"""Sanity and faithfulness checks of the techniques: do their pictures show what they claim?

Arrays in, numbers out; nothing here draws.

Filter patterns (:mod:`convlens.filters`): :func:`own_filter_check` asks whether the pattern
optimized for filter ``i`` excites filter ``i`` more than it excites the layer's other filters,
and :func:`roughness` measures how much a pattern changes from one pixel to the next.

Heatmaps (:mod:`convlens.gradcam`): the model-randomisation check (Adebayo et al. 2018: a
heatmap that survives :func:`randomized_copy` unchanged does not explain the trained weights),
compared with :func:`rank_correlation`, and the deletion check (:func:`deletion_curve`: blanking
the hottest pixels first must lower the class probability faster than a random order,
:func:`random_heatmaps`; areas by :func:`curve_area`, per photo with :func:`paired_sign_test`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .core import as_batch, check_int
from .errors import ArgumentError, ChannelRangeError
from .gradcam import _class_array, predict_dog, upsample

if TYPE_CHECKING:
    import keras

__all__ = [
    "OwnFilterCheck",
    "curve_area",
    "deletion_curve",
    "own_filter_check",
    "own_filter_scores",
    "paired_sign_test",
    "random_heatmaps",
    "randomized_copy",
    "rank_correlation",
    "roughness",
]


# --------------------------------------------------------------------------- filter patterns


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
    values = np.asarray(list(np.atleast_1d(indices)))
    if acts.ndim != 2 or acts.shape[1] < 2:
        raise ArgumentError(
            "activations must be (N, filters) with at least 2 filters: the mean activation of every filter on "
            f"every pattern (filters.mean_filter_activations(model, layer, patterns)); got shape {acts.shape}."
        )
    if values.ndim != 1 or len(values) != len(acts) or not np.issubdtype(values.dtype, np.integer):
        raise ArgumentError(
            f"indices must hold one integer filter number per pattern ({len(acts)}); got {indices!r}."
        )
    if np.any((values < 0) | (values >= acts.shape[1])):
        raise ChannelRangeError(f"Filter indices must lie in 0..{acts.shape[1] - 1}; got {values.tolist()}.")
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
    from .filters import mean_filter_activations

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


# --------------------------------------------------------------------------- heatmaps


def rank_correlation(maps_a: np.ndarray, maps_b: np.ndarray) -> np.ndarray:
    """Spearman rank correlation between paired heatmaps, one value per photo (NaN if a map is constant)."""
    from scipy.stats import spearmanr

    a = np.asarray(maps_a, dtype=np.float64).reshape(len(maps_a), -1)
    b = np.asarray(maps_b, dtype=np.float64).reshape(len(maps_b), -1)
    if a.shape != b.shape:
        raise ArgumentError(
            f"Heatmaps to compare must have the same shapes, got {np.shape(maps_a)} and {np.shape(maps_b)}."
        )
    out = np.full(len(a), np.nan)
    for i in range(len(a)):
        if np.ptp(a[i]) > 0 and np.ptp(b[i]) > 0:
            out[i] = spearmanr(a[i], b[i]).statistic
    return out


def randomized_copy(model: keras.Model, seed: int = 0) -> keras.Model:
    """The same architecture with freshly initialised weights (Adebayo et al.'s model randomization).

    The same ``seed`` gives the same weights. Keras draws the seed of each new layer's
    initializers from Python's :mod:`random` module; that module's state is set from ``seed``
    for the copy and put back afterwards, so no global random generator (Python, NumPy,
    TensorFlow, Keras) is reseeded or advanced by this call.
    """
    import random

    import keras

    seed = check_int("seed", seed)
    saved = random.getstate()
    try:
        random.seed(seed)
        return keras.models.clone_model(model)
    finally:
        random.setstate(saved)


def deletion_curve(
    model: keras.Model,
    images: np.ndarray,
    heatmaps: np.ndarray | None,
    class_index,
    fractions: Sequence[float] = tuple(np.linspace(0.0, 1.0, 11)),
    fill: float = 0.0,
    seed: int = 0,
    batch_size: int = 100,
    per_photo: bool = False,
) -> np.ndarray:
    """Mean probability of ``class_index`` as growing fractions of pixels are set to ``fill``.

    Pixels are blanked from the highest heatmap value down (``heatmaps`` at any resolution,
    upsampled to the photo); the control is :func:`random_heatmaps` of the same grid size, or a
    pixel-by-pixel random order when ``heatmaps`` is None.
    Returns an array with one mean class probability per fraction, or with ``per_photo`` one row
    per photo (N, fractions). A faithful heatmap makes the curve fall faster than the random one:
    a smaller area under it (:func:`curve_area`).
    """
    batch = as_batch(images, model)
    count, height, width = batch.shape[:3]
    if class_index is None:
        raise ArgumentError("deletion_curve needs the class to follow: 0 (cat) or 1 (dog) per photo.")
    classes = _class_array(class_index, count)
    if not 0.0 <= fill <= 1.0:
        raise ArgumentError(f"fill must be a pixel value in [0, 1], like the photos; got {fill!r}.")
    pixels = height * width
    if heatmaps is None:
        rng = np.random.default_rng(seed)
        ranks = np.stack([rng.permutation(pixels) for _ in range(count)])
    else:
        full = upsample(heatmaps, (height, width)).reshape(count, pixels)
        order = np.argsort(-full, axis=1, kind="stable")  # most important pixel first
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(pixels)[None].repeat(count, 0), axis=1)
    ranks = ranks.reshape(count, height, width, 1)
    columns = []
    for fraction in fractions:
        removed = ranks < int(round(float(fraction) * pixels))
        blanked = np.where(removed, np.float32(fill), batch)
        p_dog = predict_dog(model, blanked, batch_size)
        columns.append(np.where(classes == 1, p_dog, 1.0 - p_dog))
    curves = np.stack(columns, axis=1).astype(np.float64)
    return curves if per_photo else curves.mean(axis=0)


def random_heatmaps(count: int, shape: Sequence[int], seed: int = 0) -> np.ndarray:
    """Uniform random heatmaps (count, h, w): the control order for :func:`deletion_curve`.

    At the same grid size as the real heatmaps and upsampled the same way, they blank pixels in
    blobs of the same size, in a random place; a pixel-by-pixel random order (``heatmaps=None``)
    would instead sprinkle black dots everywhere, which is a much harsher change to a photo.
    """
    return np.random.default_rng(seed).random((int(count), *map(int, shape))).astype(np.float32)


def curve_area(fractions: Sequence[float], values) -> float | np.ndarray:
    """Area under a curve by the trapezoidal rule (the deletion AUC: lower is more faithful).

    ``values`` may hold one curve or one per row (then one area per row is returned).
    """
    x = np.asarray(fractions, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    areas = np.sum((x[1:] - x[:-1]) * (y[..., 1:] + y[..., :-1]) / 2.0, axis=-1)
    return float(areas) if y.ndim == 1 else areas


def paired_sign_test(smaller: np.ndarray, larger: np.ndarray) -> tuple[int, int, float]:
    """How many pairs have ``smaller < larger``, out of how many unequal pairs, and the one-sided sign-test p.

    Used on per-photo deletion areas: a heatmap passes when its areas are lower than the random
    order's on clearly more than half of the photos (p < 0.05), not merely on average.
    """
    from scipy.stats import binomtest

    a, b = np.asarray(smaller, dtype=np.float64), np.asarray(larger, dtype=np.float64)
    wins, ties = int(np.sum(a < b)), int(np.sum(a == b))
    trials = len(a) - ties
    p_value = float(binomtest(wins, trials, 0.5, alternative="greater").pvalue) if trials else 1.0
    return wins, trials, p_value
