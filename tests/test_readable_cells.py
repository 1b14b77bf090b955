"""The chapters' readable cells and the package stay in step.

Each technique chapter shows its core as a short eager cell tagged ``readable-core`` (a
function a student can read and change), then uses the package's fast batched function. Here
each such cell is taken out of its notebook, executed on its own, and its function is compared
with the package's on a tiny random model, so that a change to either side that alters the
numbers fails a test:

- chapter 2: ``activation_model_readable(model, layer_names)`` against
  ``activations.get_activations``;
- chapter 3: ``filter_pattern_readable(model, layer_name, filter_index, size, steps, step_size)``
  against ``filters.filter_patterns`` and ``filters.reference_filter_pattern``;
- chapter 4: ``grad_cam_readable(model, image, layer_name)`` against ``gradcam.grad_cam``
  (skipped, with the reason, while chapter 4 has no such cell).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest
from testkit import centred_tiny_convnet

ROOT = Path(__file__).resolve().parents[1]
TAG = "readable-core"
SIZE = 24
MAX_CELL_LINES = 25
"""A readable cell is short: about 15 lines of code, plus its docstring and demo lines."""


def readable_cell(notebook: str) -> str | None:
    """The source of ``notebook``'s one ``readable-core`` cell, or None if it has none."""
    cells = [
        cell for cell in nbformat.read(ROOT / "book" / notebook, as_version=4).cells
        if cell.cell_type == "code" and TAG in cell.metadata.get("tags", [])
    ]
    assert len(cells) <= 1, f"{notebook}: {len(cells)} cells tagged {TAG!r}; tag exactly one."
    return cells[0].source if cells else None


def define(notebook: str, name: str, namespace: dict | None = None):
    """Execute the readable cell's definitions (not its demo lines) and return function ``name``.

    Only the top-level ``def`` blocks and imports of the cell are executed: its demo lines use
    the chapter's model and photo, which the test does not have.
    """
    import ast

    source = readable_cell(notebook)
    if source is None:
        pytest.skip(f"book/{notebook} has no cell tagged {TAG!r} yet (it should define {name}).")
    tree = ast.parse(source)
    kept = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.Import, ast.ImportFrom))]
    scope = dict(namespace or {})
    exec(compile(ast.Module(body=kept, type_ignores=[]), f"book/{notebook}[{TAG}]", "exec"), scope)  # noqa: S102
    assert name in scope, f"book/{notebook}: the {TAG!r} cell does not define {name}()."
    return scope[name]


def chapter_namespace() -> dict:
    """What the chapters import before their readable cells."""
    import keras
    import tensorflow as tf

    from convlens import activations, filters, gradcam

    return {"keras": keras, "tf": tf, "np": np, "activations": activations, "filters": filters,
            "gradcam": gradcam}


@pytest.fixture(scope="module")
def tiny_model():
    """Input -> conv (6) -> pool -> conv (8) -> pool -> dense (sigmoid): small, fast, random."""
    return centred_tiny_convnet(SIZE, seed=3)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return np.random.default_rng(0).random((SIZE, SIZE, 3)).astype(np.float32)


@pytest.mark.parametrize("notebook", ["02_activations.ipynb", "03_filters.ipynb", "04_gradcam.ipynb"])
def test_readable_cell_is_short(notebook):
    source = readable_cell(notebook)
    if source is None:
        pytest.skip(f"book/{notebook} has no cell tagged {TAG!r} yet.")
    lines = [line for line in source.splitlines() if line.strip()]
    assert len(lines) <= MAX_CELL_LINES, f"book/{notebook}: the readable cell has {len(lines)} lines."
    assert max(len(line) for line in source.splitlines()) <= 88


def test_activation_model_readable_matches_get_activations(tiny_model, photo):
    from convlens import activations

    readable = define("02_activations.ipynb", "activation_model_readable", chapter_namespace())
    names = ["c1", "p1", "c2", "p2"]
    outputs = readable(tiny_model, names)(photo[None])
    expected = activations.get_activations(tiny_model, photo, names)
    assert len(outputs) == len(names)
    for name, value in zip(names, outputs, strict=True):
        np.testing.assert_allclose(np.asarray(value), expected[name], atol=1e-6, err_msg=name)
    assert any(np.asarray(value).max() > 0 for value in outputs), "the comparison must see non-zero maps"


def test_filter_pattern_readable_matches_the_package(tiny_model):
    from convlens import filters

    readable = define("03_filters.ipynb", "filter_pattern_readable", chapter_namespace())
    live = [i for i in range(8) if not filters.silent_filters(tiny_model, "c2", [i], size=SIZE)[0]]
    assert live, "the tiny model needs a filter of c2 that fires on its start"
    index = live[0]
    mine = readable(tiny_model, "c2", index, SIZE, steps=6)
    batched = filters.filter_patterns(tiny_model, "c2", [index], steps=6, size=SIZE, deprocess=False)[0]
    reference = filters.reference_filter_pattern(tiny_model, "c2", index, steps=6, size=SIZE)
    np.testing.assert_allclose(mine, batched, atol=1e-4)
    np.testing.assert_allclose(mine, reference, atol=1e-5)
    moved = np.abs(mine - filters.start_image(index, 0, SIZE)).max()
    assert moved > 3 * filters.STEP_SIZE, "the pattern must really move for the comparison to mean anything"
    # the step size is a parameter the student can change, and it is used
    bigger = readable(tiny_model, "c2", index, SIZE, steps=1, step_size=2 * filters.STEP_SIZE)
    smaller = readable(tiny_model, "c2", index, SIZE, steps=1)
    start = filters.start_image(index, 0, SIZE)
    np.testing.assert_allclose(bigger - start, 2 * (smaller - start), rtol=1e-3, atol=1e-6)


def test_grad_cam_readable_matches_grad_cam(tiny_model, photo):
    from convlens import gradcam

    readable = define("04_gradcam.ipynb", "grad_cam_readable", chapter_namespace())
    try:  # the chapter passes one photo; accept a cell written for (H, W, 3) or (1, H, W, 3)
        mine = np.asarray(readable(tiny_model, photo[None], "c2"))
    except (ValueError, TypeError):
        mine = np.asarray(readable(tiny_model, photo, "c2"))
    mine = mine[0] if mine.ndim == 3 else mine
    expected = gradcam.grad_cam(tiny_model, photo[None], "c2")[0]
    assert mine.shape == expected.shape
    np.testing.assert_allclose(mine, expected, atol=1e-4)
    assert expected.max() > 0
