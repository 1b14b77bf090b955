"""Finding the cats-vs-dogs photos, listing and labelling them, and batching them for Keras.

Labels follow the folder names in alphabetical order: ``cats`` is 0 and ``dogs`` is 1
(:data:`CLASS_NAMES`), so a sigmoid output is the probability of "dog". Every photo is
decoded by :func:`convlens.images.decode_pixels` (PIL, as browsers decode) and resized by
:func:`convlens.images.resize_pixels` (150 x 150, pixels in [0, 1]), as
:func:`convlens.images.load_image` does; the folder layout and its download are
:mod:`convlens.archive`'s.
"""

from __future__ import annotations

import itertools
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import paths, settings
from .archive import CLASS_NAMES, count_photos, download_dataset, is_dataset_dir
from .checks import check_int
from .errors import ArgumentError, DataNotFoundError
from .files import file_sha256
from .images import IMAGE_SIZE, IMAGE_SUFFIXES, decode_file, image_files, readable

__all__ = [
    "CLASS_FOLDER_ALIASES",
    "CLASS_NAMES",
    "EXTRA",
    "IMAGE_SIZE",
    "SPLITS",
    "count_images",
    "extra_dir",
    "find_data_dir",
    "labelled_files",
    "labelled_splits",
    "decode_all",
    "load_split_arrays",
    "make_dataset",
    "repo_data_dir",
    "require_photos",
    "sample_files",
]

SPLITS: tuple[str, ...] = ("train", "validation", "test")

EXTRA = "extra"
"""Not a split: the rest of the Kaggle training photos, for the ``full`` model (train + extra)."""

CLASS_FOLDER_ALIASES: dict[str, tuple[str, ...]] = {"cats": ("cats", "Cat"), "dogs": ("dogs", "Dog")}
"""Folder names accepted for each class in the extra photos: Microsoft's full ``PetImages``
archive of the Kaggle photos names its folders ``Cat`` and ``Dog``."""


def repo_data_dir() -> Path | None:
    """The git-ignored ``data/cats_vs_dogs`` folder of the enclosing repository, if any.

    Looked for from the current directory upwards, so it works from ``book/`` too, then from the
    package's folder (the one repository search, :func:`convlens.paths.find_in_repository`).
    """
    return paths.find_in_repository("data/cats_vs_dogs", accept=is_dataset_dir)


def find_data_dir(download: bool = True, cache_dir: str | os.PathLike | None = None) -> Path:
    """Return the folder holding ``train/``, ``validation/`` (and maybe ``test/``).

    Order: the folder named by ``$CONVLENS_DATA``; ``data/cats_vs_dogs`` in the repository
    (:func:`repo_data_dir`); then a download of the public ``cats_and_dogs_filtered.zip``
    (:func:`convlens.archive.download_dataset`: fetched by pooch, unzipped, photo counts checked) into
    ``cache_dir`` (default :func:`convlens.settings.datasets_dir`).
    """
    folder = settings.env_path(settings.DATA_ENV)
    if folder is not None:
        if not is_dataset_dir(folder):
            raise DataNotFoundError(
                f"${settings.DATA_ENV} points to {folder}, which has no train/ and validation/ folders "
                f"with cats/ and dogs/ inside; fix the path or unset {settings.DATA_ENV}."
            )
        return folder
    local = repo_data_dir()
    if local is not None:
        return local
    if not download:
        raise DataNotFoundError(
            f"No cats-vs-dogs photos found: set {settings.DATA_ENV} to a folder with train/ and "
            "validation/ (each with cats/ and dogs/)."
        )
    return download_dataset(cache_dir=cache_dir)


