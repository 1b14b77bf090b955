"""What a layer's feature maps keep of the photo: a linear read-out of its pixels, and its edges.

Arrays in, numbers out; nothing here draws. Each layer's maps are aligned to the input pixels
(:func:`maps_at_pixels`, by the layer's cumulative stride); then

* :func:`reconstruction_r2`: the R^2 of a linear read-out of the photo's colours from the maps;
* :func:`edge_correlations`: the correlation of each channel with grey level and the horizontal
  and vertical edge maps (the references the lecture's figures name);
* :func:`edge_profile`: each channel's best correlation with edges at :data:`EDGE_ORIENTATIONS`
  orientations, both polarities, in grey and in two colour-opponent planes, and with the planes
  themselves: whether a first-layer channel is an edge detector of any orientation or colour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..activations import get_activations
from ..checks import as_batch, batch_slices, check_int
from ..errors import LayerSelectionError
from ..layers import conv_and_pooling_layer_names, select_layers

if TYPE_CHECKING:
    import keras

__all__ = [
    "EDGE_KINDS",
    "cumulative_stride",
    "edge_correlations",
    "edge_map",
    "edge_maps",
    "edge_profile",
    "EDGE_ORIENTATIONS",
    "PLANES",
    "planes",
    "maps_at_pixels",
    "reconstruction_r2",
]


def cumulative_stride(model: keras.Model, layer_name: str) -> int:
    """Input pixels per feature-map cell at ``layer_name``: the product of the strides up to it.

    Assumes a chain of layers (as in this book's convnet and VGG16).
    """
    stride = 1
    for layer in model.layers:
        strides = getattr(layer, "strides", None)
        if strides is not None:
            stride *= int(np.atleast_1d(strides)[0])
        if layer.name == layer_name:
            return stride
    valid = ", ".join(layer.name for layer in model.layers)
    raise LayerSelectionError(f"No layer named {layer_name!r}; valid names: {valid}.")


def maps_at_pixels(maps: np.ndarray, image_size: int, stride: int, pixel_step: int = 1) -> np.ndarray:
    """Feature maps (N, h, w, C) interpolated at the input pixels: (N, P, P, C).

    ``P = ceil(image_size / pixel_step)``: every ``pixel_step``-th pixel row and column
    (1: every pixel).

    Cell ``i`` of a map with cumulative stride ``s`` is centred on input pixel
    ``o + s * i``, where ``o`` centres the map on the image (valid convolutions and pooling
    shrink it evenly on both sides); between centres the maps are interpolated bilinearly,
    beyond them held constant. This aligns every layer with the photo for the measurements below.
    """
    maps = np.asarray(maps, dtype=np.float32)
    out = maps

    def along(values: np.ndarray, axis: int) -> np.ndarray:
        size = values.shape[axis]
        offset = (image_size - 1 - stride * (size - 1)) / 2.0
        pixels = np.arange(0, image_size, pixel_step)
        coords = np.clip((pixels - offset) / stride, 0, size - 1)
        low = np.floor(coords).astype(int)
        high = np.minimum(low + 1, size - 1)
        weight = (coords - low).astype(np.float32)
        shape = [1] * values.ndim
        shape[axis] = len(pixels)
        weight = weight.reshape(shape)
        return np.take(values, low, axis=axis) * (1 - weight) + np.take(values, high, axis=axis) * weight

    out = along(out, 1)
    return along(out, 2)


def _with_bias(aligned: np.ndarray) -> np.ndarray:
    """(H, W, C) aligned maps -> (H * W, C + 1) float32 design rows (last column: 1)."""
    rows = aligned.reshape(-1, aligned.shape[-1]).astype(np.float32)
    return np.hstack([rows, np.ones((len(rows), 1), dtype=np.float32)])


def reconstruction_r2(
    model: keras.Model,
    train_images: np.ndarray,
    test_images: np.ndarray,
    layers=None,
    l2: float = 1e-3,
    batch_size: int = 8,
    pixel_step: int = 1,
) -> dict[str, float]:
    """How much of the photo each layer keeps: R^2 of a linear read-out of the RGB pixels.

    For every input pixel the chosen layer's maps are aligned to it (:func:`maps_at_pixels`),
    a ridge regression from the channel values (plus a bias) to the pixel's colour is fitted
    on ``train_images`` and scored on ``test_images`` (1 = photo recovered exactly, 0 = no
    better than the mean colour of the test photos). A lower bound on the information kept:
    the read-out is linear and per pixel. Fitted from running sums, one batch at a time;
    ``pixel_step > 1`` uses every ``pixel_step``-th pixel row and column only (faster).
    """
    train_images = as_batch(train_images, model, what="train_images")
    test_images = as_batch(test_images, model, what="test_images")
    pixel_step = check_int("pixel_step", pixel_step, 1)
    size = train_images.shape[1]
    names = [layer.name for layer in select_layers(model, layers)]
    strides = {name: cumulative_stride(model, name) for name in names}

    def aligned_batches(images):
        for part in batch_slices(len(images), batch_size):
            batch = images[part]
            acts = get_activations(model, batch, names, batch_size=batch_size)
            for i, image in enumerate(batch):
                aligned = {
                    name: maps_at_pixels(acts[name][i : i + 1], size, strides[name], pixel_step)[0] for name in names
                }
                yield image[::pixel_step, ::pixel_step], aligned

    sums = {name: None for name in names}
    for image, aligned in aligned_batches(train_images):
        target = image.reshape(-1, image.shape[-1]).astype(np.float32)
        for name in names:
            x = _with_bias(aligned[name])
            xtx, xty = (x.T @ x).astype(np.float64), (x.T @ target).astype(np.float64)  # sums kept in float64
            sums[name] = (xtx, xty) if sums[name] is None else (sums[name][0] + xtx, sums[name][1] + xty)
    weights = {}
    for name in names:
        xtx, xty = sums[name]
        penalty = l2 * np.trace(xtx) / len(xtx) * np.eye(len(xtx))
        penalty[-1, -1] = 0.0  # no penalty on the bias
        weights[name] = np.linalg.solve(xtx + penalty, xty)
    sse = dict.fromkeys(names, 0.0)
    targets = []
    for image, aligned in aligned_batches(test_images):
        target = image.reshape(-1, image.shape[-1]).astype(np.float64)
        targets.append(target)
        for name in names:
            sse[name] += float(((_with_bias(aligned[name]).astype(np.float64) @ weights[name] - target) ** 2).sum())
    stacked = np.concatenate(targets)
    sst = float(((stacked - stacked.mean(axis=0)) ** 2).sum())
    return {name: 1.0 - sse[name] / sst for name in names}


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's r of two maps (``np.corrcoef``); 0 where either map is constant (it has no r)."""
    a, b = a.ravel(), b.ravel()
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


EDGE_KINDS: tuple[str, ...] = ("intensity", "horizontal edges", "vertical edges")
"""The references of :func:`edge_correlations`: grey level and the two edge orientations."""


def edge_maps(image: np.ndarray) -> dict[str, np.ndarray]:
    """Grey level and one-sided Sobel edge maps of one RGB image (H, W, 3) in [0, 1].

    A horizontal edge is a change of brightness from one row to the next, found by the
    vertical derivative; a ReLU unit can only respond to one sign of it, so each orientation
    comes in two polarities: ``"horizontal edges, lighter below"`` / ``"..., lighter above"``,
    ``"vertical edges, lighter right"`` / ``"..., lighter left"``.
    """
    from scipy import ndimage

    grey = np.asarray(image, dtype=np.float64) @ np.array([0.299, 0.587, 0.114])
    down = ndimage.sobel(grey, axis=0)
    right = ndimage.sobel(grey, axis=1)
    return {
        "intensity": grey,
        "horizontal edges, lighter below": np.maximum(down, 0),
        "horizontal edges, lighter above": np.maximum(-down, 0),
        "vertical edges, lighter right": np.maximum(right, 0),
        "vertical edges, lighter left": np.maximum(-right, 0),
    }


def edge_map(image: np.ndarray, kind: str, polarity: int) -> np.ndarray:
    """One reference of :func:`edge_maps`: ``kind`` in :data:`EDGE_KINDS`, ``polarity`` 0 or 1."""
    maps = edge_maps(image)
    matching = [key for key in maps if key.startswith(kind)]
    return maps[matching[min(polarity, len(matching) - 1)]]


def _aligned_maps(model: keras.Model, images: np.ndarray, layer: str | int | None):
    """Each image's maps of ``layer`` (default: the first convolution), aligned to its pixels (H, W, C)."""
    if layer is None:
        layer = conv_and_pooling_layer_names(model)[0]
    (chosen,) = select_layers(model, [layer])
    stride = cumulative_stride(model, chosen.name)
    for maps in get_activations(model, images, [chosen.name])[chosen.name]:
        yield maps_at_pixels(maps[None], images.shape[1], stride)[0]


def edge_correlations(
    model: keras.Model, images: np.ndarray, layer: str | int | None = None
) -> dict[str, np.ndarray]:
    """Pearson correlation of each channel of ``layer`` with grey level and edge maps.

    Maps are aligned to the pixels (:func:`maps_at_pixels`) and correlations with every map
    of :func:`edge_maps` are computed per image, then averaged over ``images``. Returns those
    (C,) arrays, plus, for each of :data:`EDGE_KINDS`, the better of its polarities
    (``"horizontal edges"``, ``"vertical edges"``) and which one it was
    (``"horizontal edges polarity"``: 0 or 1). Default layer: the first convolution.
    """
    images = as_batch(images, model)
    totals: dict[str, np.ndarray] | None = None
    for image, maps in zip(images, _aligned_maps(model, images, layer), strict=True):
        row = {
            key: np.array([_pearson(maps[:, :, c], reference) for c in range(maps.shape[-1])])
            for key, reference in edge_maps(image).items()
        }
        totals = row if totals is None else {key: totals[key] + row[key] for key in row}
    assert totals is not None
    result = {key: value / len(images) for key, value in totals.items()}
    for kind in EDGE_KINDS[1:]:
        pair = np.stack([value for key, value in result.items() if key.startswith(kind)])
        result[kind] = pair.max(axis=0)
        result[kind + " polarity"] = pair.argmax(axis=0)
    return result


EDGE_ORIENTATIONS = 8
"""Edge orientations of :func:`edge_profile`, evenly over 180 degrees (each in both polarities)."""

PLANES: tuple[str, ...] = ("grey", "red-green", "blue-yellow")
"""The planes of :func:`planes`: grey level and the two colour-opponent planes."""


def planes(image: np.ndarray) -> np.ndarray:
    """Grey level, red minus green, and blue minus yellow of one RGB image: (H, W, 3) float64.

    Colour edges (a red fur against green grass of the same brightness) show in the opponent
    planes and not in the grey level; :data:`PLANES` names them.
    """
    rgb = np.asarray(image, dtype=np.float64)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    grey = rgb @ np.array([0.299, 0.587, 0.114])
    return np.stack([grey, red - green, blue - (red + green) / 2], axis=-1)


def _directions(orientations: int) -> np.ndarray:
    """Degrees of the one-sided edge directions: ``orientations`` over 180, times two polarities."""
    return np.arange(2 * orientations) * (180.0 / orientations)


def _edge_references(image: np.ndarray, orientations: int) -> np.ndarray:
    """One-sided directional derivatives (Sobel) of every plane: (H * W, planes * directions).

    Column ``p * D + d`` is plane ``p`` differentiated along direction ``d`` of
    :func:`_directions` (0 degrees: lighter to the right; 90: lighter below), negative parts cut.
    """
    from scipy import ndimage

    planar = planes(image)
    angles = np.deg2rad(_directions(orientations))
    columns = []
    for p in range(planar.shape[-1]):
        along_x = ndimage.sobel(planar[..., p], axis=1)
        along_y = ndimage.sobel(planar[..., p], axis=0)
        for angle in angles:
            columns.append(np.maximum(np.cos(angle) * along_x + np.sin(angle) * along_y, 0).ravel())
    return np.stack(columns, axis=1)


def _correlations(maps: np.ndarray, references: np.ndarray) -> np.ndarray:
    """Pearson correlations (C, R) between the columns of maps (P, C) and references (P, R); 0 if flat."""

    def standardized(x: np.ndarray) -> np.ndarray:
        x = x - x.mean(axis=0)
        norm = np.sqrt((x * x).sum(axis=0))
        return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)

    return standardized(maps.astype(np.float64)).T @ standardized(references)


