"""The built book in a real browser: Debian's Chromium, driven by Playwright, offline.

``make test`` builds the students' book into ``_build/html`` first and installs Chromium
(``make browser-deps``); this test serves that folder on 127.0.0.1 from a thread and aborts
every request to any other host, so it never depends on the network. It checks that

- every page loads with no console error and no uncaught exception from the book's own scripts;
- every image (figures, embedded viewer frames, logos) loads, with a natural width above zero;
- every chapter page shows figures, and the chapter exercises come with their solutions;
- every figure is legible as rendered at a 1280 px window, in each of the three editions
  (``test_figures_are_legible_as_rendered``): its smallest tile (a channel, a pattern, a photo
  of a grid) is at least 96 px and its smallest text at least 9 px. The sizes come from the
  figure itself: each figure of ``convlens.plotting`` writes its smallest tile and text, in
  pixels of its image file, into that file (a PNG text chunk or the JPEG comment; see
  ``convlens.plotting.stamp``), the image bytes reach ``_images/`` unchanged, and the test
  multiplies them by the page's shrink factor, rendered width / natural width. A figure in a
  cell output without that stamp fails (it was drawn outside ``convlens.plotting``); a pager
  frame (``.convlens-pager``) is one tile and must be shown at least 96 px wide;
- no students' page (students' edition and handout; ``book/instructors`` is exempt) names the
  apparatus of the instructors' page: "bench", "nbval", "tolerance", or a ``make`` command
  (``make`` followed by one of the Makefile's targets: ``make a guess`` is English, ``make test``
  is not) (``test_students_pages_name_no_instructor_apparatus``);
- both checks fail on small fake pages (``test_the_checks_fail_on_a_fake_page``), so they are
  not vacuous;
- the maths is typeset by the book's own MathJax (no CDN), with no raw TeX left on the page;
- the self-check questions of chapters 2-4 work in each edition with no kernel: a wrong choice
  says so, the right one says so and shows its explanation
  (``test_self_check_questions_answer_on_the_page``);
- the no-kernel channel and filter viewers (``.convlens-pager``) respond to their slider and
  their drop-down;
- in the students' book each solution is hidden until its toggle is clicked; in the
  instructors' book (``make book-instructors``) it is shown; in the handout (``make handout``)
  it is absent (those two are checked when built);

and it saves a full-page screenshot of every page under ``_build/screenshots/``.
``$CONVLENS_BUILD_DIR`` points it at another build folder (default: ``_build``).
"""

from __future__ import annotations

import base64
import functools
import http.server
import os
import re
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from testkit import LocalOnly, chromium

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("CONVLENS_BUILD_DIR", ROOT / "_build")).resolve()
EDITIONS = {"students": BUILD / "html", "instructors": BUILD / "instructors", "handout": BUILD / "handout"}
SCREENSHOTS = BUILD / "screenshots"
PAGER_CHAPTERS = ("book/02_activations", "book/03_filters")
"""Chapters whose channel or filter viewers must be in the static book."""
MIN_EXERCISES = 3
APPENDIX_DOCS = {"book/05a_checks_activations", "book/05b_checks_filters", "book/05c_checks_gradcam"}
"""The appendix sections ("How the book checks the lecture"): figures, but no exercises."""
SKIP_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static", "_panels_static"}

MIN_TEXT_PX = 9.0
"""The smallest text a reader must be able to read in a figure, in CSS pixels."""
MIN_TILE_PX = 96.0
"""The smallest tile (a channel, a pattern, a photo of a grid) a reader must be able to read, in CSS pixels."""
INSTRUCTOR_PAGES = {"book/instructors.html"}
"""Pages for instructors only: benchmarks, tolerances and build commands belong there."""
APPARATUS_WORDS = re.compile(
    r"bench|nbval|tolerance"
    # developer notes that a student does not need (issue 25): how this copy was made and checked
    r"|this edition|first edition of this book|x86_64|float32 rounding"
    r"|readable cell vs|could not be downloaded here|wall-clock time|the book's tests",
    re.IGNORECASE,
)

pytestmark = pytest.mark.browser


