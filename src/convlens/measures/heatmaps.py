"""Measures of heatmaps: where the evidence lies, and whether the heatmaps pass their checks.

Arrays in, numbers out; nothing here draws. The photos carry no masks of the animal, so "the
share of the heatmap on the animal" cannot be measured. What can be measured on a heatmap alone:

* :func:`hot_area`: the fraction of the grid at or above half the map's maximum (evidence on a
  small part of the photo, or spread over a face and a body, or the background);
* :func:`top_share`: the share of the map's heat held by its hottest positions (10 % by default);
* :func:`centre_share`: the share of heat in the central box of the photo (a weak proxy for "on
  the animal", reported as what it is).

Maps that are zero everywhere (no positive evidence at all) give NaN: they have no shape. The
agreement of two sets of heatmaps is :func:`convlens.measures.stats.rank_correlation`.

The checks: model randomization (Adebayo et al. 2018: a heatmap that survives
:func:`randomized_copy` unchanged does not explain the trained weights) and deletion
(:func:`deletion_curve`: deleting the hottest pixels first, filled with black, each photo's mean
colour or its blur, must lower the class probability faster than a random order,
:func:`random_heatmaps`; areas by :func:`curve_area`, compared per photo with
:func:`convlens.measures.stats.sign_test`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..checks import as_batch, check_int
from ..errors import ArgumentError
from ..gradcam import check_classes, predict_dog, upsample

if TYPE_CHECKING:
    import keras

__all__ = [
    "BLUR_SIGMA",
    "FILLS",
    "blurred",
    "centre_share",
    "curve_area",
    "deletion_curve",
    "hot_area",
    "random_heatmaps",
    "randomized_copy",
    "top_share",
]


# --------------------------------------------------------------------------- where the evidence lies


def _as_maps(heatmaps: np.ndarray) -> np.ndarray:
    """Heatmaps (N, h, w) or (h, w) as a float64 batch; negative values refused (Grad-CAM maps are ReLU'd)."""
    return as_batch(heatmaps, unit_range=False, what="heatmaps", item_ndim=2, bounds=(0.0, None)).astype(np.float64)


def hot_area(heatmaps: np.ndarray, level: float = 0.5) -> np.ndarray:
    """Fraction of each map's positions whose value is at least ``level`` times the map's maximum.

    One value per map in (0, 1]; NaN for a map that is zero everywhere.
    """
    maps = _as_maps(heatmaps)
    flat = maps.reshape(len(maps), -1)
    peak = flat.max(axis=1)
    out = np.full(len(flat), np.nan)
    live = peak > 0
    out[live] = np.mean(flat[live] >= level * peak[live, None], axis=1)
    return out


def top_share(heatmaps: np.ndarray, fraction: float = 0.1) -> np.ndarray:
    """Share of each map's total heat held by its hottest ``fraction`` of positions.

    Equal to ``fraction`` for a flat map and to 1 when all the heat sits in that many positions.
    One value per map; NaN for a map that is zero everywhere.
    """
    if not 0 < fraction <= 1:
        raise ArgumentError(f"fraction must lie in (0, 1], not {fraction!r}.")
    maps = _as_maps(heatmaps)
    flat = np.sort(maps.reshape(len(maps), -1), axis=1)[:, ::-1]
    keep = max(1, int(round(fraction * flat.shape[1])))
    total = flat.sum(axis=1)
    out = np.full(len(flat), np.nan)
    live = total > 0
    out[live] = flat[live, :keep].sum(axis=1) / total[live]
    return out


def centre_share(heatmaps: np.ndarray, box: float = 0.5) -> np.ndarray:
    """Share of each map's heat inside the central box of ``box`` times its height and width.

    With ``box=0.5`` the box covers a quarter of the photo, so a flat map gives about 0.25.
    One value per map; NaN for a map that is zero everywhere.
    """
    if not 0 < box <= 1:
        raise ArgumentError(f"box must lie in (0, 1], not {box!r}.")
    maps = _as_maps(heatmaps)
    height, width = maps.shape[1:]
    rows = int(round(height * box))
    cols = int(round(width * box))
    top, left = (height - rows) // 2, (width - cols) // 2
    inner = maps[:, top : top + rows, left : left + cols].sum(axis=(1, 2))
    total = maps.sum(axis=(1, 2))
    out = np.full(len(maps), np.nan)
    live = total > 0
    out[live] = inner[live] / total[live]
    return out


# --------------------------------------------------------------------------- randomization and deletion


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
    fill: float | str = 0.0,
    seed: int = 0,
    batch_size: int = 100,
    per_photo: bool = False,
) -> np.ndarray:
    """Mean probability of ``class_index`` as growing fractions of pixels are set to ``fill``.

    Pixels are blanked from the highest heatmap value down (``heatmaps`` at any resolution,
    upsampled to the photo) and replaced by ``fill`` (see :data:`FILLS`): a pixel value in [0, 1]
    (0.0: black), ``"mean"`` (each photo's own mean colour) or ``"blur"`` (the same pixel of the
    photo blurred, :func:`blurred`); the control is :func:`random_heatmaps` of the same grid size, or a
    pixel-by-pixel random order when ``heatmaps`` is None.
    Returns an array with one mean class probability per fraction, or with ``per_photo`` one row
    per photo (N, fractions). A faithful heatmap makes the curve fall faster than the random one:
    a smaller area under it (:func:`curve_area`).
    """
    batch = as_batch(images, model)
    count, height, width = batch.shape[:3]
    if class_index is None:
        raise ArgumentError("deletion_curve needs the class to follow: 0 (cat) or 1 (dog) per photo.")
    classes = check_classes(class_index, count)
    replacement = _fill(batch, fill)
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
        blanked = np.where(removed, replacement, batch)
        p_dog = predict_dog(model, blanked, batch_size)
        columns.append(np.where(classes == 1, p_dog, 1.0 - p_dog))
    curves = np.stack(columns, axis=1).astype(np.float64)
    return curves if per_photo else curves.mean(axis=0)


