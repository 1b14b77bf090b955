"""Finding the cats-vs-dogs photos and turning images into the model's input.

Pixel scaling is defined here and only here: the models of this book take RGB images
of 150 x 150 pixels with values in [0, 1] (``uint8`` values divided by 255), as in
Chollet's ``rescale=1./255``. Labels follow the folder names in alphabetical order:
``cats`` is 0 and ``dogs`` is 1, so a sigmoid output is the probability of "dog".
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.error
import urllib.request
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

IMAGE_SIZE: tuple[int, int] = (150, 150)
"""Height and width of every model input in this book."""

CLASS_NAMES: tuple[str, str] = ("cats", "dogs")
"""Folder names of the two classes; the index is the label (0 = cat, 1 = dog)."""

SPLITS: tuple[str, ...] = ("train", "validation", "test")

EXTRA = "extra"
"""Not a split: the rest of the Kaggle training photos, for the ``full`` model (train + extra)."""

EXTRA_ENV_VAR = "CONVLENS_EXTRA"
"""A folder of extra training photos (``cats/`` and ``dogs/``, or Kaggle's ``Cat/`` and ``Dog/``)."""

CLASS_FOLDER_ALIASES: dict[str, tuple[str, ...]] = {"cats": ("cats", "Cat"), "dogs": ("dogs", "Dog")}
"""Folder names accepted for each class in the extra photos: Microsoft's full ``PetImages``
archive of the Kaggle photos names its folders ``Cat`` and ``Dog``."""

DATA_ENV_VAR = "CONVLENS_DATA"
DATASET_URL = "https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip"
DATASET_SHA256: str | None = os.environ.get("CONVLENS_DATA_SHA256") or None
"""Expected SHA-256 of ``cats_and_dogs_filtered.zip``, when known (``$CONVLENS_DATA_SHA256``).

The archive's digest could not be looked up from the offline machine this book was written
on, so by default the download is checked by its content instead: the extracted folder must
hold the documented 1000 + 1000 training and 500 + 500 validation JPEGs (:data:`EXPECTED_COUNTS`).
"""

EXPECTED_COUNTS = {"train": {"cats": 1000, "dogs": 1000}, "validation": {"cats": 500, "dogs": 500}}
"""File counts of the public ``cats_and_dogs_filtered.zip``, checked after extraction."""

DOWNLOAD_TIMEOUT_S = 5.0
"""Seconds to wait for the dataset server before deciding there is no network."""

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
MAX_IMAGE_PIXELS = 50_000_000
"""Images larger than this (about 7000 x 7000) are refused rather than decoded."""


class DataNotFoundError(RuntimeError):
    """No cats-vs-dogs folder was found and it could not be downloaded."""


class ImageLoadError(ValueError):
    """A file or array that cannot be turned into a model input."""


def repo_data_dir() -> Path | None:
    """The git-ignored ``data/cats_vs_dogs`` folder of the enclosing repository, if any.

    Looked for from the current directory upwards, so it works from ``book/`` too.
    """
    for folder in (Path.cwd(), *Path.cwd().parents):
        candidate = folder / "data" / "cats_vs_dogs"
        if _is_dataset_dir(candidate):
            return candidate
    return None


def _is_dataset_dir(folder: Path) -> bool:
    return all((folder / split / name).is_dir() for split in ("train", "validation") for name in CLASS_NAMES)


def find_data_dir(download: bool = True, cache_dir: str | os.PathLike | None = None) -> Path:
    """Return the folder holding ``train/``, ``validation/`` (and maybe ``test/``).

    Order: the folder named by ``$CONVLENS_DATA``; ``data/cats_vs_dogs`` in the repository;
    then a download of the public ``cats_and_dogs_filtered.zip`` (checksum verified, extracted
    safely) into ``cache_dir`` (default ``~/.keras/datasets``).
    """
    env_value = os.environ.get(DATA_ENV_VAR)
    if env_value:
        folder = Path(env_value).expanduser()
        if not _is_dataset_dir(folder):
            raise DataNotFoundError(
                f"${DATA_ENV_VAR} points to {folder}, which has no train/ and validation/ folders "
                f"with cats/ and dogs/ inside; fix the path or unset {DATA_ENV_VAR}."
            )
        return folder
    local = repo_data_dir()
    if local is not None:
        return local
    if not download:
        raise DataNotFoundError(
            f"No cats-vs-dogs photos found: set {DATA_ENV_VAR} to a folder with train/ and "
            "validation/ (each with cats/ and dogs/)."
        )
    return download_dataset(cache_dir=cache_dir)


def download_dataset(
    url: str = DATASET_URL,
    cache_dir: str | os.PathLike | None = None,
    sha256: str | None = DATASET_SHA256,
    timeout: float = DOWNLOAD_TIMEOUT_S,
) -> Path:
    """Download and extract ``cats_and_dogs_filtered.zip``; return its dataset folder.

    Gives up after ``timeout`` seconds without an answer, with a message naming
    ``CONVLENS_DATA``, so that an offline machine never hangs here.
    """
    cache = Path(cache_dir or Path.home() / ".keras" / "datasets").expanduser()
    target = cache / "cats_and_dogs_filtered"
    if _is_dataset_dir(target):
        return target
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / "cats_and_dogs_filtered.zip"
    if not archive.exists():
        partial = archive.with_suffix(".zip.part")
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(partial, "wb") as out:
                shutil.copyfileobj(response, out)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            partial.unlink(missing_ok=True)
            raise DataNotFoundError(
                f"Could not download the cats-vs-dogs photos ({exc}); with no network, set "
                f"{DATA_ENV_VAR} to a folder with train/ and validation/ (each with cats/ and dogs/)."
            ) from None
        partial.rename(archive)
    if sha256 is not None:
        digest = _sha256(archive)
        if digest != sha256:
            archive.unlink()
            raise DataNotFoundError(
                f"The downloaded archive's SHA-256 is {digest}, not the expected {sha256}; "
                "it was deleted: try again, or set " + DATA_ENV_VAR + " to a local copy."
            )
    safe_extract(archive, cache)
    if not _is_dataset_dir(target):
        raise DataNotFoundError(f"{archive} did not contain cats_and_dogs_filtered/train and /validation.")
    counts = {split: count_images(target)[split] for split in EXPECTED_COUNTS}
    if url == DATASET_URL and counts != EXPECTED_COUNTS:
        raise DataNotFoundError(
            f"{target} holds {counts}, not the expected {EXPECTED_COUNTS}: the download is incomplete "
            "or altered; delete it and try again."
        )
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def safe_extract(archive: str | os.PathLike, target: str | os.PathLike) -> None:
    """Extract a zip file, refusing any member whose path would land outside ``target``."""
    target = Path(target).resolve()
    with zipfile.ZipFile(archive) as zipped:
        for member in zipped.infolist():
            destination = (target / member.filename).resolve()
            if destination != target and target not in destination.parents:
                raise DataNotFoundError(f"Refusing to extract {member.filename!r}: it escapes {target}.")
        zipped.extractall(target)


def image_files(folder: str | os.PathLike) -> list[Path]:
    """Sorted image files (by suffix) directly inside ``folder``."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _readable(path: Path) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
        return True
    except Exception:  # noqa: BLE001 - any failure means the file is unusable
        return False


def extra_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The folder of extra training photos: ``$CONVLENS_EXTRA``, else ``DATA_DIR/extra``.

    With internet, the extra photos are Microsoft's full Kaggle archive
    (``kagglecatsanddogs_*.zip``, folder ``PetImages`` with ``Cat/`` and ``Dog/``): point
    ``$CONVLENS_EXTRA`` at its ``PetImages`` folder. Its unreadable files are skipped with
    a warning, and photos that are also in the validation or test split are left out
    (:func:`labelled_files`).
    """
    env_value = os.environ.get(EXTRA_ENV_VAR)
    if env_value:
        return Path(env_value).expanduser()
    root = Path(data_dir) if data_dir is not None else find_data_dir()
    return root / EXTRA


def _class_folder(parent: Path, name: str, split: str) -> Path:
    aliases = CLASS_FOLDER_ALIASES[name] if split == EXTRA else (name,)
    for alias in aliases:
        if (parent / alias).is_dir():
            return parent / alias
    expected = " or ".join(f"{split}/{alias}" for alias in aliases)
    hint = f" (set ${EXTRA_ENV_VAR} to the folder of extra photos)" if split == EXTRA else ""
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
        raise ValueError(f"Unknown split {split!r}; choose one of {', '.join((*SPLITS, EXTRA))}.")
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
            if path.suffix.lower() not in IMAGE_SUFFIXES or not _readable(path):
                warnings.warn(f"Skipping {path}: not a readable image file.", stacklevel=2)
                continue
            if held_out and _sha256(path) in held_out:
                warnings.warn(f"Skipping {path}: the same photo is in the validation or test split.", stacklevel=2)
                continue
            paths.append(path)
            labels.append(label)
    return paths, np.asarray(labels, dtype=np.int32)


def _held_out_digests(root: Path) -> set[str]:
    """SHA-256 digests of every validation and test photo under ``root``."""
    return {
        _sha256(path)
        for split in ("validation", "test")
        for name in CLASS_NAMES
        if (root / split / name).is_dir()
        for path in image_files(root / split / name)
    }


def count_images(data_dir: str | os.PathLike | None = None) -> dict[str, dict[str, int]]:
    """Number of image files per split and class, e.g. ``{"train": {"cats": 1000, ...}}``."""
    root = Path(data_dir) if data_dir is not None else find_data_dir()
    return {
        split: {name: len(image_files(root / split / name)) for name in CLASS_NAMES}
        for split in SPLITS
        if (root / split).is_dir()
    }


def make_dataset(
    split: str | Sequence[str],
    batch_size: int = 32,
    shuffle: bool | None = None,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    augment=None,
    cache: bool = True,
):
    """A ``tf.data.Dataset`` of ``(images, labels)`` batches at 150 x 150, pixels in [0, 1].

    ``split`` may be a list of splits, read one after the other (the full model trains on
    ``("train", "extra")``). Decoded photos are cached in memory as ``uint8`` after the
    first pass. ``shuffle`` defaults to True for ``train`` only. ``augment`` is an optional callable
    (e.g. a Keras ``Sequential`` of random layers) applied to each training batch; keeping
    augmentation here, not in the model, keeps the model summary the reference one.
    """
    import tensorflow as tf

    splits = [split] if isinstance(split, str) else list(split)
    paths, labels = [], np.zeros(0, dtype=np.int32)
    for name in splits:
        more_paths, more_labels = labelled_files(name, data_dir)
        paths, labels = paths + more_paths, np.concatenate([labels, more_labels])
    if shuffle is None:
        shuffle = "train" in splits
    dataset = tf.data.Dataset.from_tensor_slices(([str(p) for p in paths], labels))

    dataset = dataset.map(lambda path, label: (_decode_file(tf, path), label), num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    dataset = dataset.map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y), num_parallel_calls=tf.data.AUTOTUNE)
    if augment is not None:
        dataset = dataset.map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _to_rgb_array(image) -> np.ndarray:
    """PIL image of any mode -> HxWx3 uint8; transparency is composited over white."""
    from PIL import Image

    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _array_to_rgb(array: np.ndarray) -> np.ndarray:
    """An image array (HxW, HxWx1/3/4, or a batch of one) -> HxWx3 float32 in [0, 1]."""
    array = np.asarray(array)
    if array.ndim == 4:
        if array.shape[0] != 1:
            raise ImageLoadError(f"Expected one image, got a batch of {array.shape[0]}; pass images one at a time.")
        array = array[0]
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4):
        raise ImageLoadError(
            f"An image array must be HxW, HxWx1, HxWx3 or HxWx4; got shape {array.shape}."
        )
    if np.issubdtype(array.dtype, np.integer) or array.dtype == bool:
        values = array.astype(np.float32) / (1.0 if array.dtype == bool else 255.0)
        if array.dtype != bool and (array.min() < 0 or array.max() > 255):
            raise ImageLoadError("Integer image values must lie in 0..255.")
    elif np.issubdtype(array.dtype, np.floating):
        values = array.astype(np.float32)
        if not np.all(np.isfinite(values)):
            raise ImageLoadError("The image array holds NaN or infinite values.")
        if values.min() < 0.0 or values.max() > 1.0:
            raise ImageLoadError(
                f"Float image values must lie in [0, 1] (got {values.min():.3g}..{values.max():.3g}); "
                "divide 0-255 values by 255, or pass a uint8 array."
            )
    else:
        raise ImageLoadError(f"Unsupported image dtype {array.dtype}.")
    if values.shape[-1] == 1:
        values = np.repeat(values, 3, axis=-1)
    elif values.shape[-1] == 4:
        alpha = values[..., 3:]
        values = values[..., :3] * alpha + (1.0 - alpha)
    return values


