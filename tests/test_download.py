"""convlens.download and the photo download built on it, against a fake server on 127.0.0.1.

A bad download (cut short, a web page, a stalled or dripping server, no server) never leaves a
file behind, and a half-extracted photo cache is never taken for the dataset.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from fake_http import PORTAL_PAGE, closed_port_url, running
from testkit import write_photo

from convlens import archive, data, download, errors, settings

PAYLOAD = bytes(range(256)) * 40  # 10240 bytes
COUNTS = {"train": {"cats": 2, "dogs": 2}, "validation": {"cats": 1, "dogs": 1}}


@pytest.fixture
def server():
    with running() as fake:
        yield fake


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name or "extracting" in p.name)


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


def real_hdf5(tmp_path: Path) -> bytes:
    import h5py
    import numpy as np

    path = tmp_path / "real.h5"
    with h5py.File(path, "w") as stream:
        stream["weights"] = np.arange(5000, dtype=np.float32)
    return path.read_bytes()


# --------------------------------------------------------------------------- the downloader


def test_whole_file_is_written_and_nothing_else(server, tmp_path):
    url = server.serve("file.bin", PAYLOAD)
    assert download.download(url, tmp_path / "file.bin") == tmp_path / "file.bin"
    assert (tmp_path / "file.bin").read_bytes() == PAYLOAD
    assert leftovers(tmp_path) == []


def test_cut_short_is_refused_and_the_old_file_kept(server, tmp_path):
    url = server.serve("file.bin", PAYLOAD, kind="cut", cut_at=504)
    with pytest.raises(download.DownloadError, match="cut short: 504 of 10240 bytes") as caught:
        download.download(url, tmp_path / "new.bin")
    assert caught.value.reason == "truncated"
    assert not (tmp_path / "new.bin").exists() and leftovers(tmp_path) == []
    (tmp_path / "old.bin").write_bytes(b"the good copy")
    with pytest.raises(download.DownloadError):
        download.download(url, tmp_path / "old.bin")
    assert (tmp_path / "old.bin").read_bytes() == b"the good copy"


def test_dripping_server_meets_the_overall_deadline(server, tmp_path):
    # One byte every 0.2 s never trips the 5 s read timeout; only the deadline stops it.
    url = server.serve("file.bin", PAYLOAD, kind="drip", interval=0.2)
    with pytest.raises(download.DownloadError, match="deadline of 1 s") as caught:
        download.download(url, tmp_path / "file.bin", timeout=5, deadline=1)
    assert caught.value.reason == "timeout"
    assert leftovers(tmp_path) == [] and not (tmp_path / "file.bin").exists()


def test_trickling_server_is_given_up_at_the_rate_floor_long_before_the_deadline(server, tmp_path):
    """One byte every 0.2 s: under a floor of 100 bytes/s for 1 s, the download stops after about 1 s."""
    url = server.serve("file.bin", PAYLOAD, kind="drip", interval=0.2)
    limits = settings.DownloadLimits(timeout_s=5, deadline_s=60, min_rate=100, rate_window_s=1)
    started = time.monotonic()
    with pytest.raises(download.DownloadError, match=r"bytes/s for 1 s, under the floor of 100 bytes/s") as caught:
        download.download(url, tmp_path / "file.bin", limits=limits)
    assert time.monotonic() - started < 10
    assert caught.value.reason == "timeout"
    assert leftovers(tmp_path) == [] and not (tmp_path / "file.bin").exists()


def test_a_slow_start_is_not_given_up_before_the_rate_window_has_passed(server, tmp_path):
    url = server.serve("file.bin", b"0123456789", kind="drip", interval=0.05)  # about 0.5 s in all
    limits = settings.DownloadLimits(timeout_s=5, deadline_s=60, min_rate=1000, rate_window_s=5)
    assert download.download(url, tmp_path / "file.bin", limits=limits).read_bytes() == b"0123456789"


def test_stalled_server_meets_the_read_timeout(server, tmp_path):
    url = server.serve("file.bin", PAYLOAD, kind="stall", limit_s=10)
    with pytest.raises(download.DownloadError, match="stopped answering") as caught:
        download.download(url, tmp_path / "file.bin", timeout=0.5, deadline=30)
    assert caught.value.reason == "timeout"
    assert leftovers(tmp_path) == []


def test_no_server_and_http_errors(server, tmp_path):
    with pytest.raises(download.DownloadError, match="Could not reach") as caught:
        download.download(closed_port_url(), tmp_path / "file.bin", timeout=2)
    assert caught.value.reason == "unreachable"
    assert isinstance(caught.value, errors.ConvlensError)
    with pytest.raises(download.DownloadError, match="404") as caught:
        download.download(server.url("missing.bin"), tmp_path / "file.bin")
    assert caught.value.reason == "http"
    assert list(tmp_path.iterdir()) == []


def test_validator_refuses_a_web_page(server, tmp_path):
    url = server.serve("archive.zip", kind="html")
    with pytest.raises(download.DownloadError, match="not a zip archive .*captive portal") as caught:
        download.download(url, tmp_path / "archive.zip", validate=download.check_zip)
    assert caught.value.reason == "invalid"
    assert list(tmp_path.iterdir()) == []


def test_check_zip_reads_every_member(tmp_path):
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w", compression=zipfile.ZIP_STORED) as zipped:
        zipped.writestr("a.txt", "hello world " * 100)
    download.check_zip(good)
    raw = bytearray(good.read_bytes())
    raw[raw.index(b"hello") + 3] ^= 0xFF  # one byte of the member's data
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(raw))
    assert zipfile.is_zipfile(bad)  # the quick check alone would accept it
    with pytest.raises(ValueError, match="damaged"):
        download.check_zip(bad)


def test_check_hdf5(tmp_path):
    whole = real_hdf5(tmp_path)
    path = tmp_path / "w.h5"
    path.write_bytes(whole)
    download.check_hdf5(path)
    assert download.hdf5_end_of_file(path) == len(whole)
    for payload, message in [
        (whole[: len(whole) // 2], "truncated"),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\n", "Git LFS"),
        (PORTAL_PAGE, "not an HDF5 file"),
        (b"", "not an HDF5 file"),
    ]:
        path.write_bytes(payload)
        with pytest.raises(ValueError, match=message):
            download.check_hdf5(path)


def test_truncated_weights_without_content_length_are_caught_by_their_header(server, tmp_path):
    whole = real_hdf5(tmp_path)
    url = server.serve("w.weights.h5", whole, kind="nolength", cut_at=len(whole) - 100)
    with pytest.raises(download.DownloadError, match="truncated"):
        download.download(url, tmp_path / "w.weights.h5", validate=download.check_hdf5)
    assert not (tmp_path / "w.weights.h5").exists()


def test_validator_for():
    assert download.validator_for("a.zip") is download.check_zip
    assert download.validator_for("dataaug.weights.h5") is download.check_hdf5
    assert download.validator_for("dataaug.json") is download.check_json
    assert download.validator_for("notes.txt") is None


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
    real_extract = archive.safe_extract

    def killed(archive, target):
        real_extract(archive, target)
        raise KeyboardInterrupt  # stands for a kill once the files are out, before the check

    monkeypatch.setattr(archive, "safe_extract", killed)
    with pytest.raises(KeyboardInterrupt):
        archive.download_dataset(url=url, cache_dir=cache, expected_counts=COUNTS)
    assert not (cache / "cats_and_dogs_filtered").exists() and leftovers(cache) == []
    monkeypatch.setattr(archive, "safe_extract", real_extract)
    target = archive.download_dataset(url=url, cache_dir=cache, expected_counts=COUNTS)
    assert (target / archive.COMPLETE_MARKER).is_file()
    assert server.requested == ["/cats_and_dogs_filtered.zip"]  # the whole archive was kept and reused


def test_web_page_instead_of_the_archive_is_not_sticky(server, tmp_path):
    cache = tmp_path / "cache"
    url = server.serve("cats_and_dogs_filtered.zip", kind="html")
    with pytest.raises(data.DataNotFoundError, match="not a zip archive.*log in.*CONVLENS_DATA"):
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

    def fake_download(url, destination, **kwargs):
        seen["url"] = url
        Path(destination).write_bytes(make_archive(tmp_path))
        return Path(destination)

    monkeypatch.setattr(archive.downloads, "download", fake_download)
    with pytest.raises(data.DataNotFoundError, match="not the expected"):
        archive.download_dataset(cache_dir=tmp_path / "cache")
    assert seen["url"] == archive.DATASET_URL