FILLS = ("mean", "blur")
"""The named fills of :func:`deletion_curve` besides a pixel value: each photo's mean colour, or the
photo blurred. Both stay closer to a photo than black, which the model never saw in training."""

BLUR_SIGMA = 10.0
"""Standard deviation in pixels of the Gaussian blur of ``fill="blur"``: one cell of Grad-CAM's
15 x 15 grid on a 150-pixel photo, so the blur wipes out what a heatmap cell could point at."""


def blurred(images: np.ndarray, sigma: float = BLUR_SIGMA) -> np.ndarray:
    """Photos (N, H, W, 3) blurred by a Gaussian of ``sigma`` pixels (edges reflected), float32."""
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(np.asarray(images, np.float32), sigma=(0, sigma, sigma, 0), mode="reflect")


def _fill(batch: np.ndarray, fill) -> np.ndarray:
    """What replaces a deleted pixel of ``batch``: a value, each photo's mean colour, or its blur."""
    if isinstance(fill, str):
        if fill not in FILLS:
            raise ArgumentError(f"fill must be a pixel value in [0, 1] or one of {', '.join(FILLS)}; got {fill!r}.")
        if fill == "mean":
            return batch.mean(axis=(1, 2), keepdims=True).astype(np.float32)  # (N, 1, 1, 3)
        return blurred(batch)
    if not 0.0 <= fill <= 1.0:
        raise ArgumentError(f"fill must be a pixel value in [0, 1], like the photos; got {fill!r}.")
    return np.float32(fill)


def random_heatmaps(count: int, shape: Sequence[int], seed: int = 0) -> np.ndarray:
    """Uniform random heatmaps (count, h, w): the control order for :func:`deletion_curve`.

    At the same grid size as the real heatmaps and upsampled the same way, they blank pixels in
    blobs of the same size, in a random place; a pixel-by-pixel random order (``heatmaps=None``)
    would instead sprinkle black dots everywhere, which is a much harsher change to a photo.
    """
    return np.random.default_rng(seed).random((int(count), *map(int, shape))).astype(np.float32)


def curve_area(fractions: Sequence[float], values) -> float | np.ndarray:
    """Area under a curve by the trapezoidal rule, ``scipy.integrate.trapezoid`` (the deletion AUC: lower is
    more faithful).

    ``values`` may hold one curve or one per row (then one area per row is returned).
    """
    from scipy.integrate import trapezoid

    y = np.asarray(values, dtype=np.float64)
    areas = trapezoid(y, np.asarray(fractions, dtype=np.float64), axis=-1)
    return float(areas) if y.ndim == 1 else areas
