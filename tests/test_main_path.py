"""tools/count_main_path.py: the main path of chapters 2-4 within 8 figures and 1,800 words each (issue 18).

The rule is checked on small synthetic notebooks (so that the tool itself is tested), then the
tool is run on the book's chapters.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("count_main_path", ROOT / "tools" / "count_main_path.py")
count_main_path = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = count_main_path
_spec.loader.exec_module(count_main_path)

PNG = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480 with 1 Axes>"}


def _figure_cell(count: int = 1, tags=()):
    cell = new_code_cell("plot()", metadata={"tags": list(tags)} if tags else {})
    cell.outputs = [new_output("display_data", data=dict(PNG)) for _ in range(count)]
    return cell


def _write(tmp_path: Path, name: str, cells) -> Path:
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(new_notebook(cells=cells), path)
    return path


def test_the_rule_counts_what_a_reader_sees_before_the_exercises(tmp_path):
    pager = new_code_cell("pager()")
    pager.outputs = [new_output("display_data", data={"text/html": '<div class="convlens-pager"><img src="a"><img>'})]
    html = new_code_cell("html()")
    html.outputs = [new_output("execute_result", data={"text/html": "<p><img src='x.png'></p>"}, execution_count=1),
                    new_output("stream", name="stdout", text="one two three four\n")]
    cells = [
        new_markdown_cell("# 2. A title\n\nOne two three, `conv2d_2` reads 0.559 -- see [the lecture](https://x.org)."),
        new_markdown_cell("<!-- a note -->\n```python\nnot = counted + at_all\n```\n![a grid](grid.png)\n$$x^2$$"),
        new_markdown_cell("```{note}\n:class: dropdown\nFour words of prose.\n```\n<img src='b.png'/>"),
        _figure_cell(2),
        new_code_cell("# a comment with many words that are code, not prose"),
        pager,
        html,
        _figure_cell(3, tags=["remove-output"]),
        _figure_cell(1, tags=["hide-cell"]),
        new_markdown_cell("Last words here.\n\n## Exercises\n\nExercise text is not counted."),
        _figure_cell(5),
        new_markdown_cell("## Closing note\n\nNot counted either."),
    ]
    count = count_main_path.count_chapter(_write(tmp_path, "02_fake", cells))
    # "2. A title" is 3 words ('#' none), "One two three, `conv2d_2` reads 0.559 -- see the lecture." 9 ('--' none)
    assert count_main_path.count_words([cells[0]]) == 3 + 9
    assert count_main_path.count_words([cells[1]]) == 0
    assert count_main_path.count_words([cells[2]]) == 4
    assert count.words == 12 + 0 + 4 + 3
    # figures: markdown ![..] and <img> (2), two image outputs, the HTML <img> (1), the folded cell (1)
    assert count.figures == 2 + 2 + 1 + 1
    assert count.has_exercises


def test_a_chapter_without_exercises_is_counted_whole(tmp_path):
    path = _write(tmp_path, "03_fake", [new_markdown_cell("Just two."), _figure_cell(2)])
    count = count_main_path.count_chapter(path)
    assert (count.figures, count.words, count.has_exercises) == (2, 2, False)
    assert "counted whole" in count_main_path.table([count])


@pytest.mark.parametrize(
    ("figures", "words", "failing"),
    [
        ([8, 7, 7], [1800, 10, 10], []),
        ([9, 1, 1], [10, 10, 10], ["02_x: 9 figures"]),
        ([1, 1, 1], [10, 1801, 10], ["03_x: 1801 words"]),
        ([8, 8, 7], [10, 10, 10], ["together: 23 figures"]),
    ],
)
def test_the_limits_fail_the_run(tmp_path, capsys, figures, words, failing):
    paths = [_write(tmp_path, f"0{n}_x", [new_markdown_cell(" ".join(["word"] * w)), _figure_cell(f)])
             for n, f, w in zip((2, 3, 4), figures, words, strict=True)]
    status = count_main_path.main([str(p) for p in paths])
    out = capsys.readouterr().out
    assert status == (1 if failing else 0)
    assert all(f"over the limit: {line}" in out for line in failing), out
    assert f"{'together':<28}{sum(figures):>8}{sum(words):>8}" in out


def test_no_chapter_is_an_error(tmp_path, capsys):
    assert count_main_path.main(["--book", str(tmp_path)]) == 2


def test_the_books_chapters_are_within_the_limits(capsys):
    """Chapters 2-4: at most 8 main-path figures and 1,800 words each, 22 figures together."""
    paths = count_main_path.chapter_paths(ROOT / "book")
    assert [p.name[:2] for p in paths] == ["02", "03", "04"]
    status = count_main_path.main([str(p) for p in paths])
    assert status == 0, capsys.readouterr().out
