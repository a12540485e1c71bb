"""Figure first (issue 12): every page except Home, at 1280x720, in English, Korean and
presentation mode, shows its main figure within the first 480 px of the main area.

One server, one browser, one context (one tab reused): each page load is a fresh Streamlit
session. The first `stPlotlyChart` in the main area is the page's figure; its top is taken
relative to the main area's top with the page scrolled to the top. Any request outside
loopback is blocked and fails the test.

Also a script for the before/after table of the closing note:
`python -m tests.test_browser_layout http://127.0.0.1:PORT [PAGE ...]` prints px per page and mode
against a server that is already running (e.g. an untouched checkout).
"""
from __future__ import annotations

import os
import sys

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, OfflinePage, chromium_available
from ui.navigation import all_pages

LIMIT_PX = 480
VIEWPORT = {"width": 1280, "height": 720}
MODES = {"en": "lang=en", "ko": "lang=ko", "present": "lang=en&present=1"}
FIGURE = '[data-testid="stMain"] [data-testid="stPlotlyChart"]'
# the first visible figure (one in a folded expander is not seen)
_FIRST_JS = """(sel) => [...document.querySelectorAll(sel)].find(e => e.getClientRects().length > 0
  && e.getBoundingClientRect().height > 0) || null"""
# its top relative to the main area, with the main area scrolled to the top
_TOP_JS = """(sel) => {
  const main = document.querySelector('[data-testid="stMain"]');
  for (const el of [main, document.scrollingElement]) { if (el) el.scrollTop = 0; }
  const fig = (""" + _FIRST_JS + """)(sel);
  if (!fig) return null;
  return Math.round(fig.getBoundingClientRect().top - main.getBoundingClientRect().top);
}"""


def layout_pages(only: list[str] | None = None) -> list[str]:
    """URL paths of every registered page except Home (or of `only`)."""
    return [spec.url_path for spec in all_pages() if spec.url_path and (not only or spec.url_path in only)]


def figure_top(tab: OfflinePage, url: str, wait_s: float = 60.0) -> int | None:
    """Open `url`, wait for the script to finish, return the first figure's top in px (None: no figure)."""
    tab.page.goto(url, wait_until="domcontentloaded")
    try:
        tab.wait_until_idle(timeout=180)
        tab.page.wait_for_function(_FIRST_JS, arg=FIGURE, timeout=wait_s * 1000)
    except Exception:  # no figure at all (or a page that never finished): reported as None
        return None
    # a figure still drawing has no height yet: read until two readings 0.5 s apart agree
    last = None
    for _ in range(20):
        top = tab.page.evaluate(_TOP_JS, FIGURE)
        if top is not None and top == last:
            return top
        last = top
        tab.page.wait_for_timeout(500)
    return last


def measure(browser, base_url: str, paths: list[str]) -> tuple[dict[str, dict[str, int | None]], list[str]]:
    """{path: {mode: px}} for every page and mode, and the blocked (non-loopback) requests."""
    tops: dict[str, dict[str, int | None]] = {}
    with OfflinePage(browser) as tab:
        tab.page.set_viewport_size(VIEWPORT)
        for path in paths:
            tops[path] = {mode: figure_top(tab, f"{base_url}/{path}?{query}")
                          for mode, query in MODES.items()}
            print(path, tops[path], file=sys.stderr, flush=True)
        return tops, list(tab.blocked)


def table(tops: dict[str, dict[str, int | None]]) -> str:
    """A markdown table: one row per page, px in each mode."""
    lines = ["| page | " + " | ".join(MODES) + " |", "|---|" + "---|" * len(MODES)]
    for path, row in tops.items():
        lines.append(f"| {path} | " + " | ".join("—" if row[m] is None else str(row[m]) for m in MODES) + " |")
    return "\n".join(lines)


if __name__ != "__main__":
    if not chromium_available():
        if os.environ.get("CI"):
            raise RuntimeError(f"Chromium not found at {CHROMIUM}: the browser test must run in CI")
        pytest.skip("Chromium is not installed", allow_module_level=True)
    sync_api = pytest.importorskip("playwright.sync_api")
    from tests.test_browser import app_url, browser  # noqa: F401 (fixtures: one server, one browser)

    def test_every_page_opens_on_its_figure(app_url, browser):  # noqa: F811
        tops, blocked = measure(browser, app_url, layout_pages())
        print("\n" + table(tops))
        late = {path: row for path, row in tops.items()
                if any(px is None or px > LIMIT_PX for px in row.values())}
        assert blocked == []
        assert late == {}, table(late)


def _main(base_url: str, only: list[str]) -> None:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        tops, blocked = measure(b, base_url.rstrip("/"), layout_pages(only))
        b.close()
    print(table(tops))
    print("blocked requests:", blocked or "none")


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2:])
