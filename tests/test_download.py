"""convlens.fetch (pooch and its paced downloader) and the photo download built on it, against a
fake server on 127.0.0.1.

A bad download (cut short, a web page, a stalled or dripping server, no server, a wrong hash)
never leaves a file behind, and a half-extracted photo cache is never taken for the dataset.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from fake_http import PORTAL_PAGE, closed_port_url, running
from testkit import write_photo

from convlens import archive, data, errors, fetch, settings

ROOT = Path(__file__).resolve().parents[1]
PAYLOAD = bytes(range(256)) * 40  # 10240 bytes
COUNTS = {"train": {"cats": 2, "dogs": 2}, "validation": {"cats": 1, "dogs": 1}}


@pytest.fixture
def server():
    with running() as fake:
        yield fake


def leftovers(folder: Path) -> list[str]:
    """pooch's temporary files (tmpXXXX) and half-extracted folders left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("tmp") or "extracting" in p.name)


def make_archive(tmp_path: Path, counts=COUNTS, top: str = "cats_and_dogs_filtered") -> bytes:
    """A zip in the public archive's layout, with ``counts`` small JPEGs."""
    photos = tmp_path / "photos"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for split, classes in counts.items():
            for name, count in classes.items():
                for i in range(count):
                    path = write_photo(photos / f"{split}{name}{i}.jpg", seed=i + 10 * len(name))
                    zipped.write(path, f"{top}/{split}/{name}/{name[:-1]}.{i}.jpg")
    return buffer.getvalue()


def sha256(payload: bytes) -> str:
    return "sha256:" + hashlib.sha256(payload).hexdigest()


def get(url: str, folder: Path, payload: bytes = PAYLOAD, name: str = "baseline.json", **limits) -> Path:
    """fetch.fetch of registry entry ``name`` from ``url``, expecting ``payload``'s hash."""
    return fetch.fetch(name, folder, url, known_hash=sha256(payload), limits=fetch.limits_with(**limits))


# --------------------------------------------------------------------------- the registry


def test_registry_matches_the_committed_files():
    """A retrain that forgets to update convlens.fetch.REGISTRY fails here."""
    committed = sorted(p.name for p in (ROOT / "data" / "models").iterdir() if p.suffix in (".h5", ".json"))
    assert sorted(name for name in fetch.REGISTRY if name != fetch.ARCHIVE) == committed
    for name in committed:
        assert fetch.REGISTRY[name] == sha256((ROOT / "data" / "models" / name).read_bytes()), (
            f"data/models/{name} changed: put its SHA-256 in convlens.fetch.REGISTRY"
        )


# --------------------------------------------------------------------------- the downloader


def test_whole_file_is_written_and_nothing_else(server, tmp_path):
    url = server.serve("file.bin", PAYLOAD)
    assert get(url, tmp_path) == tmp_path / "baseline.json"
    assert (tmp_path / "baseline.json").read_bytes() == PAYLOAD
    assert leftovers(tmp_path) == []
    get(url, tmp_path)  # kept and matching its hash: not fetched again
    assert server.requested == ["/file.bin"]


