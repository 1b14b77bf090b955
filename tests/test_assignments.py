"""The chapters' assignments (tools/make_assignments.py, tools/grade_assignments.py; issue 27).

- No student notebook holds any solution: every line of every solution (code and text, other
  than lines that the chapter also has outside its solutions) is searched for in every string
  of the notebook's JSON, outputs and metadata included, and in its public checks.
- The committed student notebooks (``assignments/NN/``) are those that the chapters build.
- Grading with otter, without Docker, as ``make grade`` does: for each chapter, one submission
  holds a solved answer, an unsolved one and a wrong one (see ``graded``): the solved questions
  earn full marks, the one left as the student notebook has it (``...``) zero, and the one
  answered wrong loses its points and no other's. Each grading executes a whole chapter (35-130
  s on a 2-core machine), so one submission per chapter; they run two at a time (``slow``:
  ``make unit`` leaves them out).
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import grade_assignments  # noqa: E402
import make_assignments  # noqa: E402

CHAPTERS = make_assignments.CHAPTERS

# One realistic mistake per chapter, set in the solved notebook just before its check cell
# (in grading, otter records each question's result where its grader.check cell runs), and one
# question left unsolved (its answer cell as in the student notebook).
WRONG = {
    "01_model_and_data": ("params", 'parameter_counts = {"conv2d_2": 3 * 3 * 32 * 64, '
                                    '"dense_1": 6272 * 512}  # biases forgotten'),
    "02_activations": ("scaling", "chollet_blank = 128.0  # the mid-grey of the formula"),
    "03_filters": ("pool", "def pool_from_conv(conv_maps):\n"
                           "    return conv_maps[:, ::2, ::2]  # subsampling, not the maximum"),
    "04_gradcam": ("layer", 'grid_sides = {"conv2d_2": 74, "conv2d_3": 36, "conv2d_4": 15}'),
}
UNSOLVED = {"01_model_and_data": "augment", "02_activations": "sparsity", "03_filters": "reg",
            "04_gradcam": "sanity"}


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
def graded(built) -> dict[str, dict[str, float]]:
    """Grade one submission per chapter, two chapters at a time: points per question.

    The submission is the solved notebook with question ``WRONG`` answered wrong and question
    ``UNSOLVED`` left as the student notebook has it; every other autograded question solved.
    """
    def grade(chapter: str) -> dict[str, float]:
        folder = built[chapter] / "submission"
        folder.mkdir()
        wrong, answer = WRONG[chapter]
        unsolved = UNSOLVED[chapter]
        solved = nbformat.read(built[chapter] / "instructor" / f"{chapter}.ipynb", as_version=4)
        student = nbformat.read(built[chapter] / "student" / f"{chapter}.ipynb", as_version=4)
        blank = student.cells[_answer_index(student, unsolved)].source
        assert "..." in blank
        solved.cells[_answer_index(solved, unsolved)].source = blank
        solved.cells.insert(_answer_index(solved, wrong) + 1, nbformat.v4.new_code_cell(answer))
        nbformat.write(solved, folder / "mixed.ipynb")
        header, rows = grade_assignments.grade_folder(
            chapter, folder, built[chapter] / "autograder.zip", timeout=600)
        return dict(zip(header, rows[0], strict=True))

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {}
        for index, chapter in enumerate(CHAPTERS):
            if index == 1:
                time.sleep(grade_assignments.STAGGER_S)  # kernels started at once can race for ports
            futures[chapter] = pool.submit(grade, chapter)
        results = {chapter: future.result() for chapter, future in futures.items()}
    print(results)
    return results


def _points(chapter: str) -> dict[str, float]:
    spec = grade_assignments.spec(chapter)
    return {q["name"]: float(q["points"]) for q in spec["questions"] if not q.get("manual")}


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_grading_solved_unsolved_and_one_wrong(graded, chapter):
    points = _points(chapter)
    wrong, unsolved = WRONG[chapter][0], UNSOLVED[chapter]
    assert len(points) >= 3 and wrong != unsolved
    # solved: full marks; the wrong answer and the unsolved one: zero, and no other points lost
    assert {name: graded[chapter][name] for name in points} == {**points, wrong: 0.0, unsolved: 0.0}


def test_a_stopped_grading_takes_its_kernel_with_it():
    """A grading that runs past its time is killed with the process below it, which jupyter_client
    starts in a session of its own as it does a kernel (a process-group kill would miss it)."""
    import subprocess

    import psutil

    spawn = ("import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; "
             "time.sleep(600)'], start_new_session=True); time.sleep(600)")
    process = subprocess.Popen([sys.executable, "-c", spawn], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 30
    while not psutil.Process(process.pid).children() and time.monotonic() < deadline:
        time.sleep(0.1)
    (kernel,) = psutil.Process(process.pid).children()
    assert kernel.pid != process.pid and os.getsid(kernel.pid) != os.getsid(process.pid)
    grade_assignments.stop_process_tree(process)
    assert process.returncode is not None
    assert not psutil.pid_exists(kernel.pid) or kernel.status() == psutil.STATUS_ZOMBIE
