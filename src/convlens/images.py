"""Turning one image (a file, its bytes, a PIL image or an array) into the model's input.

Pixel scaling is defined here and only here: the models of this book take RGB images
of 150 x 150 pixels with values in [0, 1] (``uint8`` values divided by 255), as in
Chollet's ``rescale=1./255``. Photo files are decoded by one decoder, :func:`decode_pixels`
(PIL, as browsers decode: accurate JPEG DCT, EXIF orientation applied), then resized by one
resize (:func:`resize_pixels`, TensorFlow's antialiased bilinear), for training
(:mod:`convlens.data`), for :func:`load_image` and, in the browser, for the live lab alike.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .checks import check_size
from .errors import ImageLoadError

__all__ = [
    "IMAGE_SIZE",
    "IMAGE_SUFFIXES",
    "MAX_IMAGE_PIXELS",
    "NUMERIC_MODES",
    "check_size",
    "decode_bytes",
    "decode_file",
    "decode_pixels",
    "image_files",
    "load_image",
    "readable",
    "resize_batch",
    "resize_pixels",
]

IMAGE_SIZE: tuple[int, int] = (150, 150)
"""Height and width of every model input in this book."""

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
DECODED_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "WEBP")
"""The file formats :func:`decode_pixels` reads (PIL's names): what browsers read too."""
MAX_IMAGE_PIXELS = 50_000_000
"""Images larger than this (about 7000 x 7000) are refused rather than decoded."""




def image_files(folder: str | os.PathLike) -> list[Path]:
    """Sorted image files (by suffix) directly inside ``folder``."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


_READABLE: dict[tuple[str, int, int], bool] = {}
"""Memo of :func:`readable` by (path, modification time, size): listing a split twice is cheap."""


def readable(path: Path) -> bool:
    """Whether the one decoder (:func:`decode_pixels`) can read the file ``path``.

    The same rule as the pipeline and :func:`load_image`, so that a file that passes here
    never stops a training run mid-epoch (a TIFF named ``.jpg`` is not one of
    :data:`DECODED_FORMATS`; a truncated JPEG does not decode).
    """
    try:
        stat = path.stat()
    except OSError:
        return False
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _READABLE:
        try:
            decode_pixels(path.read_bytes(), str(path))
            _READABLE[key] = True
        except (ImageLoadError, OSError):
            _READABLE[key] = False
    return _READABLE[key]


NUMERIC_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
"""PIL modes of one number per pixel (16-bit, 32-bit integer, float): read as arrays, by
the rules of :func:`_array_to_rgb`, not converted by PIL (which clips them to 0..255)."""


def _array_to_rgb(array: np.ndarray) -> np.ndarray:
    """An image array (HxW, HxWx1/3/4, or a batch of one) -> HxWx3 float32 in [0, 1].

    Values by dtype: ``bool`` is 0/1; ``uint8`` and other integer types are 0..255;
    ``uint16`` is 16-bit (0..65535); floats must already lie in [0, 1]. An integer array
    holding only 0s and 1s is refused: it is almost surely a mask, and dividing it by 255
    would silently give a black image (pass ``mask.astype(bool)`` for black and white).
    """
    array = np.asarray(array)
    if array.size == 0:
        raise ImageLoadError(f"The image array is empty (shape {array.shape}); pass an image of at least 1 x 1.")
    if array.ndim == 4:
        if array.shape[0] != 1:
            raise ImageLoadError(f"Expected one image, got a batch of {array.shape[0]}; pass images one at a time.")
        array = array[0]
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4):
        raise ImageLoadError(
            f"An image array must be HxW, HxWx1, HxWx3 or HxWx4; got shape {array.shape}."
        )
    if array.dtype == bool:
        values = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.integer):
        top = 65535 if array.dtype == np.uint16 else 255
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > top:
            raise ImageLoadError(
                f"Integer image values must lie in 0..{top} for dtype {array.dtype} (got {low}..{high}); "
                "pass uint8 (0-255), uint16 (0-65535), or floats in [0, 1]."
            )
        if high == 1:
            raise ImageLoadError(
                f"This {array.dtype} array holds only 0s and 1s: a mask, not a 0-{top} image? Pass "
                "mask.astype(bool) (1 becomes white) or a float array in [0, 1]."
            )
        values = array.astype(np.float32) / float(top)
    elif np.issubdtype(array.dtype, np.floating):
        values = array.astype(np.float32)
        if not np.all(np.isfinite(values)):
            raise ImageLoadError("The image array holds NaN or infinite values.")
        if values.min() < 0.0 or values.max() > 1.0:
            raise ImageLoadError(
                f"Float image values must lie in [0, 1] (got {values.min():.3g}..{values.max():.3g}); "
                "divide 0-255 values by 255, or pass a uint8 array."
            )
    else:
        raise ImageLoadError(f"Unsupported image dtype {array.dtype}.")
    if values.shape[-1] == 1:
        values = np.repeat(values, 3, axis=-1)
    elif values.shape[-1] == 4:
        alpha = values[..., 3:]
        values = values[..., :3] * alpha + (1.0 - alpha)
    return values


def load_image(source, target_size: Sequence[int] = IMAGE_SIZE) -> np.ndarray:
    """A (1, 150, 150, 3) float32 batch in [0, 1] from an image file, its bytes, a PIL image or an array.

    A file (a path, its bytes, or a binary file object) is decoded exactly as the training
    pipeline and the browser decode it (:func:`decode_pixels`: PIL, EXIF orientation applied),
    then resized (:func:`resize_pixels`: bilinear, antialiased, rounded to whole 0-255 values),
    so the same photo gives the same input everywhere. Grayscale becomes RGB, transparency is
    composited over white. A PIL image is taken as it is (no EXIF rotation: it may be rotated
    already) and arrays follow :func:`_array_to_rgb`'s rules (16-bit and float PIL modes
    included); both are resized without rounding. A file that is not an image raises
    :class:`ImageLoadError`.
    """
    from PIL import Image

    height, width = check_size(target_size)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if not path.is_file():
            raise ImageLoadError(f"No such image file: {path}.")
        return _decode_to_batch(path.read_bytes(), str(path), (height, width))
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _decode_to_batch(bytes(source), "the bytes given", (height, width))
    if hasattr(source, "read") and not isinstance(source, Image.Image):
        raw = source.read()
        if not isinstance(raw, bytes):
            raise ImageLoadError("The file object was opened in text mode; open it with open(path, 'rb').")
        return _decode_to_batch(raw, getattr(source, "name", "the file object"), (height, width))
    if isinstance(source, Image.Image):
        if source.mode in NUMERIC_MODES:
            values = _array_to_rgb(np.asarray(source))
        else:
            values = _rgb_pixels(source) / np.float32(255)
    else:
        values = _array_to_rgb(source)
    return resize_batch(values[None], (height, width))


def _decode_to_batch(raw: bytes, name: str, size: tuple[int, int]) -> np.ndarray:
    """Encoded image bytes -> (1, H, W, 3) float32 in [0, 1], by the pipeline's rule."""
    import tensorflow as tf

    image = resize_pixels(tf, tf.constant(decode_pixels(raw, name)), size)
    return (image.numpy().astype(np.float32) / 255.0)[None]