def edge_profile(
    model: keras.Model, images: np.ndarray, layer: str | int | None = None, orientations: int = EDGE_ORIENTATIONS
) -> dict[str, np.ndarray]:
    """How each channel of ``layer`` follows the photos' edges and colour planes.

    Correlations of each channel's map (aligned to the pixels) with every reference are
    averaged over ``images``; then, per channel (arrays of shape (C,)):

    * ``"edge"``: the best correlation with an edge map, over ``orientations`` orientations in
      both polarities and the three :data:`PLANES`; ``"edge direction"`` its direction in
      degrees (0: lighter to the right, 90: lighter below), ``"edge plane"`` its plane's index;
    * ``"plane"``: the best correlation with a plane itself or its negative (a channel that
      measures brightness or a colour), ``"plane index"`` which one.
    """
    orientations = check_int("orientations", orientations, 2)
    images = as_batch(images, model)
    edges = plain = 0.0
    for image, maps in zip(images, _aligned_maps(model, images, layer), strict=True):
        aligned = maps.reshape(-1, maps.shape[-1])
        edges = edges + _correlations(aligned, _edge_references(image, orientations))
        plain = plain + _correlations(aligned, planes(image).reshape(-1, len(PLANES)))
    edges, plain = edges / len(images), plain / len(images)
    directions = _directions(orientations)
    best_edge = edges.argmax(axis=1)
    signed = np.concatenate([plain, -plain], axis=1)
    return {
        "edge": edges.max(axis=1),
        "edge direction": directions[best_edge % len(directions)],
        "edge plane": best_edge // len(directions),
        "plane": signed.max(axis=1),
        "plane index": signed.argmax(axis=1) % len(PLANES),
    }
