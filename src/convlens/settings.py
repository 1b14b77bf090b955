"""Every setting convlens takes from its surroundings, in one place: environment variables, cache
folders, download limits, and the table of trained variants.

Environment variables are read when a function here is called, never at import, so a notebook
may set ``os.environ["CONVLENS_DATA"]`` after ``import convlens`` and be heard:

- ``CONVLENS_DATA``: the photos (a folder with ``train/`` and ``validation/``);
- ``CONVLENS_EXTRA``: the extra training photos of the ``full`` model;
- ``CONVLENS_MODELS``: a folder of trained weights that replaces the repository's ``data/models``;
- ``CONVLENS_DATA_SHA256``: the expected digest of the downloaded photo archive, when known;
- ``XDG_CACHE_HOME`` (default ``~/.cache``): fetched weights and training checkpoints;
- ``KERAS_HOME`` (default ``~/.keras``): Keras' own cache (the photo archive, VGG16's weights).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ArgumentError

__all__ = [
    "DATA_ENV",
    "DATA_SHA256_ENV",
    "REPOSITORY_ENV",
    "DOWNLOAD",
    "EXTRA_ENV",
    "LECTURE_AUGMENTATION",
    "MODELS_ENV",
    "VARIANTS",
    "DownloadLimits",
    "Recipe",
    "cache_home",
    "checkpoint_dir",
    "data_sha256",
    "datasets_dir",
    "env_path",
    "keras_home",
    "models_cache_dir",
    "recipe",
    "repository_override",
]

DATA_ENV = "CONVLENS_DATA"
EXTRA_ENV = "CONVLENS_EXTRA"
MODELS_ENV = "CONVLENS_MODELS"
DATA_SHA256_ENV = "CONVLENS_DATA_SHA256"
REPOSITORY_ENV = "CONVLENS_REPOSITORY"
"""Overrides the book's repository address for one process (a fork's test build of the site)."""


def env_path(name: str) -> Path | None:
    """The folder named by environment variable ``name`` (``~`` expanded), or None when unset or empty."""
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def repository_override() -> str | None:
    """The repository address given by ``$CONVLENS_REPOSITORY``, or None when unset or empty."""
    return os.environ.get(REPOSITORY_ENV) or None


def data_sha256() -> str | None:
    """The expected SHA-256 of the photo archive (``$CONVLENS_DATA_SHA256``), or None when not given."""
    return os.environ.get(DATA_SHA256_ENV) or None


def cache_home() -> Path:
    """``$XDG_CACHE_HOME``, else ``~/.cache``."""
    return env_path("XDG_CACHE_HOME") or Path.home() / ".cache"


def models_cache_dir() -> Path:
    """Where weights fetched outside the repository are kept: ``CACHE/convlens/models``."""
    return cache_home() / "convlens" / "models"


def checkpoint_dir(variant: str) -> Path:
    """Where a training run of ``variant`` keeps what it resumes from: ``CACHE/convlens/checkpoints/VARIANT``."""
    return cache_home() / "convlens" / "checkpoints" / variant


def keras_home() -> Path:
    """Keras' cache folder: ``$KERAS_HOME``, else ``~/.keras``."""
    return env_path("KERAS_HOME") or Path.home() / ".keras"


def datasets_dir() -> Path:
    """Where the public photo archive is downloaded and extracted: ``KERAS_HOME/datasets``."""
    return keras_home() / "datasets"


# --------------------------------------------------------------------------- downloads


@dataclass(frozen=True)
class DownloadLimits:
    """When a download is given up, for every file convlens fetches (photos, weights: convlens.fetch)."""

    timeout_s: float = 20.0
    """Seconds to wait for the server's answer, and for each read."""
    deadline_s: float = 900.0
    """Seconds for the whole download of one file (the 68 MB photo archive is the largest)."""
    min_rate: float = 10_000.0
    """Bytes per second below which a download is given up ..."""
    rate_window_s: float = 30.0
    """... when its rate stays under ``min_rate`` for this many seconds (a server trickling bytes)."""


