"""convlens.tfjs and the convlens-lab directive, without a browser (the browser checks: test_lab.py)."""

from __future__ import annotations

import json
import types
from pathlib import Path

import numpy as np
import pytest
from testkit import book_extension, write_photo

from convlens import tfjs
from convlens.errors import ArgumentError
from convlens.files import file_sha256

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def convnet():
    """The book's small convnet with random weights (the architecture is what is exported)."""
    import keras

    from convlens.models import small_convnet

    keras.utils.set_random_seed(3)
    return small_convnet(dropout=0.5, name="dataaug")


def _read_weights(folder: Path, manifest: dict) -> dict[str, np.ndarray]:
    """What tf.io.loadWeights does: concatenate a group's shards, cut the weights in order."""
    (group,) = manifest["weightsManifest"]
    data = b"".join((folder / path).read_bytes() for path in group["paths"])
    arrays, offset = {}, 0
    for spec in group["weights"]:
        size = int(np.prod(spec["shape"])) * 4
        arrays[spec["name"]] = np.frombuffer(data[offset:offset + size], "<f4").reshape(spec["shape"])
        offset += size
    assert offset == len(data)
    return arrays


def test_layer_list_is_read_from_keras(convnet):
    layers = tfjs.layer_list(convnet)
    assert [layer["name"] for layer in layers] == [layer.name for layer in convnet.layers]
    assert [layer["type"] for layer in layers] == [type(layer).__name__ for layer in convnet.layers]
    for entry, layer in zip(layers, convnet.layers, strict=True):
        assert entry["outputShape"] == list(layer.output.shape[1:])
        assert entry["weights"] == [w.path for w in layer.weights]
    conv = next(entry for entry in layers if entry["type"] == "Conv2D")
    assert conv | {"weights": None} == conv | {
        "kernelSize": [3, 3], "strides": [1, 1], "padding": "valid", "activation": "relu", "useBias": True,
        "weights": None,
    }
    assert layers[-1]["activation"] == "sigmoid" and layers[-1]["units"] == 1


def test_weights_round_trip_through_the_manifest(convnet, tmp_path):
    entry = tfjs.export_model(convnet, tmp_path, "dataaug")
    manifest = json.loads((tmp_path / "model.json").read_text())
    assert manifest["format"] == tfjs.LAB_FORMAT and manifest["convlensLayers"] == tfjs.layer_list(convnet)
    arrays = _read_weights(tmp_path, manifest)
    assert list(arrays) == [w.path for w in convnet.weights]
    for weight in convnet.weights:
        np.testing.assert_array_equal(arrays[weight.path], weight.numpy())
    shards = sorted(tmp_path.glob("*.bin"))
    assert len(shards) == 4 and all(s.stat().st_size <= tfjs.SHARD_BYTES for s in shards)
    assert entry["bytes"] == sum(s.stat().st_size for s in shards) + (tmp_path / "model.json").stat().st_size


def test_shards_are_named_by_the_weights_digest_and_stale_ones_go(convnet, tmp_path):
    source = tmp_path / "dataaug.weights.h5"
    source.write_bytes(b"first")
    out = tmp_path / "out"
    first = tfjs.export_model(convnet, out, "dataaug", source)
    source.write_bytes(b"second")
    second = tfjs.export_model(convnet, out, "dataaug", source)
    assert first["tag"] != second["tag"]
    assert {p.name.split(".")[0] for p in out.glob("*.bin")} == {f"dataaug-{second['tag']}"}
    assert not list(out.glob(".*part*")), "a temporary file was left behind"


def test_unsupported_models_are_refused_by_name():
    import keras
    from keras import layers

    def chain(*middle):
        inputs = keras.Input((16, 16, 3))
        x = inputs
        for layer in middle:
            x = layer(x)
        return keras.Model(inputs, layers.Dense(1)(layers.Flatten()(x)))

    cases = {
        "AveragePooling2D": chain(layers.AveragePooling2D(2, name="avg")),
        "overlapping": chain(layers.MaxPooling2D(3, strides=2, name="overlap")),
        "tanh": chain(layers.Conv2D(2, 3, activation="tanh", name="conv_tanh")),
        "strides": chain(layers.MaxPooling2D(2, padding="same", name="same_pool")),
    }
    for expected, model in cases.items():
        with pytest.raises(ArgumentError) as error:
            tfjs.layer_list(model)
        assert any(word in str(error.value) for word in (expected, "non-overlapping")), str(error.value)


def test_lab_settings_come_from_the_modules_that_define_them(convnet):
    from convlens import filters
    from convlens.gradcam import last_conv_layer
    from convlens.images import IMAGE_SIZE

    lab = tfjs.lab_settings(convnet)
    assert lab["imageSize"] == list(IMAGE_SIZE) and lab["gradcamLayer"] == last_conv_layer(convnet) == "conv2d_4"
    assert lab["ascent"]["steps"] == filters.STEPS and lab["ascent"]["stepSize"] == filters.STEP_SIZE
    assert lab["ascent"]["noiseOffset"] == filters.NOISE_OFFSET and lab["ascent"]["size"] == filters.PATTERN_SIZE
    assert lab["filterChannels"]["conv2d_1"] == 32 and len(lab["activationLayers"]) == 8
    for table in lab["colormaps"].values():
        assert len(bytes.fromhex(table)) == 256 * 3


