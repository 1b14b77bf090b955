"""Build the assignments of chapters 1-4 from the chapters themselves (issue 27).

The chapters stay the one source of every exercise and solution; ``book/assignments/NN.yml``
says which part of each exercise is graded and how (points, the answer cell a student fills in,
public checks of the answer's form, hidden checks of its value; written parts graded by hand).
For each chapter this tool

1. turns chapter + spec into otter-grader's assignment format (an instructor notebook with
   ``# BEGIN QUESTION`` ... raw cells): the teaching cells as they are (outputs dropped), each
   exercise as a heading and its text, each graded part as a question whose solution is the
   chapter's solution code or text; the self-check questions are left out (they are for the
   online page and are not graded);
2. runs ``otter assign`` (otter-grader 7), which writes the student notebook, its public tests
   and the autograder zip (hidden tests included);
3. makes the student notebook Colab-ready: its first cell installs ``convlens`` and a pinned
   otter-grader and fetches the public checks (``convlens.assignments.fetch_checks``), and it
   holds no output, no solution and deterministic cell ids;
4. writes everything atomically under ``_build/assignments/NN/`` (``student/``,
   ``autograder.zip``, ``instructor/``) and, with ``--update``, the committed copy
   ``assignments/NN/`` (notebook and public tests, what Colab opens); ``--check`` fails when
   that copy is out of date;
5. with ``--print``, writes ``_build/print/exercises.html``, the exercises of the four chapters
   without solutions, as one print-ready page.

Why not nbgrader: otter covers what the book needs (student notebook, public and hidden tests,
grading without Docker through ``otter.api``), and runs in Colab without a course server.
"""

from __future__ import annotations

import argparse
import copy
import html
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from convlens.files import write_text_atomic  # noqa: E402

CHAPTERS = ("01_model_and_data", "02_activations", "03_filters", "04_gradcam")
OTTER_VERSION = "7.0.0"
BUILD = ROOT / "_build" / "assignments"
COMMITTED = ROOT / "assignments"
PRINT = ROOT / "_build" / "print"

