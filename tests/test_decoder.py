"""The one decoder of photo files (issue 26): PIL as browsers decode, then TensorFlow's resize.

A photo must give the same pixels in ``load_image``, in the training pipeline and in the live
lab (the browser decodes there: tests/test_lab_jpeg.py). So JPEGs are decoded with the accurate
DCT (not TensorFlow's fast default), the EXIF orientation is applied (a phone photo stands
upright, as a browser shows it), and every path resizes with the same antialiased bilinear
resize. The photos are written here: a smooth scene (a JPEG of random pixels is mostly noise)
with an EXIF Orientation tag, a progressive JPEG, an animated GIF.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from convlens import data, images
from convlens.errors import ImageLoadError

ORIENTATION = 0x0112
"""The EXIF tag: 6 is "rotate 90 degrees clockwise to show", 8 is "rotate 90 degrees counter-clockwise"."""
TURNS = {6: -1, 8: 1}
"""np.rot90's k that shows a photo stored with that orientation upright."""


def scene(width: int = 120, height: int = 80, seed: int = 0) -> np.ndarray:
    """A smooth colour scene with an asymmetric shape, so that every rotation looks different."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    pixels = np.stack([255 * x / width, 255 * y / height, 128 + 30 * np.sin(x / 7 + y / 11)], axis=-1)
    pixels[: height // 3, : width // 4] = (20, 20, 250)  # a blue block in the top-left corner only
    pixels += rng.normal(0, 6, pixels.shape)
    return np.clip(pixels, 0, 255).astype(np.uint8)


def jpeg(pixels: np.ndarray, orientation: int | None = None, **options) -> bytes:
    stream = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    Image.fromarray(pixels).save(stream, format="JPEG", quality=90, exif=exif.tobytes(), **options)
    return stream.getvalue()


def accurate(raw: bytes) -> np.ndarray:
    """PIL's own decoding (accurate DCT), no rotation: what the file stores."""
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))


def resized(pixels: np.ndarray, size=images.IMAGE_SIZE) -> np.ndarray:
    """TensorFlow's antialiased bilinear resize of 0-255 pixels, rounded, in [0, 1] (the loader's resize)."""
    out = tf.image.resize(pixels.astype(np.float32), size, antialias=True)
    return (np.clip(np.round(out.numpy()), 0, 255) / 255).astype(np.float32)


@pytest.mark.parametrize("orientation", [6, 8])
def test_an_exif_rotated_jpeg_loads_upright(tmp_path, orientation):
    raw = jpeg(scene(), orientation)
    path = tmp_path / f"phone-{orientation}.jpg"
    path.write_bytes(raw)
    stored = accurate(raw)  # 80 x 120, as the camera wrote it
    upright = np.rot90(stored, TURNS[orientation])  # 120 x 80, as a browser shows it
    assert stored.shape == (80, 120, 3) and upright.shape == (120, 80, 3)
    assert np.array_equal(images.decode_pixels(raw), upright.astype(np.float32))
    loaded = images.load_image(path, target_size=(120, 80))[0]
    assert np.array_equal(loaded, upright.astype(np.float32) / np.float32(255))
    assert np.array_equal(images.load_image(path)[0], resized(upright))
    blue = loaded[..., 2] > 0.85
    corner = {6: (slice(None, 25), slice(-22, None)), 8: (slice(-25, None), slice(None, 22))}[orientation]
    assert blue[corner].mean() > 0.9 > 0.2 > blue.mean(), "the top-left blue block went where the rotation puts it"


def test_a_progressive_jpeg_loads_as_the_baseline_one(tmp_path):
    pixels = scene(300, 200, seed=1)
    baseline, progressive = jpeg(pixels), jpeg(pixels, progressive=True)
    assert baseline != progressive
    kinds = [Image.open(io.BytesIO(raw)).info.get("progressive", 0) for raw in (baseline, progressive)]
    assert kinds == [0, 1], kinds
    (tmp_path / "baseline.jpg").write_bytes(baseline)
    (tmp_path / "progressive.jpg").write_bytes(progressive)
    one, other = (images.load_image(tmp_path / name)[0] for name in ("baseline.jpg", "progressive.jpg"))
    assert np.abs(one - other).max() <= 1 / 255, "the same quantized coefficients, in another order"
    assert np.abs(one - resized(pixels)).mean() < 3 / 255, "and both are the photo, within JPEG noise"


