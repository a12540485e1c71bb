"""Open every page in headless Chromium with the network cut (only localhost answers).

Fails on an exception or error element on the page, a console error, a chart that did not
render, a script dialog, or any request outside localhost. Screenshots go to tests/artifacts/.
Each page is loaded once per mode for all the every-page checks (tests/browser_visits.py; the
figure-first check in tests/test_browser_layout.py reads the same visits), in one app server
and one Chromium for every browser test file (tests/conftest.py).
In CI (CI=true) the test must run: a missing Chromium fails instead of skipping.
"""
from __future__ import annotations

import pytest

from tests.browser_support import require_browser
from ui.navigation import all_pages

require_browser()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_page_renders_offline(page_visits, lang):
    failures = {}
    for spec in all_pages():
        problems = page_visits.get(spec.url_path, lang).problems
        if problems:
            failures[spec.url_path or 'home'] = problems
    assert failures == {}


def test_hostile_text_runs_no_script_anywhere(page_visits):
    """Type a script-breaking string into the first text box of every page that has one:
    no dialog opens, no injected <img> appears, and the page keeps working."""
    failures = {}
    typed = 0
    for spec in all_pages():
        problems = page_visits.get(spec.url_path, "en").hostile
        typed += problems is not None
        if problems:
            failures[spec.url_path or "home"] = problems
    assert typed > 0, "no page had a text box to type into"
    assert failures == {}