def _toc_docs() -> list[str]:
    """Every document of ``_toc.yml`` (root first), e.g. ``book/02_activations``."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    docs = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                docs.append(entry["file"])
            walk(entry.get("sections"))
            for part in entry.get("parts", []):
                walk(part.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return [str(Path(doc).with_suffix("")) for doc in docs]


def _chapter_docs() -> list[str]:
    """The toc documents that are notebooks."""
    return [doc for doc in _toc_docs() if (ROOT / f"{doc}.ipynb").is_file()]


def _pages(folder: Path) -> list[str]:
    """Every HTML page of a build, relative to its root (the redirecting index.html aside)."""
    if not folder.is_dir():
        return []
    relative = (path.relative_to(folder) for path in folder.rglob("*.html"))
    return sorted(p.as_posix() for p in relative if not SKIP_DIRS.intersection(p.parts) and str(p) != "index.html")


def _page_params(edition: str):
    pages = _pages(EDITIONS[edition])
    if pages:
        return pages
    reason = f"{EDITIONS[edition]} is absent: build it first (make book; make test builds it)"
    return [pytest.param(None, marks=pytest.mark.absent(reason))]


# ---------------------------------------------------------------------------------------------
# Fixtures: an HTTP server per edition, one Chromium for the module, a fresh page per test.


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


@pytest.fixture(scope="module")
def servers():
    """Start (lazily) one 127.0.0.1 server per built edition (or any folder); returns its base URL."""
    started: dict[str, tuple[http.server.ThreadingHTTPServer, str]] = {}

    def base_url(edition: str | Path) -> str:
        folder = Path(edition) if isinstance(edition, Path) else EDITIONS[edition]
        if not folder.is_dir():
            pytest.skip(f"{folder} is absent: build it first")
        if str(folder) not in started:
            handler = functools.partial(_QuietHandler, directory=str(folder))
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            started[str(folder)] = (server, f"http://127.0.0.1:{server.server_address[1]}/")
        return started[str(folder)][1]

    yield base_url
    for server, _ in started.values():
        server.shutdown()
        server.server_close()


class BookPage:
    """A browser tab on one edition that records errors and refuses the outside world."""

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.route = LocalOnly(base)
        self.blocked = self.route.blocked
        self.context.route("**/*", self.route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught exception: {error}"))


    def _console(self, message):
        """Errors logged by the book's own scripts (those served from 127.0.0.1)."""
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        if where.startswith(self.base) or not where:
            self.errors.append(f"console error at {where or '?'}: {message.text}")

    def open(self, path: str):
        self.page.goto(self.base + path, wait_until="load")
        # Every <img> settles (loaded or failed) before it is judged.
        self.page.evaluate(
            """() => Promise.all(Array.from(document.images).map(img => img.complete ? null : new Promise(done => {
                   img.addEventListener('load', done); img.addEventListener('error', done); })))"""
        )
        return self.page

    def close(self):
        self.context.close()


@pytest.fixture
def book(browser, servers):
    tabs: list[BookPage] = []

    def open_edition(edition: str | Path = "students") -> BookPage:
        tab = BookPage(browser, servers(edition))
        tabs.append(tab)
        return tab

    yield open_edition
    for tab in tabs:
        tab.close()


def _html(doc: str) -> str:
    return f"{doc}.html"


