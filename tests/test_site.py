"""The public site (``make site``, issue 29): what it holds, what it never holds, where its links point.

The slow tests build both sites with ``make site`` (students' edition, then ``EDITION=handout``)
for another repository address (``$CONVLENS_REPOSITORY``), each into a temporary folder, and
search every file of each (``tools/check_site.py``). Reused: the lab's files from ``make lab``
(its inputs are unchanged), and the student notebooks as ``make assignments`` left them
(``SITE_DEPS=``: rebuilding them here would write the test's address into the committed copy).
The books are rebuilt from scratch, since a cached build could keep another address in its
pages. The fast tests plant each kind of leak in a small folder, so the search is seen to fail,
and check the workflows and the lab's committed list of sample photos.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from testkit import write_photo

from convlens import tfjs
from convlens.files import file_sha256

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import check_site  # noqa: E402

FORK = "https://github.com/example-fork/course-copy"
WRITTEN = "seeing-what-convnets-learn/convlens"
EDITIONS = ("students", "handout")


# --------------------------------------------------------------------------- both sites, built


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> dict[str, Path]:
    """``make site`` and ``make site EDITION=handout`` (``SITE_DEPS=``), for the address :data:`FORK`; timed."""
    if shutil.which("make") is None or shutil.which("npm") is None:
        pytest.fail("make site needs make and npm (Node.js): apt-get install make nodejs npm")
    out = tmp_path_factory.mktemp("sites")
    built = {}
    for edition in EDITIONS:
        started = time.perf_counter()
        # SITE_DEPS=: the assignments as committed (assignments/) or built (_build/assignments), not rebuilt:
        # `make assignments` would write the test's address into the committed student notebooks.
        result = subprocess.run(
            ["make", "--no-print-directory", "site", f"EDITION={edition}", f"SITE_DIR={out / edition}", "SITE_DEPS="],
            cwd=ROOT, env={**os.environ, "CONVLENS_REPOSITORY": FORK}, capture_output=True, text=True,
        )
        assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
        print(f"\nmake site EDITION={edition}: {time.perf_counter() - started:.0f} s\n{result.stdout[-600:]}")
        built[edition] = out / edition
    return built


@pytest.mark.slow
@pytest.mark.parametrize("edition", EDITIONS)
def test_the_site_holds_the_book_and_the_lab(sites, edition):
    site = sites[edition]
    assert (site / "index.html").is_file() and (site / "book" / "02_activations.html").is_file()
    assert (site / ".nojekyll").is_file()
    lab = json.loads((site / "_static" / "lab" / "lab.json").read_text())
    for variant in lab["variants"]:
        manifest = json.loads((site / "_static" / "lab" / variant["model"]).read_text())
        for shard in manifest["weightsManifest"][0]["paths"]:
            assert (site / "_static" / "lab" / "models" / variant["name"] / shard).is_file()
    assert (site / "_static" / "lab" / "vendor" / "tf.min.js").is_file()
    for sample in lab["samples"]:
        assert (site / "_static" / "lab" / sample["file"]).is_file()
    banner = "Handout: the solutions are left out."
    assert (banner in (site / "book" / "02_activations.html").read_text()) == (edition == "handout")


@pytest.mark.slow
@pytest.mark.parametrize("edition", EDITIONS)
def test_nothing_private_in_either_site(sites, edition):
    """No instructors' page, rubric, hidden test or autograder; in the handout, no solution line."""
    site = sites[edition]
    report = check_site.check_site(site, edition, FORK)
    assert report.problems == []
    if edition == "handout":
        assert report.counts["solution lines"] > 50  # the search had something to find
        assert not (site / "_sources").exists()  # the chapters' .ipynb hold every solution
    assert not any(p.name in ("autograder.zip", "instructors") or "instructor" in p.parts for p in site.rglob("*"))
    banner = check_site.instructors_banner()  # "Instructors' edition: every solution is shown."
    assert not any(banner in html.unescape(p.read_text(errors="replace")) for p in site.rglob("*.html"))


@pytest.mark.slow
def test_the_students_site_would_fail_the_handouts_check(sites):
    """The solutions are in the students' site (folded): the handout's search finds them there."""
    problems = check_site.check_site(sites["students"], "handout", FORK).problems
    assert any("book/02_activations.html: solution text" in p for p in problems)
    assert any("_sources/book/02_activations.ipynb: solution text" in p for p in problems)


def _links(text: str) -> list[str]:
    return [m.group(0) for m in check_site.REPOSITORY_LINK.finditer(text)]


