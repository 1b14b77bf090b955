"""Check a built public site (``make site``): nothing an instructor keeps private, every link on the address.

Searched in every file of the site (text files as text, HTML with its tags stripped, notebooks
cell by cell; binary files by name only):

- **private files**: an autograder, a rubric, an instructors' edition, hidden tests (by name);
- **private text**: the instructors' edition's banner, rubric passages (:func:`rubric_passages`)
  and hidden tests' code (:func:`hidden_test_passages`), read from the chapters, the assignments'
  specs (``book/assignments/*.yml``), and the assignment and autograder builds under ``_build``;
  and otter-grader's markers of hidden tests;
- **solutions** (``--edition handout`` only): every line of the chapters' solutions
  (:func:`solution_lines`: the cells between ``{solution-start}`` and ``{solution-end}``, and
  the bodies of ``{solution}`` directives) that does not also stand outside a solution;
- **links** (``--repository URL``): every Colab, Binder, raw-file, ``pip install`` and repository
  link names ``URL``'s ``OWNER/NAME``, and no other address of this course is left.

Passages are compared as sequences of words (letters, digits, underscores), so the same line
is found in a notebook's JSON, in highlighted HTML code and in prose with its markup removed.

Usage: python tools/check_site.py SITE [--edition students|handout] [--repository URL]
Exit status 1 with one line per problem; 0 with a summary.
"""

from __future__ import annotations

import argparse
import ast
import html
import json
import re
import sys
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORD = re.compile(r"\w+")
MIN_WORDS = 5
"""A passage shorter than this (in words) is too common to prove a leak."""

TEXT_SUFFIXES = {".html", ".htm", ".js", ".mjs", ".json", ".ipynb", ".md", ".txt", ".py", ".css", ".csv",
                 ".tsv", ".yml", ".yaml", ".tex", ".xml", ".svg", ".cfg", ".toml", ".ini", ".rst", ".inv"}
PRIVATE_NAME = re.compile(r"autograder|rubric|hidden[_-]?tests?|instructors?[_-]edition|solutions?\.(ipynb|zip)"
                          r"|\.otter$|otter_config|^\.instructors$", re.IGNORECASE)
PRIVATE_FOLDERS = {"instructors", ".instructors", "autograder", "autograders", "solutions", "hidden_tests"}
HIDDEN_MARKERS = (
    # otter-grader: a test cell's config, the OK-format test files, the test-case decorator
    re.compile(r"hidden\s*:\s*true", re.IGNORECASE),
    re.compile(r"['\"]hidden['\"]\s*:\s*True"),
    re.compile(r"\bhidden\s*=\s*True"),
    re.compile(r"#\s*BEGIN\s+(TESTS|SOLUTION|QUESTION)\b"),
    re.compile(r"^\s*#\s*HIDDEN\s*$", re.MULTILINE),
)
MARKER_SUFFIXES = {".ipynb", ".py", ".md", ".txt", ".yml", ".yaml", ".json"}
REPOSITORY_LINK = re.compile(
    r"(?:git\+https://github\.com/|https?://github\.com/|colab\.research\.google\.com/github/"
    r"|mybinder\.org/v2/gh/|raw\.githubusercontent\.com/)([\w.-]+/[\w.-]+)"
)
WRITTEN_OWNER_NAME = "seeing-what-convnets-learn/convlens"
"""The address the committed texts carry (book/_ext/convlens_site.py rewrites it)."""


def words(text: str) -> str:
    """``text`` as one line of lower-case words separated by single spaces, with spaces at both ends."""
    return " " + " ".join(WORD.findall(text.lower())) + " "


def html_text(text: str) -> str:
    """The text of an HTML page: scripts kept (the search index is text), tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def notebook_text(text: str) -> str:
    """Every cell's source and every text output of a notebook (its metadata too), one after another."""
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError:
        return text
    parts = [json.dumps(notebook.get("metadata", {}))]
    for cell in notebook.get("cells", []):
        parts.append(_join(cell.get("source", "")))
        parts.append(json.dumps(cell.get("metadata", {})))
        for output in cell.get("outputs", []):
            parts.append(_join(output.get("text", "")))
            for value in output.get("data", {}).values():
                if isinstance(value, (str, list)):
                    parts.append(_join(value))
    return "\n".join(parts)


