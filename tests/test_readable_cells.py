"""The chapters' readable cells are the references the package's fast bodies are held to.

Each technique chapter shows its core as a short eager cell tagged ``readable-core`` (a function
a student can read and change), then uses the package's fast batched function; the package keeps
no plain copy of its own. Here each cell is taken out of its notebook
(``tools/readable_cells.py``), executed on its own, and compared with the package on a tiny
random model, so that a change to either side that alters the numbers fails a test:

- chapter 2: ``activation_model_readable(model, layer_names)`` against ``activations.get_activations``;
- chapter 3: ``filter_pattern_readable(model, layer_name, filter_index, size, steps, step_size)``
  against ``filters.filter_patterns`` (many filters in one batch, another input size, another step);
- chapter 4: ``grad_cam_readable(model, image, layer_name)`` against ``gradcam.grad_cam`` (a batch,
  both classes, two layers).

A chapter without its readable cell fails here: the cell is the reference.
"""

from __future__ import annotations

import numpy as np
import pytest
from readable_cells import ReadableCellError, define, readable_cell
from testkit import centred_tiny_convnet

SIZE = 24
MAX_CELL_LINES = 25
"""A readable cell is short: about 15 lines of code, plus its docstring and demo lines."""

CHAPTERS = {
    "02_activations.ipynb": "activation_model_readable",
    "03_filters.ipynb": "filter_pattern_readable",
    "04_gradcam.ipynb": "grad_cam_readable",
}


@pytest.fixture(scope="module")
def tiny_model():
    """Input -> conv (6) -> pool -> conv (8) -> pool -> dense (sigmoid): small, fast, random."""
    return centred_tiny_convnet(SIZE, seed=3)


@pytest.fixture(scope="module")
def photos() -> np.ndarray:
    return np.random.default_rng(0).random((4, SIZE, SIZE, 3)).astype(np.float32)


@pytest.mark.parametrize(("notebook", "name"), CHAPTERS.items())
def test_every_chapter_has_its_short_readable_cell(notebook, name):
    source = readable_cell(notebook)
    assert f"def {name}(" in source
    lines = [line for line in source.splitlines() if line.strip()]
    assert len(lines) <= MAX_CELL_LINES, f"book/{notebook}: the readable cell has {len(lines)} lines."
    assert max(len(line) for line in source.splitlines()) <= 88


def test_a_missing_readable_cell_fails(tmp_path, monkeypatch):
    import nbformat
    import readable_cells

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    (tmp_path / "book").mkdir()
    nbformat.write(notebook, tmp_path / "book" / "99_none.ipynb")
    monkeypatch.setattr(readable_cells, "ROOT", tmp_path)
    with pytest.raises(ReadableCellError, match="has 0 cells tagged 'readable-core'"):
        define("99_none.ipynb", "anything")


def test_activation_model_readable_matches_get_activations(tiny_model, photos):
    from convlens import activations

    readable = define("02_activations.ipynb", "activation_model_readable")
    names = ["c1", "p1", "c2", "p2"]
    outputs = readable(tiny_model, names)(photos)
    expected = activations.get_activations(tiny_model, photos, names)
    assert len(outputs) == len(names)
    for name, value in zip(names, outputs, strict=True):
        np.testing.assert_allclose(np.asarray(value), expected[name], atol=1e-6, err_msg=name)
    assert any(np.asarray(value).max() > 0 for value in outputs), "the comparison must see non-zero maps"


def _live(model, count: int, size: int = SIZE) -> list[int]:
    from convlens import filters

    silent = filters.silent_filters(model, "c2", list(range(8)), size=size)
    live = [int(i) for i in np.flatnonzero(~silent)][:count]
    assert len(live) == count, "the tiny model needs filters of c2 that fire on their start"
    return live


def test_filter_patterns_batched_match_the_readable_cell(tiny_model):
    from convlens import filters

    readable = define("03_filters.ipynb", "filter_pattern_readable")
    indices = _live(tiny_model, 3)[::-1]  # any order: each element of the batch is its own filter
    batched = filters.filter_patterns(tiny_model, "c2", indices, steps=12, size=SIZE, deprocess=False)
    for k, index in enumerate(indices):
        np.testing.assert_allclose(batched[k], readable(tiny_model, "c2", index, SIZE, steps=12), atol=1e-4)
    moved = np.abs(batched - np.stack([filters.start_image(i, 0, SIZE) for i in indices])).max(axis=(1, 2, 3))
    assert np.all(moved > 3 * filters.STEP_SIZE), "the patterns must really move for the comparison to mean anything"


def test_filter_patterns_at_another_size_and_step_match_the_readable_cell(tiny_model):
    from convlens import filters

    readable = define("03_filters.ipynb", "filter_pattern_readable")
    (index,) = _live(tiny_model, 1)
    larger = filters.filter_patterns(tiny_model, "c2", [index], steps=6, size=40, deprocess=False)[0]
    np.testing.assert_allclose(larger, readable(tiny_model, "c2", index, 40, steps=6), atol=1e-4)
    step = 2 * filters.STEP_SIZE
    doubled = filters.filter_patterns(tiny_model, "c2", [index], steps=5, size=SIZE, deprocess=False,
                                      step=filters.Step(step, filters.GRADIENT_EPSILON))
    np.testing.assert_allclose(doubled[0], readable(tiny_model, "c2", index, SIZE, steps=5, step_size=step), atol=1e-5)
    # the step size is a parameter the student can change, and it is used
    start = filters.start_image(index, 0, SIZE)
    bigger = readable(tiny_model, "c2", index, SIZE, steps=1, step_size=step)
    smaller = readable(tiny_model, "c2", index, SIZE, steps=1)
    np.testing.assert_allclose(bigger - start, 2 * (smaller - start), rtol=1e-3, atol=1e-6)


def _always(model, dog: bool):
    """The same model with its last bias moved by +-1000: it predicts one class for every photo.

    The gradients of the logit do not depend on the bias, so the readable cell (which explains the
    predicted class) then gives the heatmap of that class for every photo.
    """
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    kernel, bias = copy.layers[-1].get_weights()
    copy.layers[-1].set_weights([kernel, bias + (1000.0 if dog else -1000.0)])
    return copy


@pytest.mark.parametrize("layer", ["c2", "c1"])
def test_grad_cam_matches_the_readable_cell_for_a_batch_and_both_classes(tiny_model, photos, layer):
    from convlens import gradcam

    readable = define("04_gradcam.ipynb", "grad_cam_readable")
    predicted = gradcam.grad_cam(tiny_model, photos, layer)
    mine = np.stack([np.asarray(readable(tiny_model, photo, layer)) for photo in photos])
    np.testing.assert_allclose(mine, predicted, atol=1e-4)
    for dog in (False, True):
        fast = gradcam.grad_cam(tiny_model, photos, layer, class_index=int(dog))
        model = _always(tiny_model, dog)
        np.testing.assert_allclose(np.stack([readable(model, photo, layer) for photo in photos]), fast, atol=1e-4)
        assert fast.max() > 0, "the comparison must see non-zero maps"