DOWNLOAD = DownloadLimits()
"""The one set of download limits."""


# --------------------------------------------------------------------------- the trained variants


LECTURE_AUGMENTATION = {"flip": "horizontal", "rotation": 0.1, "zoom": 0.2, "translation": 0.2}
"""Chollet's augmentation: random flips, rotations, zooms and shifts (:mod:`convlens.augment`)."""


@dataclass(frozen=True)
class Recipe:
    """How one variant of the small convnet is built and trained."""

    epochs: int
    batch_size: int
    augmentation: dict | None
    dropout: float
    splits: tuple[str, ...] = ("train",)
    optimizer: str = "RMSprop"
    learning_rate: float = 1e-4
    why: str = ""
    final_learning_rate: tuple[int, float] | None = None
    """``(after_epoch, rate)``: the learning rate drops to ``rate`` after epoch ``after_epoch``
    (counted from 1); None keeps ``learning_rate`` throughout."""
    final_why: str = ""

    @property
    def optimizer_text(self) -> str:
        """The optimizer as the training record names it: ``"RMSprop, learning rate 0.0001"``.

        A checkpoint is resumed only by a recipe of the same optimizer text; the final drop of the
        learning rate (:attr:`final_learning_rate`) is named apart, in :attr:`schedule_text`.
        """
        return f"{self.optimizer}, learning rate {self.learning_rate:g}"

    def learning_rate_at(self, epoch: int) -> float:
        """The learning rate of epoch ``epoch``, counted from 0 as Keras counts them."""
        if self.final_learning_rate is not None and epoch >= self.final_learning_rate[0]:
            return self.final_learning_rate[1]
        return self.learning_rate

    @property
    def schedule_text(self) -> str:
        """The learning rate over the epochs, as the record names it: ``"constant"`` or the drop."""
        if self.final_learning_rate is None:
            return "constant"
        after, rate = self.final_learning_rate
        return f"{self.learning_rate:g} through epoch {after}, then {rate:g}"


VARIANTS: dict[str, Recipe] = {
    "baseline": Recipe(
        30, 32, None, 0.0,
        why="Chollet's first model: no augmentation, no dropout, 30 epochs; it overfits after about 10",
    ),
    "dataaug": Recipe(
        160, 32, LECTURE_AUGMENTATION, 0.5,
        why=("Chollet's augmented model: 100 epochs of 100 steps of 32 augmented photos are 10,000 steps, "
             "about 160 passes over 2,000 photos"),
    ),
    "full": Recipe(
        50, 32, LECTURE_AUGMENTATION, 0.5, splits=("train", "extra"),
        why=("the dataaug recipe (augmentation, dropout 0.5, batch 32, RMSprop 1e-4) on train + extra, so "
             "that DataAug and Full differ in their data; 50 passes over 21,000 photos are 32,850 steps, "
             "three times dataaug's: after 30 the validation curve was still rising, and after 45 it "
             "swung from epoch to epoch, hence the smaller final step"),
        final_learning_rate=(45, 1e-5),
        final_why=("at 1e-4 the validation accuracy swung from one epoch to the next (0.76 to 0.90 over "
                   "epochs 31-45) by more than its distance to the 0.88 floor, so 5 last epochs "
                   "(3,285 steps) take ten times smaller steps; the count was fixed before they ran"),
    ),
}
"""The three trained versions of the small convnet, by name: the lecture's overfit first model, its
"DataAug model", and its "Full model" (train + extra photos). Iterating gives the names."""


def recipe(variant: str) -> Recipe:
    """The :class:`Recipe` of ``variant``, or an error naming the variants."""
    if variant not in VARIANTS:
        raise ArgumentError(f"Unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}.")
    return VARIANTS[variant]
