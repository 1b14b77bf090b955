"""convlens.data: finding the photos, the offline error, load_image, corrupt files."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import write_photo

from convlens import data


def test_finder_prefers_environment_variable(tiny_dataset, tmp_path, monkeypatch):
    other = tmp_path / "repo"
    (other / "data").mkdir(parents=True)
    (other / "data" / "cats_vs_dogs").symlink_to(tiny_dataset)
    monkeypatch.chdir(other)
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tiny_dataset))
    assert data.find_data_dir() == tiny_dataset


def test_finder_uses_repo_folder_without_variable(tiny_dataset, tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    (repo / "data" / "cats_vs_dogs").symlink_to(tiny_dataset)
    (repo / "book").mkdir()
    monkeypatch.chdir(repo / "book")  # notebooks run from book/
    monkeypatch.delenv(data.DATA_ENV_VAR, raising=False)
    assert data.find_data_dir(download=False) == repo / "data" / "cats_vs_dogs"


def test_finder_rejects_wrong_environment_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path))
    with pytest.raises(data.DataNotFoundError, match="CONVLENS_DATA"):
        data.find_data_dir()


def test_offline_download_fails_fast_naming_the_variable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(data.DATA_ENV_VAR, raising=False)
    start = time.perf_counter()
    with pytest.raises(data.DataNotFoundError, match="CONVLENS_DATA"):
        # A closed port on this machine: the same refusal an offline machine gives.
        data.download_dataset(url="http://127.0.0.1:9/cats_and_dogs_filtered.zip", cache_dir=tmp_path, timeout=2)
    assert time.perf_counter() - start < 10
    assert not list(tmp_path.glob("*.zip*")), "no partial download may be left behind"


def test_download_refuses_wrong_checksum_and_unsafe_archive(tmp_path):
    archive = tmp_path / "cats_and_dogs_filtered.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("../escape.txt", "outside")
    with pytest.raises(data.DataNotFoundError, match="SHA-256"):
        data.download_dataset(url="unused", cache_dir=tmp_path, sha256="0" * 64)
    assert not archive.exists()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("../escape.txt", "outside")
    with pytest.raises(data.DataNotFoundError, match="escapes"):
        data.safe_extract(archive, tmp_path / "target")
    assert not (tmp_path / "escape.txt").exists()


def test_corrupt_file_is_skipped_with_a_warning_naming_it(tiny_dataset):
    bad = tiny_dataset / "train" / "cats" / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 this is not really a JPEG")
    (tiny_dataset / "train" / "dogs" / "notes.txt").write_text("not an image")

    def named(caught) -> list[str]:
        return sorted(name for w in caught for name in ("broken.jpg", "notes.txt") if name in str(w.message))

    with pytest.warns(UserWarning) as caught:
        paths, labels = data.labelled_files("train", tiny_dataset)
    assert named(caught) == ["broken.jpg", "notes.txt"] and len(caught) == 2
    assert bad not in paths and len(paths) == 6
    assert labels.tolist() == [0, 0, 0, 1, 1, 1]
    with pytest.warns(UserWarning) as caught:
        batches = list(data.make_dataset("train", batch_size=4, data_dir=tiny_dataset))
    assert {"broken.jpg", "notes.txt"} <= set(named(caught))
    images = np.concatenate([b[0].numpy() for b in batches])
    assert images.shape == (6, 150, 150, 3)
    assert 0.0 <= images.min() and images.max() <= 1.0


def test_load_image_converts_grayscale_rgba_and_odd_sizes(tmp_path):
    gray = write_photo(tmp_path / "gray.png", 1, size=(37, 91), mode="L", fmt="PNG")
    rgba = write_photo(tmp_path / "rgba.png", 2, size=(300, 200), mode="RGBA", fmt="PNG")
    for path in (gray, rgba):
        batch = data.load_image(path)
        assert batch.shape == (1, 150, 150, 3) and batch.dtype == np.float32
        assert 0.0 <= batch.min() and batch.max() <= 1.0
    gray_batch = data.load_image(gray)
    assert np.allclose(gray_batch[..., 0], gray_batch[..., 1]), "grey stays grey in all three channels"


def test_load_image_transparent_pixels_become_white():
    rgba = np.zeros((10, 10, 4), dtype=np.uint8)  # fully transparent black
    batch = data.load_image(rgba)
    assert np.allclose(batch, 1.0)


def test_load_image_arrays_and_their_errors():
    assert data.load_image(np.full((20, 30), 255, np.uint8)).shape == (1, 150, 150, 3)
    assert data.load_image(np.zeros((1, 150, 150, 3), np.float32)).shape == (1, 150, 150, 3)
    with pytest.raises(data.ImageLoadError, match="divide"):
        data.load_image(np.full((10, 10, 3), 200.0))
    with pytest.raises(data.ImageLoadError, match="shape"):
        data.load_image(np.zeros((10, 10, 2)))
    with pytest.raises(data.ImageLoadError, match="batch of 2"):
        data.load_image(np.zeros((2, 10, 10, 3)))


def test_load_image_rejects_non_images(tmp_path):
    text = tmp_path / "cat.jpg"
    text.write_text("meow")
    with pytest.raises(data.ImageLoadError, match="not a readable image"):
        data.load_image(text)
    with pytest.raises(data.ImageLoadError, match="No such image file"):
        data.load_image(tmp_path / "missing.jpg")


def test_load_image_refuses_huge_images(tmp_path, monkeypatch):
    path = write_photo(tmp_path / "big.png", 3, size=(400, 300), fmt="PNG")
    monkeypatch.setattr(data, "MAX_IMAGE_PIXELS", 100_000)
    with pytest.raises(data.ImageLoadError, match="shrink it"):
        data.load_image(path)


def test_real_photos_counts(real_data_dir):
    counts = data.count_images(real_data_dir)
    assert counts["train"] == {"cats": 1000, "dogs": 1000}
    assert counts["validation"] == {"cats": 1000, "dogs": 1000}


def test_load_split_arrays_matches_pipeline(tiny_dataset):
    images, labels, paths = data.load_split_arrays("validation", limit_per_class=2, data_dir=tiny_dataset)
    assert images.shape == (4, 150, 150, 3) and labels.tolist() == [0, 0, 1, 1]
    batch = next(iter(data.make_dataset("validation", batch_size=6, data_dir=tiny_dataset)))[0].numpy()
    assert np.allclose(images[:2], batch[:2])
    assert [Path(p).name for p in paths][:1] == ["cat.0.jpg"]