def extra_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The folder of extra training photos: ``$CONVLENS_EXTRA``, else ``DATA_DIR/extra``.

    With internet, the extra photos are Microsoft's full Kaggle archive
    (``kagglecatsanddogs_*.zip``, folder ``PetImages`` with ``Cat/`` and ``Dog/``): point
    ``$CONVLENS_EXTRA`` at its ``PetImages`` folder. Its unreadable files are skipped with
    a warning, and photos that are also in the validation or test split are left out
    (:func:`labelled_files`).
    """
    folder = settings.env_path(settings.EXTRA_ENV)
    if folder is not None:
        return folder
    root = Path(data_dir) if data_dir is not None else find_data_dir()
    return root / EXTRA


def _class_folder(parent: Path, name: str, split: str) -> Path:
    aliases = CLASS_FOLDER_ALIASES[name] if split == EXTRA else (name,)
    for alias in aliases:
        if (parent / alias).is_dir():
            return parent / alias
    expected = " or ".join(f"{split}/{alias}" for alias in aliases)
    hint = f" (set ${settings.EXTRA_ENV} to the folder of extra photos)" if split == EXTRA else ""
    raise DataNotFoundError(f"{parent / aliases[0]} does not exist; expected {expected}{hint}.")


def labelled_files(split: str, data_dir: str | os.PathLike | None = None) -> tuple[list[Path], np.ndarray]:
    """Paths and labels (0 = cat, 1 = dog) of one split, leaving out unreadable files.

    Each unreadable or non-image file is named in a warning and skipped, so that a
    corrupt photo never stops a training run half-way through an epoch. ``split`` may
    also be ``"extra"`` (:func:`extra_dir`): there, photos whose bytes equal a validation
    or test photo are left out too, so that the full model is never measured on a photo
    it was trained on.
    """
    if split not in (*SPLITS, EXTRA):
        raise ArgumentError(f"Unknown split {split!r}; choose one of {', '.join((*SPLITS, EXTRA))}.")
    root = Path(data_dir) if data_dir is not None else find_data_dir()
    parent = extra_dir(root) if split == EXTRA else root / split
    held_out = _held_out_digests(root) if split == EXTRA else set()
    paths: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(CLASS_NAMES):
        folder = _class_folder(parent, name, split)
        for path in sorted(folder.iterdir()):
            if not path.is_file():
                continue
            if path.suffix.lower() not in IMAGE_SUFFIXES or not readable(path):
                warnings.warn(
                    f"Skipping {path}: not a readable image file (the pipeline decodes JPEG, PNG, GIF, "
                    "BMP and WebP, as browsers do); convert it to JPEG or PNG, or remove it.",
                    stacklevel=2,
                )
                continue
            if held_out and file_sha256(path) in held_out:
                warnings.warn(f"Skipping {path}: the same photo is in the validation or test split.", stacklevel=2)
                continue
            paths.append(path)
            labels.append(label)
    return paths, np.asarray(labels, dtype=np.int32)


def _held_out_digests(root: Path) -> set[str]:
    """SHA-256 digests of every validation and test photo under ``root``."""
    return {
        file_sha256(path)
        for split in ("validation", "test")
        for name in CLASS_NAMES
        if (root / split / name).is_dir()
        for path in image_files(root / split / name)
    }


def count_images(data_dir: str | os.PathLike | None = None) -> dict[str, dict[str, int]]:
    """Number of readable photos per split and class, e.g. ``{"train": {"cats": 1000, ...}}``.

    Counts what :func:`labelled_files` keeps (unreadable files are not counted), quietly.
    """
    root = Path(data_dir) if data_dir is not None else find_data_dir()
    return count_photos(root, SPLITS)


def make_dataset(
    split: str | Sequence[str],
    batch_size: int = 32,
    shuffle: bool | None = None,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    augment=None,
    cache: bool = True,
    files: tuple[list[Path], np.ndarray] | None = None,
):
    """A ``tf.data.Dataset`` of ``(images, labels)`` batches at 150 x 150, pixels in [0, 1].

    ``split`` may be a list of splits, read one after the other (the full model trains on
    ``("train", "extra")``). Decoded photos are cached in memory as ``uint8`` after the
    first pass. ``shuffle`` defaults to True for ``train`` only. ``augment`` is an optional callable
    (e.g. a Keras ``Sequential`` of random layers) applied to each training batch; keeping
    augmentation here, not in the model, keeps the model summary the reference one.
    ``files``: the ``(paths, labels)`` of :func:`labelled_splits`, when the caller has listed
    them already (training counts them for its record), so they are not listed twice.
    """
    import tensorflow as tf

    batch_size = check_int("batch_size", batch_size, 1)
    splits = [split] if isinstance(split, str) else list(split)
    paths, labels = files if files is not None else labelled_splits(splits, data_dir)
    require_photos(paths, splits, data_dir)
    if shuffle is None:
        shuffle = "train" in splits
    dataset = tf.data.Dataset.from_tensor_slices(([str(p) for p in paths], labels))

    dataset = dataset.map(lambda path, label: (decode_file(tf, path), label), num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    dataset = dataset.map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y), num_parallel_calls=tf.data.AUTOTUNE)
    if augment is not None:
        dataset = dataset.map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def decode_all(paths: Sequence[str | os.PathLike]) -> np.ndarray:
    """Every photo decoded once, as ``uint8`` (N, 150, 150, 3): what training holds in memory.

    The same decoder as :func:`make_dataset` and :func:`load_split_arrays`, run in parallel by
    ``tf.data``. 21,000 photos take about 1.4 GB.
    """
    import tensorflow as tf

    images = np.zeros((len(paths), *IMAGE_SIZE, 3), dtype=np.uint8)
    dataset = tf.data.Dataset.from_tensor_slices([str(p) for p in paths])
    dataset = dataset.map(lambda path: decode_file(tf, path), num_parallel_calls=tf.data.AUTOTUNE).batch(256)
    start = 0
    for batch in dataset:
        images[start:start + len(batch)] = batch.numpy()
        start += len(batch)
    return images


def labelled_splits(
    splits: Sequence[str], data_dir: str | os.PathLike | None = None
) -> tuple[list[Path], np.ndarray]:
    """:func:`labelled_files` of several splits, one after the other (e.g. train, then extra)."""
    paths: list[Path] = []
    labels = np.zeros(0, dtype=np.int32)
    for name in splits:
        more_paths, more_labels = labelled_files(name, data_dir)
        paths, labels = paths + more_paths, np.concatenate([labels, more_labels])
    return paths, labels


def require_photos(paths: Sequence, splits: Sequence[str], data_dir=None) -> None:
    """A clear :class:`~convlens.errors.DataNotFoundError` when ``paths`` (of ``splits``) holds no photo."""
    if paths:
        return
    root = Path(data_dir) if data_dir is not None else find_data_dir()
    raise DataNotFoundError(
        f"No readable photos in {' + '.join(splits)} under {root} (the folders are there but hold no "
        "JPEG, PNG, GIF, BMP or WebP files the book's loader can decode); put the photos in SPLIT/cats and "
        f"SPLIT/dogs, or point {settings.DATA_ENV} at the folder that has them."
    )


def sample_files(split: str, per_class: int, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The first ``per_class`` readable photos of each class in a split (sorted by name: reproducible)."""
    per_class = check_int("per_class", per_class, 0)
    root = Path(data_dir) if data_dir is not None else find_data_dir()
    chosen = []
    for name in CLASS_NAMES:
        usable = (path for path in image_files(root / split / name) if readable(path))
        chosen += list(itertools.islice(usable, per_class))
    return chosen


def load_split_arrays(
    split: str, limit_per_class: int | None = None, data_dir: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray, list[Path]]:
    """A split (or its first ``limit_per_class`` photos per class) as arrays in memory.

    Returns ``(images, labels, paths)``: images of shape (N, 150, 150, 3) in [0, 1], decoded
    exactly as :func:`make_dataset` does (:func:`decode_all`), in file-name order (cats first).
    """
    if limit_per_class is not None:
        limit_per_class = check_int("limit_per_class", limit_per_class, 1)
    paths, labels = labelled_files(split, data_dir)
    require_photos(paths, [split], data_dir)
    if limit_per_class is not None:
        keep = np.concatenate([np.flatnonzero(labels == c)[:limit_per_class] for c in range(len(CLASS_NAMES))])
        paths = [paths[i] for i in keep]
        labels = labels[keep]
    return decode_all(paths).astype(np.float32) / np.float32(255), labels, paths