def test_load_image_of_a_jpeg_is_pils_accurate_decoding_resized(tmp_path):
    raw = jpeg(scene(400, 300, seed=2))
    (tmp_path / "scene.jpg").write_bytes(raw)
    assert np.array_equal(images.load_image(tmp_path / "scene.jpg")[0], resized(accurate(raw)))
    fast = tf.io.decode_jpeg(raw).numpy()  # TensorFlow's default, the loader's before: the fast integer DCT
    assert np.abs(fast.astype(int) - accurate(raw)).max() > 0, "the two DCTs differ: the check above can fail"


def test_validation_photos_load_as_pil_decodes_them(real_data_dir):
    for path in sorted((real_data_dir / "validation" / "dogs").glob("*.jpg"))[:5]:
        assert np.array_equal(images.load_image(path)[0], resized(accurate(path.read_bytes()))), path.name


def test_the_training_pipeline_decodes_as_load_image(tiny_dataset):
    folder = tiny_dataset / "validation" / "dogs"
    (folder / "dog.3.jpg").write_bytes(jpeg(scene(200, 150, seed=3), orientation=6))
    (folder / "dog.4.jpg").write_bytes(jpeg(scene(180, 260, seed=4), progressive=True))
    frames = [Image.fromarray(scene(90, 70, seed=5 + k)).convert("P") for k in range(3)]
    frames[0].save(folder / "dog.5.gif", save_all=True, append_images=frames[1:], duration=100)
    arrays, labels, paths = data.load_split_arrays("validation", data_dir=tiny_dataset)
    pipeline = np.concatenate([x.numpy() for x, _ in data.make_dataset("validation", 4, data_dir=tiny_dataset)])
    held = data.decode_all(paths).astype(np.float32) / np.float32(255)
    assert len(paths) == 9 and np.array_equal(arrays, pipeline) and np.array_equal(arrays, held)
    for path, image in zip(paths, arrays, strict=True):
        assert np.array_equal(images.load_image(path)[0], image), path.name
    rotated = paths.index(folder / "dog.3.jpg")
    assert np.array_equal(arrays[rotated], resized(np.rot90(accurate((folder / "dog.3.jpg").read_bytes()), -1)))
    gif = paths.index(folder / "dog.5.gif")
    first = resized(np.asarray(frames[0].convert("RGB")))
    assert np.array_equal(arrays[gif], first), "an animated GIF: its first frame"


def test_transparency_is_composited_over_white_in_every_format(tmp_path):
    pixels = np.zeros((20, 30, 4), np.uint8)
    pixels[..., 0] = 200
    pixels[:, 15:, 3] = 255  # left half transparent, right half opaque red
    Image.fromarray(pixels).save(tmp_path / "half.png")
    Image.fromarray(pixels).save(tmp_path / "half.webp", lossless=True)
    palette = Image.fromarray(pixels[..., :3]).convert("P")
    palette.info["transparency"] = palette.getpixel((0, 0))
    palette.paste(palette.getpixel((0, 0)), (0, 0, 30, 20))
    palette.save(tmp_path / "clear.gif", transparency=palette.getpixel((0, 0)))
    for name in ("half.png", "half.webp"):
        decoded = images.decode_pixels((tmp_path / name).read_bytes())
        assert np.all(decoded[:, :15] == 255) and np.all(decoded[:, 15:] == (200, 0, 0)), name
    assert np.all(images.decode_pixels((tmp_path / "clear.gif").read_bytes()) == 255)


def test_bad_files_are_refused_clearly(tmp_path):
    raw = jpeg(scene(), orientation=6)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(raw[: len(raw) // 2])
    tiff = tmp_path / "tiff.jpg"
    Image.fromarray(scene()).save(tiff, format="TIFF")
    for path in (cut, tiff):
        with pytest.raises(ImageLoadError, match=f"{path.name} is not a readable image.*JPEG, PNG, GIF, BMP and WebP"):
            images.load_image(path)
        assert not images.readable(Path(path))
    with pytest.raises(ImageLoadError, match="the bytes given is not a readable image"):
        images.decode_pixels(b"GIF89a and then nothing")
