"""The public checks of a chapter's assignment, for a student notebook opened in Colab.

A chapter's student notebook (``assignments/NN/NN.ipynb``, built by
``tools/make_assignments.py``) checks answers with otter-grader's ``grader.check("name")``,
which reads ``tests/name.py`` beside the notebook. Inside a clone of the repository those files
are there; Colab opens the notebook alone, so the notebook's first cell calls
:func:`fetch_checks`, which downloads them from the repository's raw files.

The files are a few hundred bytes of Python each, read only by otter: the standard library's
``urllib`` fetches them (the book's pooch registry is for large files with known hashes, and
these change with every edit of an exercise). Each is written atomically.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from . import colab
from .errors import ArgumentError, ColabSetupError
from .files import write_text_atomic

__all__ = ["checks_url", "fetch_checks"]


def checks_url(chapter: str, name: str, base_url: str | None = None) -> str:
    """The raw address of public check ``name`` of ``chapter``'s assignment."""
    if not chapter or "/" in chapter or not name or "/" in name:
        raise ArgumentError(f"Expected a chapter like '02_activations' and a check name, got {chapter!r}, {name!r}.")
    base = (base_url or colab.raw_base_url()).rstrip("/")
    return f"{base}/assignments/{chapter}/tests/{name}.py"


def fetch_checks(
    chapter: str,
    names: Iterable[str],
    folder: str | os.PathLike = "tests",
    base_url: str | None = None,
    timeout: float = 30.0,
    force: bool = False,
) -> Path | None:
    """Download the public checks ``names`` of ``chapter`` into ``folder`` when they are missing.

    Does nothing (returns None) when every check is already there, as in a clone of the
    repository or while otter grades a submission, unless ``force``. Otherwise fetches the
    missing ones and returns the folder; a failed download raises :class:`ColabSetupError` that
    says how to get the files by hand.
    """
    folder = Path(folder)
    names = list(names)
    missing = [name for name in names if force or not (folder / f"{name}.py").is_file()]
    if not missing:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    for name in missing:
        url = checks_url(chapter, name, base_url)
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (https only)
                text = response.read().decode("utf-8")
        except (urllib.error.URLError, OSError, UnicodeDecodeError) as exc:
            raise ColabSetupError(
                f"Could not fetch the check {name!r} of {chapter} from {url} ({exc}). Without a "
                f"network, download the folder assignments/{chapter}/tests from "
                f"{colab.REPOSITORY_URL} and put it beside the notebook as {folder}/."
            ) from exc
        if "OK_FORMAT" not in text:
            raise ColabSetupError(
                f"{url} is not an otter check (a web page or a moved file?); download the folder "
                f"assignments/{chapter}/tests from {colab.REPOSITORY_URL} and put it beside the "
                f"notebook as {folder}/."
            )
        write_text_atomic(folder / f"{name}.py", text)
    print(f"convlens: {len(missing)} public checks of {chapter} in {folder}/")
    return folder