def load_image(source, target_size: Sequence[int] = IMAGE_SIZE) -> np.ndarray:
    """A (1, 150, 150, 3) float32 batch in [0, 1] from an image path, PIL image or array.

    Grayscale becomes RGB, transparency is composited over white, any size is resized
    (bilinear, antialiased). A file that is not an image raises :class:`ImageLoadError`.
    """
    from PIL import Image

    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if not path.is_file():
            raise ImageLoadError(f"No such image file: {path}.")
        try:
            with Image.open(path) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise ImageLoadError(
                        f"{path} is {image.width} x {image.height} pixels, more than this book's "
                        f"limit of {MAX_IMAGE_PIXELS:,}; shrink it first."
                    )
                rgb = _to_rgb_array(image)
        except ImageLoadError:
            raise
        except Exception as exc:  # noqa: BLE001 - PIL raises many kinds
            raise ImageLoadError(f"{path} is not a readable image ({type(exc).__name__}: {exc}).") from None
        values = rgb.astype(np.float32) / 255.0
    elif isinstance(source, Image.Image):
        values = _to_rgb_array(source).astype(np.float32) / 255.0
    else:
        values = _array_to_rgb(source)
    return resize_batch(values[None], target_size)


def resize_batch(images: np.ndarray, target_size: Sequence[int] = IMAGE_SIZE) -> np.ndarray:
    """Resize a batch of HxWx3 float images in [0, 1] to ``target_size`` (float32)."""
    import tensorflow as tf

    height, width = int(target_size[0]), int(target_size[1])
    if images.shape[1:3] == (height, width):
        return images.astype(np.float32)
    resized = tf.image.resize(images, (height, width), antialias=True).numpy()
    return np.clip(resized, 0.0, 1.0).astype(np.float32)


