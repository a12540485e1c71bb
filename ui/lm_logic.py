"""Pure helpers behind the BERT and GPT pages' widgets (no Streamlit: tested directly).

The lesson questions live in lmcore.demos.quiz, the GPT trace's per-head rows in
lmcore.pretrained.generation.new_token_maps."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Collection, Mapping, Sequence

from lmcore.notices import Notice
from lmcore.translation.text import WHOLE_WORD_RE

MASK = "[MASK]"
MAX_MASKS = 8  # blanks drawn as charts on the BERT page (more are named in a notice, not drawn)
_ANY_MASK = re.compile(r"\[mask\]", re.IGNORECASE)
# The BERT page's views (?show=), one open at a time; "grid" (all heads) is the default.
BERT_VIEWS = ("grid", "head", "bertviz", "report", "rollout", "fill", "nsp")
# Before ?show= every view was on the page at once: a link carrying a view's own parameter
# meant that view; it reopens it (first match wins).
_LINK_VIEWS = (("view", "bertviz"), ("mask", "fill"), ("top_k", "fill"), ("rollout", "rollout"),
               ("layer", "head"), ("head", "head"))
REPORT_COLUMNS = ("cls", "sep", "punct", "prev", "next", "same", "entropy")


def maskable_words(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the words one may hide, left to right."""
    return [m.span() for m in WHOLE_WORD_RE.finditer(text)]


def typed_masks(text: str) -> tuple[str, int]:
    """(the text with any-case [mask] written [MASK], how many there are)."""
    return _ANY_MASK.subn(MASK, text)


def mask_word(text: str, span: tuple[int, int]) -> str:
    """The text with the word at `span` replaced by [MASK]."""
    start, end = span
    return text[:start] + MASK + text[end:]


def view_from_link(params: Mapping[str, str]) -> str:
    """The BERT view an old shared link (no ?show=) showed: ?view= bertviz, ?mask= fill-mask, ..."""
    return next((view for param, view in _LINK_VIEWS if param in params), "grid")


def page_notices(notices: Sequence[Notice], offered: Collection[str]) -> list[Notice]:
    """The model's notices for a page whose model picker offers `offered`: a Korean warning
    that recommends a model not in the picker names what works instead (lmp.bert.hangul_lost)."""
    out = []
    for notice in notices:
        params = dict(notice.params)
        if notice.key == "lm.notice.hangul_lost" and params.get("suggestion") not in offered:
            notice = Notice("lmp.bert.hangul_lost", {"name": params.get("name", "")})
        out.append(notice)
    return out


def report_table(rows: Sequence[dict], t: Callable[..., str]) -> dict[str, list]:
    """The head report as table columns with translated headers and labels."""
    table: dict[str, list] = {t("common.layer"): [r["layer"] for r in rows],
                              t("common.head"): [r["head"] for r in rows],
                              t("lmp.report.label"): [t(f"lm.head.{r['label']}") for r in rows]}
    for col in REPORT_COLUMNS:
        table[t(f"lm.head.{col}")] = [round(float(r[col]), 3) for r in rows]
    return table


def report_row_head(rows: Sequence[dict], index: int) -> tuple[int, int]:
    """(layer, head) of the report row at positional `index`."""
    return int(rows[index]["layer"]), int(rows[index]["head"])


def rivals_text(rivals: Sequence, limit: int = 5) -> str:
    """'the 0.31 · a 0.12 · ...' for the top rivals of a generation step."""
    return " · ".join(f"{r.display} {r.probability:.2f}" for r in list(rivals)[:limit])


@dataclass(frozen=True)
class GenSettings:
    """What a generation depends on; a change restarts it."""

    model: str
    prompt: str
    top_k: int
    temperature: float
    seed: int
    top_p: float = 1.0


def next_steps(current: int, action: str | None, play_steps: int, limit: int) -> int:
    """Number of generated tokens after a button: step +1, play +play_steps, reset 0."""
    if action == "reset":
        return 0
    if action == "step":
        return min(current + 1, limit)
    if action == "play":
        return min(current + play_steps, limit)
    return current
