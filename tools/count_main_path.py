"""Count the main path of chapters 2-4: its figures and its words of prose (issue 18).

The counting rule:

- **Main path**: every cell of the chapter notebook before the first ``## Exercises`` heading
  (a markdown line that is exactly ``## Exercises``, or ``## Check your understanding``, the
  self-check questions just before it; a cell holding it counts up to the heading).
  Exercises, their solutions and anything after them are not counted. A chapter without that
  heading is counted whole, and the table says so.
- **Figures**: in code cells, every output that carries an image (``image/png``,
  ``image/jpeg``, ``image/svg+xml``, ...) counts one; an HTML output counts its ``<img>``
  tags, except a no-kernel viewer (``convlens-pager``), which is not a figure; widget views
  count nothing. Outputs of cells tagged ``remove-output`` or ``remove-cell`` are not in the
  book and not counted (folded ``hide-*`` cells are, they are on the page). In markdown cells,
  every image counts one: ``![...](...)``, ``<img>``, and ``{image}`` / ``{figure}``
  directives.
- **Words of prose**: markdown cells only (never code), after removing fenced code blocks
  (but not the text inside MyST directives such as ``{note}``), display maths ``$$...$$``,
  HTML comments and tags, images, directive option lines (``:class: dropdown``), and link
  targets (``[text](target)`` counts ``text``). A word is a run of non-blank characters with
  at least one letter or digit, so ``0.559`` and ``conv2d_2`` are one word each and ``##``
  or ``-`` none.

Limits (issue 18): at most 8 main-path figures and 1,800 words a chapter, at most 22 figures
in chapters 2-4 together. The script prints a table and exits with 1 when a limit is
exceeded, 0 otherwise.

Usage: python tools/count_main_path.py [--book book] [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

MAX_FIGURES = 8
MAX_WORDS = 1800
MAX_TOTAL_FIGURES = 22
CHAPTERS = ("02", "03", "04")
"""The chapters counted by default: book/02_*.ipynb, book/03_*.ipynb, book/04_*.ipynb."""

# The self-check questions (issue 27) sit just before the Exercises and end the main path too.
EXERCISES = re.compile(r"^##\s+(?:Exercises|Check your understanding)\s*$", re.MULTILINE)
HIDDEN_TAGS = {"remove-output", "remove-cell"}
PAGER = "convlens-pager"
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$",
                    re.MULTILINE | re.DOTALL)
_MARKDOWN_IMAGES = re.compile(r"!\[[^\]]*\]\([^)]*\)|<img\b[^>]*>|^(?:`{3,}|:{3,})\{(?:image|figure)\}",
                              re.IGNORECASE | re.MULTILINE)
_WORD = re.compile(r"[^\W_]", re.UNICODE)


@dataclass
class ChapterCount:
    """What the main path of one chapter holds."""

    name: str
    figures: int
    words: int
    has_exercises: bool


def main_path(notebook) -> tuple[list, bool]:
    """The cells before the ``## Exercises`` heading (the heading's own cell cut there), and whether it exists."""
    cells = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            found = EXERCISES.search(cell.source)
            if found:
                before = cell.source[: found.start()]
                if before.strip():
                    cells.append(nbformat.v4.new_markdown_cell(before))
                return cells, True
        cells.append(cell)
    return cells, False


def _output_figures(output) -> int:
    data = output.get("data", {})
    if any(mime.startswith("image/") for mime in data):
        return 1
    page = data.get("text/html", "")
    page = "".join(page) if isinstance(page, list) else page
    if PAGER in page:
        return 0
    return len(re.findall(r"<img\b", page, flags=re.IGNORECASE))


def count_figures(cells) -> int:
    """Image outputs of the shown code cells plus images in markdown (see the module's rule)."""
    total = 0
    for cell in cells:
        if cell.cell_type == "code":
            if HIDDEN_TAGS.intersection(cell.get("metadata", {}).get("tags", [])):
                continue
            total += sum(_output_figures(output) for output in cell.get("outputs", []))
        elif cell.cell_type == "markdown":
            total += len(_MARKDOWN_IMAGES.findall(cell.source))
    return total


def prose(source: str) -> str:
    """The prose of one markdown cell: what a reader reads as words (see the module's rule)."""

    def fence(match: re.Match) -> str:
        info = match["info"].strip()
        if info.startswith("{") and not re.match(r"\{(code-cell|code-block|code|image|figure|math)\}", info):
            return match["body"]  # a MyST directive holding prose ({note}, {exercise} ...)
        return ""

    text = _FENCE.sub(fence, source)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.DOTALL)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.DOTALL)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\{[\w:-]+\}`([^`]*)`", r"\1", text)
    text = re.sub(r"^:[\w-]+:.*$", " ", text, flags=re.MULTILINE)
    return re.sub(r"<[^>]+>", " ", text)


def count_words(cells) -> int:
    """Words of the markdown cells' prose (code cells never count)."""
    return sum(sum(1 for token in prose(cell.source).split() if _WORD.search(token))
               for cell in cells if cell.cell_type == "markdown")


def count_chapter(path: Path) -> ChapterCount:
    """Figures and words of one chapter notebook's main path."""
    cells, has_exercises = main_path(nbformat.read(path, as_version=4))
    return ChapterCount(path.stem, count_figures(cells), count_words(cells), has_exercises)


def over_limits(counts: list[ChapterCount]) -> list[str]:
    """What exceeds the limits, one line each (empty: all within)."""
    problems = [f"{c.name}: {c.figures} figures (at most {MAX_FIGURES})" for c in counts if c.figures > MAX_FIGURES]
    problems += [f"{c.name}: {c.words} words (at most {MAX_WORDS})" for c in counts if c.words > MAX_WORDS]
    total = sum(c.figures for c in counts)
    if total > MAX_TOTAL_FIGURES:
        problems.append(f"together: {total} figures (at most {MAX_TOTAL_FIGURES})")
    return problems


def table(counts: list[ChapterCount]) -> str:
    """The counts as a plain-text table, with the limits and a total row."""
    lines = [f"{'chapter (main path)':<28}{'figures':>8}{'words':>8}", "-" * 44]
    for c in counts:
        note = "" if c.has_exercises else "  (no '## Exercises' heading: counted whole)"
        lines.append(f"{c.name:<28}{c.figures:>8}{c.words:>8}{note}")
    lines += ["-" * 44, f"{'together':<28}{sum(c.figures for c in counts):>8}{sum(c.words for c in counts):>8}",
              f"{'limits':<28}{f'{MAX_FIGURES}/ch.':>8}{MAX_WORDS:>8}   ({MAX_TOTAL_FIGURES} figures together)"]
    return "\n".join(lines)


def chapter_paths(book: Path) -> list[Path]:
    """The notebooks of chapters 2-4 in ``book`` (``02_*.ipynb`` ...)."""
    return [path for number in CHAPTERS for path in sorted(book.glob(f"{number}_*.ipynb"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="chapter notebooks (default: chapters 2-4 of --book)")
    parser.add_argument("--book", type=Path, default=Path(__file__).resolve().parents[1] / "book")
    args = parser.parse_args(argv)
    paths = args.notebooks or chapter_paths(args.book)
    if not paths:
        print(f"no chapter notebook found in {args.book}", file=sys.stderr)
        return 2
    counts = [count_chapter(path) for path in paths]
    print(table(counts))
    problems = over_limits(counts)
    for problem in problems:
        print(f"over the limit: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
