"""Shared test set-up: the repository root on sys.path, offline hub settings, one torch
thread, fresh Streamlit caches, and the browser tests' one app server, one Chromium and one
visit per page and mode (session-scoped, started only when a browser test asks for them)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Tests never reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


@pytest.fixture(scope="module")
def one_thread():
    """Torch on one thread for a module (restored after): tiny matrices run faster on one
    thread, above all on a busy machine. Use with `pytestmark = pytest.mark.usefixtures(...)`."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def fresh_caches():
    """Streamlit's data caches emptied before and after a test (pages see the test's models)."""
    import streamlit as st  # here, not at the top: most tests never load streamlit

    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture(scope="session")
def app_url():
    """One app server for every browser test file (its caches warm up once)."""
    from tests.browser_support import ARTIFACTS, running_app

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_app() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test file (each test opens its own contexts)."""
    from playwright.sync_api import sync_playwright

    from tests.browser_support import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def page_visits(app_url, browser):
    """Every page opened once per mode (en, ko, present) for all the every-page browser checks."""
    from tests.browser_support import ARTIFACTS
    from tests.browser_visits import PageVisits

    visits = PageVisits(browser, app_url, artifacts=ARTIFACTS)
    yield visits
    visits.close()


def pytest_collection_modifyitems(config, items):
    """Browser tests run last: the session's Playwright (sync API) keeps an asyncio loop running
    in the main thread until the session ends, and `asyncio.run` (the WebSocket client's tests)
    or Ray Serve's synchronous handles cannot be used under a running loop."""
    uses_browser = [i for i in items if {"browser", "page_visits"} & set(getattr(i, "fixturenames", ()))]
    if uses_browser:
        chosen = set(map(id, uses_browser))
        items[:] = [i for i in items if id(i) not in chosen] + uses_browser