def _screenshot(page, path: str, suffix: str = "") -> None:
    """A full-page screenshot under _build/screenshots, named after the page (``book__02_activations.png``)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / (path.replace("/", "__").removesuffix(".html") + suffix + ".png")),
                    full_page=True)


# ---------------------------------------------------------------------------------------------
# Every page: no errors, every image loads, a screenshot.


@pytest.mark.parametrize("path", _page_params("students"))
def test_page_loads_cleanly_with_every_image(book, path):
    tab = book("students")
    page = tab.open(path)
    broken = page.evaluate(
        """() => Array.from(document.images)
                 .filter(img => !(img.complete && img.naturalWidth > 0))
                 .map(img => (img.getAttribute('src') || '').slice(0, 80))"""
    )
    _screenshot(page, path)
    assert not tab.errors, f"{path}: " + "; ".join(tab.errors)
    assert not broken, f"{path}: images that did not load: {broken}"


def test_every_toc_document_is_a_page():
    folder = EDITIONS["students"]
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: build it first (make book)")
    missing = [doc for doc in _toc_docs() if not (folder / _html(doc)).is_file()]
    assert not missing, f"in _toc.yml but not built: {missing}"


def test_index_leads_to_the_introduction(book):
    tab = book("students")
    page = tab.page
    page.goto(tab.base + "index.html")  # a meta refresh: no evaluation while it navigates
    page.wait_for_url(f"**/{_html(_toc_docs()[0])}", timeout=10_000)
    assert page.locator("h1").first.inner_text().strip()
    assert not tab.errors, "; ".join(tab.errors)


@pytest.mark.parametrize("doc", _chapter_docs() or [pytest.param(None, marks=pytest.mark.absent("make book"))])
def test_chapter_shows_figures_and_exercises(book, doc):
    """Stored outputs include real figures (an empty chapter would pass every other check)."""
    page = book("students").open(_html(doc))
    figures = page.locator(".cell_output img").count()
    assert figures > 0, (
        f"{doc}: no figure among the stored outputs; were the notebooks executed with "
        "MPLBACKEND=Agg (no inline figures)? Execute them without it."
    )
    exercises = page.locator("div.exercise").count()
    solutions = page.locator("div.solution").count()
    if doc in APPENDIX_DOCS:  # the appendix explains the checks; the chapters hold the exercises
        return
    assert exercises >= MIN_EXERCISES, f"{doc}: {exercises} exercises, fewer than {MIN_EXERCISES}"
    assert solutions >= exercises, f"{doc}: {exercises} exercises but only {solutions} solutions"


# ---------------------------------------------------------------------------------------------
# The kernel-free viewers.


def _visible_frame(pager) -> dict:
    """Group, index and image of the figure a pager shows now (exactly one must be visible)."""
    return pager.evaluate(
        """root => {
            const shown = Array.from(root.querySelectorAll('figure')).filter(f => f.offsetParent !== null);
            if (shown.length !== 1) return {count: shown.length};
            const img = shown[0].querySelector('img');
            return {count: 1, group: shown[0].closest('.pager-group').dataset.group, index: shown[0].dataset.index,
                    src: img.src, width: img.naturalWidth, label: root.querySelector('.pager-label').textContent,
                    alt: img.alt};
        }"""
    )


def _pages_containing(edition: str, marker: str, absent: str) -> list[str]:
    """Pages of an edition whose HTML holds ``marker``, or one skipped case saying ``absent``."""
    folder = EDITIONS[edition]
    pages = [p for p in _pages(folder) if marker in (folder / p).read_text(errors="replace")]
    return pages or [pytest.param(None, marks=pytest.mark.absent(absent))]


def _check_pagers(tab, path: str) -> None:
    """Every pager of the page shows one frame, and another after its slider or its drop-down moves."""
    page = tab.open(path)
    pagers = page.locator(".convlens-pager")
    assert pagers.count() > 0
    for i in range(pagers.count()):
        pager = pagers.nth(i)
        pager.scroll_into_view_if_needed()
        before = _visible_frame(pager)
        assert before["count"] == 1 and before["width"] > 0, f"{path} pager {i}: {before.get('alt')!r} not shown"
        slider = pager.locator("input[type=range]")
        top = int(slider.get_attribute("max"))
        if top > 0:
            slider.focus()
            slider.press("End")  # a real key press: the browser moves the slider and fires `input`
            after = _visible_frame(pager)
            assert after["count"] == 1, f"{path} pager {i}: {after['count']} figures visible after the slider moved"
            assert after["index"] == str(top) and after["src"] != before["src"] and after["width"] > 0, (
                f"{path} pager {i}: the slider moved to {top} but the figure did not change "
                f"({before['alt']!r}, index {before['index']} -> {after['alt']!r}, index {after['index']})"
            )
            assert str(top) in after["label"]
        select = pager.locator("select")
        if select.locator("option").count() > 1:
            select.select_option(index=1)
            switched = _visible_frame(pager)
            assert switched["count"] == 1 and switched["group"] == "1" and switched["width"] > 0, (
                f"{path} pager {i}: choosing the second group did not show it ({switched.get('alt')!r})"
            )
    assert not tab.errors, "; ".join(tab.errors)


@pytest.mark.parametrize("path", _pages_containing("students", "convlens-pager", "no page with a .convlens-pager"))
def test_pagers_respond_to_slider_and_group(book, path):
    tab = book("students")
    _check_pagers(tab, path)
    _screenshot(tab.page, path, "__pagers-moved")


def test_chapters_with_viewers_have_them():
    folder = EDITIONS["students"]
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: build it first (make book)")
    present = [doc for doc in PAGER_CHAPTERS if (folder / _html(doc)).is_file()]
    if not present:
        pytest.skip("the activations and filters chapters are not built yet")
    without = [doc for doc in present if "convlens-pager" not in (folder / _html(doc)).read_text(errors="replace")]
    assert not without, f"no channel/filter viewer (.convlens-pager) on {without}"


# ---------------------------------------------------------------------------------------------
# Solutions in the three editions.


def _solution_pages(edition: str, marker: str = 'class="solution') -> list[str]:
    return _pages_containing(edition, marker, f"no solution in the {edition} edition")


@pytest.mark.parametrize("path", _solution_pages("students"))
def test_students_solutions_hidden_until_clicked(book, path):
    tab = book("students")
    page = tab.open(path)
    solutions = page.locator("div.solution")
    assert solutions.count() > 0
    for i in range(solutions.count()):
        solution = solutions.nth(i)
        body = solution.locator("section").first
        assert solution.is_visible(), f"{path} solution {i}: its title (the toggle) should be visible"
        assert not body.is_visible(), f"{path} solution {i}: shown before any click"
        solution.locator("button.toggle-button").click()
        body.wait_for(state="visible", timeout=5_000)
        assert body.inner_text().strip(), f"{path} solution {i}: empty after the click"
    _screenshot(page, path, "__solutions-opened")
    assert not tab.errors, "; ".join(tab.errors)


@pytest.mark.parametrize("path", _solution_pages("instructors"))
def test_instructors_solutions_shown(book, path):
    tab = book("instructors")
    page = tab.open(path)
    solutions = page.locator("div.solution")
    for i in range(solutions.count()):
        body = solutions.nth(i).locator("section").first
        assert body.is_visible() and body.inner_text().strip(), f"{path} solution {i} is not shown"
        assert solutions.nth(i).locator("button.toggle-button").count() == 0
    assert page.locator(".bd-header-announcement").inner_text().startswith("Instructors")
    _screenshot(page, path, "__instructors")
    assert not tab.errors, "; ".join(tab.errors)


@pytest.mark.parametrize("path", [p for p in _solution_pages("handout", 'class="exercise')
                                  if not str(p).startswith("print/")])  # the sheet has its own test
def test_handout_has_exercises_but_no_solutions(book, path):
    tab = book("handout")
    page = tab.open(path)
    assert page.locator("div.exercise").count() > 0
    assert page.locator("div.solution").count() == 0, f"{path}: the handout still shows solutions"
    assert page.locator('[class*="solution"]').count() == 0, f"{path}: solution markup left in the handout"
    _screenshot(page, path, "__handout")
    assert not tab.errors, "; ".join(tab.errors)


# ---------------------------------------------------------------------------------------------
# Self-check questions (book/_ext/convlens_assignments.py), answered with no kernel.

SELF_CHECK_DOCS = ("book/02_activations", "book/03_filters", "book/04_gradcam")


@pytest.mark.parametrize("edition", list(EDITIONS))
@pytest.mark.parametrize("doc", SELF_CHECK_DOCS)
def test_self_check_questions_answer_on_the_page(book, edition, doc):
    """Each chapter shows 3-5 questions; a wrong choice says so, the right one says so and explains."""
    if not (EDITIONS[edition] / _html(doc)).is_file():
        pytest.skip(f"{doc} is not in the {edition} edition (build it first)")
    tab = book(edition)
    page = tab.open(_html(doc))
    questions = page.locator("div.selfcheck")
    assert 3 <= questions.count() <= 5, f"{doc} ({edition}): {questions.count()} self-check questions"
    for i in range(questions.count()):
        question = questions.nth(i)
        assert question.locator(".selfcheck-question").inner_text().strip()
        explain = question.locator(".selfcheck-explain")
        assert not explain.is_visible(), f"{doc} question {i}: explanation shown before an answer"
        wrong = question.locator('button.selfcheck-choice[data-right="0"]').first
        wrong.click()
        feedback = question.locator(".selfcheck-feedback")
        assert feedback.inner_text().startswith("Not quite"), f"{doc} question {i}: wrong answer not said"
        assert not explain.is_visible()
        right = question.locator('button.selfcheck-choice[data-right="1"]')
        assert right.count() == 1, f"{doc} question {i}: {right.count()} right answers"
        right.click()
        assert feedback.inner_text().startswith("Right"), f"{doc} question {i}: right answer not said"
        assert explain.is_visible() and explain.inner_text().strip(), f"{doc} question {i}: no explanation"
    assert not tab.errors, "; ".join(tab.errors)


# ---------------------------------------------------------------------------------------------
# Figures read at the book's width; maths typeset offline.


_FIGURES_JS = """async () => {
    const root = document.querySelector('main article') || document.querySelector('main') || document.body;
    const shown = Array.from(root.querySelectorAll('img'))
        .filter(img => img.naturalWidth > 0 && img.getBoundingClientRect().width > 0);
    const figures = [];
    for (const img of shown) {
        let src = img.currentSrc || img.src;
        if (src.startsWith('blob:')) {  // a widget's picture (ipywidgets' Image): read its bytes here
            const bytes = new Uint8Array(await (await fetch(src)).arrayBuffer());
            let text = '';
            for (let i = 0; i < bytes.length; i += 8192) {
                text += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
            }
            src = 'data:image/png;base64,' + btoa(text);
        }
        figures.push({src, natural: img.naturalWidth, rendered: img.getBoundingClientRect().width,
                      output: img.closest('.cell_output') !== null,
                      pager: img.closest('.convlens-pager') !== null});
    }
    return figures;
}"""


def _image_bytes(src: str, base: str, folder: Path) -> bytes | None:
    """The bytes behind an image URL of the served ``folder`` (or a ``data:`` URI); None if elsewhere."""
    if src.startswith("data:"):
        header, _, payload = src.partition(",")
        return base64.b64decode(payload) if header.endswith(";base64") else unquote(payload).encode()
    if not src.startswith(base):
        return None
    path = folder / unquote(urlsplit(src).path).lstrip("/")
    return path.read_bytes() if path.is_file() else None


def _figure_problems(page, base: str, folder: Path) -> list[str]:
    """Every visible figure of the open page that is too small to read, with why.

    A figure (an image in the article) is judged by its stamp (``convlens.plotting.stamp``):
    tile_px and text_px times rendered width / natural width. An image in a cell output with
    no stamp is a problem (drawn outside convlens.plotting); other images without one (logos,
    pictures in the text) are left alone. A pager frame is one tile: its rendered width counts.
    """
    from convlens.plotting.stamp import judge, read_stamp

    problems = []
    for figure in page.evaluate(_FIGURES_JS):
        name = figure["src"].rsplit("/", 1)[-1][:60] if not figure["src"].startswith("data:") else "data: URI"
        if figure["pager"]:
            if figure["rendered"] < MIN_TILE_PX:
                problems.append(f"pager frame {name}: {figure['rendered']:.0f} px wide (under {MIN_TILE_PX:.0f})")
            continue
        data = _image_bytes(figure["src"], base, folder)
        record = read_stamp(data) if data else None
        if record is None and not figure["output"]:
            continue
        problems += [f"{name} ({figure['natural']} px shown at {figure['rendered']:.0f} px): {problem}"
                     for problem in judge(record, figure["natural"], figure["rendered"], MIN_TILE_PX, MIN_TEXT_PX)]
    return problems


def _make_targets() -> list[str]:
    """The Makefile's targets (``book``, ``test``, ``bench`` ...): what ``make`` is followed by in a command."""
    text = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, flags=re.MULTILINE))
    for phony in re.findall(r"^\.PHONY:((?:.*\\\n)*.*)$", text, flags=re.MULTILINE):
        targets.update(re.findall(r"[A-Za-z][\w.-]*", phony))
    return sorted(targets)