def _join(source: str | list[str]) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


@dataclass
class SiteFile:
    path: Path
    relative: str
    raw: str | None  # text as stored, None for a binary file
    text: str = ""  # what a reader reads: HTML without tags, a notebook's cells
    normal: str = field(default="", repr=False)  # ``words(text)``


def site_files(site: Path) -> Iterator[SiteFile]:
    """Every file of the site; zip archives are opened and their members listed as ``archive!member``."""
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        relative = path.relative_to(site).as_posix()
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    yield _text_file(path, f"{relative}!{member}", Path(member).suffix,
                                     lambda m=member, a=archive: a.read(m))
            continue
        yield _text_file(path, relative, path.suffix, path.read_bytes)


def _text_file(path: Path, relative: str, suffix: str, read) -> SiteFile:
    if suffix.lower() not in TEXT_SUFFIXES:
        return SiteFile(path, relative, None)
    raw = read().decode("utf-8", errors="replace")
    if suffix == ".ipynb":
        text = notebook_text(raw)
    elif suffix in (".html", ".htm", ".svg", ".xml"):
        text = html_text(raw)
    else:
        text = raw
    return SiteFile(path, relative, raw, text, words(text))


# --------------------------------------------------------------------------- what must not be there


def _cells(path: Path) -> list[tuple[str, str, list[str]]]:
    """(cell type, source, tags) of a chapter notebook."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [(c["cell_type"], _join(c.get("source", "")), list(c.get("metadata", {}).get("tags", [])))
            for c in notebook.get("cells", [])]


SOLUTION_START = re.compile(r"^(`{3,}|:{3,})\{solution-start\}", re.MULTILINE)
SOLUTION_END = re.compile(r"^(`{3,}|:{3,})\{solution-end\}", re.MULTILINE)
SOLUTION_BLOCK = re.compile(r"^(?P<fence>`{3,}|:{3,})\{solution\}[^\n]*\n(?P<body>.*?)^(?P=fence)\s*$",
                            re.MULTILINE | re.DOTALL)
DIRECTIVE_LINE = re.compile(r"^\s*(`{3,}|:{3,})|^\s*:\w[\w-]*:")


def split_solutions(cells: Iterable[tuple[str, str, list[str]]]) -> tuple[list[str], list[str]]:
    """The chapters' text split into solution lines and the other lines (both stripped, markup lines out)."""
    inside, outside = [], []
    gated = False
    for _kind, source, _tags in cells:
        if SOLUTION_START.search(source):
            gated = True
            continue
        if SOLUTION_END.search(source):
            gated = False
            continue
        rest = source
        for block in SOLUTION_BLOCK.finditer(source):
            inside += block.group("body").splitlines()
            rest = rest.replace(block.group(0), "")
        (inside if gated else outside).extend(rest.splitlines())
    keep = [line.strip() for line in inside if line.strip() and not DIRECTIVE_LINE.match(line)]
    return keep, [line.strip() for line in outside if line.strip()]


def solution_lines(notebooks: Iterable[Path]) -> list[str]:
    """The lines of the chapters' solutions (as word sequences of at least :data:`MIN_WORDS` words) that
    appear nowhere outside a solution in any chapter: each one found in a site is a leaked solution."""
    inside, outside = [], []
    for path in notebooks:
        solution, other = split_solutions(_cells(path))
        inside += solution
        outside += other
    elsewhere = words("\n".join(outside))
    unique = []
    for line in inside:
        normal = words(line)
        if len(normal.split()) >= MIN_WORDS and normal not in elsewhere and normal not in unique:
            unique.append(normal)
    return unique


RUBRIC_BLOCK = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w-]+)\}[^\n]*\n(?P<body>.*?)^(?P=fence)\s*$",
                          re.MULTILINE | re.DOTALL)


