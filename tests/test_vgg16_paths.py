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

The cost is kept small: the photos are a tiny generated folder, and ``filters.filter_patterns``
optimizes two filters for two steps (its result is tiled to the size asked for, so that the
cell's plotting code sees the shapes it expects).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
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

    def fake(*, weights="imagenet", include_top=True, input_shape=None, **kwargs):
        assert weights == "imagenet", "the book must only ever ask for ImageNet weights"
        calls.append((include_top, input_shape))
        key = (include_top, tuple(input_shape) if input_shape else None)
        if key not in _BUILT:  # no global reseeding: other tests' random streams stay as they are
            _BUILT[key] = original(weights=None, include_top=include_top, input_shape=input_shape, **kwargs)
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
def cheap_filter_patterns(monkeypatch):
    """filter_patterns on two filters for two steps, tiled to the number of filters asked for."""
    real = filters.filter_patterns
    asked: list = []

    def cheap(model, layer_name, indices, *args, **kwargs):
        indices = list(indices)
        asked.append((layer_name, len(indices), kwargs.get("size")))
        kwargs["steps"] = min(kwargs.get("steps", filters.STEPS), 2)
        if kwargs.get("start") is not None:
            kwargs["start"] = kwargs["start"][:2]
        done = real(model, layer_name, indices[:2], *args, **kwargs)
        return np.resize(done, (len(indices), *done.shape[1:]))

    monkeypatch.setattr(filters, "filter_patterns", cheap)
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
    chapter, random_vgg16, cheap_filter_patterns, small_photos, capsys, monkeypatch
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
        assert cheap_filter_patterns and cheap_filter_patterns[0][0] == "block4_conv1"


@pytest.mark.slow
def test_vgg16_package_paths(random_vgg16, cheap_filter_patterns, small_photos):
    """The package functions the VGG16 cells call, with their arguments (fewer filters)."""
    import matplotlib.pyplot as plt

    from convlens.plotting import filters as plot_filters
    from convlens.plotting import gradcam as gradcam_plots

    vgg = adapters.scaled_input(models.vgg16(include_top=False), size=150)
    patterns = filters.filter_patterns(vgg, "block4_conv1", range(4), size=150, batch_size=16)
    assert patterns.shape == (4, 150, 150, 3) and patterns.dtype == np.uint8
    plot_filters.pattern_grid(patterns, "block4_conv1", range(4), suptitle="VGG16 (random): block4_conv1")

    classifier = adapters.imagenet_cats_vs_dogs(models.vgg16(include_top=True))
    assert gradcam.last_conv_layer(classifier) == "block5_conv3"
    photos = data.load_split_arrays("validation")[0][:3]
    maps = gradcam.grad_cam(classifier, photos, batch_size=8)
    p_dog = gradcam.predict_dog(classifier, photos, batch_size=8)
    assert maps.shape == (3, 14, 14) and np.all(np.isfinite(maps))
    assert p_dog.shape == (3,) and np.all(np.isfinite(p_dog))
    gradcam_plots.comparison_grid(photos, {"VGG16": maps}, suptitle="random VGG16")
    plt.close("all")
    assert random_vgg16 == [(False, None), (True, None)]


# --------------------------------------------------------------------------- models.vgg16 itself


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


def test_no_network_is_weights_unavailable_with_the_stored_message(monkeypatch):
    _keras_raising(monkeypatch, _url_fetch_failure)
    with pytest.raises(models.VGG16WeightsUnavailable) as caught:
        models.vgg16(include_top=False)
    # Chapters 3 and 4 print this line in their stored outputs.
    assert str(caught.value) == (
        "VGG16's ImageNet weights could not be downloaded (no network here?), so this figure is left out; "
        "run the notebook in Colab to see it (Exception)."
    )
    _keras_raising(monkeypatch, lambda: TimeoutError("timed out"))
    with pytest.raises(models.VGG16WeightsUnavailable, match="TimeoutError"):
        models.vgg16()


def test_damaged_cached_weights_say_which_folder(monkeypatch):
    _keras_raising(monkeypatch, lambda: OSError("Unable to synchronously open file (truncated file)"))
    with pytest.raises(models.VGG16WeightsUnavailable, match="could not be read.*damaged: delete it"):
        models.vgg16()


def test_user_errors_are_not_called_no_network(monkeypatch):
    calls: list = []
    monkeypatch.setattr("keras.applications.VGG16", random_vgg16_factory(calls))
    with pytest.raises(errors.ArgumentError, match="include_top=True .* 224 x 224 .*input_shape=\\(150, 150, 3\\)"):
        models.vgg16(include_top=True, input_shape=(150, 150, 3))
    with pytest.raises(ValueError, match="RGB images"):
        models.vgg16(input_shape=(150, 150))
    with pytest.raises(ValueError, match="at least 32 x 32"):
        models.vgg16(input_shape=(16, 16, 3))
    assert calls == []  # refused before any download
    _keras_raising(monkeypatch, lambda: ValueError("some other Keras complaint"))
    with pytest.raises(ValueError, match="some other Keras complaint"):
        models.vgg16()


def test_the_real_vgg16_asks_for_imagenet_weights(monkeypatch):
    seen = {}

    def record(**kwargs):
        seen.update(kwargs)
        raise _url_fetch_failure()

    monkeypatch.setattr("keras.applications.VGG16", record)
    with contextlib.redirect_stdout(io.StringIO()), pytest.raises(models.VGG16WeightsUnavailable):
        models.vgg16(include_top=True)
    assert seen == {"weights": "imagenet", "include_top": True, "input_shape": None}
