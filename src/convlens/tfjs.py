"""The trained convnets for the book's live lab (TensorFlow.js): weights manifests and layer lists.

The ``tensorflowjs`` pip converter cannot be installed beside this book's lock (it pulls
TensorFlow 2.19, ``tf_keras``, JAX and more), so this module writes TensorFlow.js's documented
weights format itself: for each variant a ``model.json`` whose ``weightsManifest`` is the format
``tf.io.loadWeights`` reads (one group of float32 weights, concatenated and cut into shards of
:data:`SHARD_BYTES`), and whose ``convlensLayers`` is the layer list read from the Keras model
itself (names, types, kernel and pool sizes, strides, padding, activations, output shapes, weight
names). The browser builds the graph from that list with TensorFlow.js ops (``lab/net.js``),
so there is no second, hand-written copy of the architecture.

``lab.json`` gives the browser the book's settings from the modules that define them: the
input size (:mod:`convlens.images`), the lecture's ascent (:mod:`convlens.filters`), Grad-CAM's
layer (:mod:`convlens.gradcam`) and the activation layers (:mod:`convlens.activations`), plus a
few sample photos decoded by the book's loader. Every file is written atomically
(:func:`convlens.files.atomic_path`). Command line: ``python -m convlens.tfjs --out _build/lab``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ArgumentError
from .files import atomic_path, file_sha256, write_text_atomic

if TYPE_CHECKING:
    import keras

__all__ = [
    "COLORMAPS", "LAB_FORMAT", "MIN_IMAGE_SIDE", "OVERLAY_ALPHA", "SAMPLES_PER_CLASS", "SHARD_BYTES",
    "SUPPORTED_ACTIVATIONS", "SUPPORTED_LAYERS", "VARIANT_TITLES", "export_lab", "export_model",
    "lab_settings", "layer_list", "main", "SAMPLES_LIST", "sample_list", "variant_names",
    "weights_manifest", "write_samples",
]

LAB_FORMAT = "convlens-lab/1"
"""The version of the files this module writes (``model.json`` and ``lab.json``)."""

SHARD_BYTES = 4 * 1024 * 1024
"""Largest weight shard (bytes), as the ``tensorflowjs`` converter cuts them by default."""

SUPPORTED_LAYERS = ("InputLayer", "Conv2D", "MaxPooling2D", "Flatten", "Dropout", "Dense")
"""The Keras layer classes the lab's graph builder knows."""

SUPPORTED_ACTIVATIONS = ("linear", "relu", "sigmoid")
"""The activation functions the lab's graph builder knows."""

VARIANT_TITLES = {"baseline": "Baseline model", "dataaug": "DataAug model", "full": "Full model"}
"""The names the lab shows for the trained variants (the lecture's)."""

MIN_IMAGE_SIDE = 16
"""The lab refuses photos with a side shorter than this (pixels): nothing to see in them."""

SAMPLES_PER_CLASS = 3
"""Sample photos per class offered by the lab (the first of each class in :data:`SAMPLES_LIST`)."""

OVERLAY_ALPHA = 0.4
"""Opacity of the lab's Grad-CAM heatmap (jet) over the photo: constant, so photo and heat both show."""

COLORMAPS = ("viridis", "jet")
"""Matplotlib colour maps the lab draws with (256 entries each, in ``lab.json``): activations, Grad-CAM."""


def variant_names() -> tuple[str, ...]:
    """The trained variants' names, from the package's one table of them."""
    from .settings import VARIANTS

    return tuple(VARIANTS)


def _pair(value: Any) -> list[int]:
    return [int(v) for v in (value if isinstance(value, (tuple, list)) else (value, value))]


def _activation_name(layer) -> str:
    name = getattr(getattr(layer, "activation", None), "__name__", "linear")
    if name not in SUPPORTED_ACTIVATIONS:
        raise ArgumentError(
            f"Layer {layer.name!r} uses activation {name!r}; the lab knows {', '.join(SUPPORTED_ACTIVATIONS)}."
        )
    return name


