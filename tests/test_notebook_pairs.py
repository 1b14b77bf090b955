"""Each chapter's .ipynb and its text twin (book/text/*.md, tools/sync_notebooks.py) hold the same cells."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("sync_notebooks", ROOT / "tools" / "sync_notebooks.py")
sync = importlib.util.module_from_spec(_spec)
sys.modules["sync_notebooks"] = sync
_spec.loader.exec_module(sync)

CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.name)
def test_chapter_and_text_twin_in_step(notebook):
    problem = sync.out_of_step(notebook)
    assert problem is None, f"{problem}: run `make sync` after editing the notebook (README: How to edit a chapter)"


def test_no_text_twin_without_its_chapter():
    assert sync.orphans(ROOT / "book") == [], "remove the twin of a removed chapter (book/text/)"


def _chapter(folder: Path) -> Path:
    """A small chapter with prose, code, a tag and an output."""
    code = nbformat.v4.new_code_cell("x = 0.25\nprint(f'{x:.3f}')", metadata={"tags": ["hide-input"]})
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="0.250\n")]
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# A chapter\n\nSome prose {cite:p}`chollet2017`."), code,
               nbformat.v4.new_markdown_cell("More prose.")],
    )
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "book" / "01_chapter.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, path)
    return path


def _edit(path: Path, change) -> None:
    notebook = nbformat.read(path, as_version=4)
    change(notebook)
    nbformat.write(notebook, path)


def test_sync_writes_a_twin_and_the_check_catches_every_drift(tmp_path):
    notebook = _chapter(tmp_path)
    twin = sync.text_path(notebook)
    assert sync.out_of_step(notebook) == f"{twin} is missing"
    assert sync.write(notebook) is True
    assert sync.write(notebook) is False  # idempotent
    assert sync.out_of_step(notebook) is None
    text = twin.read_text()
    assert "```{code-cell}" in text and ":tags: [hide-input]" in text
    assert "0.250" not in text.replace("print(f'{x:.3f}')", "")  # no outputs in the twin

    # Outputs are not part of the pair.
    _edit(notebook, lambda nb: nb.cells[1].outputs[0].update(text="0.251\n"))
    assert sync.out_of_step(notebook) is None

    # A code change in the notebook, a tag change, a new cell: out of step until re-synced.
    for change in (
        lambda nb: nb.cells[1].update(source="x = 0.5\nprint(f'{x:.3f}')"),
        lambda nb: nb.cells[1].metadata.update(tags=["remove-cell"]),
        lambda nb: nb.cells.append(nbformat.v4.new_markdown_cell("A new paragraph.")),
    ):
        _edit(notebook, change)
        assert sync.out_of_step(notebook) is not None
        assert sync.main(["--check", str(notebook)]) == 1
        sync.write(notebook)
        assert sync.out_of_step(notebook) is None
        assert sync.main(["--check", str(notebook)]) == 0

    # An edit of the text twin alone is caught too.
    twin.write_text(twin.read_text().replace("More prose.", "More prose, changed."))
    assert "differ from cell 2" in sync.out_of_step(notebook)

    # A twin whose chapter is gone.
    (twin.parent / "02_gone.md").write_text("# Gone\n")
    assert sync.orphans(notebook.parent) == [twin.parent / "02_gone.md"]


@pytest.mark.slow  # jupytext's command line in a subprocess
def test_jupytext_pairing_in_pyproject_writes_the_same_twin(tmp_path):
    """`jupytext --sync` (and Jupyter with jupytext) use pyproject.toml's pairing: the same file."""
    jupytext_cli = Path(sys.executable).with_name("jupytext")
    if not jupytext_cli.exists():
        pytest.skip("jupytext's command is not installed next to this Python")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    notebook = _chapter(tmp_path)
    subprocess.run([str(jupytext_cli), "--sync", str(notebook)], cwd=tmp_path, check=True, capture_output=True)
    assert sync.text_path(notebook).read_text() == sync.twin_text(notebook)
