"""Grade a folder of submitted notebooks of one chapter into a CSV of points per question.

    python tools/grade_assignments.py 02_activations SUBMISSIONS_FOLDER [--out grades.csv]
    make grade CHAPTER=02_activations SUBMISSIONS=folder

Runs otter-grader's own grading without Docker (:func:`otter.api.grade_submission`) with the
chapter's autograder (``_build/assignments/NN/autograder.zip``, from ``make assignments``) on
every ``*.ipynb`` of the folder, in this environment: each grading executes the whole notebook
in a fresh kernel, then runs the public and hidden checks. The CSV has one row per notebook:
its file name, the points of each autograded question, their total, the possible points, and
one empty column per written question (graded by hand with the rubric of the instructors'
edition). ``--jobs N`` grades N notebooks at a time (each uses about one CPU core).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from convlens.files import write_text_atomic  # noqa: E402

STAGGER_S = 10.0
"""Seconds between the first ``jobs`` gradings' starts: one run with two kernels launched at the
same instant hung here (jupyter_client picks each kernel's ports before binding them)."""


def grade_one(notebook: str, autograder: str) -> dict[str, float]:
    """Points per autograded question of one submission (otter, no Docker)."""
    from otter.api import grade_submission

    results = grade_submission(notebook, autograder, quiet=True)
    return {name: float(result.score) for name, result in results.results.items()}


def spec(chapter: str) -> dict:
    return yaml.safe_load((ROOT / "book" / "assignments" / f"{chapter}.yml").read_text())


def grade_folder(chapter: str, submissions: Path, autograder: Path | None = None,
                 jobs: int = 1) -> tuple[list[str], list[list]]:
    """Grade every notebook of ``submissions``; return the CSV's header and rows."""
    autograder = autograder or ROOT / "_build" / "assignments" / chapter / "autograder.zip"
    if not autograder.is_file():
        raise SystemExit(f"{autograder} is missing: run `make assignments` first.")
    questions = spec(chapter)["questions"]
    auto = [q["name"] for q in questions if not q.get("manual")]
    manual = [q["name"] for q in questions if q.get("manual")]
    possible = sum(q["points"] for q in questions if not q.get("manual"))
    notebooks = sorted(submissions.glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"No .ipynb in {submissions}.")
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = []
        for index, notebook in enumerate(notebooks):
            if 0 < index < jobs:
                time.sleep(STAGGER_S)  # kernels started at the same instant can race for ports
            futures.append(pool.submit(grade_one, str(notebook), str(autograder)))
        scores = [future.result() for future in futures]
    header = ["notebook", *auto, "total", "possible", *(f"{m} (by hand)" for m in manual)]
    rows = []
    for notebook, points in zip(notebooks, scores, strict=True):
        values = [points.get(name, 0.0) for name in auto]
        rows.append([notebook.name, *values, sum(values), possible, *([""] * len(manual))])
    return header, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapter", help="e.g. 02_activations")
    parser.add_argument("submissions", type=Path, help="folder of submitted .ipynb files")
    parser.add_argument("--out", type=Path, help="CSV file (default: SUBMISSIONS/grades.csv)")
    parser.add_argument("--autograder", type=Path)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    header, rows = grade_folder(args.chapter, args.submissions, args.autograder, args.jobs)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    out = args.out or args.submissions / "grades.csv"
    write_text_atomic(out, buffer.getvalue())
    print(f"{len(rows)} notebooks graded in {time.perf_counter() - start:.0f} s: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
