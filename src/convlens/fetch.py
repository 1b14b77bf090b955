"""The one fetcher of convlens: every file the book downloads, in one pooch registry.

`pooch <https://www.fatiando.org/pooch>`_ does the fetching: the registry of file names and
hashes (:data:`REGISTRY`), the download into a temporary file of the cache folder that is moved
into place only once its hash matches (a cut, a kill or a wrong file never leaves a file that a
later call would take for good), a kept file checked against its hash before it is used again,
and the unzipping (``pooch.Unzip``, in :mod:`convlens.archive`). The cache folders come from
:mod:`convlens.settings` (``$XDG_CACHE_HOME``, ``$KERAS_HOME``).

Two things pooch's own ``HTTPDownloader`` does not do are in :class:`PacedDownloader`, the
downloader handed to pooch: it gives up at an overall deadline and below a rate floor
(:data:`convlens.settings.DOWNLOAD`), since a server dripping one byte every few seconds never
trips a per-read timeout, and it refuses a captive portal's web page or a Git LFS pointer with a
message that says so. Every failure is a :class:`~convlens.errors.DownloadError` (pooch's and
requests' errors wrapped); the callers (:func:`convlens.archive.download_dataset`,
:func:`convlens.colab.fetch_trained_weights`) add their fix.

VGG16's ImageNet weights are not in the registry: ``keras.applications.VGG16`` fetches them and
checks their hash itself (:func:`convlens.models.vgg16`).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import time
from pathlib import Path

from . import settings
from .errors import DownloadError
from .settings import DownloadLimits

__all__ = [
    "ARCHIVE",
    "CHUNK_BYTES",
    "DATASET_URL",
    "REGISTRY",
    "PacedDownloader",
    "fetch",
    "limits_with",
]

ARCHIVE = "cats_and_dogs_filtered.zip"
DATASET_URL = f"https://storage.googleapis.com/mledu-datasets/{ARCHIVE}"

REGISTRY: dict[str, str | None] = {
    # The public photo archive. No SHA-256 of it is published (neither the TensorFlow tutorials that
    # use it nor any checksum list we could search names one), and it cannot be downloaded from the
    # offline machine this book is written on: None, so pooch checks no hash. Its content is checked
    # instead (a zip, the expected photo counts: convlens.archive); $CONVLENS_DATA_SHA256 pins it.
    ARCHIVE: None,
    # The committed data/models files (fetched from the repository outside a clone, convlens.colab).
    # tests/test_download.py checks these against the files on disk: update them with every retrain.
    "baseline.weights.h5": "sha256:d145d1d0ea112ee2627749a91d38c493f59fa76f26f33307c5fd61aacd2aa61f",
    "baseline.json": "sha256:38c73bff50b38688ee6ec0a37b124c18df0dd6a3907b099981dbfc67d6936b18",
    "dataaug.weights.h5": "sha256:f848a095541561f7e26936d137e9a652149f82f5d772f614a8dd9b28f5e7bf93",
    "dataaug.json": "sha256:081badd061b06a88991ac0f3fd249b29dcb60702463f999fb183145e0574122a",
    "full.weights.h5": "sha256:394be1b09b6a98ce08e0f2eb1123c22ef240b26a2d1a6c908cc18b67ae3a1d46",
    "full.json": "sha256:8358430338552f6d9aff47b6943c00888ed048b98031f3ae95906bed8a6a5739",
}
"""Every file the book downloads, by name, with its hash (``None``: not known, see the comment)."""

CHUNK_BYTES = 1 << 16

_GIT_LFS_POINTER = b"version https://git-lfs"


def limits_with(timeout: float | None = None, deadline: float | None = None) -> DownloadLimits:
    """:data:`convlens.settings.DOWNLOAD` (read now), with the answer timeout and the deadline replaced if given."""
    limits = settings.DOWNLOAD
    if timeout is not None:
        limits = dataclasses.replace(limits, timeout_s=float(timeout))
    if deadline is not None:
        limits = dataclasses.replace(limits, deadline_s=float(deadline))
    return limits


def fetch(
    name: str,
    folder: str | os.PathLike,
    url: str,
    *,
    known_hash: str | None = None,
    processor=None,
    limits: DownloadLimits | None = None,
) -> Path:
    """Fetch registry file ``name`` from ``url`` into ``folder`` through pooch; return pooch's answer.

    A file already there is used when it matches its hash (``known_hash``, default its
    :data:`REGISTRY` entry) and fetched afresh when it does not. ``processor`` is pooch's (the
    archive's checked unzip); its return value is returned, else the file's path. Any failure of
    the download raises :class:`~convlens.errors.DownloadError` and leaves no file behind (nor a
    kept one that failed its hash).
    """
    import pooch

    known_hash = known_hash or REGISTRY[name]
    path = Path(folder) / name
    kept = known_hash is not None and path.exists()  # pooch fetches it again if it does not match its hash
    store = pooch.create(path=Path(folder), base_url="", registry={name: known_hash}, urls={name: url})
    downloader = PacedDownloader(limits or settings.DOWNLOAD, progressbar=importlib.util.find_spec("tqdm") is not None)
    try:
        found = store.fetch(name, processor=processor, downloader=downloader)
    except (DownloadError, ValueError) as exc:
        if kept:
            path.unlink(missing_ok=True)  # it did not match its hash, and no good copy replaced it
        if isinstance(exc, DownloadError):
            raise
        # pooch's ValueError: the hash of what arrived is not the expected one
        message = f"The file from {url} is not the expected one: {exc} It was not kept."
        raise DownloadError(message, url, "invalid") from None
    return found if processor is not None else Path(found)


@dataclasses.dataclass(frozen=True)
class PacedDownloader:
    """A pooch downloader that streams with requests and keeps to a deadline and a rate floor.

    pooch's ``HTTPDownloader`` reads whole chunks with a per-read timeout only, so a server that
    drips one byte every few seconds keeps it waiting for hours. This one reads what has arrived
    (urllib3's ``read1``) and checks between reads the overall deadline and the rate over
    ``rate_window_s`` seconds; a web page (a captive portal's login) or a Git LFS pointer is refused
    at its first bytes. With ``progressbar``, a tqdm bar as ``pooch.HTTPDownloader`` draws it
    (tqdm must be installed; :func:`fetch` asks for it when it is).
    """

    limits: DownloadLimits
    progressbar: bool = False

    def __call__(self, url: str, output_file: str, pooch=None, check_only: bool = False):
        """Download ``url`` into ``output_file`` (pooch's temporary file); with ``check_only``, whether it exists."""
        import requests
        import urllib3

        timeout = min(self.limits.timeout_s, self.limits.deadline_s)
        received, expected = 0, None
        try:
            if check_only:
                return requests.head(url, timeout=timeout, allow_redirects=True).ok
            with requests.get(url, stream=True, timeout=timeout) as response:
                response.raise_for_status()
                length = response.headers.get("Content-Length", "")
                expected = int(length) if length.strip().isdigit() else None
                with open(output_file, "wb") as out, _progress(self.progressbar, expected) as bar:
                    pace = _Pace(url, self.limits)
                    while chunk := response.raw.read1(CHUNK_BYTES, decode_content=True):
                        if received == 0:
                            _refuse_the_wrong_kind(url, response, chunk)
                        out.write(chunk)
                        received = response.raw.tell()
                        bar.update(len(chunk))
                        pace.check(received)
                if expected is not None and received != expected:
                    raise DownloadError(
                        f"The download of {url} was cut short: {received} of {expected} bytes arrived.",
                        url, "truncated",
                    )
        except DownloadError:
            raise
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            reason = exc.response.reason if exc.response is not None else exc
            raise DownloadError(f"The server answered {status} {reason} for {url}.", url, "http") from None
        except (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError):
            raise DownloadError(
                f"The server of {url} stopped answering for {self.limits.timeout_s:g} s.", url, "timeout"
            ) from None
        except (urllib3.exceptions.ProtocolError, requests.exceptions.ChunkedEncodingError) as exc:
            raise DownloadError(
                f"The download of {url} was cut short: {received} of {expected} bytes arrived ({type(exc).__name__}).",
                url, "truncated",
            ) from None
        except (requests.RequestException, OSError) as exc:
            raise DownloadError(f"Could not reach {url} ({type(exc).__name__}: {exc}).", url, "unreachable") from None
        return None


def _refuse_the_wrong_kind(url: str, response, first: bytes) -> None:
    """Refuse a web page (a captive portal's or proxy's login page) or a Git LFS pointer, by its first bytes."""
    kind = response.headers.get("Content-Type", "")
    if kind.startswith("text/html") or first.lstrip()[:1] == b"<":
        raise DownloadError(
            f"The server sent a web page instead of {url} ({kind or 'no type'}, starting with "
            f"{first[:60].decode('utf-8', 'replace')!r}): a captive portal or a proxy? Log in to the network first.",
            url, "invalid",
        )
    if first.startswith(_GIT_LFS_POINTER):
        raise DownloadError(
            f"{url} is a Git LFS pointer, not the file: the repository must commit data/models as plain files "
            "(no LFS).", url, "invalid",
        )


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


class _NoBar:
    def update(self, count: int) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


def _progress(progressbar: bool, total: int | None):
    """pooch's progress bar (tqdm, as ``pooch.HTTPDownloader`` draws it), or none."""
    if not progressbar:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, ncols=79, unit="B", unit_scale=True, leave=True)
