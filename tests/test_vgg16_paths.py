"""The chapters' VGG16 code paths, run against a VGG16 with random weights built for the test only.

VGG16's ImageNet weights cannot be downloaded here, so the cells that use them (tagged ``vgg16``
in book/03_filters.ipynb and book/04_gradcam.ipynb) print their "left out" line and nothing
else. This test runs those cells' code for real: ``keras.applications.VGG16`` is replaced, for
the test only, by the same architecture with random weights (``weights=None``), while
:func:`convlens.models.vgg16` itself runs unchanged (its argument checks, its ImageNet request).
The book never sees these weights: the replacement lives inside each test's monkeypatch.

The cells' contract (see the report to the lead): a ``vgg16`` cell needs only the chapter's
imports, ``data_dir`` and the names made by earlier ``vgg16`` cells. Names it takes from other
cells are found by reading the code, and those cells are run first (on a small photo folder), so
the test keeps working while a chapter is being rewritten. If a chapter has no ``vgg16`` cell,
the package functions those cells used are called instead, with the same arguments.

The cost is kept small: the photos are a tiny generated folder, the chapters' cells run
``filters.filter_patterns`` for real on every filter they ask for but for two steps only, and the
package-path test runs it at a small size.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import socket
import urllib.error
import warnings
from pathlib import Path

import numpy as np
import pytest
from testkit import write_photo

from convlens import adapters, data, errors, filters, gradcam, models, settings

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ["03_filters.ipynb", "04_gradcam.ipynb"]
TAG = "vgg16"
UNAVAILABLE = ("could not be downloaded", "cannot be downloaded", "left out")

_BUILT: dict = {}


def random_vgg16_factory(calls: list):
    """A stand-in for ``keras.applications.VGG16``: the same layers, random weights, cached."""
    import keras

    original = keras.applications.VGG16

    def fake(*, weights="imagenet", include_top=True, input_shape=None, classifier_activation="softmax", **kwargs):
        assert weights == "imagenet", "the book must only ever ask for ImageNet weights"
        calls.append((include_top, input_shape, classifier_activation))
        key = (include_top, tuple(input_shape) if input_shape else None, classifier_activation)
        if key not in _BUILT:  # no global reseeding: other tests' random streams stay as they are
            _BUILT[key] = original(weights=None, include_top=include_top, input_shape=input_shape,
                                   classifier_activation=classifier_activation, **kwargs)
        return _BUILT[key]

    return fake


@pytest.fixture(scope="module", autouse=True)
def _free_the_models():
    """The random VGG16s (about 0.5 GB each) live for this module only."""
    yield
    _BUILT.clear()


@pytest.fixture
def random_vgg16(monkeypatch):
    """Replace Keras' VGG16 by a random-weights one for this test; return the list of calls."""
    import keras

    calls: list = []
    monkeypatch.setattr(keras.applications, "VGG16", random_vgg16_factory(calls))
    return calls


@pytest.fixture
def two_steps(monkeypatch):
    """filter_patterns run for real on every filter asked for, for two steps; return what was asked."""
    real = filters.filter_patterns
    asked: list = []

    def fewer_steps(model, layer_name, indices, *args, **kwargs):
        asked.append((layer_name, len(list(indices)), kwargs.get("size")))
        return real(model, layer_name, indices, *args, **{**kwargs, "steps": 2})

    monkeypatch.setattr(filters, "filter_patterns", fewer_steps)
    return asked


@pytest.fixture
def small_photos(tmp_path, monkeypatch):
    """A public-layout folder of 4 + 4 small photos per split, as $CONVLENS_DATA."""
    root = tmp_path / "photos"
    for split in ("train", "validation"):
        for label, name in enumerate(data.CLASS_NAMES):
            for i in range(4):
                write_photo(root / split / name / f"{name[:-1]}.{i}.jpg", seed=10 * label + i, size=(160, 150))
    monkeypatch.setenv(settings.DATA_ENV, str(root))
    return root


# --------------------------------------------------------------------------- reading the cells


def _code(cell) -> str:
    """A cell's Python, without IPython's magic and shell lines."""
    source = "".join(cell["source"])
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _bound_and_used(code: str) -> tuple[set[str], set[str]]:
    """Names a cell binds (anywhere, including loop and comprehension variables) and names it reads."""
    bound, used = set(), set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, (ast.Store, ast.Del)) else used).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound, used


def _imports(cells) -> str:
    """Every top-level import statement of ``cells`` (the chapter's imports)."""
    lines = []
    for cell in cells:
        for node in ast.parse(_code(cell)).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                lines.append(ast.unparse(node))
    return "\n".join(lines)


