"""The one translation table: every user-facing string, in English and Korean.

Strings live in `lmcore/locales/*.json`, one file per area of the app, each a
mapping `key -> {"en": ..., "ko": ...}`. Keys are namespaced by area
(`"common.run"`, `"attn.title"`). `translate` fills `{named}` placeholders.

The Streamlit side wraps this in `ui.i18n.t`, which knows the session's language.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

LANGUAGES: tuple[str, ...] = ("en", "ko")
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).parent / "locales"


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    """All keys from all locale files; a key defined twice is an error."""
    table: dict[str, dict[str, str]] = {}
    for path in sorted(LOCALE_DIR.glob("*.json")):
        for key, entry in json.loads(path.read_text(encoding="utf-8")).items():
            if key in table:
                raise ValueError(f"translation key {key!r} defined twice (again in {path.name})")
            table[key] = entry
    return table


def normalize_language(lang: str | None) -> str:
    """'ko-KR' -> 'ko'; anything unknown -> the default language."""
    code = (lang or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def translate(key: str, lang: str = DEFAULT_LANGUAGE, **params: object) -> str:
    """The text for `key` in `lang`, with `{placeholders}` filled from params.

    An unknown key returns the key itself, so a missing string is visible
    (and caught by the locale tests) rather than crashing a page.
    """
    entry = catalog().get(key)
    if entry is None:
        return key
    text = entry.get(normalize_language(lang)) or entry.get(DEFAULT_LANGUAGE, key)
    if not params:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text
