"""Every printed output is read without scrolling sideways (issue 25).

Output boxes in the rendered book do not wrap, so the chapters print lines of at most
:data:`convlens.measures.stats.WIDTH` characters. At a 1280 px window no text output of any page
of the three editions may be wider than its box; at 390 px (a phone) the book's
``_static/outputs.css`` wraps them, and none may scroll sideways either. The check fails on a fake
page with a long line, so it is not vacuous.
"""

from __future__ import annotations

import pytest
from test_browser import EDITIONS, BookPage, _page_params, browser, servers  # noqa: F401

pytestmark = pytest.mark.browser

OVERFLOW_JS = """() => Array.from(document.querySelectorAll('div.cell_output pre, div.output pre'))
    .filter(pre => pre.clientWidth > 0 && pre.scrollWidth > pre.clientWidth + 1)
    .map(pre => {
        const lines = pre.textContent.split('\\n');
        const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
        return `${pre.scrollWidth} px in a ${pre.clientWidth} px box: ${longest.slice(0, 80)}`;
    })"""


def _overflows(chromium_browser, base: str, path: str, width: int) -> list[str]:
    tab = BookPage(chromium_browser, base)
    try:
        tab.page.set_viewport_size({"width": width, "height": 900})
        return tab.open(path).evaluate(OVERFLOW_JS)
    finally:
        tab.close()


@pytest.mark.parametrize("edition", list(EDITIONS))
@pytest.mark.parametrize("path", _page_params("students"))
def test_no_output_scrolls_sideways(browser, servers, edition, path):  # noqa: F811
    if not (EDITIONS[edition] / path).is_file():
        pytest.skip(f"{path} is not in the {edition} edition")
    base = servers(edition)
    problems = [f"at {width} px: {p}" for width in (1280, 390) for p in _overflows(browser, base, path, width)]
    assert not problems, f"{path} ({edition}): outputs wider than their box:\n" + "\n".join(problems)


def test_the_width_check_fails_on_a_long_line(browser, servers, tmp_path):  # noqa: F811
    (tmp_path / "book").mkdir()
    long_line = "verdict " * 40
    (tmp_path / "book" / "long.html").write_text(
        f'<html><body style="width:700px"><main><div class="cell_output"><pre>{long_line}\nshort</pre></div>'
        "</main></body></html>")
    problems = _overflows(browser, servers(tmp_path), "book/long.html", 1280)
    assert len(problems) == 1 and "verdict verdict" in problems[0], problems
