"""The chapters' readable method cells, as functions: the one plain body of each algorithm.

Each technique chapter shows its core as a short eager cell tagged ``readable-core`` (a function
a student can read and change) before it uses the package's fast batched function. The package
keeps no second plain copy: the tests (``tests/test_readable_cells.py``) and the benchmarks
(``bench/``) take the function out of its chapter with :func:`define` and compare or time the
fast body against it.

Usage from Python (``tools/`` on ``sys.path``)::

    from readable_cells import define
    grad_cam_readable = define("04_gradcam.ipynb", "grad_cam_readable")
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
TAG = "readable-core"


class ReadableCellError(LookupError):
    """A chapter without its one ``readable-core`` cell, or a cell without the function asked for."""


def readable_cell(notebook: str) -> str:
    """The source of ``book/notebook``'s one ``readable-core`` cell; an error if it has none or several."""
    cells = [
        cell for cell in nbformat.read(ROOT / "book" / notebook, as_version=4).cells
        if cell.cell_type == "code" and TAG in cell.metadata.get("tags", [])
    ]
    if len(cells) != 1:
        raise ReadableCellError(f"book/{notebook} has {len(cells)} cells tagged {TAG!r}; it must have exactly one.")
    return cells[0].source


def chapter_namespace() -> dict:
    """What the chapters have imported when their readable cells run."""
    import keras
    import numpy as np
    import tensorflow as tf

    from convlens import activations, filters, gradcam

    return {"keras": keras, "tf": tf, "np": np, "activations": activations, "filters": filters, "gradcam": gradcam}


def define(notebook: str, name: str, namespace: dict | None = None):
    """Execute the readable cell's definitions (not its demo lines) and return its function ``name``.

    Only the top-level ``def`` blocks and imports of the cell run: its demo lines use the
    chapter's model and photo. ``namespace`` defaults to :func:`chapter_namespace`.
    """
    tree = ast.parse(readable_cell(notebook))
    kept = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.Import, ast.ImportFrom))]
    scope = dict(chapter_namespace() if namespace is None else namespace)
    exec(compile(ast.Module(body=kept, type_ignores=[]), f"book/{notebook}[{TAG}]", "exec"), scope)  # noqa: S102
    if name not in scope:
        raise ReadableCellError(f"book/{notebook}: the {TAG!r} cell does not define {name}().")
    return scope[name]