@pytest.mark.slow
@pytest.mark.parametrize("edition", EDITIONS)
def test_every_link_follows_the_address(sites, edition):
    """Colab, Binder, repository, raw-file and ``pip install`` links name the fork, in pages and notebooks."""
    site = sites[edition]
    fork = FORK.removeprefix("https://github.com/")
    page = (site / "book" / "02_activations.html").read_text()
    # the students' buttons open the chapter; the handout's its assignment (the chapter holds the solutions)
    opened = "book/02_activations.ipynb" if edition == "students" else "assignments/02_activations/02_activations.ipynb"
    assert f'href="https://colab.research.google.com/github/{fork}/blob/main/{opened}"' in page
    assert f'href="https://mybinder.org/v2/gh/{fork}/main?urlpath=tree/{opened}"' in page
    if edition == "handout":
        assert "book/02_activations.ipynb" not in page
        appendix = (site / "book" / "05a_checks_activations.html").read_text()  # no assignment, no solution
        colab = f"https://colab.research.google.com/github/{fork}/blob/main"
        assert f'href="{colab}/book/05a_checks_activations.ipynb"' in appendix
    assert f'href="{FORK}"' in page  # the repository button
    assert f"git+{FORK}" in page  # the first cell, as shown on the page
    notebooks = sorted(site.rglob("*.ipynb"))
    if edition == "students":
        assert len([p for p in notebooks if p.parent.name == "book"]) >= 7
    for notebook in notebooks:
        cells = json.loads(notebook.read_text())["cells"]
        installs = [c for c in cells if c["cell_type"] == "code" and "pip install" in "".join(c["source"])]
        for cell in installs:
            assert f'"convlens @ git+{FORK}"' in "".join(cell["source"]), notebook
    for path in (p for p in site.rglob("*") if p.suffix in (".html", ".ipynb", ".js", ".json")):
        text = path.read_text(errors="replace")
        assert WRITTEN not in text, f"{path.relative_to(site)} still names {WRITTEN}"
        assert not [link for link in _links(text) if WRITTEN in link]


# --------------------------------------------------------------------------- the search can fail


def _tiny_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "book").mkdir(parents=True)
    (site / "index.html").write_text("<html><body>A clean page.</body></html>")
    return site


def test_a_clean_tiny_site_passes(tmp_path):
    assert check_site.check_site(_tiny_site(tmp_path), "handout", FORK).problems == []


def test_the_instructors_banner_is_found(tmp_path):
    site = _tiny_site(tmp_path)
    banner = check_site.instructors_banner()
    (site / "book" / "page.html").write_text(f"<div class='announce'><p>{banner}</p></div>")
    assert any("instructors' edition" in p for p in check_site.check_site(site, "students").problems)


@pytest.mark.parametrize("name", ["autograder.zip", "instructors/index.html", "rubric.md", "02/autograder/q1.py"])
def test_a_private_file_is_found_by_name(tmp_path, name):
    site = _tiny_site(tmp_path)
    (site / name).parent.mkdir(parents=True, exist_ok=True)
    if name.endswith(".zip"):
        import zipfile

        with zipfile.ZipFile(site / name, "w") as archive:
            archive.writestr("tests/q1.py", "x = 1\n")
    else:
        (site / name).write_text("x")
    assert any("private file" in p for p in check_site.check_site(site, "students").problems)