def rubric_passages(sources: Iterable[Path]) -> list[str]:
    """Rubric text in the chapters and assignment sources: cells tagged ``rubric``, directives named or
    classed ``rubric``, and ``rubric`` files; as word sequences of at least :data:`MIN_WORDS` words."""
    lines: list[str] = []
    for path in sources:
        if "rubric" in path.name.lower() and path.suffix in TEXT_SUFFIXES:
            lines += path.read_text(encoding="utf-8", errors="replace").splitlines()
            continue
        cells = _cells(path) if path.suffix == ".ipynb" else [("markdown", path.read_text(encoding="utf-8"), [])]
        for _kind, source, tags in cells:
            if any("rubric" in tag.lower() for tag in tags):
                lines += source.splitlines()
                continue
            for block in RUBRIC_BLOCK.finditer(source):
                head = block.group(0).split("\n", 1)[0] + "\n" + block.group("body")
                if "rubric" in block.group("name").lower() or re.search(r"^:class:.*rubric", head, re.MULTILINE):
                    lines += block.group("body").splitlines()
    return _passages(lines)


HIDDEN_MIN_WORDS = 3
"""Hidden tests are short (``assert counts["conv2d_2"] == 18496`` is 4 words); lines that also stand
in the chapters (which the students' site publishes) are left out, so short ones are safe to seek."""


def hidden_test_passages(sources: Iterable[Path], public: str = "") -> list[str]:
    """Code of hidden tests: otter-grader test cells configured ``hidden: true`` (or ``# HIDDEN``) in
    instructor notebooks, and hidden cases of the test files of built autograders (folders or zips);
    lines that stand in ``public`` (the chapters' words) are left out."""
    lines: list[str] = []
    for path in sources:
        if path.suffix == ".ipynb":
            for kind, source, _tags in _cells(path):
                if kind == "code" and any(m.search(source) for m in HIDDEN_MARKERS[:1] + HIDDEN_MARKERS[4:]):
                    lines += source.splitlines()
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    if member.endswith(".py") and "/tests/" in f"/{member}":
                        lines += _hidden_cases(archive.read(member).decode("utf-8", errors="replace"))
        elif path.suffix == ".py":
            lines += _hidden_cases(path.read_text(encoding="utf-8", errors="replace"))
        elif path.suffix in (".yml", ".yaml"):  # the assignments' specs: questions[].hidden (make_assignments)
            import yaml

            spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for question in spec.get("questions", []) if isinstance(spec, dict) else []:
                for check in question.get("hidden") or []:
                    lines += str(check).splitlines()
    kept = (line for line in lines if not re.search(r"hidden|BEGIN|END TEST", line, re.IGNORECASE))
    return _passages(kept, HIDDEN_MIN_WORDS, public)


def _hidden_cases(text: str) -> list[str]:
    """The code of the hidden cases of one otter test file: the OK format's ``test = {...}`` (read
    with :func:`ast.literal_eval`), or functions decorated ``@test_case(hidden=True)``."""
    lines: list[str] = []
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return lines
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "test" for t in node.targets):
            try:
                test = ast.literal_eval(node.value)
            except ValueError:
                continue
            for suite in test.get("suites", []) if isinstance(test, dict) else []:
                for case in suite.get("cases", []):
                    if case.get("hidden"):
                        lines += str(case.get("code", "")).splitlines()
        elif isinstance(node, ast.FunctionDef) and any(
            isinstance(d, ast.Call) and getattr(d.func, "id", "") == "test_case"
            and any(k.arg == "hidden" and getattr(k.value, "value", False) is True for k in d.keywords)
            for d in node.decorator_list
        ):
            lines += (ast.get_source_segment(text, node) or "").splitlines()[1:]
    return lines


def _passages(lines: Iterable[str], min_words: int = MIN_WORDS, public: str = "") -> list[str]:
    """Distinct word sequences of ``lines`` with at least ``min_words`` words, leaving out those that
    stand in ``public`` (a :func:`words` text that may be published)."""
    found: list[str] = []
    for line in lines:
        line = line.strip().lstrip(">").strip()
        normal = words(line)
        if len(normal.split()) >= min_words and normal not in found and normal not in public:
            found.append(normal)
    return found