FENCE = re.compile(
    r"^(?P<fence>`{3,})\{(?P<kind>exercise|solution-start|solution-end|solution)\}(?P<arg>[^\n]*)\n"
    r"(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
CHECK_HEADING = "## Check your understanding"
ASSIGNMENT_ROLE = re.compile(r"[^\n]*\{assignment\}`[^`]*`[^\n]*\n?")

CONFIG = {
    "init_cell": True,
    "check_all_cell": False,
    "export_cell": False,
    "run_tests": False,
    "runs_on": "colab",
    "tests": {"files": True},
    "generate": {"pdf": False, "zips": False},
}


@dataclass
class Exercise:
    label: str
    title: str
    text: str
    solution_code: list[str] = field(default_factory=list)
    solution_text: list[str] = field(default_factory=list)


def _options(body: str) -> tuple[dict[str, str], str]:
    """Split a directive body into its ``:key: value`` options and the rest."""
    options, lines = {}, body.split("\n")
    while lines and re.match(r"^:[\w-]+:", lines[0]):
        key, _, value = lines.pop(0)[1:].partition(":")
        options[key] = value.strip()
    return options, "\n".join(lines).strip()


def parse_chapter(nb: nbformat.NotebookNode) -> tuple[list, dict[str, Exercise]]:
    """The chapter as a list of items: teaching cells, ``("exercise", label)`` markers.

    Solutions (gated ``solution-start``/``-end`` ranges and plain ``solution`` directives) are
    collected into their :class:`Exercise`; the self-check section is dropped.
    """
    items: list = []
    exercises: dict[str, Exercise] = {}
    current: Exercise | None = None  # inside a gated solution
    skipping = False  # inside the self-check section

    def text_item(text: str) -> None:
        nonlocal skipping
        text = ASSIGNMENT_ROLE.sub("", text)
        if CHECK_HEADING in text:
            before, after = text.split(CHECK_HEADING, 1)
            text_item(before)
            skipping = True
            following = re.search(r"^## ", after, re.MULTILINE)
            if following:
                skipping = False
                text_item(after[following.start():])
            return
        if skipping:
            following = re.search(r"^## ", text, re.MULTILINE)
            if not following:
                return
            skipping = False
            text = text[following.start():]
        if current is not None:
            if text.strip():
                current.solution_text.append(text.strip())
        elif text.strip():
            items.append(nbformat.v4.new_markdown_cell(text.strip()))

    for cell in nb.cells:
        if cell.cell_type == "code":
            if skipping:
                continue
            if current is not None:
                current.solution_code.append(cell.source)
            else:
                clean = nbformat.v4.new_code_cell(cell.source)
                tags = cell.get("metadata", {}).get("tags")
                if tags:
                    clean.metadata["tags"] = list(tags)
                items.append(clean)
            continue
        if cell.cell_type != "markdown":
            continue
        position = 0
        for match in FENCE.finditer(cell.source):
            text_item(cell.source[position:match.start()])
            position = match.end()
            kind = match["kind"]
            options, body = _options(match["body"])
            if kind == "exercise":
                label = options["label"]
                exercises[label] = Exercise(label, match["arg"].strip(), body)
                items.append(("exercise", label))
            elif kind == "solution-start":
                current = exercises[match["arg"].strip()]
            elif kind == "solution-end":
                current = None
            else:  # a plain solution directive: text only
                exercises[match["arg"].strip()].solution_text.append(body)
        text_item(cell.source[position:])
    return items, exercises


def _raw(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_raw_cell(text)


def _code_answer(solution: str, answer: str) -> str:
    """Otter's solution cell: the chapter's code, shown to students as the answer skeleton."""
    prompt = "\n".join(line for line in answer.rstrip().split("\n"))
    return (
        "# BEGIN SOLUTION NO PROMPT\n" + solution.rstrip() + "\n# END SOLUTION\n"
        '""" # BEGIN PROMPT\n' + prompt + '\n"""; # END PROMPT'
    )


def _test_cell(code: str, hidden: bool) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(("# HIDDEN\n" if hidden else "") + code.rstrip())


def master_notebook(chapter: str, nb: nbformat.NotebookNode, spec: dict) -> nbformat.NotebookNode:
    """Chapter + spec in otter's assignment format."""
    items, exercises = parse_chapter(nb)
    questions: dict[str, list[dict]] = {}
    for question in spec["questions"]:
        if question["exercise"] not in exercises:
            raise SystemExit(f"{chapter}.yml: exercise {question['exercise']!r} is not in the chapter")
        questions.setdefault(question["exercise"], []).append(question)
    missing = sorted(set(exercises) - set(questions))
    if missing:
        raise SystemExit(f"{chapter}.yml: no graded part for exercise(s) {', '.join(missing)}")
    cells = [_raw("# ASSIGNMENT CONFIG\n" + yaml.safe_dump(CONFIG, sort_keys=False))]
    cells.append(nbformat.v4.new_code_cell(first_cell(chapter, spec)))
    number = 0
    first_code_skipped = False
    for item in items:
        if isinstance(item, nbformat.NotebookNode):
            if item.cell_type == "code" and not first_code_skipped:
                first_code_skipped = True  # the chapter's install cell, replaced above
                continue
            cells.append(item)
            continue
        exercise = exercises[item[1]]
        number += 1
        cells.append(nbformat.v4.new_markdown_cell(
            f"### Exercise {number}: {exercise.title}\n\n{exercise.text}"))
        solution_code = "\n\n".join(exercise.solution_code) or "pass"
        solution_text = "\n\n".join(exercise.solution_text) or "(no written solution)"
        for part, question in enumerate(questions[exercise.label]):
            letter = "abcdefgh"[part]
            manual = bool(question.get("manual"))
            config = {"name": question["name"], "points": question["points"]}
            if manual:
                config["manual"] = True
            else:
                config["all_or_nothing"] = True
            cells.append(_raw("# BEGIN QUESTION\n" + yaml.safe_dump(config, sort_keys=False)))
            how = "graded by hand" if manual else "checked automatically"
            points = question["points"]
            cells.append(nbformat.v4.new_markdown_cell(
                f"**{number}{letter}** ({points} point{'s' if points != 1 else ''}, {how}). "
                f"{question['prompt']}"))
            cells.append(_raw("# BEGIN SOLUTION"))
            if manual:
                cells.append(nbformat.v4.new_markdown_cell(solution_text))
            else:
                cells.append(nbformat.v4.new_code_cell(
                    _code_answer(solution_code, question["answer"])))
                solution_code = "pass"  # the chapter's code runs once, in the first part
            cells.append(_raw("# END SOLUTION"))
            if not manual:
                cells.append(_raw("# BEGIN TESTS"))
                cells.extend(_test_cell(test, False) for test in question.get("public", []))
                cells.extend(_test_cell(test, True) for test in question.get("hidden", []))
                cells.append(_raw("# END TESTS"))
            cells.append(_raw("# END QUESTION"))
    master = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(nb.metadata))
    return master


def question_names(spec: dict) -> list[str]:
    return [q["name"] for q in spec["questions"] if not q.get("manual")]


def first_cell(chapter: str, spec: dict) -> str:
    """The student notebook's first cell: in Colab, install and fetch the public checks."""
    from convlens import colab

    names = ", ".join(f'"{name}"' for name in question_names(spec))
    return (
        "# Outside a clone of the repository this installs convlens and otter-grader, fetches\n"
        "# the weights and this assignment's public checks (tests/); in a clone it does nothing.\n"
        "try:\n"
        "    import convlens  # noqa: F401\n"
        "    import otter  # noqa: F401\n"
        "except ImportError:\n"
        f'    %pip install -q "{colab.INSTALL_SPEC}" "otter-grader=={OTTER_VERSION}"\n'
        "from convlens.assignments import fetch_checks\n"
        "from convlens.colab import setup_colab\n"
        "\n"
        "setup_colab()\n"
        f'fetch_checks("{chapter}", [{names}])'
    )


def _finish_student(path: Path, chapter: str) -> nbformat.NotebookNode:
    """Drop otter's unpinned install cell, outputs and run metadata; fix the cell ids."""
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if c.source.strip() != "%pip install -q otter-grader"]
    init = [c for c in nb.cells if c.source.startswith("# Initialize Otter")]
    if init and nb.cells[0] is init[0]:  # after the install cell: in Colab otter comes from it
        nb.cells[0], nb.cells[1] = nb.cells[1], nb.cells[0]
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"{chapter[:2]}-{index:03d}"
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in ("tags", "deletable", "editable")}
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in ("kernelspec", "language_info")}
    nb.metadata.setdefault("language_info", {})
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def build(chapter: str, out: Path = BUILD) -> Path:
    """Build one chapter's assignment into ``out/chapter`` (replaced atomically); return it."""
    nb = nbformat.read(ROOT / "book" / f"{chapter}.ipynb", as_version=4)
    spec = yaml.safe_load((ROOT / "book" / "assignments" / f"{chapter}.yml").read_text())
    master = master_notebook(chapter, nb, spec)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{chapter}-", dir=out))
    try:
        source = work / "source" / f"{chapter}.ipynb"
        source.parent.mkdir()
        nbformat.write(master, source)
        result = work / "otter"
        run = subprocess.run(
            [sys.executable, "-m", "otter", "assign", str(source), str(result)],
            capture_output=True, text=True, cwd=work)
        if run.returncode != 0:
            raise SystemExit(f"otter assign failed for {chapter}:\n{run.stdout}\n{run.stderr}")
        target = work / "result"
        (target / "student" / "tests").mkdir(parents=True)
        student = _finish_student(result / "student" / f"{chapter}.ipynb", chapter)
        nbformat.write(student, target / "student" / f"{chapter}.ipynb")
        for test in sorted((result / "student" / "tests").glob("*.py")):
            shutil.copy2(test, target / "student" / "tests" / test.name)
        zips = sorted((result / "autograder").glob("*.zip"))
        shutil.copy2(zips[-1], target / "autograder.zip")
        instructor = nbformat.read(result / "autograder" / f"{chapter}.ipynb", as_version=4)
        (target / "instructor").mkdir()
        nbformat.write(instructor, target / "instructor" / f"{chapter}.ipynb")
        shutil.copy2(source, target / "instructor" / f"{chapter}-otter-source.ipynb")
        final = out / chapter
        old = out / f".{chapter}.old"
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        target.rename(final)
        shutil.rmtree(old, ignore_errors=True)
        return final
    finally:
        shutil.rmtree(work, ignore_errors=True)


