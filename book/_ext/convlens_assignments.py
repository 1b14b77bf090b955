"""The book's assignment links, source links and self-check questions (issue 27).

- ``{assignment}`02_activations``` links a chapter's student notebook in Colab. The address is
  built from :data:`convlens.colab.REPOSITORY_URL` and :data:`convlens.colab.BRANCH`, the one
  place where the repository is named, so the link follows the repository when it moves.
- ``{convlens}`convlens.measures.feature_maps.blank_channels``` links a ``convlens`` function to
  its source and docstring on GitHub (the book has no API reference pages of its own).
- The ``selfcheck`` directive is one multiple-choice question that a reader answers on the
  static page, with no kernel: the choices are buttons, and a few lines of the book's own
  JavaScript (``book/_static/selfcheck.js``) say whether the answer is right and then show the
  explanation. jupyterquiz renders from a code cell's output and loads its script from a CDN;
  the book makes no request to another host, so the question is plain HTML with a local script.

  Body: the question (one or more lines), then the choices as a numbered list ``1. ...``.
  Options: ``:answer:`` the number of the right choice; ``:explain:`` why it is right.
- Every edition gets ``print/exercises.html``, the exercises of chapters 1-4 without solutions
  on one print-ready page (``tools/make_assignments.py``'s :func:`print_page`), which the
  instructors' page links.
"""

from __future__ import annotations

import html
import importlib
import inspect
import re
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

CHOICE = re.compile(r"^\s*(\d+)\.\s+(.*)$")
CODE = re.compile(r"`([^`]+)`")


def _repository() -> tuple[str, str]:
    from convlens import colab

    return colab.REPOSITORY_URL.rstrip("/"), colab.BRANCH


def colab_url(chapter: str) -> str:
    """The Colab address of chapter ``chapter``'s student notebook, ``assignments/NN/NN.ipynb``."""
    repository, branch = _repository()
    owner_name = repository.removeprefix("https://github.com/")
    return (
        f"https://colab.research.google.com/github/{owner_name}/blob/{branch}/"
        f"assignments/{chapter}/{chapter}.ipynb"
    )


def source_url(dotted: str) -> str:
    """The GitHub address of a ``convlens`` object's definition (file and first line)."""
    module_name, _, name = dotted.rpartition(".")
    module = importlib.import_module(module_name)
    target = getattr(module, name)
    path = inspect.getsourcefile(target) or ""
    line = inspect.getsourcelines(target)[1]
    relative = path[path.rindex("/convlens/") + 1 :] if "/convlens/" in path else path
    repository, branch = _repository()
    return f"{repository}/blob/{branch}/src/{relative}#L{line}"


def assignment_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    chapter = text.strip()
    node = nodes.reference(rawtext, "Open the assignment in Colab", refuri=colab_url(chapter))
    node["classes"].append("convlens-assignment")
    return [node], []


def convlens_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    dotted = text.strip()
    try:
        url = source_url(dotted)
    except (ImportError, AttributeError, TypeError, OSError) as exc:
        message = inliner.reporter.error(
            f"{{convlens}} cannot find {dotted!r} ({exc}); name a function as "
            "convlens.module.function", line=lineno)
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    short = dotted.removeprefix("convlens.")
    node = nodes.reference(rawtext, "", refuri=url)
    node += nodes.literal(short, short)
    return [node], []


def _inline(text: str) -> str:
    return CODE.sub(r"<code>\1</code>", html.escape(text, quote=False))


class SelfCheck(SphinxDirective):
    """One multiple-choice question answered on the page (see the module's docstring)."""

    has_content = True
    option_spec = {"answer": directives.positive_int, "explain": directives.unchanged_required}

    def run(self) -> list[nodes.Node]:
        question: list[str] = []
        choices: list[str] = []
        for line in self.content:
            match = CHOICE.match(line)
            if match:
                choices.append(match.group(2).strip())
            elif choices and line.strip():
                choices[-1] += " " + line.strip()  # a choice continued on the next line
            elif line.strip():
                question.append(line.strip())
        answer = self.options.get("answer")
        if not question or len(choices) < 2 or answer is None or not 1 <= answer <= len(choices):
            raise self.error(
                "selfcheck needs a question, at least two choices as a numbered list and "
                ":answer: the number of the right one")
        explain = self.options.get("explain", "")
        self.env.note_dependency(__file__)
        buttons = "".join(
            f'<li><button type="button" class="selfcheck-choice" data-right="{int(k == answer)}">'
            f"{_inline(choice)}</button></li>"
            for k, choice in enumerate(choices, start=1))
        markup = (
            '<div class="selfcheck">'
            f'<p class="selfcheck-question">{_inline(" ".join(question))}</p>'
            f'<ol class="selfcheck-choices">{buttons}</ol>'
            '<p class="selfcheck-feedback" role="status" aria-live="polite"></p>'
            f'<p class="selfcheck-explain" hidden>{_inline(explain)}</p>'
            "</div>")
        return [nodes.raw("", markup, format="html")]


def _write_print_page(app: Sphinx, exception: Exception | None) -> None:
    """Write the printable exercise sheet into the built site, beside the pages."""
    if exception is not None or app.builder.format != "html":
        return
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "tools"))
    try:
        import make_assignments
    finally:
        sys.path.remove(str(root / "tools"))
    make_assignments.print_page(Path(app.outdir) / "print")


def setup(app: Sphinx) -> dict:
    app.add_role("assignment", assignment_role)
    app.add_role("convlens", convlens_role)
    app.add_directive("selfcheck", SelfCheck)
    app.add_js_file("selfcheck.js", type="module")
    app.add_css_file("selfcheck.css")
    app.connect("build-finished", _write_print_page)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
