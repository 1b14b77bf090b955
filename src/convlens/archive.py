"""The cats-vs-dogs photo folder as the public archive lays it out, and its checked download.

A dataset folder holds ``train/`` and ``validation/`` (and maybe ``test/``), each with
``cats/`` and ``dogs/`` (:data:`CLASS_NAMES`, whose index is the label). :func:`download_dataset`
fetches Google's ``cats_and_dogs_filtered.zip`` through the one fetcher (:mod:`convlens.fetch`,
pooch), unzips it with ``pooch.Unzip`` (whose ``zipfile`` never writes outside its folder), counts
it and marks it complete. Finding, listing and batching the photos is :mod:`convlens.data`'s work,
above this module.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from . import fetch, settings
from .errors import DataNotFoundError, DownloadError
from .fetch import DATASET_URL
from .images import image_files, readable

__all__ = [
    "CLASS_NAMES",
    "COMPLETE_MARKER",
    "DATASET_URL",
    "EXPECTED_COUNTS",
    "count_photos",
    "download_dataset",
    "is_dataset_dir",
]

CLASS_NAMES: tuple[str, str] = ("cats", "dogs")
"""Folder names of the two classes; the index is the label (0 = cat, 1 = dog)."""

EXPECTED_COUNTS = {"train": {"cats": 1000, "dogs": 1000}, "validation": {"cats": 500, "dogs": 500}}
"""File counts of the public ``cats_and_dogs_filtered.zip``, checked after extraction.