def _describe(layer) -> dict[str, Any]:
    """One entry of the layer list: what the browser needs to rebuild ``layer`` with tfjs ops."""
    kind = type(layer).__name__
    if kind not in SUPPORTED_LAYERS:
        raise ArgumentError(
            f"Layer {layer.name!r} is a {kind}; the lab's graph builder knows {', '.join(SUPPORTED_LAYERS)}."
        )
    config = layer.get_config()
    entry: dict[str, Any] = {"name": layer.name, "type": kind, "weights": [w.path for w in layer.weights]}
    entry["outputShape"] = [None if d is None else int(d) for d in layer.output.shape[1:]]
    if config.get("data_format", "channels_last") != "channels_last":
        raise ArgumentError(f"Layer {layer.name!r} is channels_first; the lab takes channels_last models.")
    if kind == "Conv2D":
        if _pair(config["dilation_rate"]) != [1, 1] or config.get("groups", 1) != 1:
            raise ArgumentError(f"Layer {layer.name!r}: the lab knows undilated, ungrouped convolutions only.")
        entry.update(filters=int(config["filters"]), kernelSize=_pair(config["kernel_size"]),
                     strides=_pair(config["strides"]), padding=config["padding"],
                     activation=_activation_name(layer), useBias=bool(config["use_bias"]))
    elif kind == "MaxPooling2D":
        pool, strides = _pair(config["pool_size"]), _pair(config["strides"] or config["pool_size"])
        if pool != strides or config["padding"] != "valid":
            raise ArgumentError(
                f"Layer {layer.name!r}: the lab reproduces TensorFlow's max-pool gradient for non-overlapping "
                f"windows only (strides equal to the pool size, padding 'valid'); got pool {pool}, strides {strides}, "
                f"padding {config['padding']!r}."
            )
        entry.update(poolSize=pool, strides=strides, padding="valid")
    elif kind == "Dense":
        entry.update(units=int(config["units"]), activation=_activation_name(layer), useBias=bool(config["use_bias"]))
    elif kind == "Dropout":
        entry.update(rate=float(config["rate"]))  # identity at inference
    return entry


def layer_list(model: keras.Model) -> list[dict[str, Any]]:
    """The model's layers in order, as read from Keras: the browser's recipe for the graph.

    A chain model of :data:`SUPPORTED_LAYERS` only (each layer fed by the one before); anything
    else raises :class:`~convlens.errors.ArgumentError` naming the layer.
    """
    layers = [_describe(layer) for layer in model.layers]
    if not layers or layers[0]["type"] != "InputLayer":
        raise ArgumentError(f"Model {model.name!r} must start with its Input layer (a functional chain model).")
    for previous, layer in zip(model.layers, model.layers[1:], strict=False):
        if layer.input is not previous.output:
            raise ArgumentError(f"Layer {layer.name!r} is not fed by {previous.name!r}: the lab takes chain models.")
    return layers


