"""Comparing two models' heatmaps of the same photos: where the evidence lies, and agreement.

Arrays in, numbers out; nothing here draws. The photos carry no masks of the animal, so "the
share of the heatmap on the animal" cannot be measured. What can be measured on a heatmap alone:

* :func:`hot_area`: the fraction of the grid at or above half the map's maximum. A small hot
  area is evidence on a small part of the photo (a nose, a mouth); a large one is evidence
  spread over a face and a body, or over the background. It says how much of the photo the
  evidence covers, not whether it covers the animal.
* :func:`top_share`: the share of the map's total heat held by its hottest positions (the top
  10 % by default): high when the evidence is concentrated, low when it is spread.
* :func:`centre_share`: the share of heat in the central box of the photo. The book's crops keep
  the top-left square of each photo, so an animal is often, but not always, near the centre;
  this is a weak proxy for "on the animal" and is reported as what it is.

Maps that are zero everywhere (no positive evidence at all) give NaN: they have no shape.
The agreement of two models on one photo is :func:`convlens.checks.rank_correlation`;
:func:`paired_verdict` turns a per-photo comparison into a printed verdict that does not flip
between machines (:mod:`convlens.verdicts`).
"""

from __future__ import annotations

import numpy as np

from .errors import ArgumentError
from .verdicts import Verdict, against_threshold

__all__ = [
    "centre_share",
    "hot_area",
    "paired_verdict",
    "top_share",
]


def _as_maps(heatmaps: np.ndarray) -> np.ndarray:
    maps = np.asarray(heatmaps, dtype=np.float64)
    if maps.ndim == 2:
        maps = maps[None]
    if maps.ndim != 3:
        raise ArgumentError(f"Expected heatmaps of shape (N, h, w) or (h, w), got {np.shape(heatmaps)}.")
    if np.any(maps < 0):
        raise ArgumentError("Heatmaps must be non-negative (Grad-CAM maps are, after their ReLU).")
    return maps


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


def paired_verdict(
    first: np.ndarray,
    second: np.ndarray,
    claim: str,
    alpha: float = 0.05,
    margin: float = 0.03,
) -> tuple[int, int, float, Verdict]:
    """Whether ``second`` is larger than ``first`` on clearly more than half of the photos.

    Pairs with a NaN on either side, and ties, are left out. Returns the number of photos where
    ``second > first``, the number of pairs counted, the one-sided sign-test p, and the verdict
    on ``claim``: it holds when p < ``alpha``, and a p within ``margin`` of ``alpha`` is too
    close to call, so that one photo more or less on another machine cannot flip it.
    """
    from scipy.stats import binomtest

    a, b = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    if a.shape != b.shape:
        raise ArgumentError(f"Paired values must have the same shape, got {a.shape} and {b.shape}.")
    usable = np.isfinite(a) & np.isfinite(b) & (a != b)
    wins, trials = int(np.sum(b[usable] > a[usable])), int(np.sum(usable))
    p_value = float(binomtest(wins, trials, 0.5, alternative="greater").pvalue) if trials else 1.0
    verdict = against_threshold(p_value, alpha, margin, holds_if="below", claim=claim)
    return wins, trials, p_value, verdict