def committed_files(built: Path) -> dict[str, str]:
    """The files of ``assignments/NN/`` as built: the student notebook and its public tests."""
    student = built / "student"
    return {str(p.relative_to(student)): p.read_text() for p in sorted(student.rglob("*")) if p.is_file()}


def update(chapter: str, built: Path) -> None:
    folder = COMMITTED / chapter
    wanted = committed_files(built)
    for path in sorted(folder.rglob("*")) if folder.exists() else []:
        if path.is_file() and str(path.relative_to(folder)) not in wanted:
            path.unlink()
    for name, text in wanted.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder / name, text)


def out_of_date(chapter: str, built: Path) -> list[str]:
    folder = COMMITTED / chapter
    wanted = committed_files(built)
    have = {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*"))
            if p.is_file()} if folder.exists() else {}
    return sorted(name for name in set(wanted) | set(have) if wanted.get(name) != have.get(name))


PRINT_CSS = """
body { font: 11pt/1.45 Georgia, serif; max-width: 46em; margin: 2em auto; color: #000; }
h1 { font-size: 18pt; } h2 { font-size: 14pt; margin-top: 1.6em; } h3 { font-size: 12pt; }
code { font: 9.5pt monospace; } pre { white-space: pre-wrap; }
.answer { border: 1px solid #888; min-height: 7em; margin: 0.6em 0 1.2em; }
@media print {
  body { margin: 0; max-width: none; }
  h2 { break-before: page; } h2:first-of-type { break-before: avoid; }
  .exercise { break-inside: avoid; }
  a { color: #000; text-decoration: none; }
}
"""


