"""Text twins of the chapters: ``book/text/NN_name.md`` (MyST markdown) for each ``book/NN_name.ipynb``.

A chapter's ``.ipynb`` stores its outputs (figures as base64), so a one-line code change is
buried in megabytes of diff. Its twin holds the same cells (markdown, code, raw) and their tags,
and no outputs: that is the file to read in a review. MyST markdown, not ``py:percent``, because
a chapter is mostly prose: the prose stays prose (headings, lists, ``{cite:p}`` roles), the code
sits in ``{code-cell}`` blocks, and the diff of a reworded paragraph reads as text.

The twins live in ``book/text/``, which ``_config.yml`` excludes, so Jupyter Book never sees two
sources of one chapter. jupytext writes them: the pairing and its options (no notebook header,
cell tags kept) are ``pyproject.toml``'s ``[tool.jupytext]``, which jupytext reads for every
notebook of the repository, so this script's writing is ``jupytext --to text//md:myst NOTEBOOK``
(run in this process), and ``jupytext --sync`` or Jupyter with jupytext installed write the same
files. What jupytext has no command for is here: a check that names every pair out of step, and
the twins whose chapter is gone.

Usage:
    python tools/sync_notebooks.py [NOTEBOOK ...]          # (re)write the twins from the notebooks
    python tools/sync_notebooks.py --check [NOTEBOOK ...]  # exit 1 and name every pair out of step

With no NOTEBOOK, every ``book/*.ipynb``. The notebook is the source of truth here (``--to``, not
``--sync``, which takes the cells from whichever file was changed last); to edit the text
instead, see the README ("How to edit a chapter").
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import jupytext
import jupytext.cli
import nbformat
from jupytext.config import load_jupytext_configuration_file

ROOT = Path(__file__).resolve().parents[1]
TEXT_FOLDER = "text"
TEXT_FORMAT = next(
    fmt
    for fmt in load_jupytext_configuration_file(str(ROOT / "pyproject.toml")).formats[0].split(",")
    if fmt != "ipynb"
)
"""jupytext's name of the twin's format, as ``pyproject.toml`` pairs it: ``text//md:myst``."""


def text_path(notebook: Path) -> Path:
    """Where the text twin of ``notebook`` lives: ``<folder>/text/<stem>.md``."""
    return notebook.parent / TEXT_FOLDER / f"{notebook.stem}.md"


def _jupytext(*arguments: str) -> None:
    """jupytext's command line, in this process; a failure is an error, not a quiet exit code."""
    if jupytext.cli.jupytext([*arguments, "--quiet"]) != 0:
        raise RuntimeError(f"jupytext {' '.join(arguments)} failed")


def twin_text(notebook: Path) -> str:
    """The text twin of ``notebook`` as jupytext writes it (with the configuration it finds for the notebook)."""
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / f"{notebook.stem}.md"
        _jupytext("--to", TEXT_FORMAT.split("//")[-1], "--output", str(output), str(notebook))
        return output.read_text(encoding="utf-8")


def cell_sources(notebook: nbformat.NotebookNode) -> list[tuple[str, str, list[str]]]:
    """(type, source, tags) of every cell: what a pair must agree on (outputs are left out)."""
    return [(cell.cell_type, cell.source, list(cell.metadata.get("tags", []))) for cell in notebook.cells]


def out_of_step(notebook: Path) -> str | None:
    """Why ``notebook`` and its twin disagree, or None when they hold the same cells."""
    twin = text_path(notebook)
    if not twin.is_file():
        return f"{twin} is missing"
    cells = cell_sources(nbformat.read(notebook, as_version=4))
    twin_cells = cell_sources(jupytext.read(twin, fmt=TEXT_FORMAT.split("//")[-1]))
    if cells == twin_cells:
        return None
    if len(cells) != len(twin_cells):
        return f"{notebook} has {len(cells)} cells, {twin} has {len(twin_cells)}"
    first = next(i for i, (a, b) in enumerate(zip(cells, twin_cells, strict=True)) if a != b)
    return f"{notebook} and {twin} differ from cell {first} on"


def orphans(folder: Path) -> list[Path]:
    """Text twins whose notebook is gone."""
    text_folder = folder / TEXT_FOLDER
    if not text_folder.is_dir():
        return []
    return sorted(p for p in text_folder.glob("*.md") if not (folder / f"{p.stem}.ipynb").is_file())


def write(notebook: Path) -> bool:
    """(Re)write the twin of ``notebook`` with ``jupytext --to``; return whether it changed."""
    twin = text_path(notebook)
    before = twin.read_text(encoding="utf-8") if twin.is_file() else None
    _jupytext("--to", TEXT_FORMAT, str(notebook))
    return twin.read_text(encoding="utf-8") != before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="report pairs out of step; write nothing")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    if args.check:
        problems = [p for p in map(out_of_step, notebooks) if p]
        problems += [f"{p} has no notebook" for p in orphans(ROOT / "book")] if not args.notebooks else []
        for problem in problems:
            print(f"out of step: {problem}; fix: make sync (after editing the .ipynb)", file=sys.stderr)
        return 1 if problems else 0
    for notebook in notebooks:
        print(f"{text_path(notebook)}: {'written' if write(notebook) else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