def test_a_hidden_otter_test_is_found(tmp_path):
    site = _tiny_site(tmp_path)
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": '""" # BEGIN TEST CONFIG\nhidden: true\n""" # END TEST CONFIG\nassert abs(ratio - 0.25) < 0.01\n'}
    (site / "a.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert any("marker of hidden tests" in p for p in check_site.check_site(site, "students").problems)


def test_a_hidden_check_of_an_assignment_spec_is_found(tmp_path):
    specs = sorted((ROOT / "book" / "assignments").glob("*.yml"))
    passages = check_site.hidden_test_passages(specs)
    if not passages:
        pytest.fail("no assignment spec with hidden checks in book/assignments: the check would pass vacuously")
    site = _tiny_site(tmp_path)
    (site / "assignments").mkdir()
    (site / "assignments" / "q.py").write_text(f"# a check\n{passages[0].strip()}\n")
    assert any("hidden test text" in p for p in check_site.check_site(site, "students").problems)


def test_a_hidden_case_of_a_test_file_is_read():
    text = ("OK_FORMAT = True\ntest = {'name': 'q1', 'points': 1, 'suites': [{'cases': [\n"
            "{'code': '>>> assert blank_fraction(model, layer_name) > 0.125\\n', 'hidden': True, 'locked': False},\n"
            "{'code': '>>> assert isinstance(answer, float)\\n', 'hidden': False, 'locked': False}]}]}\n")
    lines = check_site._hidden_cases(text)
    assert check_site._passages(lines) == [check_site.words("assert blank_fraction(model, layer_name) > 0.125")]


def test_a_solution_line_is_found_in_highlighted_html(tmp_path):
    site = _tiny_site(tmp_path)
    line = next(iter(check_site.solution_lines(sorted((ROOT / "book").glob("*.ipynb")))), None)
    if line is None:
        pytest.fail("no chapter with a solution in book/: the check would pass vacuously")
    highlighted = "".join(f'<span class="n">{word}</span> <span class="o">=</span>' for word in line.split())
    (site / "book" / "page.html").write_text(f"<pre>{highlighted}</pre>")
    assert any("solution text" in p for p in check_site.check_site(site, "handout").problems)
    assert check_site.check_site(site, "students").problems == []


def test_an_old_address_is_found(tmp_path):
    site = _tiny_site(tmp_path)
    (site / "a.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "outputs": [],
                                                         "source": f'%pip install "convlens @ git+https://github.com/{WRITTEN}"'}]}))
    assert any("a link to" in p for p in check_site.check_site(site, "students", FORK).problems)


def test_a_rubric_is_found(tmp_path):
    site = _tiny_site(tmp_path)
    sources = sorted((ROOT / "book").glob("*.ipynb"))
    rubric = next(iter(check_site.rubric_passages(sources)), None)
    if rubric is None:
        pytest.fail("no rubric in the chapters: the check would pass vacuously")
    (site / "book" / "page.html").write_text(f"<div class='admonition rubric'><p>{rubric}</p></div>")
    assert any("rubric text" in p for p in check_site.check_site(site, "students").problems)


def test_rubrics_are_left_out_of_the_downloadable_sources():
    import importlib.util

    spec = importlib.util.spec_from_file_location("convlens_site", ROOT / "book" / "_ext" / "convlens_site.py")
    site_extension = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(site_extension)
    text = ("The answer.\n\n```{admonition} Rubric\n:class: rubric\nWritten part (2 points): names both (1).\n```\n"
            "After.\n\n```{note}\nKept.\n```\n")
    assert site_extension.without_rubrics(text) == "The answer.\n\nAfter.\n\n```{note}\nKept.\n```\n"
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": text.splitlines(keepends=True)},
                          {"cell_type": "code", "metadata": {}, "outputs": [], "source": "x = 1  # :class: rubric"}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    cleaned = json.loads(site_extension.without_rubrics(json.dumps(notebook), notebook=True))
    assert "Rubric" not in "".join(cleaned["cells"][0]["source"]) and cleaned["cells"][1] == notebook["cells"][1]
    fork = site_extension.rewrite(f'%pip install "convlens @ git+https://github.com/{WRITTEN}"', FORK)
    assert fork == f'%pip install "convlens @ git+{FORK}"'
    assert site_extension.rewrite(f"https://github.com/{WRITTEN}-extra", FORK).endswith(f"{WRITTEN}-extra")


def test_solutions_are_split_from_the_rest():
    cells = [("markdown", "```{exercise} E\n:label: e\nFind the widest channel of the layer.\n```", []),
             ("markdown", "````{solution-start} e\n:class: dropdown\n````", []),
             ("code", "widest = int(np.argmax(widths))  # the widest channel", []),
             ("markdown", "````{solution-end}\n````", []),
             ("markdown", "```{solution} f\nThe answer is seven channels wide.\n```\nAfter the solution.", [])]
    inside, outside = check_site.split_solutions(cells)
    assert inside == ["widest = int(np.argmax(widths))  # the widest channel", "The answer is seven channels wide."]
    assert "Find the widest channel of the layer." in outside and "After the solution." in outside


# --------------------------------------------------------------------------- the workflows


def _workflows() -> dict[str, dict]:
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted((ROOT / ".github" / "workflows").glob("*.yml"))}


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return {m.group(1) for m in re.finditer(r"^([\w.-]+):(?!=)", text, re.MULTILINE)}