No SHA-256 of the archive is published (:data:`convlens.fetch.REGISTRY`), so by default the
download is checked by its content instead (a zip, these counts); a digest given in
``$CONVLENS_DATA_SHA256`` (:func:`convlens.settings.data_sha256`) is checked by pooch too."""

COMPLETE_MARKER = ".convlens-complete"
"""Written last into an extracted and counted dataset folder; a folder without it is not trusted."""


def is_dataset_dir(folder: Path) -> bool:
    """Whether ``folder`` has ``train/`` and ``validation/``, each with ``cats/`` and ``dogs/``."""
    return all((folder / split / name).is_dir() for split in ("train", "validation") for name in CLASS_NAMES)


def count_photos(root: str | os.PathLike, splits: Sequence[str]) -> dict[str, dict[str, int]]:
    """Readable photos per split and class under ``root``, for the ``splits`` that exist there.

    A photo counts when the one decoder reads it (:func:`convlens.images.readable`).
    """
    root = Path(root)
    return {
        split: {
            name: sum(readable(path) for path in image_files(root / split / name))
            if (root / split / name).is_dir()
            else 0
            for name in CLASS_NAMES
        }
        for split in splits
        if (root / split).is_dir()
    }


def download_dataset(
    url: str = DATASET_URL,
    cache_dir: str | os.PathLike | None = None,
    sha256: str | None = None,
    timeout: float | None = None,
    deadline: float | None = None,
    expected_counts: dict[str, dict[str, int]] | None = None,
) -> Path:
    """Download and extract ``cats_and_dogs_filtered.zip``; return its dataset folder.

    The archive comes through :func:`convlens.fetch.fetch` (pooch: a temporary file moved into
    place only when whole; deadline, rate floor, no web page), so a cut or a captive portal's page
    is never kept. It is unzipped into a temporary folder, counted against ``expected_counts``
    (default :data:`EXPECTED_COUNTS` for the public URL; no count check for another URL), marked
    complete (:data:`COMPLETE_MARKER`) and only then moved into place; a later call returns a
    marked folder at once. Gives up by the limits of :data:`convlens.settings.DOWNLOAD` (or
    ``timeout`` seconds without an answer, ``deadline`` for the whole file), with a message naming
    ``CONVLENS_DATA``, so that an offline machine never hangs here. ``sha256`` defaults to
    ``$CONVLENS_DATA_SHA256``; ``cache_dir`` to :func:`convlens.settings.datasets_dir`.
    """
    sha256 = sha256 or settings.data_sha256()
    if expected_counts is None and url == DATASET_URL:
        expected_counts = EXPECTED_COUNTS
    cache = Path(cache_dir or settings.datasets_dir()).expanduser()
    target = cache / "cats_and_dogs_filtered"
    if (target / COMPLETE_MARKER).is_file() and is_dataset_dir(target):
        return target
    cache.mkdir(parents=True, exist_ok=True)
    if target.exists():
        # No marker: half extracted by a killed run (drop it), or extracted whole by another tool
        # such as Keras' get_file (kept once its counts are checked).
        whole = expected_counts is not None and is_dataset_dir(target)
        if whole and _counts(target, expected_counts) == expected_counts:
            (target / COMPLETE_MARKER).write_text(json.dumps(expected_counts))
            return target
        shutil.rmtree(target)
    archive = cache / fetch.ARCHIVE
    if sha256 is None and archive.exists() and not zipfile.is_zipfile(archive):
        archive.unlink()  # with no hash to check, pooch would keep what an older version or another tool left
    try:
        fetch.fetch(
            fetch.ARCHIVE, cache, url, known_hash=f"sha256:{sha256}" if sha256 else None,
            processor=lambda path, action, pooch: _extract_checked(Path(path), target, expected_counts),
            limits=fetch.limits_with(timeout, deadline),
        )
    except DownloadError as exc:
        raise DataNotFoundError(_download_advice(exc)) from None
    return target


def _download_advice(exc: DownloadError) -> str:
    """The message of a failed photo download: what went wrong, then the fix."""
    local = f"set {settings.DATA_ENV} to a folder with train/ and validation/ (each with cats/ and dogs/)"
    if exc.reason in ("truncated", "invalid"):
        return (
            f"The download of the cats-vs-dogs photos was bad and was not kept: {exc} Try again "
            f"(behind a captive portal or proxy, log in to the network first), or {local}."
        )
    return f"Could not download the cats-vs-dogs photos: {exc} With no network, {local}."


def _counts(folder: Path, expected: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    found = count_photos(folder, list(expected))
    return {split: found.get(split, {}) for split in expected}


def _extract_checked(archive: Path, target: Path, expected_counts: dict[str, dict[str, int]] | None) -> Path:
    """pooch's processor: unzip ``archive`` beside ``target``, check it, mark it complete, move it to ``target``.

    A bad archive (not a zip, no dataset inside, wrong counts) is deleted and named in a
    :class:`DataNotFoundError`; a kill at any point leaves no unmarked ``target`` behind.
    """
    import pooch

    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".extracting", dir=target.parent))
    try:
        extracted = staging / target.name
        try:
            pooch.Unzip(extract_dir=str(staging))(str(archive), "download", None)
            if not is_dataset_dir(extracted):
                raise DataNotFoundError(
                    f"{archive} did not contain {target.name}/train and /validation (each with cats/ and dogs/)"
                )
            if expected_counts is not None:
                counts = _counts(extracted, expected_counts)
            else:
                counts = count_photos(extracted, ("train", "validation", "test"))
            if expected_counts is not None and counts != expected_counts:
                raise DataNotFoundError(
                    f"{archive} holds {counts}, not the expected {expected_counts}: the download is incomplete "
                    "or altered"
                )
        except (DataNotFoundError, zipfile.BadZipFile, OSError) as exc:
            archive.unlink(missing_ok=True)
            what = f"{archive} is not a readable zip archive ({exc})" if isinstance(exc, zipfile.BadZipFile) else exc
            raise DataNotFoundError(
                f"{str(what).rstrip('.')}. The archive was deleted: run again to download it afresh, or set "
                f"{settings.DATA_ENV} to a folder with train/ and validation/ (each with cats/ and dogs/)."
            ) from None
        (extracted / COMPLETE_MARKER).write_text(json.dumps(counts))  # written last: the folder is whole
        try:
            os.replace(extracted, target)
        except OSError:
            if not (target / COMPLETE_MARKER).is_file():  # another process finished first: keep its folder
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
