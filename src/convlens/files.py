"""Writing files so that a crash or a kill never leaves a half-written one behind.

Every file the package writes for keeps (trained weights, training records, checkpoints,
downloads) goes through :func:`atomic_path`: the data is written to a temporary file in the
same folder, then moved over the target with :func:`os.replace`, which is atomic on one
file system. A reader sees either the old file or the new one, never a truncated mix.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "atomic_path",
    "file_sha256",
    "write_text_atomic",
]


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success move it over ``target``.

    If the body raises, the temporary file is removed and ``target`` is left as it was.
    ``suffix`` defaults to the target's own suffixes (Keras wants ``.weights.h5``).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(target.suffixes) if suffix is None else suffix
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".part{suffix}", dir=target.parent)
    os.close(handle)
    # mkstemp makes the file private (0600); a kept file gets the usual umask-based mode.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(name, 0o666 & ~umask)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text_atomic(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically (see :func:`atomic_path`)."""
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 digest of a file's bytes, as hexadecimal (read in blocks of 1 MiB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
