"""The book's own Sphinx extension: three editions from one configuration, two clean-ups.

Editions: students, instructors, handout.

The exercises are sphinx-exercise directives; every solution carries ``:class: dropdown``, so
in the students' book (the default) it is hidden behind a toggle until clicked. The edition is
picked by the ``CONVLENS_BOOK`` environment variable (what ``make book-instructors`` and
``make handout`` set), or by ``convlens_edition`` in ``_config.yml``'s ``sphinx: config:``:

- ``students``: solutions hidden behind a toggle (sphinx-togglebutton's ``.dropdown``).
- ``instructors``: the ``dropdown`` class is dropped from every solution, so it is shown open.
- ``handout``: sphinx-exercise's own ``hide_solutions`` option removes solutions entirely.

One ``_config.yml`` for all three means the editions cannot drift apart.

Clean-ups, so that pages load with no console error (the browser test checks it):

- sphinx-thebe registers its inline ``const THEBE_JS_URL = ...`` script in a way that Sphinx 7
  writes twice into every page ("Identifier 'THEBE_JS_URL' has already been declared");
  duplicate script entries are dropped.
- pydata-sphinx-theme logs "Got invalid theme mode" on a first visit unless a default colour
  mode is set; the book defaults to ``light`` (its figures have white backgrounds).
"""

from __future__ import annotations

import os

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config

EDITIONS = ("students", "instructors", "handout")
ENV_VAR = "CONVLENS_BOOK"
BANNERS = {
    "instructors": "Instructors' edition: every solution is shown.",
    "handout": "Handout: the solutions are left out.",
}


def _edition(config: Config) -> str:
    edition = config.convlens_edition or "students"
    if edition not in EDITIONS:
        raise ValueError(
            f"Unknown book edition {edition!r} (from ${ENV_VAR} or convlens_edition); "
            f"choose one of {', '.join(EDITIONS)}."
        )
    return edition


def _configure(app: Sphinx, config: Config) -> None:
    """Turn the edition into settings: sphinx-exercise's ``hide_solutions``, a banner."""
    edition = _edition(config)
    if edition == "handout":
        config.hide_solutions = True
    if edition in BANNERS:
        options = dict(config.html_theme_options or {})
        options["announcement"] = BANNERS[edition]
        config.html_theme_options = options


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Drop duplicate ``<script>`` entries (same file or body, same attributes; an inline script has
    filename None or ""); default to light mode."""
    if not context.get("default_mode"):
        context["default_mode"] = "light"
    if "script_files" not in context:
        return
    seen: set = set()
    unique = []
    for script in context["script_files"]:
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _open_solutions(app: Sphinx, doctree: nodes.document) -> None:
    """In the instructors' edition, drop the ``dropdown`` class so that solutions render open."""
    if _edition(app.config) != "instructors":
        return
    for node in doctree.findall(nodes.Element):
        classes = node.get("classes", [])
        if "solution" in classes and "dropdown" in classes:
            node["classes"] = [name for name in classes if name != "dropdown"]


def _handout_solution_start():
    """sphinx-exercise's ``solution-start`` that, in the handout, still builds its node.

    With ``hide_solutions`` the gated ``solution-start`` directive returns nothing, which leaves
    the cells up to ``solution-end`` on the page and a ``solution_end_node`` that no writer knows
    (the handout build fails). This one builds the node as in the other editions, so that
    sphinx-exercise merges the gated range into one solution, which :func:`_drop_solutions`
    then removes with every other solution.
    """
    from sphinx_exercise.directive import SolutionStartDirective

    class HandoutSolutionStart(SolutionStartDirective):
        def run(self):
            config = self.env.app.config
            hidden = config.hide_solutions
            config.hide_solutions = False
            try:
                return super().run()
            finally:
                config.hide_solutions = hidden

    return HandoutSolutionStart


def _register_gated(app: Sphinx, config: Config) -> None:
    if _edition(config) == "handout":
        app.add_directive("solution-start", _handout_solution_start(), override=True)


def _drop_solutions(app: Sphinx, doctree: nodes.document) -> None:
    """In the handout, remove the solutions merged from gated ``solution-start``/``-end`` pairs."""
    if _edition(app.config) != "handout":
        return
    from sphinx_exercise.nodes import solution_node

    for node in list(doctree.findall(solution_node)):
        node.parent.remove(node)


def setup(app: Sphinx) -> dict:
    app.add_config_value("convlens_edition", os.environ.get(ENV_VAR, "students"), "env", [str])
    app.connect("config-inited", _configure, priority=800)
    app.connect("config-inited", _register_gated, priority=900)
    app.connect("doctree-read", _open_solutions)
    app.connect("doctree-read", _drop_solutions)
    app.connect("html-page-context", _page_context, priority=900)
    app.add_css_file("outputs.css")  # printed outputs wrap on a phone (book/_static/outputs.css)
    app.add_js_file("theme_a11y.js", loading_method="defer")  # names for the theme's own controls
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
