"""The one search for the book's repository folders (``data/models``, ``data/cats_vs_dogs``).

A notebook runs from ``book/``, a script from the repository root, and an editable install
imports the package from ``src/convlens``: :func:`find_in_repository` looks upwards from the
current directory, then from the package's own folder. A non-editable install run from a
folder outside any clone finds nothing (and :mod:`convlens.colab` then fetches the weights).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

__all__ = [
    "find_in_repository",
    "repo_root",
    "search_starts",
]


def search_starts() -> list[Path]:
    """Where the search starts: the current directory, then the package's folder."""
    return [Path.cwd(), Path(__file__).resolve().parent]


def find_in_repository(relative: str, accept: Callable[[Path], bool] = Path.is_dir) -> Path | None:
    """The first ``FOLDER/relative`` that ``accept`` takes, FOLDER going up from each start; or None.

    ``relative`` is a path such as ``"data/models"``; ``accept`` defaults to "is a folder".
    """
    for start in search_starts():
        for folder in (start, *start.parents):
            candidate = folder / relative
            if accept(candidate):
                return candidate
    return None


def repo_root() -> Path | None:
    """The repository: the folder holding ``data/models`` found by :func:`find_in_repository`."""
    models = find_in_repository("data/models")
    return models.parent.parent if models is not None else None