def weights_manifest(model: keras.Model, prefix: str) -> tuple[dict[str, Any], bytes]:
    """One ``weightsManifest`` group (shard paths named ``prefix.group1-shardNofM.bin``) and its bytes.

    The weights are concatenated in the model's order as little-endian float32, as
    ``tf.io.loadWeights`` expects; the paths are relative to ``model.json``.
    """
    specs, parts = [], []
    for weight in model.weights:
        values = np.asarray(weight.numpy(), dtype="<f4")
        specs.append({"name": weight.path, "shape": [int(d) for d in values.shape], "dtype": "float32"})
        parts.append(values.tobytes())
    data = b"".join(parts)
    count = max(1, -(-len(data) // SHARD_BYTES))
    paths = [f"{prefix}.group1-shard{i}of{count}.bin" for i in range(1, count + 1)]
    return {"paths": paths, "weights": specs}, data


def export_model(model: keras.Model, folder: str | os.PathLike, variant: str, source: Path | None = None) -> dict:
    """Write ``folder/model.json`` and its shards for ``model``; returns the variant's entry of ``lab.json``.

    Shard names carry the first 12 hex digits of the weights' SHA-256, so that a browser never
    mixes a cached old shard with new weights.
    """
    import keras

    folder = Path(folder)
    digest = file_sha256(source) if source is not None else None
    tag = (digest or "nosource")[:12]
    group, data = weights_manifest(model, f"{variant}-{tag}")
    for stale in folder.glob(f"{variant}-*.bin"):
        stale.unlink()
    for i, path in enumerate(group["paths"]):
        with atomic_path(folder / path) as temporary:
            temporary.write_bytes(data[i * SHARD_BYTES:(i + 1) * SHARD_BYTES])
    manifest = {
        "format": LAB_FORMAT,
        "generatedBy": f"convlens.tfjs (Keras {keras.__version__})",
        "variant": variant,
        "source": {"file": source.name if source else None, "sha256": digest},
        "convlensLayers": layer_list(model),
        "weightsManifest": [group],
    }
    text = json.dumps(manifest, indent=1)
    write_text_atomic(folder / "model.json", text)
    return {"name": variant, "title": VARIANT_TITLES.get(variant, variant), "model": f"models/{variant}/model.json",
            "tag": tag, "bytes": len(data) + len(text.encode())}


def _colormap_hex(name: str) -> str:
    """A matplotlib colour map as 256 RGB triples, in hexadecimal (768 bytes)."""
    import matplotlib

    rgb = np.rint(matplotlib.colormaps[name](np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.uint8)
    return rgb.tobytes().hex()


def _default(function, parameter: str) -> Any:
    """The default of ``function``'s ``parameter``: a setting stated once, where it is used."""
    import inspect

    return inspect.signature(function).parameters[parameter].default


def lab_settings(model: keras.Model) -> dict[str, Any]:
    """The book's settings the browser must share, read from the modules that define them.

    The lab's JavaScript restates none of them: the default model (:func:`convlens.models.load_trained`'s),
    the activations' colour scale (:func:`convlens.plotting.activations.layer_scale`'s percentile)
    and the ascent's seed (:func:`convlens.filters.start_image`'s) are read from their functions.
    """
    from . import filters
    from .gradcam import last_conv_layer
    from .images import IMAGE_SIZE, MAX_IMAGE_PIXELS
    from .layers import select_layers
    from .models import load_trained
    from .plotting.activations import layer_scale

    filter_layers = select_layers(model, None, "filters")
    return {
        "defaultVariant": _default(load_trained, "variant"),
        "activationPercentile": _default(layer_scale, "percentile"),
        "imageSize": list(IMAGE_SIZE),
        "maxImagePixels": MAX_IMAGE_PIXELS,
        "minImageSide": MIN_IMAGE_SIDE,
        "activationLayers": [layer.name for layer in select_layers(model, None)],
        "filterLayers": [layer.name for layer in filter_layers],
        "filterChannels": {layer.name: int(layer.output.shape[-1]) for layer in filter_layers},
        "gradcamLayer": last_conv_layer(model),
        "ascent": {
            "steps": filters.STEPS, "stepSize": filters.STEP_SIZE, "gradientEpsilon": filters.GRADIENT_EPSILON,
            "noiseAmplitude": filters.NOISE_AMPLITUDE, "noiseOffset": filters.NOISE_OFFSET,
            "size": filters.PATTERN_SIZE, "maxSize": filters.MAX_PATTERN_SIZE, "deprocessStd": filters.DEPROCESS_STD,
            "seed": _default(filters.start_image, "seed"),
        },
        "overlayAlpha": OVERLAY_ALPHA,
        "colormaps": {name: _colormap_hex(name) for name in COLORMAPS},
    }


SAMPLES_LIST = "data/lab_samples.json"
"""The committed list of the lab's sample photos (path under the photo folder, label, SHA-256)."""


def sample_list(path: str | os.PathLike | None = None) -> list[dict[str, str]]:
    """The lab's sample photos as listed in :data:`SAMPLES_LIST` (or ``path``): ``label``, ``file``, ``sha256``.

    A committed list rather than "the first photos by name", so that every machine holding these
    photos builds the same lab, whatever else its photo folder holds.
    """
    from .paths import find_in_repository

    listing = Path(path) if path is not None else find_in_repository(SAMPLES_LIST, Path.is_file)
    if listing is None:
        raise ArgumentError(f"No {SAMPLES_LIST} found: run the lab's build from the repository (make lab).")
    return list(json.loads(Path(listing).read_text())["photos"])


def write_samples(data_dir: str | os.PathLike | None, folder: str | os.PathLike,
                  per_class: int = SAMPLES_PER_CLASS,
                  listing: Sequence[dict[str, str]] | None = None) -> list[dict[str, str]]:
    """The listed sample photos (:func:`sample_list`), decoded and resized by the book's loader, as PNGs.

    The first ``per_class`` entries of each label of ``listing`` (default: the committed list),
    written to ``folder/samples`` at build time (never committed; an earlier build's are removed).
    All or none: unless every chosen photo is under ``data_dir`` with its listed SHA-256, no sample
    is written and one line on stderr says why, so that two builds never differ by a partial set.
    """
    from PIL import Image

    from .images import load_image

    entries = list(sample_list() if listing is None else listing)
    chosen = [e for i, e in enumerate(entries) if sum(o["label"] == e["label"] for o in entries[:i]) < per_class]
    for stale in Path(folder).glob("samples/*.png"):  # an earlier build's: never published beside this one
        stale.unlink()
    if not chosen:
        return []
    root = Path(data_dir) if data_dir is not None else None
    if root is None or not root.is_dir():
        print(f"convlens.tfjs: no photo folder (set $CONVLENS_DATA), so the lab has no sample photos; "
              f"it needs the {len(chosen)} listed in {SAMPLES_LIST}.", file=sys.stderr)
        return []
    missing = [e["file"] for e in chosen
               if not (root / e["file"]).is_file() or file_sha256(root / e["file"]) != e["sha256"]]
    if missing:
        print(f"convlens.tfjs: {len(missing)} of the {len(chosen)} photos listed in {SAMPLES_LIST} are not in "
              f"{root} (first: {missing[0]}), so the lab has no sample photos.", file=sys.stderr)
        return []
    samples: list[dict[str, str]] = []
    for entry in chosen:
        label = entry["label"]
        name = f"samples/{label}-{sum(s['label'] == label for s in samples) + 1}.png"
        pixels = np.rint(load_image(root / entry["file"])[0] * 255.0).astype(np.uint8)
        with atomic_path(Path(folder) / name) as temporary:
            Image.fromarray(pixels).save(temporary, format="PNG")
        samples.append({"file": name, "label": label, "source": entry["file"]})
    return samples


def export_lab(out: str | os.PathLike, variants: Sequence[str] | None = None,
               data_dir: str | os.PathLike | None = None, per_class: int = SAMPLES_PER_CLASS) -> dict[str, Any]:
    """Every variant's ``models/VARIANT/`` files, the sample photos and ``lab.json`` under ``out``."""
    from .models import load_trained, weights_path

    known = variant_names()
    variants = list(known if variants is None else variants)
    unknown = [v for v in variants if v not in known]
    if unknown or not variants:
        raise ArgumentError(f"Unknown variants {unknown}; choose among {', '.join(known)}.")
    out = Path(out)
    entries, settings = [], None
    for variant in variants:
        model = load_trained(variant)
        settings = settings or lab_settings(model)
        entries.append(export_model(model, out / "models" / variant, variant, weights_path(variant)))
    lab = {"format": LAB_FORMAT, "variants": entries, **settings,
           "samples": write_samples(data_dir, out, per_class)}
    write_text_atomic(out / "lab.json", json.dumps(lab, indent=1))
    return lab


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m convlens.tfjs --out DIR [--variants ...] [--data DIR] [--samples N]``."""
    variants = variant_names()
    parser = argparse.ArgumentParser(prog="python -m convlens.tfjs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for lab.json, models/ and samples/")
    parser.add_argument("--variants", nargs="+", default=list(variants), choices=variants)
    parser.add_argument("--data", default=os.environ.get("CONVLENS_DATA") or None,
                        help="photo folder with validation/ (default: $CONVLENS_DATA); none: no samples")
    parser.add_argument("--samples", type=int, default=SAMPLES_PER_CLASS, help="sample photos per class")
    args = parser.parse_args(argv)
    lab = export_lab(args.out, args.variants, args.data or None, args.samples)
    for entry in lab["variants"]:
        print(f"{entry['name']}: {entry['bytes']:,} bytes -> {args.out / entry['model']}")
    print(f"{len(lab['samples'])} sample photos; settings in {args.out / 'lab.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
