"""book/_ext/convlens_book.py: the three editions and the page clean-ups, without building a book."""

from __future__ import annotations

import types
from pathlib import Path

import pytest
from docutils import nodes
from testkit import book_extension

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ext():
    return book_extension("convlens_book")


def _config(edition: str) -> types.SimpleNamespace:
    return types.SimpleNamespace(convlens_edition=edition, hide_solutions=False, html_theme_options={"x": 1})


def _doctree() -> nodes.document:
    document = nodes.document(None, None)
    document += nodes.container(classes=["exercise"])
    document += nodes.container(classes=["solution", "dropdown", "admonition"])
    document += nodes.container(classes=["note", "dropdown"])  # not a solution: left alone
    return document


def _classes(document: nodes.document) -> list[list[str]]:
    return [list(node["classes"]) for node in document.children]


def test_students_edition_changes_nothing(ext):
    config = _config("students")
    ext._configure(None, config)
    assert config.hide_solutions is False and "announcement" not in config.html_theme_options
    document = _doctree()
    ext._open_solutions(types.SimpleNamespace(config=config), document)
    assert _classes(document) == _classes(_doctree())


def test_instructors_edition_opens_solutions_only(ext):
    config = _config("instructors")
    ext._configure(None, config)
    assert config.hide_solutions is False
    assert config.html_theme_options["announcement"].startswith("Instructors")
    assert config.html_theme_options["x"] == 1
    document = _doctree()
    ext._open_solutions(types.SimpleNamespace(config=config), document)
    assert _classes(document) == [["exercise"], ["solution", "admonition"], ["note", "dropdown"]]


def test_handout_edition_removes_solutions(ext):
    config = _config("handout")
    ext._configure(None, config)
    assert config.hide_solutions is True
    assert config.html_theme_options["announcement"].startswith("Handout")


def test_unknown_edition_names_the_valid_ones(ext):
    with pytest.raises(ValueError, match="students, instructors, handout"):
        ext._configure(None, _config("teachers"))


def test_duplicate_inline_scripts_are_dropped(ext):
    script = types.SimpleNamespace
    scripts = [
        script(filename="_static/a.js", attributes={}),
        script(filename=None, attributes={"body": 'const THEBE_JS_URL = "x"'}),
        script(filename="", attributes={"body": 'const THEBE_JS_URL = "x"'}),  # the same script again
        script(filename="", attributes={"body": "let other = 1"}),
        script(filename="_static/a.js", attributes={"async": "async"}),  # same file, other attributes: kept
    ]
    context = {"script_files": scripts}
    ext._page_context(None, "page", "page.html", context, None)
    assert context["script_files"] == [scripts[0], scripts[1], scripts[3], scripts[4]]
    assert context["default_mode"] == "light"
    context = {"default_mode": "dark"}
    ext._page_context(None, "page", "page.html", context, None)
    assert context["default_mode"] == "dark"
