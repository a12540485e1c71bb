"""Every translated message that quotes a parameter shows it as text (issue 16, item 1).

`ui.i18n.t` and `ui.i18n.error_text` are the one door: they escape every text parameter
for Markdown. Here every locale key with a `{param}`, in both languages, is filled with a
Markdown link, a Markdown image, HTML, a `javascript:` URL, a bare https:// link, a www.
link and a mail address, and rendered by a Markdown renderer that allows raw HTML
(Streamlit's allows less). No link, image or HTML tag may appear beyond the template's own,
and no autolink literal (GFM turns `https://`, `www.` and `a@b.c` into links) may survive.
"""
from __future__ import annotations

import re
import string

import pytest
from markdown_it import MarkdownIt

from lmcore.errors import UserFacingError
from lmcore.i18n import LANGUAGES, catalog, translate

HOSTILE = ["![x](http://evil.example/p.png)", "[Click here to fix](http://evil.example/phish)",
           "<img src=http://evil.example/p.png>", "<a href='javascript:alert(1)'>x</a>",
           "[x](javascript:alert(1))", "see https://evil.example/a now", "www.evil.example",
           "mail me@evil.example", "<script>alert(1)</script>", "x\n\n- item\n# head"]
_TAGS = re.compile(r"<(a|img|script|b|h1|ul|li)\b", re.I)
_AUTOLINK = re.compile(r"https?://|www\.|javascript:|[\w.]@[\w]", re.I)


def _render(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).render(markdown)


def _fields(template: str) -> dict[str, str]:
    """{param: format spec} of a template."""
    return {name: spec or "" for _, name, spec, _ in string.Formatter().parse(template) if name}


KEYS = sorted(key for key, entry in catalog().items()
              if any(_fields(entry.get(lang, "")) for lang in LANGUAGES))


def _filled(key: str, lang: str, value: str) -> str:
    from ui.i18n import safe_params
    fields = _fields(catalog()[key][lang])
    params = {name: (0.5 if spec else value) for name, spec in fields.items()}  # {p:.3f}: a number
    return translate(key, lang, **safe_params(params))


def test_there_are_many_keys_with_parameters():
    assert len(KEYS) > 100


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("key", KEYS)
def test_every_message_shows_hostile_parameters_as_text(key, lang):
    benign = _render(_filled(key, lang, "plain"))
    for value in HOSTILE:
        source = _filled(key, lang, value)
        html = _render(source)
        assert len(_TAGS.findall(html)) == len(_TAGS.findall(benign)), (key, value, html)
        assert len(_AUTOLINK.findall(source)) == len(_AUTOLINK.findall(translate(key, lang))), (key, value)


def test_error_text_escapes_its_parameters():
    from streamlit.testing.v1 import AppTest

    def show() -> None:
        import streamlit as st
        from lmcore.errors import UserFacingError
        from ui.i18n import error_text
        st.error(error_text(UserFacingError("errors.unknown_model", name="![x](http://evil.example/p.png)")))

    at = AppTest.from_function(show, default_timeout=30).run()
    html = _render(at.error[0].value)
    assert "<img" not in html and "evil" in html and not _AUTOLINK.search(at.error[0].value)


def test_numbers_and_safe_text_are_not_escaped_twice():
    from ui.i18n import safe_params
    from ui.safe_text import md_escape
    once = md_escape("a.b")
    assert safe_params({"n": 3, "p": 0.25, "s": once, "raw": "a.b"}) == {"n": 3, "p": 0.25, "s": once, "raw": once}
    assert UserFacingError("errors.unknown_model", name="x").params == {"name": "x"}
