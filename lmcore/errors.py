"""Errors meant for the person using the app or the CLI.

A `UserFacingError` carries a translation key and its parameters, never a
traceback: the UI translates it with the user's language, the CLI prints it in
English (or `--lang ko`).
"""
from __future__ import annotations

from lmcore.i18n import translate


class UserFacingError(Exception):
    """Bad input or an unavailable resource, explained by a locale key."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(f"{key} {params}" if params else key)

    def message(self, lang: str = "en") -> str:
        return translate(self.key, lang, **self.params)
