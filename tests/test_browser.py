"""Open every page in headless Chromium with the network cut (only localhost answers).

Fails on an exception or error element on the page, a console error, a chart that did not
render, a script dialog, or any request outside localhost. Screenshots go to tests/artifacts/.
In CI (CI=true) the test must run: a missing Chromium fails instead of skipping.
"""
from __future__ import annotations

import os

import pytest

from tests.browser_support import (ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, OfflinePage,
                                   chromium_available, running_app)
from ui.navigation import all_pages

if not chromium_available():
    if os.environ.get("CI"):
        raise RuntimeError(f"Chromium not found at {CHROMIUM}: the browser test must run in CI")
    pytest.skip("Chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def app_url():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_app() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_page_renders_offline(app_url, browser, lang):
    failures = {}
    for spec in all_pages():
        with OfflinePage(browser) as tab:
            tab.page.goto(f"{app_url}/{spec.url_path}?lang={lang}", wait_until="domcontentloaded")
            tab.wait_until_idle()
            tab.page.screenshot(path=str(ARTIFACTS / f"{spec.url_path or 'home'}-{lang}.png"), full_page=True)
            problems = tab.problems() + [f"blocked request: {u}" for u in tab.blocked]
            if not tab.page.locator("h1").count():
                problems.append("no page title")
            if problems:
                failures[spec.url_path or 'home'] = problems
    assert failures == {}


HOSTILE = '</script><img src=x onerror=alert(1)>'


def test_hostile_text_runs_no_script_anywhere(app_url, browser):
    """Type a script-breaking string into the first text box of every page that has one:
    no dialog opens, no injected <img> appears, and the page keeps working."""
    failures = {}
    for spec in all_pages():
        with OfflinePage(browser) as tab:
            tab.page.goto(f"{app_url}/{spec.url_path}?lang=en", wait_until="domcontentloaded")
            tab.wait_until_idle()
            boxes = tab.page.locator('[data-testid="stMain"] textarea, '
                                     '[data-testid="stMain"] input[type="text"]')
            if boxes.count() == 0:
                continue
            boxes.first.fill(HOSTILE)
            boxes.first.press("Control+Enter")
            boxes.first.press("Tab")
            tab.wait_until_idle()
            injected = tab.page.locator('img[src="x"]').count()
            for frame in tab.page.frames:
                injected += frame.locator('img[src="x"]').count()
            problems = [p for p in tab.problems() if not p.startswith("error element")]
            if injected:
                problems.append("an injected <img> element exists")
            if tab.dialogs:
                problems.append("a script dialog opened")
            tab.page.screenshot(path=str(ARTIFACTS / f"hostile-{spec.url_path or 'home'}.png"),
                                full_page=True)
            if problems:
                failures[spec.url_path or "home"] = problems
    assert failures == {}
