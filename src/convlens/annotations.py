"""The hand-drawn boxes around the animal and its head, for the book's copy of the validation photos.

``data/annotations/validation_boxes.json`` (its README says how the boxes were drawn and
checked) names each photo as ``cats/cat.N.jpg`` under the split. The boxes belong to the book's
128 x 128 crops: the public archive that Colab readers download holds other files, which
:func:`match` reports as having no box rather than guessing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import paths
from .errors import BadFileError, DataNotFoundError
from .measures.boxes import relative_boxes

__all__ = ["BOXES_FILE", "PhotoBoxes", "load_boxes", "match"]

BOXES_FILE = "data/annotations/validation_boxes.json"
"""Where the boxes live, relative to the repository."""


class PhotoBoxes(NamedTuple):
    """Boxes of the annotated photos, in the file's order, as fractions of the photo ([x0, y0, x1, y1])."""

    files: list[str]
    labels: np.ndarray
    animal: np.ndarray
    head: np.ndarray
    notes: list[str]


def _box_array(photos: list[dict], key: str) -> np.ndarray:
    return np.array([p[key] if p.get(key) is not None else [np.nan] * 4 for p in photos], dtype=np.float64)


def load_boxes(path: str | os.PathLike | None = None) -> PhotoBoxes:
    """The boxes of ``path`` (default: the repository's :data:`BOXES_FILE`), checked and made relative."""
    source = Path(path) if path is not None else paths.find_in_repository(BOXES_FILE, Path.is_file)
    if source is None or not Path(source).is_file():
        raise DataNotFoundError(
            f"No box annotations at {source or BOXES_FILE}: they ship with the book's repository, "
            "not with the installed package; run the chapter from a clone, or pass the file's path."
        )
    try:
        content = json.loads(Path(source).read_text(encoding="utf-8"))
        photos = content["photos"]
        size = tuple(content["image_size"])
        labels = np.array([("cat", "dog").index(p["label"]) for p in photos])
        animal = relative_boxes(_box_array(photos, "animal"), size)
        head = relative_boxes(_box_array(photos, "head"), size)
    except (ValueError, KeyError, TypeError) as exc:
        raise BadFileError(
            f"{source} is not a box annotation file of the expected form ({exc}); restore it from "
            "the repository (git checkout data/annotations)."
        ) from exc
    return PhotoBoxes([p["file"] for p in photos], labels, animal, head, [p.get("note", "") for p in photos])


def match(boxes: PhotoBoxes, files: Sequence[str | os.PathLike]) -> np.ndarray:
    """For each photo file, the row of ``boxes`` that annotates it (by class folder and name), or -1."""
    rows = {name: i for i, name in enumerate(boxes.files)}
    return np.array([rows.get(f"{Path(f).parent.name}/{Path(f).name}", -1) for f in files], dtype=int)
