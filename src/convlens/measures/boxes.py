"""Where the evidence lies, measured against hand-drawn boxes around the animal and its head.

A box is ``[x0, y0, x1, y1]`` in pixels of the annotated photo (``x1``, ``y1`` exclusive) and is
compared with a heatmap through relative coordinates, so a 15 x 15 Grad-CAM grid, its upsampled
version and the photo itself share one box. A position of a map counts as inside a box when its
centre does. A missing box (the photo shows no head, say) is a row of NaN and gives NaN.

- :func:`pointing_hits`: whether the map's hottest position lies inside the box: the pointing
  game (Zhang et al. 2016), as the Grad-CAM paper uses it;
- :func:`mass_in_box`: the share of the map's heat inside the box;
- :func:`box_share`: the box's share of the photo, what heat spread evenly would give;
- :func:`centre_hits`: whether the photo's centre lies in the box, what a guess that always
  points at the centre would score in the pointing game.

Arrays in, numbers out; nothing here draws or reads files (:mod:`convlens.annotations` does).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..checks import as_batch
from ..errors import ArgumentError

__all__ = [
    "MEASURES",
    "baselines",
    "box_share",
    "centre_hits",
    "evidence",
    "mass_in_box",
    "pointing_hits",
    "relative_boxes",
]


def relative_boxes(boxes, image_size: Sequence[int]) -> np.ndarray:
    """Boxes (N, 4) in pixels of photos of ``image_size`` = (height, width) as fractions in [0, 1].

    Rows of NaN (no box) stay NaN. A box outside the photo, or with x1 <= x0 or y1 <= y0, is refused.
    """
    array = np.asarray(boxes, dtype=np.float64)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[1] != 4:
        raise ArgumentError(f"Boxes must be an array (N, 4) of [x0, y0, x1, y1]; got shape {array.shape}.")
    height, width = (float(v) for v in image_size)
    present = ~np.isnan(array).any(axis=1)
    x0, y0, x1, y1 = array[present].T
    if np.any((x0 < 0) | (y0 < 0) | (x1 > width) | (y1 > height) | (x1 <= x0) | (y1 <= y0)):
        raise ArgumentError(
            f"Every box must lie inside the {width:g} x {height:g} photo with x0 < x1 and y0 < y1; "
            "check the annotation file's coordinates ([x0, y0, x1, y1] in pixels, x1 and y1 exclusive)."
        )
    return array / np.array([width, height, width, height])


def _inside(boxes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Boolean masks (N, h, w): the positions of an h x w map whose centres lie in each relative box."""
    height, width = shape
    rows = (np.arange(height) + 0.5) / height
    cols = (np.arange(width) + 0.5) / width
    x0, y0, x1, y1 = (boxes[:, i, None] for i in range(4))
    in_rows = (rows >= y0) & (rows < y1)
    in_cols = (cols >= x0) & (cols < x1)
    return in_rows[:, :, None] & in_cols[:, None, :]


def _maps_and_boxes(heatmaps, boxes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    maps = as_batch(heatmaps, unit_range=False, what="heatmaps", item_ndim=2, bounds=(0.0, None)).astype(np.float64)
    rel = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(rel) != len(maps):
        raise ArgumentError(f"Got {len(maps)} heatmaps but {len(rel)} boxes; pass one box per heatmap.")
    present = ~np.isnan(rel).any(axis=1)
    return maps, np.nan_to_num(rel), present


def pointing_hits(heatmaps, boxes) -> np.ndarray:
    """1 where each map's hottest position lies inside its box, else 0 (the pointing game).

    ``boxes`` are relative (:func:`relative_boxes`). Where several positions tie for the
    maximum, the score is the share of them inside the box. NaN for a missing box or a map that
    is zero everywhere (it points nowhere).
    """
    maps, rel, present = _maps_and_boxes(heatmaps, boxes)
    inside = _inside(rel, maps.shape[1:])
    peak = maps.max(axis=(1, 2), keepdims=True)
    at_peak = maps >= peak
    hits = (at_peak & inside).sum(axis=(1, 2)) / at_peak.sum(axis=(1, 2))
    return np.where(present & (peak[:, 0, 0] > 0), hits, np.nan)


def mass_in_box(heatmaps, boxes) -> np.ndarray:
    """Share of each map's total heat at positions inside its box (relative boxes); NaN as above."""
    maps, rel, present = _maps_and_boxes(heatmaps, boxes)
    inside = _inside(rel, maps.shape[1:])
    total = maps.sum(axis=(1, 2))
    share = np.divide((maps * inside).sum(axis=(1, 2)), total, out=np.zeros_like(total), where=total > 0)
    return np.where(present & (total > 0), share, np.nan)


def box_share(boxes) -> np.ndarray:
    """Each relative box's share of the photo: the mass an evenly spread heatmap puts in it."""
    rel = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return (rel[:, 2] - rel[:, 0]) * (rel[:, 3] - rel[:, 1])


def centre_hits(boxes) -> np.ndarray:
    """1 where the photo's centre lies inside the relative box, else 0 (NaN for a missing box).

    The score of a guess that always points at the centre, the baseline of the pointing game.
    """
    rel = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    with np.errstate(invalid="ignore"):
        hit = (rel[:, 0] <= 0.5) & (0.5 < rel[:, 2]) & (rel[:, 1] <= 0.5) & (0.5 < rel[:, 3])
    return np.where(np.isnan(rel).any(axis=1), np.nan, hit.astype(np.float64))


MEASURES: tuple[str, ...] = ("animal: peak", "head: peak", "animal: heat", "head: heat")
"""The per-photo measures of :func:`evidence`: the pointing game and the heat inside, per box."""


def evidence(heatmaps, animal, head) -> dict[str, np.ndarray]:
    """Per photo, the four :data:`MEASURES` of ``heatmaps`` against the relative animal and head boxes."""
    return {
        "animal: peak": pointing_hits(heatmaps, animal),
        "head: peak": pointing_hits(heatmaps, head),
        "animal: heat": mass_in_box(heatmaps, animal),
        "head: heat": mass_in_box(heatmaps, head),
    }


def baselines(animal, head) -> dict[str, dict[str, np.ndarray]]:
    """The :data:`MEASURES` of two guesses that look at no photo, per photo.

    ``"centre guess"``: all the heat on the photo's centre (:func:`centre_hits`);
    ``"even heat"``: heat spread evenly, whose peak is everywhere at once, so both of its
    measures are the box's share of the photo (:func:`box_share`).
    """
    return {
        "centre guess": {f"{part}: {kind}": centre_hits(box)
                         for part, box in (("animal", animal), ("head", head)) for kind in ("peak", "heat")},
        "even heat": {f"{part}: {kind}": box_share(box)
                      for part, box in (("animal", animal), ("head", head)) for kind in ("peak", "heat")},
    }