def test_lab_settings_name_the_defaults_of_the_functions_that_use_them(convnet):
    import inspect

    from convlens.filters import start_image
    from convlens.models import load_trained
    from convlens.plotting.activations import layer_scale

    lab = tfjs.lab_settings(convnet)
    default = lambda f, name: inspect.signature(f).parameters[name].default  # noqa: E731
    assert lab["defaultVariant"] == default(load_trained, "variant") in tfjs.variant_names()
    assert lab["activationPercentile"] == default(layer_scale, "percentile")
    assert lab["ascent"]["seed"] == default(start_image, "seed")


def test_the_lab_modules_restate_no_setting_and_stay_small():
    """The JavaScript takes the book's settings from lab.json: no variant name, percentile or channel
    count written in it, and each module at most 300 lines (as the Python side)."""
    import re

    modules = sorted((ROOT / "lab").glob("*.js"))
    assert {m.name for m in modules} >= {"convlens-lab.js", "worker.js", "net.js", "images.js", "client.js"}
    for module in modules:
        text = module.read_text()
        assert len(text.splitlines()) <= 300, module.name
        restated = re.findall(r"'(?:baseline|dataaug|full)'|99\.5|\?\? *128\b|conv2d_\d", text)
        assert not restated, (module.name, restated)


def test_samples_are_decoded_by_the_books_loader(tmp_path):
    from PIL import Image

    from convlens.images import load_image

    data = tmp_path / "photos"
    for name in ("cats", "dogs"):
        for i in range(3):
            write_photo(data / "validation" / name / f"{name[:-1]}.{i}.jpg", seed=i + 10 * len(name))
    listing = [{"label": name[:-1], "file": f"validation/{name}/{name[:-1]}.{i}.jpg",
                "sha256": file_sha256(data / "validation" / name / f"{name[:-1]}.{i}.jpg")}
               for name in ("cats", "dogs") for i in range(3)]
    samples = tfjs.write_samples(data, tmp_path / "lab", per_class=2, listing=listing)
    assert [s["label"] for s in samples] == ["cat", "cat", "dog", "dog"]
    first = np.asarray(Image.open(tmp_path / "lab" / samples[0]["file"]))
    expected = np.rint(load_image(data / "validation" / "cats" / "cat.0.jpg")[0] * 255).astype(np.uint8)
    np.testing.assert_array_equal(first, expected)
    assert tfjs.write_samples(None, tmp_path / "none") == [] and not (tmp_path / "none").exists()


def test_command_line_exports_a_committed_variant(tmp_path, capsys):
    from convlens.models import weights_path

    if not weights_path("baseline").is_file():
        pytest.skip("no committed baseline weights")
    assert tfjs.main(["--out", str(tmp_path), "--variants", "baseline", "--data", ""]) == 0
    lab = json.loads((tmp_path / "lab.json").read_text())
    assert [v["name"] for v in lab["variants"]] == ["baseline"] and lab["samples"] == []
    assert (tmp_path / lab["variants"][0]["model"]).is_file()
    assert "baseline:" in capsys.readouterr().out
    with pytest.raises(ArgumentError):
        tfjs.export_lab(tmp_path, ["vgg16"])


# ---------------------------------------------------------------------------------------------
# The directive (book/_ext/convlens_lab.py).


@pytest.fixture(scope="module")
def ext():
    return book_extension("convlens_lab")


def test_panel_html_carries_the_options(ext):
    html = ext.panel_html("filters", "full", "conv2d_4", 3)
    assert html.startswith('<div class="convlens-lab" data-panel="filters" data-variant="full"')
    assert 'data-layer="conv2d_4"' in html and 'data-index="3"' in html and "convlens-lab-fallback" in html
    assert 'data-layer="&lt;b&gt;"' in ext.panel_html("activations", layer="<b>")
    assert "data-variant" not in ext.panel_html("gradcam")


def test_pages_with_a_panel_get_the_module(ext):
    from docutils import nodes

    document = nodes.document(None, None)
    added = []
    app = types.SimpleNamespace(add_js_file=lambda name, **kw: added.append((name, kw)),
                                builder=types.SimpleNamespace(convlens_lab_ready=True))
    ext._page_context(app, "book/intro", "page.html", {}, document)
    assert not ext.has_panel(document) and added == []
    document += nodes.raw("", ext.panel_html("gradcam"), format="html")
    ext._page_context(app, "book/lab", "page.html", {}, document)
    assert ext.has_panel(document) and added == [(ext.SCRIPT, {"type": "module"})]
