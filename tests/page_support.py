"""Running one page script headless (AppTest) the way every page test starts."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest


def run_page(script: str, lang: str = "en", timeout: float = 60, **params: str) -> AppTest:
    """The page run once in `lang`, with any other URL parameters (a shared link)."""
    at = AppTest.from_file(script, default_timeout=timeout)
    at.query_params["lang"] = lang
    at.query_params.update(params)
    return at.run()


def ran_cleanly(at: AppTest) -> AppTest:
    """`at`, after checking the last run raised nothing."""
    assert not at.exception, [e.value for e in at.exception]
    return at