def chapter_plan(path: Path):
    """(imports, cells to run first, vgg16 cells) of a chapter; the middle list is read from the code."""
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    tagged = [i for i, c in enumerate(cells) if TAG in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        return None
    before = cells[1 : tagged[0]]  # not the first cell (the Colab set-up)
    imports = _imports(before)
    given = _bound_and_used(imports)[0] | {"data_dir"} | set(dir(builtins))
    needed_cells: set[int] = set()

    def resolve(index: int, names: set[str]) -> None:
        for name in sorted(names):
            for j in range(index - 1, 0, -1):  # the last earlier cell that binds it
                if j in tagged:
                    continue
                bound, used = _bound_and_used(_code(cells[j]))
                if name in bound:
                    if j not in needed_cells:
                        needed_cells.add(j)
                        resolve(j, used - bound - given)
                    break
            else:
                raise AssertionError(f"{path.name}: {name!r} used by a vgg16 cell is defined nowhere before it")

    made: set[str] = set()
    for i in tagged:
        bound, used = _bound_and_used(_code(cells[i]))
        resolve(i, used - bound - given - made)
        made |= bound
    first = [_code(cells[j]) for j in sorted(needed_cells) if j < tagged[-1]]
    return imports, first, [_code(cells[i]) for i in tagged]


# --------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_vgg16_chapter_keeps_its_vgg16_cells(chapter):
    """A removed VGG16 cell fails here, in the fast tests, instead of being skipped by the slow one."""
    assert chapter_plan(ROOT / "book" / chapter) is not None, f"{chapter} has no cell tagged {TAG!r}"


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_vgg16_cells_run_with_random_weights(
    chapter, random_vgg16, two_steps, small_photos, capsys, monkeypatch
):
    import matplotlib.pyplot as plt

    plan = chapter_plan(ROOT / "book" / chapter)
    assert plan is not None, f"{chapter} has no cell tagged {TAG!r}: the VGG16 figure of the chapter is gone"
    imports, first, vgg_cells = plan
    monkeypatch.chdir(ROOT / "book")
    namespace: dict = {"__name__": "__main__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Agg's "cannot show the figure" and Keras' notes
        exec(compile(imports, f"{chapter}:imports", "exec"), namespace)
        namespace["data_dir"] = data.find_data_dir()
        for number, code in enumerate(first):
            exec(compile(code, f"{chapter}:needed cell {number}", "exec"), namespace)
        capsys.readouterr()
        for number, code in enumerate(vgg_cells):
            exec(compile(code, f"{chapter}:vgg16 cell {number}", "exec"), namespace)
    out = capsys.readouterr().out
    figures = plt.get_fignums()
    plt.close("all")
    assert random_vgg16, f"no vgg16 cell of {chapter} called models.vgg16"
    assert not any(text in out for text in UNAVAILABLE), f"a vgg16 cell took its no-weights branch:\n{out}"
    assert figures, f"the vgg16 cells of {chapter} drew no figure"
    if chapter == "03_filters.ipynb":
        assert two_steps and two_steps[0][0] == "block4_conv1"


@pytest.mark.slow
def test_vgg16_package_paths(random_vgg16, small_photos):
    """The package functions the VGG16 cells call, for real on a random VGG16, at small sizes."""
    import matplotlib.pyplot as plt

    from convlens.plotting import filters as plot_filters
    from convlens.plotting import gradcam as gradcam_plots

    vgg = adapters.scaled_input(models.vgg16(include_top=False), size=48)
    patterns = filters.filter_patterns(vgg, "block4_conv1", range(3), size=48, batch_size=2, steps=3)
    assert patterns.shape == (3, 48, 48, 3) and patterns.dtype == np.uint8
    assert not np.array_equal(patterns[0], patterns[1])  # each filter optimized for itself, not tiled
    plot_filters.pattern_grid(patterns, "block4_conv1", range(3), suptitle="VGG16 (random): block4_conv1")

    top = models.vgg16(include_top=True)
    assert top.layers[-1].get_config()["activation"] == "linear"  # logits: classifier_activation=None
    classifier = adapters.imagenet_cats_vs_dogs(top)
    assert gradcam.last_conv_layer(classifier) == "block5_conv3"
    photos = data.load_split_arrays("validation")[0][:3]
    maps = gradcam.grad_cam(classifier, photos, batch_size=8)
    p_dog = gradcam.predict_dog(classifier, photos, batch_size=8)
    assert maps.shape == (3, 14, 14) and np.all(np.isfinite(maps))
    logits = top.predict(keras_vgg16_input(photos), verbose=0)
    dog = np.logaddexp.reduce(logits[:, list(adapters.DOG_CLASSES)], axis=1)
    cat = np.logaddexp.reduce(logits[:, list(adapters.CAT_CLASSES)], axis=1)
    np.testing.assert_allclose(p_dog, 1 / (1 + np.exp(cat - dog)), rtol=1e-4, atol=1e-6)
    gradcam_plots.comparison_grid(photos, {"VGG16": maps}, suptitle="random VGG16")
    plt.close("all")
    assert random_vgg16 == [(False, None, None), (True, None, None)]


def keras_vgg16_input(photos: np.ndarray) -> np.ndarray:
    """The book's [0, 1] photos as Keras' VGG16 takes them: 224 x 224, preprocess_input on 0-255 values."""
    import keras

    resized = keras.layers.Resizing(224, 224, interpolation="bilinear")(photos).numpy()
    return keras.applications.vgg16.preprocess_input(resized * 255.0)


def test_a_softmax_classifier_is_refused_by_the_adapter():
    """The adapter needs logits (classifier_activation=None); probabilities would make its logit wrong."""
    import keras

    inputs = keras.Input((32, 32, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(2, 3)(inputs))
    softmax = keras.Model(inputs, keras.layers.Dense(1000, activation="softmax")(pooled))
    with pytest.raises(errors.ArgumentError, match="classifier_activation=None"):
        adapters.imagenet_cats_vs_dogs(softmax)


# --------------------------------------------------------------------------- models.vgg16 itself


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty $KERAS_HOME: VGG16's weights are not cached there until a test puts a file there."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras"


def _keras_raising(monkeypatch, exc_factory):
    import keras

    def failing(**kwargs):
        raise exc_factory()

    monkeypatch.setattr(keras.applications, "VGG16", failing)


def _url_fetch_failure():
    """What keras.utils.get_file raises with no network: a bare Exception raised inside the handler."""
    try:
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
    except urllib.error.URLError as e:
        try:
            raise Exception(f"URL fetch failure on https://storage.googleapis.com/...: None -- {e.reason}")  # noqa: TRY002
        except Exception as wrapped:  # noqa: BLE001
            return wrapped


def test_no_network_is_weights_unavailable_with_the_stored_message(monkeypatch, keras_home):
    _keras_raising(monkeypatch, _url_fetch_failure)
    with pytest.raises(models.VGG16WeightsUnavailable) as caught:
        models.vgg16(include_top=False)
    # Chapters 3 and 4 print this line in their stored outputs.
    assert str(caught.value) == (
        "VGG16's ImageNet weights could not be downloaded (no network here?), so this figure is left out; "
        "run the notebook in Colab to see it (Exception)."
    )
    for failure in (lambda: TimeoutError("timed out"), lambda: ValueError("Incomplete or corrupted file")):
        _keras_raising(monkeypatch, failure)
        with pytest.raises(models.VGG16WeightsUnavailable, match="could not be downloaded"):
            models.vgg16()


def test_damaged_cached_weights_say_which_file(monkeypatch, keras_home):
    cached = keras_home / "models" / models.VGG16_WEIGHTS_FILES[False]
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"truncated")
    _keras_raising(monkeypatch, lambda: OSError("Unable to synchronously open file (truncated file)"))
    with pytest.raises(models.VGG16WeightsUnavailable, match=f"could not be read.*{cached.name} is probably damaged"):
        models.vgg16()
    # The top's file is another one: not cached, so the same failure is a failed download.
    with pytest.raises(models.VGG16WeightsUnavailable, match="could not be downloaded"):
        models.vgg16(include_top=True)


def test_user_errors_and_bugs_are_not_called_no_network(monkeypatch, keras_home):
    calls: list = []
    monkeypatch.setattr("keras.applications.VGG16", random_vgg16_factory(calls))
    with pytest.raises(errors.ArgumentError, match="include_top=True .* 224 x 224 .*input_shape=\\(150, 150, 3\\)"):
        models.vgg16(include_top=True, input_shape=(150, 150, 3))
    with pytest.raises(ValueError, match="RGB images"):
        models.vgg16(input_shape=(150, 150))
    with pytest.raises(ValueError, match="at least 32 x 32"):
        models.vgg16(input_shape=(16, 16, 3))
    assert calls == []  # refused before any download
    _keras_raising(monkeypatch, lambda: TypeError("a bug in the call"))
    with pytest.raises(TypeError, match="a bug in the call"):
        models.vgg16()


def test_the_real_vgg16_asks_for_imagenet_logits_and_leaves_the_socket_timeout(monkeypatch, keras_home):
    seen = {}

    def record(**kwargs):
        seen.update(kwargs, socket_timeout=socket.getdefaulttimeout())
        raise _url_fetch_failure()

    before = socket.getdefaulttimeout()
    monkeypatch.setattr("keras.applications.VGG16", record)
    with contextlib.redirect_stdout(io.StringIO()), pytest.raises(models.VGG16WeightsUnavailable):
        models.vgg16(include_top=True)
    assert seen == {"weights": "imagenet", "include_top": True, "input_shape": None, "classifier_activation": None,
                    "socket_timeout": before}
    assert socket.getdefaulttimeout() == before


def test_the_cached_file_names_are_keras_own():
    """models.vgg16 looks for Keras' cached weights by these names: they must be the files Keras fetches."""
    from keras.src.applications import vgg16 as keras_vgg16

    assert models.VGG16_WEIGHTS_FILES[True] == keras_vgg16.WEIGHTS_PATH.rsplit("/", 1)[-1]
    assert models.VGG16_WEIGHTS_FILES[False] == keras_vgg16.WEIGHTS_PATH_NO_TOP.rsplit("/", 1)[-1]