def test_every_workflow_step_is_a_make_target():
    """Each `run:` is `make TARGET ...` with a target of the Makefile (one step fetches the photos)."""
    targets = _make_targets()
    runs = [step for workflow in _workflows().values() for job in workflow["jobs"].values()
            for step in job.get("steps", []) if "run" in step]
    assert runs
    for step in runs:
        if step.get("name") == "The public photo archive":
            assert "find_data_dir" in step["run"]
            continue
        words = step["run"].split()
        assert words[0] == "make" and words[1] in targets, step


def test_the_pages_workflow_uses_githubs_pages_actions():
    workflow = _workflows()["pages.yml"]
    assert workflow[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads the key `on` as True
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    uses = [step.get("uses", "").split("@")[0] for job in workflow["jobs"].values() for step in job["steps"]]
    for action in ("actions/configure-pages", "actions/upload-pages-artifact", "actions/deploy-pages",
                   "actions/setup-python", "actions/setup-node"):
        assert action in uses
    build = workflow["jobs"]["build"]["steps"]
    assert any(step.get("run") == "make site" for step in build)
    assert next(s for s in build if "upload-pages-artifact" in s.get("uses", ""))["with"]["path"] == "_build/site"


def test_the_pins_the_workflows_read():
    assert (ROOT / ".python-version").read_text().strip() == "3.11"
    assert "Python 3.11" in (ROOT / "README.md").read_text()
    assert (ROOT / ".nvmrc").read_text().strip() == "20"
    for workflow in _workflows().values():
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/setup-python"):
                    assert step["with"]["python-version-file"] == ".python-version"
                if step.get("uses", "").startswith("actions/setup-node"):
                    assert step["with"]["node-version-file"] == ".nvmrc"


# --------------------------------------------------------------------------- the lab's sample photos


def _listing(data: Path) -> list[dict[str, str]]:
    return [{"label": name[:-1], "file": f"validation/{name}/{name[:-1]}.{i}.jpg",
             "sha256": file_sha256(data / "validation" / name / f"{name[:-1]}.{i}.jpg")}
            for name in ("cats", "dogs") for i in (2, 0)]


def test_samples_are_the_listed_photos_whatever_else_the_folder_holds(tmp_path):
    data = tmp_path / "photos"
    for name in ("cats", "dogs"):
        for i in range(3):
            write_photo(data / "validation" / name / f"{name[:-1]}.{i}.jpg", seed=i + 10 * len(name))
    samples = tfjs.write_samples(data, tmp_path / "lab", per_class=2, listing=_listing(data))
    assert [s["source"] for s in samples] == [e["file"] for e in _listing(data)]  # the list's order, not by name


def test_a_missing_or_changed_photo_gives_no_samples_and_one_line(tmp_path, capsys):
    data = tmp_path / "photos"
    for name in ("cats", "dogs"):
        for i in range(3):
            write_photo(data / "validation" / name / f"{name[:-1]}.{i}.jpg", seed=i + 10 * len(name))
    listing = _listing(data)
    assert len(tfjs.write_samples(data, tmp_path / "lab", per_class=2, listing=listing)) == 4
    write_photo(data / "validation" / "dogs" / "dog.0.jpg", seed=99)  # other bytes under a listed name
    assert tfjs.write_samples(data, tmp_path / "lab", listing=listing) == []
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "1 of the 4 photos listed in data/lab_samples.json" in err[0]
    assert not list((tmp_path / "lab").rglob("*.png"))  # the earlier build's samples are gone too
    assert tfjs.write_samples(None, tmp_path / "lab", listing=listing) == []
    assert "no photo folder" in capsys.readouterr().err


def test_the_committed_list_names_validation_photos():
    listing = tfjs.sample_list()
    assert [e["label"] for e in listing] == ["cat"] * tfjs.SAMPLES_PER_CLASS + ["dog"] * tfjs.SAMPLES_PER_CLASS
    for entry in listing:
        assert entry["file"].startswith(f"validation/{entry['label']}s/") and len(entry["sha256"]) == 64


@pytest.mark.slow  # decodes the real photos with TensorFlow
def test_two_builds_write_the_same_samples(real_data_dir, tmp_path):
    first = tfjs.write_samples(real_data_dir, tmp_path / "a")
    second = tfjs.write_samples(real_data_dir, tmp_path / "b")
    assert first == second and len(first) == 2 * tfjs.SAMPLES_PER_CLASS
    for sample in first:
        assert (tmp_path / "a" / sample["file"]).read_bytes() == (tmp_path / "b" / sample["file"]).read_bytes()