def test_cut_short_is_refused_and_a_damaged_old_file_dropped(server, tmp_path):
    url = server.serve("file.bin", PAYLOAD, kind="cut", cut_at=504)
    with pytest.raises(errors.DownloadError, match="cut short: 504 of 10240 bytes") as caught:
        get(url, tmp_path)
    assert caught.value.reason == "truncated"
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "baseline.json").write_bytes(PAYLOAD)  # a good copy, kept: the server is not asked
    assert get(url, tmp_path).read_bytes() == PAYLOAD and server.requested == ["/file.bin"]
    (tmp_path / "baseline.json").write_bytes(PAYLOAD[:100])  # a damaged copy: fetched again, and dropped
    with pytest.raises(errors.DownloadError):
        get(url, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_hash_is_refused_and_nothing_kept(server, tmp_path):
    url = server.serve("file.bin", PAYLOAD)
    with pytest.raises(errors.DownloadError, match="not the expected one.*SHA256") as caught:
        get(url, tmp_path, payload=b"something else")
    assert caught.value.reason == "invalid"
    assert list(tmp_path.iterdir()) == []


def test_cut_without_content_length_is_caught_by_the_hash(server, tmp_path):
    url = server.serve("file.bin", PAYLOAD, kind="nolength", cut_at=len(PAYLOAD) - 100)
    with pytest.raises(errors.DownloadError, match="SHA256"):
        get(url, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_dripping_server_meets_the_overall_deadline(server, tmp_path):
    # One byte every 0.2 s never trips the 5 s read timeout; only the deadline stops it.
    url = server.serve("file.bin", PAYLOAD, kind="drip", interval=0.2)
    with pytest.raises(errors.DownloadError, match="deadline of 1 s") as caught:
        get(url, tmp_path, timeout=5, deadline=1)
    assert caught.value.reason == "timeout"
    assert list(tmp_path.iterdir()) == []


def test_trickling_server_is_given_up_at_the_rate_floor_long_before_the_deadline(server, tmp_path, monkeypatch):
    """One byte every 0.2 s: under a floor of 100 bytes/s for 1 s, the download stops after about 1 s."""
    url = server.serve("file.bin", PAYLOAD, kind="drip", interval=0.2)
    monkeypatch.setattr(settings, "DOWNLOAD", settings.DownloadLimits(timeout_s=5, deadline_s=60, min_rate=100,
                                                                      rate_window_s=1))
    started = time.monotonic()
    with pytest.raises(errors.DownloadError, match=r"bytes/s for 1 s, under the floor of 100 bytes/s") as caught:
        get(url, tmp_path)
    assert time.monotonic() - started < 10
    assert caught.value.reason == "timeout"
    assert list(tmp_path.iterdir()) == []


def test_a_slow_start_is_not_given_up_before_the_rate_window_has_passed(server, tmp_path):
    url = server.serve("file.bin", b"0123456789", kind="drip", interval=0.05)  # about 0.5 s in all
    limits = settings.DownloadLimits(timeout_s=5, deadline_s=60, min_rate=1000, rate_window_s=5)
    path = fetch.fetch("baseline.json", tmp_path, url, known_hash=sha256(b"0123456789"), limits=limits)
    assert path.read_bytes() == b"0123456789"


def test_stalled_server_meets_the_read_timeout(server, tmp_path):
    url = server.serve("file.bin", PAYLOAD, kind="stall", limit_s=10)
    with pytest.raises(errors.DownloadError, match="stopped answering") as caught:
        get(url, tmp_path, timeout=0.5, deadline=30)
    assert caught.value.reason == "timeout"
    assert list(tmp_path.iterdir()) == []


def test_no_server_and_http_errors(server, tmp_path):
    with pytest.raises(errors.DownloadError, match="Could not reach") as caught:
        get(closed_port_url(), tmp_path, timeout=2)
    assert caught.value.reason == "unreachable"
    assert isinstance(caught.value, errors.ConvlensError)
    with pytest.raises(errors.DownloadError, match="404") as caught:
        get(server.url("missing.bin"), tmp_path)
    assert caught.value.reason == "http"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kind", "payload", "message"),
    [("html", b"", "web page instead of .*captive portal"),
     ("ok", b"  <html><body>Log in</body></html>", "web page instead of"),  # a page served as a file
     ("ok", b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\n", "Git LFS pointer")],
    ids=["html", "html-as-octets", "lfs-pointer"],
)
def test_web_pages_and_lfs_pointers_are_refused_by_name(server, tmp_path, kind, payload, message):
    url = server.serve("baseline.weights.h5", payload, kind=kind)
    with pytest.raises(errors.DownloadError, match=message) as caught:
        fetch.fetch("baseline.weights.h5", tmp_path, url)  # the registry's own hash
    assert caught.value.reason == "invalid"
    assert list(tmp_path.iterdir()) == []


def test_a_registry_hash_is_required_by_default(server, tmp_path):
    """The committed weights are checked against the registry: other bytes are refused."""
    url = server.serve("dataaug.json", b'{"variant": "dataaug"}')
    with pytest.raises(errors.DownloadError, match="not the expected one"):
        fetch.fetch("dataaug.json", tmp_path, url)
    real = (ROOT / "data" / "models" / "dataaug.json").read_bytes()
    server.serve("dataaug.json", real)
    assert fetch.fetch("dataaug.json", tmp_path, url).read_bytes() == real


def test_the_progress_bar_is_tqdm_when_asked(server, tmp_path, monkeypatch, capsys):
    """pooch's bar: off unless asked (fetch asks when tqdm is installed); a stand-in tqdm records it."""
    import sys
    import types

    updates: list = []

    class Bar:
        def __init__(self, total, **kwargs):
            updates.append(("total", total))

        def update(self, count):
            updates.append(count)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=Bar))
    url = server.serve("file.bin", PAYLOAD)
    fetch.PacedDownloader(settings.DOWNLOAD, progressbar=True)(url, str(tmp_path / "out"))
    assert updates[0] == ("total", len(PAYLOAD)) and sum(updates[1:]) == len(PAYLOAD)
    updates.clear()
    fetch.PacedDownloader(settings.DOWNLOAD)(url, str(tmp_path / "out"))
    assert updates == []


# --------------------------------------------------------------------------- the photo archive


def test_photo_download_extracts_checks_and_marks(server, tmp_path):
    url = server.serve("cats_and_dogs_filtered.zip", make_archive(tmp_path))
    cache = tmp_path / "cache"
    target = archive.download_dataset(url=url, cache_dir=cache, expected_counts=COUNTS)
    assert target == cache / "cats_and_dogs_filtered"
    assert json.loads((target / archive.COMPLETE_MARKER).read_text()) == COUNTS
    assert data.count_images(target) == COUNTS
    assert leftovers(cache) == []
    # A marked folder is used at once, with no network.
    assert archive.download_dataset(url=closed_port_url(), cache_dir=cache, expected_counts=COUNTS) == target
    assert server.requested == ["/cats_and_dogs_filtered.zip"]


def test_half_extracted_cache_is_not_accepted(server, tmp_path):
    cache = tmp_path / "cache"
    half = cache / "cats_and_dogs_filtered"
    for split in COUNTS:  # the layout is there, most photos are not (a kill during extraction)
        for name in data.CLASS_NAMES:
            (half / split / name).mkdir(parents=True)
    write_photo(half / "train" / "cats" / "cat.0.jpg", seed=1)
    with pytest.raises(data.DataNotFoundError, match="Could not download"):
        archive.download_dataset(url=closed_port_url("a.zip"), cache_dir=cache, timeout=2, expected_counts=COUNTS)
    url = server.serve("cats_and_dogs_filtered.zip", make_archive(tmp_path))
    target = archive.download_dataset(url=url, cache_dir=cache, expected_counts=COUNTS)
    assert data.count_images(target) == COUNTS and (target / archive.COMPLETE_MARKER).is_file()


def test_a_whole_unmarked_folder_is_counted_then_kept(tmp_path):
    """A folder extracted whole by another tool (Keras' get_file) is accepted once counted."""
    cache = tmp_path / "cache"
    with zipfile.ZipFile(io.BytesIO(make_archive(tmp_path))) as zipped:
        zipped.extractall(cache)
    target = archive.download_dataset(url=closed_port_url("a.zip"), cache_dir=cache, timeout=2, expected_counts=COUNTS)
    assert (target / archive.COMPLETE_MARKER).is_file()


def test_kill_during_extraction_leaves_no_folder(server, tmp_path, monkeypatch):
    url = server.serve("cats_and_dogs_filtered.zip", make_archive(tmp_path))
    cache = tmp_path / "cache"
    real_counts = archive._counts

    def killed(folder, expected):
        raise KeyboardInterrupt  # stands for a kill once the files are out, before the check

    monkeypatch.setattr(archive, "_counts", killed)
    with pytest.raises(KeyboardInterrupt):
        archive.download_dataset(url=url, cache_dir=cache, expected_counts=COUNTS)
    assert not (cache / "cats_and_dogs_filtered").exists() and leftovers(cache) == []
    monkeypatch.setattr(archive, "_counts", real_counts)
    target = archive.download_dataset(url=url, cache_dir=cache, expected_counts=COUNTS)
    assert (target / archive.COMPLETE_MARKER).is_file()
    assert server.requested == ["/cats_and_dogs_filtered.zip"]  # the whole archive was kept and reused


def test_web_page_instead_of_the_archive_is_not_sticky(server, tmp_path):
    cache = tmp_path / "cache"
    url = server.serve("cats_and_dogs_filtered.zip", kind="html")
    with pytest.raises(data.DataNotFoundError, match="web page instead of.*log in.*CONVLENS_DATA"):
        archive.download_dataset(url=url, cache_dir=cache, expected_counts=COUNTS)
    assert list(cache.iterdir()) == []
    server.serve("cats_and_dogs_filtered.zip", make_archive(tmp_path))
    assert archive.download_dataset(url=url, cache_dir=cache, expected_counts=COUNTS).is_dir()


def test_archive_cut_short_is_not_kept(server, tmp_path):
    cache = tmp_path / "cache"
    payload = make_archive(tmp_path)
    url = server.serve("cats_and_dogs_filtered.zip", payload, kind="cut", cut_at=504)
    with pytest.raises(data.DataNotFoundError, match=f"cut short: 504 of {len(payload)} bytes.*Try again"):
        archive.download_dataset(url=url, cache_dir=cache, expected_counts=COUNTS)
    assert list(cache.iterdir()) == []


def test_bad_archive_left_by_an_older_version_is_fetched_again(server, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "cats_and_dogs_filtered.zip").write_bytes(PORTAL_PAGE)  # what the old code kept
    url = server.serve("cats_and_dogs_filtered.zip", make_archive(tmp_path))
    target = archive.download_dataset(url=url, cache_dir=cache, expected_counts=COUNTS)
    assert data.count_images(target) == COUNTS
    assert zipfile.is_zipfile(cache / "cats_and_dogs_filtered.zip")


def test_wrong_counts_delete_the_archive(server, tmp_path):
    cache = tmp_path / "cache"
    fewer = {"train": {"cats": 2, "dogs": 1}, "validation": {"cats": 1, "dogs": 1}}
    url = server.serve("cats_and_dogs_filtered.zip", make_archive(tmp_path, counts=fewer))
    with pytest.raises(data.DataNotFoundError, match="not the expected .*archive was deleted"):
        archive.download_dataset(url=url, cache_dir=cache, expected_counts=COUNTS)
    assert list(cache.iterdir()) == []


def test_archive_without_the_dataset_folder(server, tmp_path):
    cache = tmp_path / "cache"
    url = server.serve("cats_and_dogs_filtered.zip", make_archive(tmp_path, top="something_else"))
    with pytest.raises(data.DataNotFoundError, match="did not contain cats_and_dogs_filtered/train"):
        archive.download_dataset(url=url, cache_dir=cache)
    assert list(cache.iterdir()) == []


def test_public_url_checks_the_public_counts(monkeypatch, tmp_path):
    """With the real URL (never fetched here) the documented 1000 + 1000 / 500 + 500 are required."""
    seen = {}

    def fake_fetch(name, folder, url, *, known_hash=None, processor=None, limits=None):
        seen.update(name=name, url=url, known_hash=known_hash)
        path = Path(folder) / name
        path.write_bytes(make_archive(tmp_path))
        return processor(str(path), "download", None)

    monkeypatch.delenv(settings.DATA_SHA256_ENV, raising=False)
    monkeypatch.setattr(fetch, "fetch", fake_fetch)
    with pytest.raises(data.DataNotFoundError, match="not the expected"):
        archive.download_dataset(cache_dir=tmp_path / "cache")
    assert seen == {"name": "cats_and_dogs_filtered.zip", "url": archive.DATASET_URL, "known_hash": None}


def test_a_given_sha256_is_checked_by_pooch(server, tmp_path):
    payload = make_archive(tmp_path)
    url = server.serve("cats_and_dogs_filtered.zip", payload)
    cache = tmp_path / "cache"
    with pytest.raises(data.DataNotFoundError, match="not the expected one.*SHA256.*Try again"):
        archive.download_dataset(url=url, cache_dir=cache, sha256="0" * 64, expected_counts=COUNTS)
    assert list(cache.iterdir()) == []
    target = archive.download_dataset(url=url, cache_dir=cache, sha256=sha256(payload)[7:], expected_counts=COUNTS)
    assert data.count_images(target) == COUNTS


def test_a_member_that_would_escape_stays_inside(server, tmp_path):
    """zipfile (under pooch.Unzip) drops '..' from member paths: nothing lands outside the cache."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("../../escape.txt", "outside")
    url = server.serve("cats_and_dogs_filtered.zip", buffer.getvalue())
    cache = tmp_path / "cache"
    with pytest.raises(data.DataNotFoundError, match="did not contain"):
        archive.download_dataset(url=url, cache_dir=cache)
    assert not list(tmp_path.rglob("escape.txt")) and list(cache.iterdir()) == []


def test_a_file_that_is_not_a_zip_archive_is_refused_by_name_and_deleted(server, tmp_path):
    url = server.serve("cats_and_dogs_filtered.zip", PAYLOAD)  # no web page: the bytes pass the first check
    cache = tmp_path / "cache"
    with pytest.raises(data.DataNotFoundError, match=r"cats_and_dogs_filtered.zip is not a readable zip archive.*"
                                                     r"deleted: run again"):
        archive.download_dataset(url=url, cache_dir=cache)
    assert list(cache.iterdir()) == []