_TEXT_JS = """() => {
    const root = (document.querySelector('main article') || document.querySelector('main') || document.body)
        .cloneNode(true);
    root.querySelectorAll('script, style').forEach(node => node.remove());
    return root.textContent;
}"""


def _word_problems(page, path: str) -> list[str]:
    """Words of the instructors' apparatus in the open page's article (hidden solutions and code included).

    The instructors' pages (:data:`INSTRUCTOR_PAGES`) are exempt.
    """
    if path in INSTRUCTOR_PAGES:
        return []
    text = " ".join(page.evaluate(_TEXT_JS).split())
    make = re.compile(r"\bmake\s+(?:" + "|".join(map(re.escape, _make_targets())) + r")\b")
    found = [match.group(0) for pattern in (APPARATUS_WORDS, make) for match in pattern.finditer(text)]
    return [f"{word!r} in ...{text[max(0, i - 40):i + 40]}..." for word, i in
            ((word, text.find(word)) for word in dict.fromkeys(found))]


@pytest.mark.parametrize("edition", list(EDITIONS))
@pytest.mark.parametrize("path", _page_params("students"))
def test_figures_are_legible_as_rendered(book, edition, path):
    """Every figure's tiles >= 96 px and text >= 9 px as shown at a 1280 px window (see the module doc).

    The figures are drawn at :data:`convlens.plotting.common.FIGURE_DPI` (100) for the 688 px
    column, and stamped with their smallest tile and text; the browser gives how much the page
    shrinks each figure. The instructors' edition opens the solutions, so their figures are
    measured there.
    """
    if not EDITIONS[edition].is_dir():
        pytest.skip(f"{EDITIONS[edition]} is absent: make book-instructors / make handout")
    if not (EDITIONS[edition] / path).is_file():
        pytest.skip(f"{path} is not in the {edition} edition")
    tab = book(edition)
    problems = _figure_problems(tab.open(path), tab.base, EDITIONS[edition])
    assert not problems, f"{path} ({edition}): figures too small to read:\n" + "\n".join(problems)


