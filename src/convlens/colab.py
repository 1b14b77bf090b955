"""Making a notebook of the book run outside the repository: in Colab, or downloaded into a local Jupyter.

The first code cell of every chapter (:data:`FIRST_CELL`) installs ``convlens`` from the
repository when it is missing, then calls :func:`setup_colab`. Inside a clone of the repository
(its committed ``data/models`` found) that call does nothing at all (no network, no environment
change, no output), so the stored outputs and the nbval comparison are the same everywhere.
Anywhere else (Colab, or a chapter's ``.ipynb`` downloaded from the book and opened in a local
Jupyter) it fetches the committed trained weights (``data/models/VARIANT.weights.h5`` and their
``.json`` records, for every variant of :data:`convlens.settings.VARIANTS`) from the repository's raw
files into a user cache, through the one fetcher (:mod:`convlens.fetch`: pooch, each file checked
against its SHA-256 in the registry), and points ``$CONVLENS_MODELS`` at it. A
``$CONVLENS_MODELS`` that the user set is never replaced. The photos need nothing here:
:func:`convlens.data.find_data_dir` downloads the public archive itself.

The repository URL is defined here, once; ``_config.yml`` repeats it for Jupyter Book and a
unit test checks that the two agree.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

from . import fetch, paths, settings
from .errors import ArgumentError, ColabSetupError, DownloadError

__all__ = [
    "BRANCH",
    "FIRST_CELL",
    "INSTALL_SPEC",
    "MODEL_FILES",
    "REPOSITORY_URL",
    "fetch_trained_weights",
    "how_to_get_weights",
    "in_colab",
    "local_models_dir",
    "raw_base_url",
    "setup_colab",
]

REPOSITORY_ENV = settings.REPOSITORY_ENV
"""Environment variable that overrides :data:`REPOSITORY_URL` for one process (a test builds the site so)."""

REPOSITORY_URL = (settings.repository_override() or "https://github.com/seeing-what-convnets-learn/convlens").rstrip("/")
"""The book's GitHub repository: the one value a fork changes (the book's links, the site's notebooks
and ``_config.yml``'s buttons all follow it, through ``book/_ext/convlens_site.py``)."""

BRANCH = "main"
"""The branch whose committed weights Colab fetches."""

INSTALL_SPEC = f"convlens @ git+{REPOSITORY_URL}"
"""What the first cell of a notebook gives ``%pip install`` when ``convlens`` is missing."""

FIRST_CELL = f"""\
# Outside a clone of the repository this installs convlens and fetches the weights.
try:
    import convlens  # noqa: F401
except ImportError:
    %pip install -q "{INSTALL_SPEC}"
from convlens.colab import setup_colab

setup_colab()"""
"""The exact first code cell of every notebook of the book (checked by the unit tests)."""

MODEL_FILES: tuple[str, ...] = tuple(
    f"{variant}{suffix}" for variant in settings.VARIANTS for suffix in (".weights.h5", ".json")
)
"""The files of ``data/models`` that a notebook run outside the repository needs."""




def in_colab() -> bool:
    """True inside a Google Colab runtime (its ``google.colab`` module is imported there)."""
    return "google.colab" in sys.modules


def raw_base_url(repository_url: str = REPOSITORY_URL, branch: str = BRANCH) -> str:
    """Base URL of the repository's raw files, e.g. ``https://raw.githubusercontent.com/OWNER/NAME/main``."""
    prefix = "https://github.com/"
    if not repository_url.startswith(prefix) or repository_url.rstrip("/").count("/") != 4:
        raise ArgumentError(f"Expected a GitHub repository URL like {prefix}OWNER/NAME, got {repository_url!r}.")
    owner_name = repository_url.rstrip("/")[len(prefix) :]
    return f"https://raw.githubusercontent.com/{owner_name}/{branch}"


