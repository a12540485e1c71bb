"""Figure first (issues 12 and 25): every page except Home, at 1280x720, in English and Korean,
normal and presentation mode, shows its main figure on the first screen, labels readable:
- its top within 480 px of the main area's top, and its bottom (the lowest edge of its SVG and
  of every text in it, the x-axis tick labels included) within 720 px;
- its smallest tick label at least 13 px (20 px in presentation mode, for a projector);
- no two tick labels of one axis drawn over each other (rotation included);
- no SVG text on the page showing an HTML entity (&quot; &amp; &lt;) instead of its character.

The pages are loaded once per mode for all the every-page browser checks
(tests/browser_visits.py, one server and one browser for all browser test files); each load is
a fresh Streamlit session. The first visible `stPlotlyChart` in the main area is the page's
figure; positions are taken relative to the main area's top with the page scrolled to the top.
Any request outside loopback is blocked and fails the test.

Also a script for the before/after table:
`python -m tests.test_browser_layout http://127.0.0.1:PORT [PAGE ...]` prints, per page and
mode, top-bottom px and the smallest tick font, against a server that is already running
(with SHOTS=folder: a 1280x720 screenshot of each page and mode there).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, require_browser
from tests.browser_visits import MODES, PageVisits, Visit
from ui.navigation import all_pages

LIMIT_PX = 480     # the figure's top
SCREEN_PX = 720    # the figure's bottom
MIN_FONT_PX = {"en": 13, "ko": 13, "present": 20, "ko-present": 20}

# Known failures, (page, mode, check) with check in top | bottom | font | overlaps | entities,
# each one a page not fixed yet (issue 25). Every other page and mode must pass every check,
# and a listed one that passes fails the test too (take it off the list).
EXPECTED_FAILURES: set[tuple[str, str, str]] = set()


def layout_pages(only: list[str] | None = None) -> list[str]:
    """URL paths of every registered page except Home (or of `only`)."""
    return [spec.url_path for spec in all_pages() if spec.url_path and (not only or spec.url_path in only)]


def measure(visits: PageVisits, paths: list[str]) -> tuple[dict[str, dict[str, Visit]], list[str]]:
    """{path: {mode: visit}} for every page and mode, and the blocked (non-loopback) requests."""
    seen: dict[str, dict[str, Visit]] = {}
    blocked: list[str] = []
    for path in paths:
        seen[path] = {mode: visits.get(path, mode) for mode in MODES}
        blocked += [u for visit in seen[path].values() for u in visit.blocked]
    return seen, blocked


def failures(path: str, mode: str, visit: Visit) -> set[str]:
    """The checks (top, bottom, font, overlaps, entities) this page fails in this mode."""
    failed = set()
    if visit.top is None or visit.top > LIMIT_PX:
        failed.add("top")
    if visit.bottom is None or visit.bottom > SCREEN_PX:
        failed.add("bottom")
    if visit.font is None or visit.font < MIN_FONT_PX[mode]:
        failed.add("font")
    if visit.overlaps:
        failed.add("overlaps")
    if visit.entities:
        failed.add("entities")
    return failed


def _cell(visit: Visit) -> str:
    if visit.top is None:
        return "—"
    font = "—" if visit.font is None else f"{visit.font:g}"
    extra = (" ovl" if visit.overlaps else "") + (" ent" if visit.entities else "")
    return f"{visit.top}–{visit.bottom} / {font}{extra}"


def table(seen: dict[str, dict[str, Visit]]) -> str:
    """A markdown table: one row per page; per mode, top–bottom px / smallest tick font px
    (ovl: tick labels overlap, ent: an entity shown)."""
    lines = ["| page | " + " | ".join(MODES) + " |", "|---|" + "---|" * len(MODES)]
    for path, row in seen.items():
        lines.append(f"| {path} | " + " | ".join(_cell(row[m]) for m in MODES) + " |")
    return "\n".join(lines)


if __name__ != "__main__":
    require_browser()

    def test_every_page_opens_on_its_figure(page_visits):
        seen, blocked = measure(page_visits, layout_pages())
        print("\n" + table(seen))
        found = {(path, mode, check) for path, row in seen.items() for mode, visit in row.items()
                 for check in failures(path, mode, visit)}
        details = {f"{p} {m}": (row.overlaps, row.entities) for p, m, c in found
                   for row in [seen[p][m]] if c in ("overlaps", "entities")}
        assert blocked == []
        assert found - EXPECTED_FAILURES == set(), (table(seen), details)
        assert EXPECTED_FAILURES - found == set(), "fixed: take these off EXPECTED_FAILURES"


def _main(base_url: str, only: list[str]) -> None:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        shots = os.environ.get("SHOTS")
        visits = PageVisits(b, base_url, hostile=False, artifacts=Path(shots) if shots else None,
                            every_mode=bool(shots))
        seen, blocked = measure(visits, layout_pages(only))
        visits.close()
        b.close()
    print(table(seen))
    for path, row in seen.items():
        for mode, visit in row.items():
            if visit.overlaps or visit.entities:
                print(path, mode, "overlaps:", visit.overlaps, "entities:", visit.entities)
    print("blocked requests:", blocked or "none")


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2:])
