"""Making a notebook of the book run in Google Colab, from its first cell.

The first code cell of every chapter (:data:`FIRST_CELL`) installs ``convlens`` from the
repository when it is missing, then calls :func:`setup_colab`. Outside Colab that call does
nothing at all (no network, no environment change, no output), so the stored outputs and the
nbval comparison are the same everywhere. Inside Colab it fetches the committed trained
weights (``data/models/{baseline,dataaug}.weights.h5`` and their ``.json`` records) from the
repository's raw files into a cache folder and points ``$CONVLENS_MODELS`` at it. The photos
need nothing here: :func:`convlens.data.find_data_dir` downloads the public archive itself.

The repository URL is defined here, once; ``_config.yml`` repeats it for Jupyter Book and a
unit test checks that the two agree.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterable
from pathlib import Path

REPOSITORY_URL = "https://github.com/seeing-what-convnets-learn/convlens"
"""The book's GitHub repository: the only place this URL is written in the package."""

BRANCH = "main"
"""The branch whose committed weights Colab fetches."""

INSTALL_SPEC = f"convlens @ git+{REPOSITORY_URL}"
"""What the first cell of a notebook gives ``%pip install`` when ``convlens`` is missing."""

FIRST_CELL = f"""\
# In Colab this installs convlens and the trained weights; elsewhere it does nothing.
try:
    import convlens  # noqa: F401
except ImportError:
    %pip install -q "{INSTALL_SPEC}"
from convlens.colab import setup_colab

setup_colab()"""
"""The exact first code cell of every notebook of the book (checked by the unit tests)."""

MODEL_FILES: tuple[str, ...] = tuple(
    f"{variant}{suffix}" for variant in ("baseline", "dataaug") for suffix in (".weights.h5", ".json")
)
"""The files of ``data/models`` that a Colab runtime needs."""

MODELS_ENV_VAR = "CONVLENS_MODELS"
"""Read by :func:`convlens.models.models_dir`."""

DOWNLOAD_TIMEOUT_S = 60.0
"""Seconds without an answer before a download is given up."""

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_LFS_POINTER = b"version https://git-lfs"


class ColabSetupError(RuntimeError):
    """A file fetched for Colab is missing or is not what it should be."""


def in_colab() -> bool:
    """True inside a Google Colab runtime (its ``google.colab`` module is imported there)."""
    return "google.colab" in sys.modules


def raw_base_url(repository_url: str = REPOSITORY_URL, branch: str = BRANCH) -> str:
    """Base URL of the repository's raw files, e.g. ``https://raw.githubusercontent.com/OWNER/NAME/main``."""
    prefix = "https://github.com/"
    if not repository_url.startswith(prefix) or repository_url.rstrip("/").count("/") != 4:
        raise ValueError(f"Expected a GitHub repository URL like {prefix}OWNER/NAME, got {repository_url!r}.")
    owner_name = repository_url.rstrip("/")[len(prefix) :]
    return f"https://raw.githubusercontent.com/{owner_name}/{branch}"


def default_cache_dir() -> Path:
    """Where Colab keeps the fetched weights: ``~/.cache/convlens/models``."""
    return Path.home() / ".cache" / "convlens" / "models"


def _check_file(path: Path, name: str | None = None) -> None:
    """Refuse a fetched file that is not what its ``name`` says (an HTML page, a Git LFS pointer)."""
    data = path.read_bytes()
    name = name or path.name
    if name.endswith(".h5"):
        if data.startswith(_LFS_POINTER):
            raise ColabSetupError(
                f"{name} came back as a Git LFS pointer, not the weights; the repository must "
                "commit data/models/*.h5 as plain files (no LFS) for Colab to fetch them."
            )
        if not data.startswith(_HDF5_SIGNATURE):
            raise ColabSetupError(f"{name} is not an HDF5 file ({len(data)} bytes); the download is damaged.")
    elif name.endswith(".json"):
        try:
            json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ColabSetupError(f"{name} is not valid JSON ({exc}); the download is damaged.") from None


def _download(url: str, destination: Path, timeout: float) -> None:
    """Fetch ``url`` into ``destination`` through a ``.part`` file, so that a cut never leaves half a file."""
    partial = destination.with_name(destination.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(partial, "wb") as out:
            shutil.copyfileobj(response, out)
        _check_file(partial, destination.name)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(destination)


def fetch_trained_weights(
    cache_dir: str | os.PathLike | None = None,
    base_url: str | None = None,
    files: Iterable[str] = MODEL_FILES,
    timeout: float = DOWNLOAD_TIMEOUT_S,
    force: bool = False,
) -> Path:
    """Download the committed ``data/models`` files into ``cache_dir``; return that folder.

    Files already there (and valid) are kept unless ``force``. A file that cannot be fetched
    is named in a warning, not an exception: a chapter that uses only the other model still
    runs, and :func:`convlens.models.load_trained` says clearly which weights are missing.
    """
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    base = (base_url or raw_base_url()).rstrip("/")
    for name in files:
        destination = folder / name
        if destination.is_file() and not force:
            try:
                _check_file(destination)
                continue
            except ColabSetupError:
                destination.unlink()
        url = f"{base}/data/models/{name}"
        try:
            _download(url, destination, timeout)
        except (urllib.error.URLError, OSError, TimeoutError, ColabSetupError) as exc:
            warnings.warn(f"Could not fetch {url}: {exc}", stacklevel=2)
    return folder


def setup_colab(
    cache_dir: str | os.PathLike | None = None, base_url: str | None = None, force: bool = False
) -> Path | None:
    """Prepare a Colab runtime for the book; does nothing anywhere else and returns None.

    In Colab: fetches the trained weights (:func:`fetch_trained_weights`), sets
    ``$CONVLENS_MODELS`` to their folder, prints one line saying so, and returns the folder.
    """
    if not in_colab():
        return None
    folder = fetch_trained_weights(cache_dir=cache_dir, base_url=base_url, force=force)
    os.environ[MODELS_ENV_VAR] = str(folder)
    present = sorted(name for name in MODEL_FILES if (folder / name).is_file())
    print(f"convlens (Colab): trained weights in {folder} ({', '.join(present) or 'none'}); photos download on use.")
    return folder