def _check_pixels(width: int, height: int, name: str) -> None:
    """Refuse an image over :data:`MAX_IMAGE_PIXELS` from its header, before decoding it."""
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageLoadError(
            f"{name} is {width} x {height} pixels, more than this book's limit of {MAX_IMAGE_PIXELS:,}; "
            "shrink it first."
        )


def resize_batch(images: np.ndarray, target_size: Sequence[int] = IMAGE_SIZE) -> np.ndarray:
    """Resize a batch of HxWx3 float images in [0, 1] to ``target_size`` (float32)."""
    import tensorflow as tf

    height, width = check_size(target_size)
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or 0 in images.shape:
        raise ImageLoadError(
            f"resize_batch takes a non-empty batch of shape (N, H, W, 3); got shape {images.shape}."
        )
    if images.shape[1:3] == (height, width):
        return images.astype(np.float32)
    resized = tf.image.resize(images, (height, width), antialias=True).numpy()
    return np.clip(resized, 0.0, 1.0).astype(np.float32)


def decode_pixels(raw: bytes, name: str = "the bytes given") -> np.ndarray:
    """The one decoder of photo files: encoded bytes -> (H, W, 3) float32 values in 0..255.

    PIL decodes as browsers do (checked on the validation photos: Chromium's pixels are PIL's,
    exactly): JPEG with the accurate DCT (PIL's default; TensorFlow's default, the fast integer
    DCT, differs by up to a few levels), PNG, GIF and WebP (their first frame) and BMP
    (:data:`DECODED_FORMATS`); the EXIF orientation is applied, as browsers show the photo. Grey
    becomes RGB; a 16-bit PNG keeps its top 8 bits; transparency is composited over white in
    float32 (as the live lab does). Size is checked from the header first (:data:`MAX_IMAGE_PIXELS`).
    """
    import io
    import warnings

    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit speaks below
            with Image.open(io.BytesIO(raw), formats=DECODED_FORMATS) as image:
                _check_pixels(*image.size, name)
                image.load()
                try:
                    upright = ImageOps.exif_transpose(image)
                except Exception:  # noqa: BLE001 - a broken EXIF block: browsers ignore it, and so do we
                    upright = image
                return _rgb_pixels(upright)
    except ImageLoadError:
        raise
    except Image.DecompressionBombError as exc:  # over PIL's own limit, far over ours: refused, not decoded
        raise ImageLoadError(
            f"{name} is larger than PIL will open ({exc}), far more than this book's limit of "
            f"{MAX_IMAGE_PIXELS:,} pixels; shrink it first."
        ) from None
    except Exception as exc:  # noqa: BLE001 - PIL raises several kinds for a bad file; each is this one error
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[-1][:160]
        raise ImageLoadError(
            f"{name} is not a readable image ({reason}); this book decodes JPEG, PNG, GIF, BMP and WebP "
            "(as browsers do): convert it, or pass PIL.Image.open(path) to load another format PIL reads."
        ) from None


