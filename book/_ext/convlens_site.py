"""The public site's links: every repository address in the book follows one value.

The repository's address is written once, in :data:`convlens.colab.REPOSITORY_URL` (the package
needs it in Colab, where nothing but the package is installed); ``$CONVLENS_REPOSITORY`` overrides
it for one process (a test builds the site for another address that way). This extension:

- gives that address and :data:`convlens.colab.BRANCH` to sphinx-book-theme (``repository_url``,
  ``repository_branch``), which builds the repository, issue, Colab and Binder buttons from it, and
  switches on the repository and issue buttons, so ``_config.yml`` holds no copy of it;
- rewrites :data:`WRITTEN_ADDRESS`, the address the committed pages and chapters carry (the
  chapters' first cell installs ``convlens @ git+`` it; the instructors' page shows a Colab link),
  into that address: in each page's source as it is read (the HTML) and in the copies of the
  sources the site offers for download (``_sources/``, the ``.ipynb`` files);
- in the handout edition (``CONVLENS_BOOK=handout``), publishes no page source: the chapters'
  ``.ipynb`` hold every solution, so ``_sources/`` is not written and the download menu keeps
  only its ".pdf" (print) entry; and a chapter's Colab and Binder buttons open its assignment's
  student notebook (``assignments/NN/NN.ipynb``), not the chapter;
- in a build for the public site (``CONVLENS_SITE=1``, set by ``tools/build_site.py``), leaves out
  every rubric (an element of class ``rubric``: the ``{admonition} Rubric`` boxes with
  ``:class: rubric`` that end the solutions), from the pages and from the downloadable sources.

A fork changes :data:`convlens.colab.REPOSITORY_URL` only; :data:`WRITTEN_ADDRESS` stays what
the committed texts say (``tests/test_site.py`` builds with another address and checks every
link of the site).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config

WRITTEN_ADDRESS = "https://github.com/seeing-what-convnets-learn/convlens"
"""The address as the committed pages and chapters write it (not a setting: forks leave it)."""

SOURCE_BUTTONS = ("download-notebook-button", "download-source-button")
SITE_ENV = "CONVLENS_SITE"
RUBRIC_BLOCK = re.compile(r"^(?P<fence>`{3,}|:{3,})\{[\w-]+\}[^\n]*\n(?::[\w-]+:[^\n]*\n)*?:class:[^\n]*\brubric\b"
                          r".*?^(?P=fence)[ \t]*\n?", re.MULTILINE | re.DOTALL)
"""A MyST directive block with ``:class: rubric`` among its options (fence to matching fence)."""


def repository_url() -> str:
    """The address the site's links use: ``convlens.colab.REPOSITORY_URL`` (``$CONVLENS_REPOSITORY`` if set)."""
    from convlens.colab import REPOSITORY_URL, raw_base_url

    raw_base_url(REPOSITORY_URL)  # raises ArgumentError unless it is https://github.com/OWNER/NAME
    return REPOSITORY_URL


def owner_name(url: str) -> str:
    """``OWNER/NAME`` of a GitHub repository address."""
    return url.rstrip("/").split("github.com/", 1)[1]


def rewrite(text: str, url: str) -> str:
    """``text`` with every :data:`WRITTEN_ADDRESS` (as a URL, or as ``OWNER/NAME`` inside the
    Colab, Binder and raw-file URLs) replaced by ``url``'s."""
    old, new = owner_name(WRITTEN_ADDRESS), owner_name(url)
    if old == new:
        return text
    return re.sub(rf"(?<![\w.-]){re.escape(old)}(?![\w.-])", new, text)


def _configure(app: Sphinx, config: Config) -> None:
    from convlens.colab import BRANCH

    options = dict(config.html_theme_options or {})
    options["repository_url"] = app.convlens_repository = repository_url()
    options["repository_branch"] = BRANCH
    # Here rather than in _config.yml's html section, where Jupyter Book would require its own copy
    # of the address (repository.url).
    options["use_repository_button"] = options["use_issues_button"] = True
    config.html_theme_options = options
    if _handout(config):
        config.html_copy_source = False


def _handout(config: Config) -> bool:
    return (getattr(config, "convlens_edition", None) or os.environ.get("CONVLENS_BOOK")) == "handout"


def _for_site() -> bool:
    return bool(os.environ.get(SITE_ENV))


def without_rubrics(text: str, notebook: bool = False) -> str:
    """``text`` (MyST markdown, or a notebook's JSON) with every rubric block removed."""
    if not notebook:
        return RUBRIC_BLOCK.sub("", text)
    data = json.loads(text)
    for cell in data.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            if RUBRIC_BLOCK.search(source):
                cell["source"] = RUBRIC_BLOCK.sub("", source).splitlines(keepends=True)
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def _drop_rubrics(app: Sphinx, doctree: nodes.document) -> None:
    if not _for_site():
        return
    for node in [n for n in doctree.findall(nodes.Element) if "rubric" in n.get("classes", [])]:
        node.parent.remove(node)


def _source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    source[0] = rewrite(source[0], app.convlens_repository)


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """In the handout, drop the download entries of the page's source (the chapters' solutions),
    and point the Colab and Binder buttons of a chapter with an assignment at its student notebook."""
    if not _handout(app.config):
        return
    chapter = Path(pagename).name
    student = Path(app.srcdir) / "assignments" / chapter / f"{chapter}.ipynb"
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"] = [b for b in button["buttons"] if b.get("label") not in SOURCE_BUTTONS]
        if button.get("label") == "launch-buttons" and student.is_file():
            for launch in button.get("buttons", []):
                launch["url"] = launch.get("url", "").replace(
                    f"{pagename}.ipynb", f"assignments/{chapter}/{chapter}.ipynb")


def _finished(app: Sphinx, exception: Exception | None) -> None:
    """Rewrite the address in the downloadable copies of the sources (``_sources/``); for the site,
    drop their rubrics."""
    if exception is not None or app.builder.format != "html":
        return
    from convlens.files import write_text_atomic

    for path in sorted((Path(app.outdir) / "_sources").rglob("*")):
        if path.suffix in (".ipynb", ".md", ".txt") and path.is_file():
            text = path.read_text(encoding="utf-8")
            changed = rewrite(text, app.convlens_repository)
            if _for_site():
                changed = without_rubrics(changed, notebook=path.suffix == ".ipynb")
            if changed != text:
                write_text_atomic(path, changed)


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _configure, priority=700)
    app.connect("source-read", _source_read)
    app.connect("doctree-read", _drop_rubrics)
    app.connect("html-page-context", _page_context, priority=600)
    app.connect("build-finished", _finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
