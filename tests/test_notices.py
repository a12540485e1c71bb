"""Notices: one dataclass in lmcore, one Streamlit helper that shows parameters as text."""
from __future__ import annotations

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from lmcore.i18n import translate
from lmcore.notices import Notice
from ui.safe_text import md_escape

HOSTILE = ["[x](http://e.x)", "![x](http://e.x/p.png)", "<b>x</b>"]


def test_one_notice_class_everywhere():
    from lmcore import files
    from lmcore.demos import batch, compare, self_attention_steps
    from lmcore.pretrained import encoding, predict, tasks
    from lmcore.translation import text, translators

    for module in (text, translators, encoding, predict, tasks, compare, batch, files):
        assert module.Notice is Notice, module.__name__
    assert self_attention_steps.LayerSteps.__dataclass_fields__["notices"].type == "tuple[Notice, ...]"


def test_notice_message_and_dict():
    notice = Notice("errors.text_truncated", {"kept": 3, "total": 9})
    assert notice.message("ko") == translate("errors.text_truncated", "ko", kept=3, total=9)
    assert notice.to_dict() == {"key": "errors.text_truncated", "params": {"kept": 3, "total": 9},
                                "message": translate("errors.text_truncated", "en", kept=3, total=9)}


def _show(name: str, level: str) -> None:
    from lmcore.notices import Notice
    from ui.notices import show_notices

    notice = Notice("lm.notice.hangul_bytes", {"name": name})
    show_notices([notice, notice], level)  # the same text twice is shown once


def _render(markdown: str) -> str:
    """The HTML a Markdown renderer that allows raw HTML makes of it (Streamlit's allows less)."""
    return MarkdownIt("commonmark", {"html": True}).render(markdown)


@pytest.mark.parametrize("level", ["warning", "info"])
@pytest.mark.parametrize("name", HOSTILE)
def test_a_notice_parameter_renders_as_text(name, level):
    at = AppTest.from_function(_show, default_timeout=30, kwargs=dict(name=name, level=level))
    at.query_params["lang"] = "ko"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [e.value for e in (at.warning if level == "warning" else at.info)]
    assert shown == [translate("lm.notice.hangul_bytes", "ko", name=md_escape(name))]
    html = _render(shown[0])
    assert "<a" not in html and "<img" not in html and "<b>" not in html
    assert name.replace("<", "&lt;").replace(">", "&gt;") in html  # the text itself, visible