def _rgb_pixels(image) -> np.ndarray:
    """A decoded PIL image -> (H, W, 3) float32 in 0..255 (grey to RGB, 16 bits to 8, alpha over white)."""
    if image.mode in NUMERIC_MODES:  # a 16-bit grey PNG: its top 8 bits, as browsers show it
        grey = (np.asarray(image).astype(np.int64) >> 8).clip(0, 255).astype(np.float32)
        return np.repeat(grey[..., None], 3, axis=-1)
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32)
        alpha = rgba[..., 3:] / np.float32(255)
        return rgba[..., :3] * alpha + np.float32(255) * (np.float32(1) - alpha)
    return np.asarray(image.convert("RGB"), dtype=np.float32)


def resize_pixels(tf, image, size: Sequence[int] = IMAGE_SIZE):
    """The one resize of decoded photos: (H, W, 3) 0..255 -> ``size``, antialiased bilinear, ``uint8``.

    ``tf.image.resize(..., antialias=True)`` (a triangle kernel that widens when shrinking), rounded
    half to even: the live lab ports exactly this.
    """
    image = tf.image.resize(image, tuple(size), antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


def decode_file(tf, path):
    """Decode and resize one file the way the training pipeline does (uint8, 150 x 150)."""
    return decode_bytes(tf, tf.io.read_file(path), IMAGE_SIZE)


def decode_bytes(tf, raw, size: Sequence[int] = IMAGE_SIZE):
    """:func:`decode_pixels` then :func:`resize_pixels` inside a ``tf.data`` pipeline (``raw``: a string tensor).

    The decoding runs in Python (``tf.numpy_function``); PIL releases the GIL while it decodes,
    so the pipeline's parallel calls still decode several photos at once.
    """
    image = tf.numpy_function(lambda data: decode_pixels(bytes(data)), [raw], tf.float32, stateful=False)
    image.set_shape([None, None, 3])
    return resize_pixels(tf, image, size)
