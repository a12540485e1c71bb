"""One browser visit per page and mode, shared by the every-page browser checks.

Each visit loads a page once at 1280x720 (network cut, see `OfflinePage`; one tab reused and
reset in between, so Chromium keeps its compiled scripts; each load is a new Streamlit session)
and takes everything the every-page tests assert, so a page is loaded once per mode instead of
once per test file:
- tests/test_browser_layout.py: the first figure's top and bottom in px (its SVG with every tick
  label), its smallest tick label, overlapping tick labels, and SVG text showing an HTML entity
  (every page but Home, en/ko/present/ko-present);
- tests/test_browser.py: problems on the page (exception, error element, console error, chart not
  drawn, dialog, failed response), blocked requests, a missing title, a full-page screenshot (en, ko);
- tests/test_browser.py (en only): a script-breaking string typed into the first text box, then
  no dialog, no injected <img>, no new problem (error elements allowed: the page may refuse it).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from tests.browser_support import OfflinePage

MODES = {"en": "lang=en", "ko": "lang=ko", "present": "lang=en&present=1",
         "ko-present": "lang=ko&present=1"}
VIEWPORT = {"width": 1280, "height": 720}
HOSTILE = '</script><img src=x onerror=alert(1)>'
FIGURE = '[data-testid="stMain"] [data-testid="stPlotlyChart"]'
TEXT_BOXES = '[data-testid="stMain"] textarea, [data-testid="stMain"] input[type="text"]'
# the first visible figure (one in a folded expander is not seen)
_FIRST_JS = """(sel) => [...document.querySelectorAll(sel)].find(e => e.getClientRects().length > 0
  && e.getBoundingClientRect().height > 0) || null"""
# With the main area scrolled to the top, relative to the main area's top (the viewport's):
# - top: the figure element's top; bottom: the lowest edge of its SVGs and every text in them;
# - font: the smallest tick label's font size in px (its computed style);
# - overlaps: pairs of tick labels of one axis whose drawn boxes (rotation included) meet;
# - entities: SVG texts anywhere in the main area that show &quot; &amp; or &lt; literally.
_MEASURE_JS = """(sel) => {
  const main = document.querySelector('[data-testid="stMain"]');
  for (const el of [main, document.scrollingElement]) { if (el) el.scrollTop = 0; }
  const fig = (""" + _FIRST_JS + """)(sel);
  if (!fig) return null;
  const origin = main.getBoundingClientRect().top;
  const box = fig.getBoundingClientRect();
  let bottom = 0;
  for (const el of fig.querySelectorAll('svg.main-svg, svg.main-svg text')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) bottom = Math.max(bottom, r.bottom);
  }
  const ticks = [...fig.querySelectorAll('g.xtick > text, g.ytick > text')]
    .filter(t => t.textContent.trim() && t.getClientRects().length > 0
            && t.getBoundingClientRect().width > 0);
  const fonts = ticks.map(t => parseFloat(getComputedStyle(t).fontSize));
  // a label's drawn quad: its own box through its screen transform (rotation included), 1 px in
  const quad = (t) => {
    const b = t.getBBox(), m = t.getScreenCTM(), svg = t.ownerSVGElement;
    return [[b.x + 1, b.y + 1], [b.x + b.width - 1, b.y + 1], [b.x + b.width - 1, b.y + b.height - 1],
            [b.x + 1, b.y + b.height - 1]].map(([x, y]) => {
      const p = svg.createSVGPoint(); p.x = x; p.y = y; const q = p.matrixTransform(m);
      return [q.x, q.y]; });
  };
  const apart = (a, b) => {  // separating axis test of two convex quads
    for (const poly of [a, b]) for (let i = 0; i < 4; i++) {
      const [x1, y1] = poly[i], [x2, y2] = poly[(i + 1) % 4], nx = y2 - y1, ny = x1 - x2;
      const pa = a.map(([x, y]) => x * nx + y * ny), pb = b.map(([x, y]) => x * nx + y * ny);
      if (Math.max(...pa) <= Math.min(...pb) || Math.max(...pb) <= Math.min(...pa)) return true;
    }
    return false;
  };
  const overlaps = [];
  const axes = new Map();
  for (const t of ticks) {
    const axis = t.parentNode.parentNode;
    if (!axes.has(axis)) axes.set(axis, []);
    axes.get(axis).push(t);
  }
  for (const labels of axes.values()) {
    const quads = labels.map(quad);
    for (let i = 0; i < labels.length; i++) for (let j = i + 1; j < labels.length; j++)
      if (!apart(quads[i], quads[j]))
        overlaps.push(labels[i].textContent + " / " + labels[j].textContent);
  }
  const entities = [...main.querySelectorAll('svg text')].map(t => t.textContent)
    .filter(s => /&(quot|amp|lt);/.test(s));
  return {top: Math.round(box.top - origin), bottom: Math.round(Math.max(bottom, box.top) - origin),
          font: fonts.length ? Math.min(...fonts) : null, overlaps: overlaps.slice(0, 5),
          entities: entities.slice(0, 5)};
}"""


@dataclass
class Visit:
    """What one load of one page in one mode showed."""

    problems: list[str]        # problems, blocked requests, no title (everything the render check fails on)
    blocked: list[str]         # requests outside loopback
    top: int | None            # first figure's top in px; None: no figure or the page never finished
    hostile: list[str] | None  # en only: problems after typing HOSTILE; None: no text box (or not asked)
    bottom: int | None = None  # first figure's lowest edge in px, its tick labels included
    font: float | None = None  # its smallest tick label in px (None: no tick labels)
    overlaps: list[str] | None = None  # pairs of its tick labels (one axis) drawn over each other
    entities: list[str] | None = None  # SVG texts on the page that show &quot; &amp; or &lt;


def figure_measures(tab: OfflinePage, wait_s: float = 60.0) -> dict | None:
    """The first figure's top, bottom, smallest tick font, tick overlaps and entity texts on a
    page whose script has finished (see _MEASURE_JS; None: no figure)."""
    try:
        tab.page.wait_for_function(_FIRST_JS, arg=FIGURE, timeout=wait_s * 1000)
    except Exception:  # no figure at all
        return None
    # a figure still drawing has no height yet: read until two readings 0.5 s apart agree
    last = None
    for _ in range(20):
        seen = tab.page.evaluate(_MEASURE_JS, FIGURE)
        if seen is not None and last is not None and seen == last:
            return seen
        last = seen
        tab.page.wait_for_timeout(500)
    return last


def type_hostile(tab: OfflinePage) -> list[str] | None:
    """Type HOSTILE into the first text box and submit it: the problems seen (None: no box)."""
    boxes = tab.page.locator(TEXT_BOXES)
    if boxes.count() == 0:
        return None
    try:
        boxes.first.fill(HOSTILE)
        boxes.first.press("Control+Enter")
        boxes.first.press("Tab")
        tab.wait_until_idle()
    except Exception as e:  # a box that cannot be typed into, or a page that never settles
        return [f"typing failed: {str(e)[:300]}"]
    injected = tab.page.locator('img[src="x"]').count()
    for frame in tab.page.frames:
        injected += frame.locator('img[src="x"]').count()
    problems = [p for p in tab.problems() if not p.startswith("error element")]
    if injected:
        problems.append("an injected <img> element exists")
    if tab.dialogs:
        problems.append("a script dialog opened")
    return problems


class PageVisits:
    """Visits memoised by (url path, mode): the first test that asks for one makes it."""

    def __init__(self, browser, base_url: str, artifacts: Path | None = None,
                 hostile: bool = True, reuse_tab: bool = True, every_mode: bool = False) -> None:
        self.browser, self.base_url, self.artifacts = browser, base_url.rstrip("/"), artifacts
        self.every_mode = every_mode  # a first-screen screenshot in every mode (else en, ko full page)
        self.hostile = hostile  # type HOSTILE into each English page after its checks
        self.reuse_tab = reuse_tab  # one tab for every visit (reset in between), else one each
        self._tab: OfflinePage | None = None
        self._done: dict[tuple[str, str], Visit] = {}

    def close(self) -> None:
        if self._tab is not None:
            self._tab.context.close()
            self._tab = None

    def _fresh_tab(self) -> OfflinePage:
        if not self.reuse_tab:
            self.close()
        if self._tab is None:
            self._tab = OfflinePage(self.browser, viewport=VIEWPORT)
        else:
            self._tab.reset()
        return self._tab

    def get(self, path: str, mode: str) -> Visit:
        if (path, mode) not in self._done:
            self._done[(path, mode)] = self._visit(path, mode)
        return self._done[(path, mode)]

    def _shot(self, tab: OfflinePage, name: str) -> None:
        if self.artifacts is not None:
            tab.page.screenshot(path=str(self.artifacts / name), full_page=True)

    def _visit(self, path: str, mode: str) -> Visit:
        name = path or "home"
        tab = self._fresh_tab()
        try:
            tab.open(f"{self.base_url}/{path}?{MODES[mode]}")
            finished = True
        except TimeoutError:
            finished = False
        seen = (figure_measures(tab) if finished and path else None) or {}
        top = seen.get("top")
        if self.every_mode and self.artifacts is not None:
            tab.page.screenshot(path=str(self.artifacts / f"screen-{name}-{mode}.png"))
        elif mode in ("en", "ko"):
            self._shot(tab, f"{name}-{mode}.png")
        problems = tab.problems() + [f"blocked request: {u}" for u in tab.blocked]
        if not finished:
            problems.append("the page kept running")
        if not tab.page.locator("h1").count():
            problems.append("no page title")
        hostile = None
        if mode == "en" and self.hostile:
            hostile = type_hostile(tab) if finished else ["the page kept running"]
        if hostile is not None:
            self._shot(tab, f"hostile-{name}.png")
        print(name, mode, seen, "problems", len(problems), file=sys.stderr, flush=True)
        return Visit(problems, list(tab.blocked), top, hostile, seen.get("bottom"), seen.get("font"),
                     seen.get("overlaps"), seen.get("entities"))