def sample_files(split: str, per_class: int, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The first ``per_class`` files of each class in a split (sorted by name: reproducible)."""
    root = Path(data_dir) if data_dir is not None else find_data_dir()
    return [path for name in CLASS_NAMES for path in image_files(root / split / name)[:per_class]]


def load_split_arrays(
    split: str, limit_per_class: int | None = None, data_dir: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray, list[Path]]:
    """A split (or its first ``limit_per_class`` photos per class) as arrays in memory.

    Returns ``(images, labels, paths)``: images of shape (N, 150, 150, 3) in [0, 1], decoded
    exactly as :func:`make_dataset` does, in file-name order (cats first).
    """
    import tensorflow as tf

    paths, labels = labelled_files(split, data_dir)
    if limit_per_class is not None:
        keep = np.concatenate([np.flatnonzero(labels == c)[:limit_per_class] for c in range(len(CLASS_NAMES))])
        paths = [paths[i] for i in keep]
        labels = labels[keep]
    images = np.zeros((len(paths), *IMAGE_SIZE, 3), dtype=np.float32)
    for i, path in enumerate(paths):
        images[i] = _decode_file(tf, str(path)).numpy() / 255.0
    return images, labels, paths


def _decode_file(tf, path):
    """Decode and resize one file the way the training pipeline does (uint8, 150 x 150)."""
    raw = tf.io.read_file(path)
    image = tf.io.decode_image(raw, channels=3, expand_animations=False)
    image = tf.image.resize(image, IMAGE_SIZE, antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)
