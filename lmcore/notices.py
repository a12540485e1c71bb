"""`Notice`: something the user should know about their input or a result.

A notice is a locale key and its parameters, never finished text: the caller translates it
into the reader's language (the app through `ui.notices.show_notices`, which also escapes the
parameters for Markdown; the CLI through `message(lang)` or `to_dict()`).

    Notice("errors.text_truncated", {"kept": 32, "total": 122}).message("ko")
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lmcore.i18n import translate


@dataclass(frozen=True)
class Notice:
    """A locale key (truncation, unknown words, wrong script, [UNK] Korean...) and its params."""

    key: str
    params: dict = field(default_factory=dict)

    def message(self, lang: str = "en") -> str:
        """The notice's text in `lang`, parameters filled in as they are (plain text)."""
        return translate(self.key, lang, **self.params)

    def to_dict(self) -> dict:
        """JSON form: {"key", "params", "message" (English)}."""
        return {"key": self.key, "params": dict(self.params), "message": self.message("en")}
