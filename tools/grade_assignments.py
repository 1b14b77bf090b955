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

Each notebook is graded in a fresh Python process of its own (``--one``), killed with its kernel
after ``--timeout`` seconds: otter executes without a time limit, and a grading forked from a
process with TensorFlow's threads running (pytest's, say) can hang for good.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from convlens.files import write_text_atomic  # noqa: E402

STAGGER_S = 10.0
"""Seconds between the first ``jobs`` gradings' starts: one run with two kernels launched at the
same instant hung here (jupyter_client picks each kernel's ports before binding them)."""


TIMEOUT_S = 1200.0
"""Seconds one grading may take: a chapter executes in 35-130 s on a 2-core machine."""


def grade_one(notebook: str, autograder: str) -> dict[str, float]:
    """Points per autograded question of one submission (otter, no Docker), in this process."""
    from otter.api import grade_submission

    results = grade_submission(notebook, autograder, quiet=True)
    return {name: float(result.score) for name, result in results.results.items()}


def stop_process_tree(process: subprocess.Popen) -> None:
    """Kill ``process`` and every process below it: jupyter_client starts each kernel in a session
    of its own, so killing the grader's process group would leave its kernel running."""
    import psutil

    try:
        family = [*psutil.Process(process.pid).children(recursive=True), psutil.Process(process.pid)]
    except psutil.NoSuchProcess:
        family = []
    for member in family:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)
    process.communicate()


def grade_in_subprocess(notebook: str, autograder: str, timeout: float = TIMEOUT_S) -> dict[str, float]:
    """:func:`grade_one` in a process of its own, killed with its kernel after ``timeout`` s."""
    command = [sys.executable, str(Path(__file__).resolve()), "--one", notebook, "--autograder", autograder]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_process_tree(process)
        raise RuntimeError(
            f"Grading {notebook} took over {timeout:.0f} s and was stopped: a cell that never ends, "
            f"or a kernel that hung at start. Run the notebook in Jupyter to see which, or pass a "
            f"longer --timeout.") from None
    if process.returncode != 0:
        raise RuntimeError(f"Grading {notebook} failed (exit {process.returncode}):\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def spec(chapter: str) -> dict:
    return yaml.safe_load((ROOT / "book" / "assignments" / f"{chapter}.yml").read_text())


def grade_folder(chapter: str, submissions: Path, autograder: Path | None = None,
                 jobs: int = 1, timeout: float = TIMEOUT_S) -> tuple[list[str], list[list]]:
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
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = []
        for index, notebook in enumerate(notebooks):
            if 0 < index < jobs:
                time.sleep(STAGGER_S)  # kernels started at the same instant can race for ports
            futures.append(pool.submit(grade_in_subprocess, str(notebook), str(autograder), timeout))
        scores = [future.result() for future in futures]
    header = ["notebook", *auto, "total", "possible", *(f"{m} (by hand)" for m in manual)]
    rows = []
    for notebook, points in zip(notebooks, scores, strict=True):
        values = [points.get(name, 0.0) for name in auto]
        rows.append([notebook.name, *values, sum(values), possible, *([""] * len(manual))])
    return header, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapter", nargs="?", help="e.g. 02_activations")
    parser.add_argument("submissions", type=Path, nargs="?", help="folder of submitted .ipynb files")
    parser.add_argument("--out", type=Path, help="CSV file (default: SUBMISSIONS/grades.csv)")
    parser.add_argument("--autograder", type=Path)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per notebook")
    parser.add_argument("--one", metavar="NOTEBOOK",
                        help="grade this one notebook with --autograder here; print its points as JSON")
    args = parser.parse_args(argv)
    if args.one:
        if args.autograder is None:
            parser.error("--one needs --autograder")
        print(json.dumps(grade_one(args.one, str(args.autograder))))
        return 0
    if args.chapter is None or args.submissions is None:
        parser.error("give the chapter and the folder of submissions")
    start = time.perf_counter()
    header, rows = grade_folder(args.chapter, args.submissions, args.autograder, args.jobs, args.timeout)
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