@pytest.mark.parametrize("edition", ["students", "handout"])
@pytest.mark.parametrize("path", _page_params("students"))
def test_students_pages_name_no_instructor_apparatus(book, edition, path):
    """Benchmarks, nbval, tolerances and make commands belong on the instructors' page only."""
    if not (EDITIONS[edition] / path).is_file():
        pytest.skip(f"{path} is not in the {edition} edition (make handout)")
    problems = _word_problems(book(edition).open(path), path)
    assert not problems, f"{path} ({edition}): the instructors' apparatus on a students' page:\n" + "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# The checks themselves, on a small fake book: each must be able to fail.


def _fake_book(folder: Path) -> dict[str, list[str]]:
    """Pages with one figure or one text each, and what the checks must find on each (substrings)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from convlens.plotting import common
    from convlens.plotting.stamp import stamp
    from convlens.widgets.pager import encode_image, image_pager_html

    rng = np.random.default_rng(0)
    (folder / "_images").mkdir(parents=True)
    (folder / "book").mkdir()

    def save(name: str, fig, fmt: str = "png") -> str:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=common.FIGURE_DPI, bbox_inches="tight")
        plt.close(fig)
        (folder / "_images" / name).write_bytes(buffer.getvalue())
        return f"../_images/{name}"

    def tiles(count, ncols, **kw):
        return common.image_grid([rng.random((12, 12)) for _ in range(count)], ncols=ncols, **kw)

    small_text, ax = plt.subplots(figsize=(4, 2))
    ax.set_title("tiny", fontsize=5)
    stamp(small_text)  # a chapter's own figure, stamped
    plain, ax = plt.subplots(figsize=(4, 2))
    ax.plot([0, 1])
    frame = encode_image(rng.random((8, 8)), "viridis")
    pages = {
        "good": (f'<img src="{save("good.png", tiles(6, 6))}">', []),
        "good_jpeg": (f'<img src="{save("good.jpg", tiles(4, 4), "jpeg")}">', []),
        "shrunk": (f'<div style="width:400px"><img style="max-width:100%" src="{save("shrunk.png", tiles(6, 6))}">'
                   "</div>", ["tiles"]),
        "crowded": (f'<img src="{save("crowded.png", tiles(32, 16))}">', ["tiles"]),
        "small_text": (f'<img src="{save("small.png", small_text)}">', ["text 6.9 px"]),
        "unstamped": (f'<img src="{save("plain.png", plain)}">', ["no convlens stamp"]),
        "small_pager": (f'<div class="convlens-pager"><img src="{frame}" style="width:60px"></div>', ["pager frame"]),
    }
    expected = {}
    for name, (body, finds) in pages.items():
        (folder / "book" / f"{name}.html").write_text(
            f'<html><body><main><article><div class="cell_output">{body}</div></article></main></body></html>')
        expected[f"book/{name}.html"] = finds
    words = ("<p>Run <code>make test</code>; the bench/ folder; nbval; a tolerance. Make a guess, make its way. "
             "Trained on x86_64.</p>")
    viewer = image_pager_html({"a": [rng.random((6, 6)) for _ in range(3)], "b": [rng.random((6, 6))] * 2},
                              item_label="it's </b>")
    (folder / "book" / "pager.html").write_text(f"<html><body><main><article>{viewer}</article></main></body>")
    for name in ("words", "instructors"):
        (folder / "book" / f"{name}.html").write_text(f"<html><body><main><article>{words}</article></main></body>")
    return expected


def test_the_checks_fail_on_a_fake_page(book, tmp_path):
    expected = _fake_book(tmp_path)
    tab = book(tmp_path)
    for path, finds in expected.items():
        problems = _figure_problems(tab.open(path), tab.base, tmp_path)
        assert len(problems) == len(finds) and all(f in p for f, p in zip(finds, problems, strict=True)), (
            f"{path}: expected problems with {finds}, got {problems}")
    _check_pagers(tab, "book/pager.html")  # the pager of convlens.widgets as it is now
    found = _word_problems(tab.open("book/words.html"), "book/words.html")
    expected = ["'bench'", "'nbval'", "'tolerance'", "'x86_64'", "'make test'"]
    assert [p.split(" in ")[0] for p in found] == expected, found
    assert _word_problems(tab.open("book/instructors.html"), "book/instructors.html") == []


def test_maths_is_typeset_offline(book):
    """The pages with maths load MathJax from the book (not a CDN) and typeset every formula."""
    tab = book("students")
    checked = 0
    for doc in _chapter_docs():
        page = tab.open(_html(doc))
        raw = page.locator("div.math, span.math").count()
        if not raw:
            continue
        checked += 1
        page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0", timeout=20_000)
        typeset = page.locator("mjx-container").count()
        assert typeset >= raw, f"{doc}: {raw} formulas but {typeset} typeset by MathJax"
    assert checked, "no chapter has maths: the check would pass vacuously"
    cdn = [url for url in tab.blocked if "mathjax" in url.lower()]
    assert not cdn, f"MathJax requested from outside the book: {cdn}"


# ---------------------------------------------------------------------------------------------
# Nothing from another host (issue 26): no CDN on any page of any edition, widgets included.

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGETS_DRAWN_JS = """() => {
    const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length;
    return document.querySelectorAll('.widget-subarea > .jupyter-widgets').length >= views;
}"""
"""Every stored widget view of the page is drawn (ipywidgets' HTML manager, no kernel)."""


def _outside(url: str) -> bool:
    """Whether a request goes to a host other than this machine (data:, blob: and about: stay here)."""
    parts = urlsplit(url)
    return parts.scheme not in ("data", "blob", "about") and parts.hostname not in ("127.0.0.1", "localhost", "::1")


def _outside_requests(tab, paths: list[str]) -> tuple[list[str], int]:
    """``PAGE: URL`` of every request to another host while each page loads; and the pages with widgets.

    Requests are watched on the whole browser context (frames and workers too), before the local-only
    route refuses them, so a refused request counts as much as one that would have left.
    """
    found: list[str] = []
    current = {"path": ""}
    def seen(request) -> None:
        if _outside(request.url):
            found.append(f"{current['path']}: {request.url}")

    tab.context.on("request", seen)
    with_widgets = 0
    for path in paths:
        current["path"] = path
        tab.page.goto(tab.base + path, wait_until="load")
        if WIDGET_STATE in tab.page.content():
            with_widgets += 1
            tab.page.wait_for_function(WIDGETS_DRAWN_JS, timeout=30_000)
        tab.page.wait_for_load_state("networkidle")
    return found, with_widgets


@pytest.mark.parametrize("edition", list(EDITIONS))
def test_no_page_requests_another_host(book, edition):
    pages = _pages(EDITIONS[edition])
    if not pages:
        pytest.skip(f"{EDITIONS[edition]} is absent: make book / make book-instructors / make handout")
    tab = book(edition)
    found, with_widgets = _outside_requests(tab, pages)
    assert not found, f"{edition}: requests to other hosts:\n" + "\n".join(found)
    assert with_widgets >= 2, f"{edition}: only {with_widgets} pages with stored widgets: the check saw no widget"
    assert not tab.errors, f"{edition}: " + "; ".join(tab.errors)


def test_the_request_check_fails_on_a_page_that_uses_a_cdn(book, tmp_path):
    (tmp_path / "cdn.html").write_text(
        '<html><head><script src="https://cdn.jsdelivr.net/npm/requirejs@2.3.8/require.js"></script></head>'
        '<body><img src="//fonts.example.org/x.png"><img src="local.png"></body></html>')
    found, _ = _outside_requests(book(tmp_path), ["cdn.html"])
    assert found == ["cdn.html: https://cdn.jsdelivr.net/npm/requirejs@2.3.8/require.js",
                     "cdn.html: http://fonts.example.org/x.png"], found
