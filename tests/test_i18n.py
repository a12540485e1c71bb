"""Every user-facing string exists in English and Korean, with the same placeholders."""
from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from lmcore.errors import UserFacingError
from lmcore.i18n import LANGUAGES, catalog, normalize_language, translate

ROOT = Path(__file__).resolve().parent.parent
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_has_both_languages_and_korean_is_korean():
    for key, entry in catalog().items():
        assert set(entry) == set(LANGUAGES), key
        assert entry["en"].strip() and entry["ko"].strip(), key
        assert _fields(entry["en"]) == _fields(entry["ko"]), key


def test_most_korean_strings_contain_hangul():
    entries = list(catalog().values())
    with_hangul = sum(bool(HANGUL.search(e["ko"])) for e in entries)
    assert with_hangul / len(entries) > 0.8


def _used_keys() -> set[tuple[str, str]]:
    pattern = re.compile(r"""\b(?:t|translate|UserFacingError|_t)\(\s*["']([a-z0-9_]+\.[a-zA-Z0-9_.]+)["']""")
    used = set()
    for path in list(ROOT.glob("*.py")) + list(ROOT.glob("pages/*.py")) + \
            list(ROOT.glob("ui/*.py")) + list(ROOT.glob("lmcore/**/*.py")):
        for key in pattern.findall(path.read_text("utf-8")):
            used.add((key, str(path.relative_to(ROOT))))
    return used


def test_every_literal_key_used_in_code_is_defined():
    missing = sorted(f"{key} ({where})" for key, where in _used_keys() if key not in catalog())
    assert missing == []


def test_translate_fills_placeholders_and_falls_back():
    assert translate("errors.unknown_model", "en", name="x").startswith('Unknown model "x"')
    assert "x" in translate("errors.unknown_model", "ko", name="x")
    assert translate("no.such.key", "ko") == "no.such.key"


@pytest.mark.parametrize("raw,expected", [("ko-KR", "ko"), ("en_US", "en"), ("fr", "en"),
                                          (None, "en"), ("", "en"), ("KO", "ko")])
def test_normalize_language(raw, expected):
    assert normalize_language(raw) == expected


def test_user_facing_error_translates():
    error = UserFacingError("errors.unknown_model", name="<b>")
    assert "<b>" in error.message("en") and error.message("ko") != error.message("en")


def test_translated_metrics_fields_say_what_the_models_metrics_json_says():
    """`inside.<field>.<model>` translates a text field of that model's metrics.json: its English
    must be the file's own words, so a retrained model's page never shows a stale description."""
    import json
    checked = 0
    for key, entry in catalog().items():
        parts = key.split(".", 2)
        if parts[0] != "inside" or parts[1] not in ("data", "held_out", "trained_on"):
            continue
        metrics = ROOT / "lmcore" / "assets" / parts[2] / "metrics.json"
        if metrics.is_file():
            assert entry["en"] == json.loads(metrics.read_text())[parts[1]], key
            checked += 1
    assert checked >= 3
