"""Figure first (issue 12): every page except Home, at 1280x720, in English, Korean and
presentation mode, shows its main figure within the first 480 px of the main area.

The pages are loaded once per mode for all the every-page browser checks
(tests/browser_visits.py, one server and one browser for all browser test files); each load is
a fresh Streamlit session. The first `stPlotlyChart` in the main area is the page's figure; its top is taken
relative to the main area's top with the page scrolled to the top. Any request outside
loopback is blocked and fails the test.

Also a script for the before/after table of the closing note:
`python -m tests.test_browser_layout http://127.0.0.1:PORT [PAGE ...]` prints px per page and mode
against a server that is already running (e.g. an untouched checkout).
"""
from __future__ import annotations

import sys

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, require_browser
from tests.browser_visits import MODES, PageVisits
from ui.navigation import all_pages

LIMIT_PX = 480


def layout_pages(only: list[str] | None = None) -> list[str]:
    """URL paths of every registered page except Home (or of `only`)."""
    return [spec.url_path for spec in all_pages() if spec.url_path and (not only or spec.url_path in only)]


def measure(visits: PageVisits, paths: list[str]) -> tuple[dict[str, dict[str, int | None]], list[str]]:
    """{path: {mode: px}} for every page and mode, and the blocked (non-loopback) requests."""
    tops: dict[str, dict[str, int | None]] = {}
    blocked: list[str] = []
    for path in paths:
        row = {mode: visits.get(path, mode) for mode in MODES}
        tops[path] = {mode: visit.top for mode, visit in row.items()}
        blocked += [u for visit in row.values() for u in visit.blocked]
        print(path, tops[path], file=sys.stderr, flush=True)
    return tops, blocked


def table(tops: dict[str, dict[str, int | None]]) -> str:
    """A markdown table: one row per page, px in each mode."""
    lines = ["| page | " + " | ".join(MODES) + " |", "|---|" + "---|" * len(MODES)]
    for path, row in tops.items():
        lines.append(f"| {path} | " + " | ".join("—" if row[m] is None else str(row[m]) for m in MODES) + " |")
    return "\n".join(lines)


if __name__ != "__main__":
    require_browser()

    def test_every_page_opens_on_its_figure(page_visits):
        tops, blocked = measure(page_visits, layout_pages())
        print("\n" + table(tops))
        late = {path: row for path, row in tops.items()
                if any(px is None or px > LIMIT_PX for px in row.values())}
        assert blocked == []
        assert late == {}, table(late)


def _main(base_url: str, only: list[str]) -> None:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        visits = PageVisits(b, base_url, hostile=False)
        tops, blocked = measure(visits, layout_pages(only))
        visits.close()
        b.close()
    print(table(tops))
    print("blocked requests:", blocked or "none")


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2:])
