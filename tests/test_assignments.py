"""The chapters' assignments (tools/make_assignments.py, tools/grade_assignments.py; issue 27).

- No student notebook holds any solution: every line of every solution (code and text, other
  than lines that the chapter also has outside its solutions) is searched for in every string
  of the notebook's JSON, outputs and metadata included, and in its public checks.
- The committed student notebooks (``assignments/NN/``) are those that the chapters build.
- Grading with otter, without Docker, as ``make grade`` does: for each chapter, the solved
  notebook scores full marks on every autograded question, the unsolved student notebook
  scores zero on each, and the solved notebook with one deliberately wrong answer loses that
  question's points and no other's. Each grading executes a whole chapter (35-55 s on an idle
  2-core machine), so two notebooks per chapter cover the three cases (see ``graded``); they
  run two at a time (``slow``: ``make unit`` leaves them out).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import grade_assignments  # noqa: E402
import make_assignments  # noqa: E402

CHAPTERS = make_assignments.CHAPTERS

# One realistic mistake per chapter, set in the solved notebook just before its check cell
# (in grading, otter records each question's result where its grader.check cell runs).
WRONG = {
    "01_model_and_data": ("params", 'parameter_counts = {"conv2d_2": 3 * 3 * 32 * 64, '
                                    '"dense_1": 6272 * 512}  # biases forgotten'),
    "02_activations": ("scaling", "chollet_blank = 128.0  # the mid-grey of the formula"),
    "03_filters": ("pool", "def pool_from_conv(conv_maps):\n"
                           "    return conv_maps[:, ::2, ::2]  # subsampling, not the maximum"),
    "04_gradcam": ("layer", 'grid_sides = {"conv2d_2": 74, "conv2d_3": 36, "conv2d_4": 15}'),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("assignments")
    return {chapter: make_assignments.build(chapter, out) for chapter in CHAPTERS}


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in (*_strings(key), *_strings(item))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def solution_lines(chapter: str) -> list[str]:
    """Lines of the chapter's solutions that appear nowhere else in the chapter."""
    nb = nbformat.read(ROOT / "book" / f"{chapter}.ipynb", as_version=4)
    items, exercises = make_assignments.parse_chapter(nb)
    skeletons = [q.get("answer", "") for q in grade_assignments.spec(chapter)["questions"]]
    elsewhere = "\n".join(
        [item.source for item in items if not isinstance(item, tuple)]
        + [exercise.text for exercise in exercises.values()]
        + skeletons  # the answer cells' skeletons (a variable, a function's signature)
    )
    lines = []
    for exercise in exercises.values():
        for block in (*exercise.solution_code, *exercise.solution_text):
            for line in block.split("\n"):
                line = line.strip()
                if len(line) >= 12 and line not in elsewhere and any(c.isalpha() for c in line):
                    lines.append(line)
    return lines


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_notebook_holds_no_solution(built, chapter):
    student = built[chapter] / "student"
    text = "\n".join(_strings(json.loads((student / f"{chapter}.ipynb").read_text())))
    text += "\n".join(p.read_text() for p in (student / "tests").glob("*.py"))
    lines = solution_lines(chapter)
    assert len(lines) > 20, "the chapter's solutions were not found"
    leaked = [line for line in lines if line in text]
    assert not leaked, f"solution lines in the student notebook of {chapter}: {leaked[:5]}"
    # the check can fail: the instructor notebook holds them
    instructor = (built[chapter] / "instructor" / f"{chapter}.ipynb").read_text()
    assert sum(line in "\n".join(_strings(json.loads(instructor))) for line in lines) > 20


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_notebook_has_answer_cells_checks_and_no_outputs(built, chapter):
    nb = nbformat.read(built[chapter] / "student" / f"{chapter}.ipynb", as_version=4)
    spec = grade_assignments.spec(chapter)
    sources = [cell.source for cell in nb.cells]
    assert "otter-grader==" in sources[0] and "fetch_checks" in sources[0]
    assert sources[1].startswith("# Initialize Otter")
    for name in make_assignments.question_names(spec):
        assert f'grader.check("{name}")' in sources
    assert all(not cell.get("outputs") for cell in nb.cells)
    assert not any("{selfcheck}" in source for source in sources)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_committed_assignment_is_up_to_date(built, chapter):
    stale = make_assignments.out_of_date(chapter, built[chapter])
    assert not stale, f"assignments/{chapter}: {stale} differ from the chapter; run make assignments"


def _answer_index(nb, name: str) -> int:
    """The index of the cell just before question ``name``'s check cell: its answer cell."""
    return [cell.source for cell in nb.cells].index(f'grader.check("{name}")') - 1


@pytest.fixture(scope="module")
def graded(built, tmp_path_factory) -> dict[str, dict[str, dict]]:
    """Grade two notebooks per chapter, two at a time; rows by file stem.

    ``wrong``: the solved notebook with question A (``WRONG``) answered wrong;
    ``unsolved``: the student notebook with only question A answered (its solution).
    Between them every autograded question is graded solved, unsolved and wrong (A wrong in
    ``wrong``, solved in ``unsolved``; the others solved in ``wrong``, unsolved in ``unsolved``),
    with 8 executions of a chapter instead of 12.
    """
    results = {}
    for chapter in CHAPTERS:
        folder = tmp_path_factory.mktemp(f"submissions-{chapter}")
        name, answer = WRONG[chapter]
        solved = nbformat.read(built[chapter] / "instructor" / f"{chapter}.ipynb", as_version=4)
        student = nbformat.read(built[chapter] / "student" / f"{chapter}.ipynb", as_version=4)
        assert "..." in student.cells[_answer_index(student, name)].source
        student.cells[_answer_index(student, name)].source = solved.cells[_answer_index(solved, name)].source
        nbformat.write(student, folder / "unsolved.ipynb")
        solved.cells.insert(_answer_index(solved, name) + 1, nbformat.v4.new_code_cell(answer))
        nbformat.write(solved, folder / "wrong.ipynb")
        header, rows = grade_assignments.grade_folder(
            chapter, folder, built[chapter] / "autograder.zip", jobs=2)
        results[chapter] = {row[0].removesuffix(".ipynb"): dict(zip(header, row, strict=True))
                            for row in rows}
        print(chapter, results[chapter])
    return results


def _points(chapter: str) -> dict[str, float]:
    spec = grade_assignments.spec(chapter)
    return {q["name"]: float(q["points"]) for q in spec["questions"] if not q.get("manual")}


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_grading_solved_unsolved_and_one_wrong(graded, chapter):
    points = _points(chapter)
    rows = graded[chapter]
    wrong = WRONG[chapter][0]
    # solved: full marks; one wrong answer: that question's points lost, no other's
    assert {name: rows["wrong"][name] for name in points} == {**points, wrong: 0.0}
    # unsolved: zero on each question; the one answered: its full marks
    assert {name: rows["unsolved"][name] for name in points} == {
        **dict.fromkeys(points, 0.0), wrong: points[wrong]}
