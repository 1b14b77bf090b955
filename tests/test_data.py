"""convlens.data: finding the photos, the offline error, load_image, corrupt files."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fake_http import closed_port_url
from testkit import write_photo

from convlens import archive, data, errors, images, settings


def test_finder_prefers_environment_variable(tiny_dataset, tmp_path, monkeypatch):
    other = tmp_path / "repo"
    (other / "data").mkdir(parents=True)
    (other / "data" / "cats_vs_dogs").symlink_to(tiny_dataset)
    monkeypatch.chdir(other)
    monkeypatch.setenv(settings.DATA_ENV, str(tiny_dataset))
    assert data.find_data_dir() == tiny_dataset


def test_finder_uses_repo_folder_without_variable(tiny_dataset, tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    (repo / "data" / "cats_vs_dogs").symlink_to(tiny_dataset)
    (repo / "book").mkdir()
    monkeypatch.chdir(repo / "book")  # notebooks run from book/
    monkeypatch.delenv(settings.DATA_ENV, raising=False)
    assert data.find_data_dir(download=False) == repo / "data" / "cats_vs_dogs"


def test_finder_rejects_wrong_environment_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.DATA_ENV, str(tmp_path))
    with pytest.raises(data.DataNotFoundError, match="CONVLENS_DATA"):
        data.find_data_dir()


def test_offline_download_fails_fast_naming_the_variable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(settings.DATA_ENV, raising=False)
    start = time.perf_counter()
    with pytest.raises(data.DataNotFoundError, match="CONVLENS_DATA"):
        # A closed port on this machine: the same refusal an offline machine gives.
        archive.download_dataset(url="http://127.0.0.1:9/cats_and_dogs_filtered.zip", cache_dir=tmp_path, timeout=2)
    assert time.perf_counter() - start < 10
    assert not list(tmp_path.glob("*.zip*")), "no partial download may be left behind"


def test_a_kept_archive_that_fails_its_checksum_is_deleted(tmp_path):
    """A kept archive that does not match the given SHA-256 is fetched again; with no network it is dropped."""
    zip_path = tmp_path / "cats_and_dogs_filtered.zip"
    with zipfile.ZipFile(zip_path, "w") as zipped:
        zipped.writestr("cats_and_dogs_filtered/train/cats/cat.0.jpg", "not a photo")
    with pytest.raises(data.DataNotFoundError, match="Could not download.*CONVLENS_DATA"):
        archive.download_dataset(url=closed_port_url("a.zip"), cache_dir=tmp_path, sha256="0" * 64, timeout=2)
    assert not zip_path.exists()


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
        batch = images.load_image(path)
        assert batch.shape == (1, 150, 150, 3) and batch.dtype == np.float32
        assert 0.0 <= batch.min() and batch.max() <= 1.0
    gray_batch = images.load_image(gray)
    assert np.allclose(gray_batch[..., 0], gray_batch[..., 1]), "grey stays grey in all three channels"


def test_load_image_transparent_pixels_become_white():
    rgba = np.zeros((10, 10, 4), dtype=np.uint8)  # fully transparent black
    batch = images.load_image(rgba)
    assert np.allclose(batch, 1.0)


def test_load_image_arrays_and_their_errors():
    assert images.load_image(np.full((20, 30), 255, np.uint8)).shape == (1, 150, 150, 3)
    assert images.load_image(np.zeros((1, 150, 150, 3), np.float32)).shape == (1, 150, 150, 3)
    with pytest.raises(images.ImageLoadError, match="divide"):
        images.load_image(np.full((10, 10, 3), 200.0))
    with pytest.raises(images.ImageLoadError, match="shape"):
        images.load_image(np.zeros((10, 10, 2)))
    with pytest.raises(images.ImageLoadError, match="batch of 2"):
        images.load_image(np.zeros((2, 10, 10, 3)))


def test_load_image_rejects_non_images(tmp_path):
    text = tmp_path / "cat.jpg"
    text.write_text("meow")
    with pytest.raises(images.ImageLoadError, match="not a readable image"):
        images.load_image(text)
    with pytest.raises(images.ImageLoadError, match="No such image file"):
        images.load_image(tmp_path / "missing.jpg")


def test_load_image_refuses_huge_images(tmp_path, monkeypatch):
    path = write_photo(tmp_path / "big.png", 3, size=(400, 300), fmt="PNG")
    monkeypatch.setattr(images, "MAX_IMAGE_PIXELS", 100_000)
    with pytest.raises(images.ImageLoadError, match="shrink it"):
        images.load_image(path)


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




# Image input hardening (issue 11, items 7, 8 and 11): each of these failed before.


def gradient16(height=32, width=48) -> np.ndarray:
    return np.linspace(0, 65535, height * width).reshape(height, width).astype(np.uint16)


def test_16_bit_png_files_and_pil_modes_are_scaled_not_clipped(tmp_path):
    from PIL import Image

    pixels = gradient16()
    Image.fromarray(pixels).save(tmp_path / "deep.png")
    expected = (pixels >> 8).astype(np.float32) / 255.0  # the decoder keeps the top 8 bits
    loaded = images.load_image(tmp_path / "deep.png", target_size=pixels.shape)[0]
    assert np.allclose(loaded[..., 0], expected) and np.allclose(loaded[..., 2], expected)
    from_pil = images.load_image(Image.open(tmp_path / "deep.png"), target_size=pixels.shape)[0]
    assert Image.open(tmp_path / "deep.png").mode == "I;16"
    assert np.allclose(from_pil[..., 1], pixels / 65535.0, atol=1e-6)
    floats = Image.fromarray((pixels / 65535.0).astype(np.float32), mode="F")
    assert np.allclose(images.load_image(floats, target_size=pixels.shape)[0, ..., 0], pixels / 65535.0, atol=1e-6)
    with pytest.raises(images.ImageLoadError, match="divide"):
        images.load_image(Image.fromarray(pixels.astype(np.float32) / 257.0, mode="F"))  # 0-255 floats
    with pytest.raises(images.ImageLoadError, match="0..255"):
        images.load_image(Image.fromarray(pixels.astype(np.int32) * 8))  # mode I, out of range


def test_integer_arrays_by_dtype_and_masks_refused():
    pixels = gradient16()
    assert np.allclose(images.load_image(pixels, target_size=pixels.shape)[0, ..., 0], pixels / 65535.0, atol=1e-6)
    mask = np.zeros((20, 20), np.uint8)
    mask[5:15, 5:15] = 1
    for dtype in (np.uint8, np.int64, np.uint16):
        with pytest.raises(images.ImageLoadError, match="only 0s and 1s.*astype\\(bool\\)"):
            images.load_image(mask.astype(dtype))
    white_square = images.load_image(mask.astype(bool), target_size=(20, 20))[0]
    assert white_square[10, 10, 0] == 1.0 and white_square[0, 0, 0] == 0.0
    assert images.load_image(np.zeros((20, 20), np.uint8)).max() == 0.0, "all black is the same on every scale"
    with pytest.raises(images.ImageLoadError, match="0..255"):
        images.load_image(np.full((4, 4), 300, np.int32))


def test_a_tiff_named_jpg_is_skipped_at_listing_and_refused_clearly(tiny_dataset):
    from PIL import Image

    tiff = write_photo(tiny_dataset / "train" / "dogs" / "dog.9.jpg", seed=9, fmt="TIFF")
    assert Image.open(tiff).format == "TIFF"  # PIL reads it; the pipeline's decoder does not
    with pytest.warns(UserWarning, match="dog.9.jpg: not a readable image"):
        paths, _ = data.labelled_files("train", tiny_dataset)
    assert tiff not in paths
    with pytest.warns(UserWarning, match="dog.9.jpg"):
        batches = list(data.make_dataset("train", batch_size=8, data_dir=tiny_dataset))
    assert sum(len(y) for _, y in batches) == 6, "training never reaches the TIFF"
    with pytest.raises(images.ImageLoadError, match="dog.9.jpg is not a readable image.*PIL.Image.open"):
        images.load_image(tiff)
    assert images.load_image(Image.open(tiff)).shape == (1, 150, 150, 3)  # PIL's decoder, asked for by name
    assert data.count_images(tiny_dataset)["train"] == {"cats": 3, "dogs": 3}


def test_the_same_photo_gives_the_same_input_from_load_image_and_the_pipeline(tiny_dataset):
    from PIL import Image

    folder = tiny_dataset / "validation" / "cats"
    write_photo(folder / "cat.3.png", 3, size=(37, 91), mode="L", fmt="PNG")
    write_photo(folder / "cat.4.png", 4, size=(300, 200), mode="RGBA", fmt="PNG")
    arrays, labels, paths = data.load_split_arrays("validation", data_dir=tiny_dataset)
    pipeline = np.concatenate([x.numpy() for x, _ in data.make_dataset("validation", 4, data_dir=tiny_dataset)])
    assert len(paths) == 8 and np.array_equal(arrays, pipeline)
    for path, image in zip(paths, arrays, strict=True):
        assert np.array_equal(images.load_image(path)[0], image), path.name
    rgba = np.asarray(Image.open(folder / "cat.4.png"))
    assert rgba[..., 3].min() < 255, "the RGBA photo has transparency, composited over white both ways"


def test_bytes_and_file_objects_are_decoded_like_paths(tiny_dataset):
    path = tiny_dataset / "test" / "dogs" / "dog.2.jpg"
    expected = images.load_image(path)
    assert np.array_equal(images.load_image(path.read_bytes()), expected)
    with open(path, "rb") as stream:
        assert np.array_equal(images.load_image(stream), expected)
    with open(path, encoding="latin-1") as stream, pytest.raises(images.ImageLoadError, match="'rb'"):
        images.load_image(stream)
    with pytest.raises(images.ImageLoadError, match="the bytes given is not a readable image"):
        images.load_image(b"/not/a/path.jpg")


def test_a_split_with_folders_but_no_photos_is_a_clear_error(tmp_path):
    root = tmp_path / "empty"
    for split in ("train", "validation"):
        for name in data.CLASS_NAMES:
            (root / split / name).mkdir(parents=True)
    (root / "train" / "cats" / "broken.jpg").write_bytes(b"")
    assert data.count_images(root) == {"train": {"cats": 0, "dogs": 0}, "validation": {"cats": 0, "dogs": 0}}
    with pytest.warns(UserWarning), pytest.raises(data.DataNotFoundError, match="No readable photos in train"):
        data.make_dataset("train", data_dir=root)
    with pytest.raises(data.DataNotFoundError, match="No readable photos in validation"):
        data.load_split_arrays("validation", data_dir=root)


def test_empty_and_odd_arguments_give_clear_errors(tiny_dataset):
    for batch_size in (0, -1):
        with pytest.raises(ValueError, match="batch_size must be 1 or more"):
            data.make_dataset("train", batch_size=batch_size, data_dir=tiny_dataset)
    with pytest.raises(TypeError, match="batch_size must be a whole number"):
        data.make_dataset("train", batch_size=2.5, data_dir=tiny_dataset)
    with pytest.raises(ValueError, match="limit_per_class must be 1 or more"):
        data.load_split_arrays("train", limit_per_class=-1, data_dir=tiny_dataset)
    with pytest.raises(ValueError, match="per_class must be 0 or more"):
        data.sample_files("train", -2, data_dir=tiny_dataset)
    assert [p.name for p in data.sample_files("train", 1, data_dir=tiny_dataset)] == ["cat.0.jpg", "dog.0.jpg"]
    photo = tiny_dataset / "train" / "cats" / "cat.0.jpg"
    for size in ((0, 150), (150,), 150, (-1, 5), (1.5, 2)):
        with pytest.raises(errors.ConvlensError, match="target_size"):
            images.load_image(photo, target_size=size)
    assert images.load_image(photo, target_size=(1, 1)).shape == (1, 1, 1, 3)
    for empty in (np.zeros((0, 150, 150, 3)), np.zeros((0, 0)), np.zeros((10, 0, 3), np.uint8)):
        with pytest.raises(images.ImageLoadError, match="empty"):
            images.load_image(empty)
    with pytest.raises(images.ImageLoadError, match="non-empty batch"):
        images.resize_batch(np.zeros((0, 20, 20, 3), np.float32))