def print_page(out: Path = PRINT) -> Path:
    """The exercises of chapters 1-4 without solutions, one HTML page with print CSS."""
    from markdown_it import MarkdownIt

    render = MarkdownIt("commonmark").render
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>Seeing What Convnets Learn: exercises</title>",
             f"<style>{PRINT_CSS}</style></head><body>",
             "<h1>Seeing What Convnets Learn: exercises</h1>",
             "<p>The exercises of chapters 1 to 4, without solutions. Each runs in the "
             "chapter's notebook; the boxes are for written answers.</p>"]
    role = re.compile(r"\{(?:cite:p|cite|ref|doc)\}`([^`<]*?)(?:\s*<[^>]*>)?`")
    for chapter in CHAPTERS:
        nb = nbformat.read(ROOT / "book" / f"{chapter}.ipynb", as_version=4)
        headings = (line[2:].strip() for c in nb.cells if c.cell_type == "markdown"
                    for line in c.source.split("\n") if line.startswith("# "))
        title = next(headings, chapter[3:].replace("_", " ").capitalize())
        _, exercises = parse_chapter(nb)
        spec = yaml.safe_load((ROOT / "book" / "assignments" / f"{chapter}.yml").read_text())
        parts.append(f"<h2>Chapter {int(chapter[:2])}: {html.escape(title)}</h2>")
        for number, exercise in enumerate(exercises.values(), start=1):
            text = role.sub(lambda m: m.group(1), exercise.text)
            graded = [q for q in spec["questions"] if q["exercise"] == exercise.label]
            items = "".join(
                f"<li>({q['points']} point{'s' if q['points'] != 1 else ''}, "
                f"{'written' if q.get('manual') else 'a value, checked automatically'}) "
                f"{render(q['prompt']).strip().removeprefix('<p>').removesuffix('</p>')}</li>"
                for q in graded)
            parts.append(f'<section class="exercise"><h3>Exercise {int(chapter[:2])}.{number}: '
                         f"{html.escape(exercise.title)}</h3>{render(text)}"
                         f'<ol type="a">{items}</ol><div class="answer"></div></section>')
    parts.append("</body></html>")
    out.mkdir(parents=True, exist_ok=True)
    target = out / "exercises.html"
    write_text_atomic(target, "\n".join(parts) + "\n")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", default=list(CHAPTERS))
    parser.add_argument("--update", action="store_true", help="rewrite assignments/NN/")
    parser.add_argument("--check", action="store_true", help="fail if assignments/NN/ is stale")
    parser.add_argument("--print", action="store_true", dest="print_page",
                        help="also write _build/print/exercises.html")
    parser.add_argument("--out", type=Path, default=BUILD)
    args = parser.parse_args(argv)
    stale = []
    for chapter in args.chapters:
        built = build(chapter, args.out)
        print(f"{chapter}: {built.relative_to(ROOT) if built.is_relative_to(ROOT) else built}")
        if args.update:
            update(chapter, built)
        if args.check:
            stale += [f"assignments/{chapter}/{name}" for name in out_of_date(chapter, built)]
    if args.print_page:
        print(f"print: {print_page().relative_to(ROOT)}")
    if stale:
        print("Out of date with the chapters (run `make assignments`): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