def private_sources(root: Path = ROOT) -> list[Path]:
    """Where private text may be written: the chapters, the assignments' specs (``book/assignments``),
    the committed assignments, and every notebook, zip or test file an assignment build left under ``_build``
    (the site itself and the book builds excepted)."""
    sources = sorted((root / "book").glob("*.ipynb")) + sorted((root / "book").glob("*.md"))
    sources += sorted((root / "book" / "assignments").glob("*.y*ml"))  # hidden checks (tools/make_assignments.py)
    for folder in ("assignments", "_build"):
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            parts = set(path.relative_to(base).parts)
            if folder == "_build" and (parts & {"site", "html", "handout", "instructors", "lab", ".jupyter_cache",
                                                "jupyter_execute", "public_layout", "public_run"}
                                       or any(p.startswith(("site", ".site", "_site")) for p in parts)):
                continue
            if path.is_file() and (path.suffix in (".ipynb", ".zip") or "rubric" in path.name.lower()
                                   or (path.suffix == ".py" and "tests" in parts)):
                sources.append(path)
    return sources


def instructors_banner() -> str:
    """The instructors' edition's banner, from the book's extension that writes it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("convlens_book", ROOT / "book" / "_ext" / "convlens_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BANNERS["instructors"]


# --------------------------------------------------------------------------- the checks


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def check_site(site: Path, edition: str = "students", repository: str | None = None,
               root: Path = ROOT) -> Report:
    """Every problem of the site at ``site`` (see the module's docstring), and what was searched for."""
    report = Report()
    sources = private_sources(root)
    banner = words(instructors_banner())
    rubric = rubric_passages(p for p in sources if p.suffix in (".ipynb", ".md") or "rubric" in p.name.lower())
    chapters = words("\n".join(source for path in sorted((root / "book").glob("*.ipynb"))
                                for _kind, source, _tags in _cells(path)))
    hidden = hidden_test_passages(sources, chapters)
    solutions = solution_lines(sorted((root / "book").glob("*.ipynb"))) if edition == "handout" else []
    report.counts = {"rubric passages": len(rubric), "hidden-test lines": len(hidden),
                     "solution lines": len(solutions)}
    files = list(site_files(site))
    report.counts["files"] = len(files)
    links = 0
    for file in files:
        parts = file.relative.replace("!", "/").split("/")
        if any(PRIVATE_NAME.search(part) for part in parts) or set(parts[:-1]) & PRIVATE_FOLDERS:
            report.problems.append(f"{file.relative}: a private file (autograder, rubric, instructors' edition, "
                                   "hidden tests) by its name")
        if file.raw is None:
            continue
        if banner in file.normal:
            report.problems.append(f"{file.relative}: a page of the instructors' edition (its banner)")
        for label, passages in (("rubric", rubric), ("hidden test", hidden), ("solution", solutions)):
            for passage in passages:
                if passage in file.normal:
                    report.problems.append(f"{file.relative}: {label} text: {passage.strip()[:80]!r}")
                    break
        if Path(file.relative.split("!")[-1]).suffix in MARKER_SUFFIXES:
            scanned = file.text if file.relative.endswith(".ipynb") else file.raw
            for marker in HIDDEN_MARKERS:
                if marker.search(scanned):
                    report.problems.append(f"{file.relative}: an otter-grader marker of hidden tests or "
                                           f"solutions ({marker.pattern!r})")
                    break
        if repository is not None:
            expected = repository.rstrip("/").split("github.com/", 1)[1]
            for match in REPOSITORY_LINK.finditer(file.raw):
                owner_name = match.group(1).removesuffix(".git")
                if owner_name == expected:
                    links += 1
                elif owner_name.lower() == WRITTEN_OWNER_NAME:
                    report.problems.append(f"{file.relative}: a link to {match.group(0)!r}, not to {expected}")
    report.counts["links to the repository"] = links
    return report


def main(argv: list[str] | None = None) -> int:
    """``python tools/check_site.py SITE [--edition E] [--repository URL]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--edition", choices=("students", "handout"), default="students")
    parser.add_argument("--repository", help="the address every repository link must name (default: none checked)")
    args = parser.parse_args(argv)
    if not args.site.is_dir():
        print(f"check_site: {args.site} is not a folder; build it with make site.", file=sys.stderr)
        return 2
    report = check_site(args.site, args.edition, args.repository)
    for problem in report.problems:
        print(f"check_site: {problem}", file=sys.stderr)
    searched = ", ".join(f"{value} {name}" for name, value in report.counts.items())
    print(f"check_site: {args.site} ({args.edition}): {len(report.problems)} problems; searched {searched}")
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