def local_models_dir() -> Path | None:
    """The repository's ``data/models`` when it holds committed weights (inside a clone), else None."""
    folder = paths.find_in_repository("data/models")
    if folder is None or not any((folder / f"{variant}.weights.h5").is_file() for variant in settings.VARIANTS):
        return None
    return folder


def how_to_get_weights(names: Iterable[str] = MODEL_FILES) -> str:
    """The fix for missing weights, for the error messages: where to get them, where to put them."""
    return (
        f"download {', '.join(names)} from {REPOSITORY_URL}/tree/{BRANCH}/data/models into one folder and set "
        f"os.environ[{settings.MODELS_ENV!r}] to that folder, or clone the repository and run the notebook from "
        "inside the clone"
    )


def fetch_trained_weights(
    cache_dir: str | os.PathLike | None = None,
    base_url: str | None = None,
    files: Iterable[str] = MODEL_FILES,
    timeout: float | None = None,
    force: bool = False,
    deadline: float | None = None,
) -> Path:
    """Download the committed ``data/models`` files into ``cache_dir``; return that folder.

    Files already there are kept when they match their SHA-256 in :data:`convlens.fetch.REGISTRY`
    (fetched again when not, or with ``force``). Every file goes through
    :func:`convlens.fetch.fetch` (pooch: temporary file, hash, ``deadline``, no web page), so a
    cut or a web page is never kept. A file that cannot be fetched is named in a warning; if no
    weights file at all is there afterwards (typically: no network), :class:`ColabSetupError` says
    how to get them.
    """
    folder = Path(cache_dir) if cache_dir is not None else settings.models_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    base = (base_url or raw_base_url()).rstrip("/")
    files = tuple(files)
    limits = fetch.limits_with(timeout, deadline)
    failures: list[DownloadError] = []
    for name in files:
        if force:
            (folder / name).unlink(missing_ok=True)
        try:
            fetch.fetch(name, folder, f"{base}/data/models/{name}", limits=limits)
        except DownloadError as exc:
            failures.append(exc)
    missing = [name for name in files if not (folder / name).is_file()]
    if failures and not any((folder / name).is_file() for name in files if name.endswith(".h5")):
        raise ColabSetupError(
            f"Could not fetch the trained weights: {failures[0]} To get them without this download, "
            f"{how_to_get_weights(files)}."
        )
    if failures:
        warnings.warn(
            "Some trained weights could not be fetched: " + " ".join(str(exc) for exc in failures)
            + f" Missing: {', '.join(missing)}. "
            f"The chapters that need them stop at load_trained; to get them, {how_to_get_weights(missing)}.",
            stacklevel=2,
        )
    return folder


def setup_colab(
    cache_dir: str | os.PathLike | None = None,
    base_url: str | None = None,
    force: bool = False,
    timeout: float | None = None,
    deadline: float | None = None,
) -> Path | None:
    """Make the trained weights available to a notebook; inside the repository, do nothing.

    - ``$CONVLENS_MODELS`` already set (by the user): kept as it is; nothing fetched; None.
    - Inside a clone (:func:`local_models_dir` finds the committed weights): nothing at all, no
      output, no environment change; None.
    - Anywhere else (Colab, a downloaded chapter in a local Jupyter): fetches the weights
      (:func:`fetch_trained_weights`), sets ``$CONVLENS_MODELS`` to their folder, prints one line
      and returns the folder. With no network it raises :class:`ColabSetupError`, which says how
      to get them by hand.
    """
    if settings.env_path(settings.MODELS_ENV) is not None or local_models_dir() is not None:
        return None
    folder = fetch_trained_weights(
        cache_dir=cache_dir, base_url=base_url, force=force, timeout=timeout, deadline=deadline
    )
    os.environ[settings.MODELS_ENV] = str(folder)
    present = sorted(name for name in MODEL_FILES if (folder / name).is_file())
    where = "Colab" if in_colab() else "outside the repository"
    print(f"convlens ({where}): trained weights in {folder} ({', '.join(present)}); photos download on use.")
    return folder
