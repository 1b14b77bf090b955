"""The one downloader of convlens: the photo archive and the trained weights both come through it.

:func:`download` writes to a temporary file beside the target and moves it into place only once
the whole file is there and valid (:func:`convlens.files.atomic_path`), so that a cut, a kill, a
captive portal's HTML page or a stalled server never leaves a file that a later call would take
for good. It checks:

- the length against the server's ``Content-Length`` (a connection cut short);
- an overall deadline, not only a per-read timeout (a server dripping one byte every few seconds
  never trips a per-read timeout), and a rate floor: a download slower than
  :data:`convlens.settings.DOWNLOAD` ``.min_rate`` for ``.rate_window_s`` seconds is given up early;
- the content, with an optional validator (:func:`check_zip`, :func:`check_hdf5`,
  :func:`check_json`).

Every failure raises :class:`DownloadError` and leaves nothing behind; the callers
(:func:`convlens.archive.download_dataset`, :func:`convlens.colab.fetch_trained_weights`) turn it
into their own error with the fix.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import struct
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from . import settings
from .errors import BadFileError, DownloadError
from .files import atomic_path
from .settings import DownloadLimits

__all__ = [
    "CHUNK_BYTES",
    "GIT_LFS_POINTER",
    "HDF5_SIGNATURE",
    "Validator",
    "check_hdf5",
    "check_json",
    "check_zip",
    "download",
    "hdf5_end_of_file",
    "validator_for",
]

CHUNK_BYTES = 1 << 16

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
GIT_LFS_POINTER = b"version https://git-lfs"

Validator = Callable[[Path], None]
"""Raises :class:`~convlens.errors.BadFileError` (any ``ValueError``) when a downloaded file is bad."""




def download(
    url: str,
    destination: str | os.PathLike,
    *,
    validate: Validator | None = None,
    timeout: float | None = None,
    deadline: float | None = None,
    limits: DownloadLimits | None = None,
) -> Path:
    """Fetch ``url`` into ``destination`` atomically; return ``destination``.

    ``limits`` (default :data:`convlens.settings.DOWNLOAD`, read at the call) bound the wait for
    the answer and for each read, the whole download, and its rate; ``timeout`` and ``deadline``
    replace the first two. The file is checked against ``Content-Length`` and by ``validate(path)``
    before it replaces ``destination``; on any failure the temporary file is removed,
    ``destination`` is left as it was, and :class:`~convlens.errors.DownloadError` is raised.
    """
    limits = _limits(limits, timeout, deadline)
    destination = Path(destination)
    try:
        with atomic_path(destination) as temporary:
            received, expected = _fetch(url, temporary, limits)
            if expected is not None and received != expected:
                raise DownloadError(
                    f"The download of {url} was cut short: {received} of {expected} bytes arrived.", url, "truncated"
                )
            if validate is not None:
                _validate(validate, temporary, url)
    except DownloadError:
        raise
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"The server answered {exc.code} {exc.reason} for {url}.", url, "http") from None
    except urllib.error.URLError as exc:
        reason = "timeout" if isinstance(exc.reason, TimeoutError) else "unreachable"
        raise DownloadError(f"Could not reach {url} ({exc.reason}).", url, reason) from None
    except TimeoutError:
        raise DownloadError(
            f"The server of {url} stopped answering for {limits.timeout_s:g} s.", url, "timeout"
        ) from None
    except (http.client.HTTPException, ConnectionError) as exc:
        raise DownloadError(
            f"The download of {url} was cut short ({type(exc).__name__}: {exc}).", url, "truncated"
        ) from None
    return destination


def _limits(limits: DownloadLimits | None, timeout: float | None, deadline: float | None) -> DownloadLimits:
    limits = limits or settings.DOWNLOAD
    if timeout is not None:
        limits = dataclasses.replace(limits, timeout_s=float(timeout))
    if deadline is not None:
        limits = dataclasses.replace(limits, deadline_s=float(deadline))
    return limits


def _validate(validate: Validator, path: Path, url: str) -> None:
    try:
        validate(path)
    except DownloadError:
        raise
    except (ValueError, OSError) as exc:
        raise DownloadError(f"The file from {url} is not valid: {exc}", url, "invalid") from None


class _Pace:
    """The deadline and the rate floor of one download, checked between reads."""

    def __init__(self, url: str, limits: DownloadLimits):
        self.url, self.limits = url, limits
        self.start = self.window_start = time.monotonic()
        self.window_bytes = 0

    def check(self, received: int) -> None:
        now = time.monotonic()
        if now - self.start > self.limits.deadline_s:
            raise DownloadError(
                f"The download of {self.url} took longer than its deadline of {self.limits.deadline_s:g} s "
                f"({received} bytes arrived); the server or the network is too slow.", self.url, "timeout",
            )
        if now - self.window_start >= self.limits.rate_window_s:
            rate = (received - self.window_bytes) / (now - self.window_start)
            if rate < self.limits.min_rate:
                raise DownloadError(
                    f"The download of {self.url} ran at {rate:,.0f} bytes/s for {now - self.window_start:.0f} s, "
                    f"under the floor of {self.limits.min_rate:,.0f} bytes/s ({received} bytes arrived); "
                    "the server or the network is too slow: try again later.", self.url, "timeout",
                )
            self.window_start, self.window_bytes = now, received


def _fetch(url: str, temporary: Path, limits: DownloadLimits) -> tuple[int, int | None]:
    """Stream ``url`` into ``temporary``; return (bytes received, Content-Length or None)."""
    pace = _Pace(url, limits)
    timeout = min(limits.timeout_s, limits.deadline_s)
    with urllib.request.urlopen(url, timeout=timeout) as response, open(temporary, "wb") as out:
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.strip().isdigit() else None
        received = 0
        while True:
            pace.check(received)
            # read1 returns as soon as some bytes arrive, so the limits are checked between
            # small reads even when the server sends one byte at a time.
            chunk = response.read1(CHUNK_BYTES)
            if not chunk:
                break
            out.write(chunk)
            received += len(chunk)
    return received, expected


def _first_bytes(path: Path, count: int = 60) -> str:
    with open(path, "rb") as stream:
        head = stream.read(count)
    return repr(head.decode("utf-8", "replace"))


def check_zip(path: Path) -> None:
    """Refuse a file that is not a complete, undamaged zip archive (every member's CRC is read)."""
    if not zipfile.is_zipfile(path):
        raise BadFileError(
            f"it is not a zip archive ({path.stat().st_size} bytes starting with {_first_bytes(path)}; "
            "a web page from a captive portal or proxy?)"
        )
    try:
        with zipfile.ZipFile(path) as zipped:
            bad = zipped.testzip()
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise BadFileError(f"the zip archive is damaged ({exc})") from None
    if bad is not None:
        raise BadFileError(f"the zip archive is damaged (member {bad!r} fails its CRC check)")


def hdf5_end_of_file(path: Path) -> int | None:
    """The file size that an HDF5 file's superblock records, or None if it cannot be read."""
    with open(path, "rb") as stream:
        head = stream.read(128)
    if not head.startswith(HDF5_SIGNATURE) or len(head) < 16:
        return None
    version = head[8]
    if version in (0, 1):
        offsets = head[13]
        # signature 8, versions/sizes 8, group K 4, flags 4, (v1: indexed K 2 + reserved 2),
        # then base, free-space, end-of-file addresses of `offsets` bytes each.
        position = 24 + (4 if version == 1 else 0) + 2 * offsets
    elif version in (2, 3):
        offsets = head[9]
        position = 12 + 2 * offsets  # signature 8, version, sizes 2, flags; base, extension
    else:
        return None
    if offsets not in (2, 4, 8) or len(head) < position + offsets:
        return None
    return struct.unpack_from({2: "<H", 4: "<I", 8: "<Q"}[offsets], head, position)[0]


def check_hdf5(path: Path) -> None:
    """Refuse a file that is not a whole HDF5 file (web page, Git LFS pointer, truncated)."""
    with open(path, "rb") as stream:
        head = stream.read(len(GIT_LFS_POINTER))
    size = path.stat().st_size
    if head.startswith(GIT_LFS_POINTER):
        raise BadFileError(
            "it is a Git LFS pointer, not the weights; the repository must commit data/models/*.h5 as "
            "plain files (no LFS)"
        )
    if not head.startswith(HDF5_SIGNATURE):
        raise BadFileError(f"it is not an HDF5 file ({size} bytes starting with {_first_bytes(path)})")
    end = hdf5_end_of_file(path)
    if end is not None and size < end:
        raise BadFileError(f"the HDF5 file is truncated: {size} bytes of the {end} its header records")


def check_json(path: Path) -> None:
    """Refuse a file that is not valid UTF-8 JSON."""
    try:
        json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadFileError(f"it is not valid JSON ({exc})") from None


def validator_for(name: str) -> Validator | None:
    """The validator that fits a file name: zip, HDF5 (``.h5``) or JSON; None for others."""
    if name.endswith(".zip"):
        return check_zip
    if name.endswith(".h5"):
        return check_hdf5
    if name.endswith(".json"):
        return check_json
    return None
