"""The guided lesson: on each page a short "what to look for" box and a predict-then-reveal question.

Layout (issue 12, figure first): a page shows its title, one compact row of inputs and its
figure first; `after_figure(page, intro)` then writes the intro, the folded guide and the
question below the figure. Pages with a live question call `guide` and `quiz` themselves.

Pages call `guide(page)` and `quiz(page, ...)`; a page id is the page's url path in
`ui.navigation` ("home" for the home page). All text lives in `lmcore/locales/lesson.json`:
`lesson.<page>.b1..bN` (bullets), `.q` (question), `.o1..oN` (options), `.why`, and for a
live question (options computed by the page from the model) `.live_q` and `.live_why`.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from lmcore.i18n import catalog
from ui.i18n import t
from ui.navigation import PageSpec, page_by_path
from ui.safe_text import SafeMarkdown, md_escape

# Previous / Next follow this order (the chapter first, then the workshop pages).
LESSON_PATH: tuple[str, ...] = (
    "home", "seq2seq", "attention", "translate-steps", "transformer", "self-attention",
    "positional", "bert", "gpt", "logit-lens", "kv-cache", "heads-off", "fine-tuning", "compare",
    "your-sentences", "train-seq2seq",
)
# Number of bullets `lesson.<page>.b1..bN` in the guide box.
BULLETS: dict[str, int] = {
    "home": 3, "seq2seq": 4, "attention": 4, "translate-steps": 4, "transformer": 4,
    "self-attention": 4, "positional": 4, "bert": 4, "gpt": 4, "logit-lens": 4, "kv-cache": 4,
    "heads-off": 4, "fine-tuning": 4, "compare": 4,
    "your-sentences": 4, "train-seq2seq": 4,
}
# The static question of each page: (number of options `lesson.<page>.o1..oN`, right index).
QUIZZES: dict[str, tuple[int, int]] = {
    "seq2seq": (4, 2), "attention": (4, 0), "translate-steps": (4, 1), "transformer": (4, 2),
    "self-attention": (4, 3), "positional": (4, 2), "bert": (4, 1), "gpt": (4, 3), "logit-lens": (4, 2),
    "kv-cache": (4, 1), "heads-off": (4, 1),
    "fine-tuning": (4, 1), "compare": (4, 3), "your-sentences": (4, 2), "train-seq2seq": (4, 0),
}


def _check(page: str) -> None:
    if page not in LESSON_PATH:
        raise ValueError(f"unknown lesson page {page!r}; expected one of {LESSON_PATH}")


def spec_for(page: str) -> PageSpec | None:
    """The registered page for a lesson page id, or None if it is not registered (yet)."""
    return page_by_path("" if page == "home" else page)


def neighbours(page: str) -> tuple[PageSpec | None, PageSpec | None]:
    """The nearest registered pages before and after `page` on the lesson path."""
    _check(page)
    i = LESSON_PATH.index(page)
    before = (spec_for(p) for p in reversed(LESSON_PATH[:i]))
    after = (spec_for(p) for p in LESSON_PATH[i + 1:])
    return next((s for s in before if s), None), next((s for s in after if s), None)


def bullets(page: str) -> list[str]:
    """The guide's bullets in the session's language; home adds the route through the pages."""
    _check(page)
    items = [t(f"lesson.{page}.b{i}") for i in range(1, BULLETS[page] + 1)]
    if page == "home":
        titles = [t(s.title_key) for s in map(spec_for, LESSON_PATH[1:]) if s is not None]
        items.append(t("lesson.route", route=SafeMarkdown(" → ".join(titles))))  # translated titles: safe
    return items


def _link(column, spec: PageSpec, label_key: str) -> None:
    try:
        column.page_link(spec.script, label=t(label_key, title=t(spec.title_key)), icon=spec.icon)
    except StreamlitPageNotFoundError:
        # The script runs without app.py's st.navigation (a page opened on its own, e.g.
        # AppTest.from_file(page)): there are no pages to link to, so no link.
        pass


def guide(page: str) -> None:
    """A collapsed expander 'Lesson: what to look for': 2-4 bullets and Previous / Next links."""
    items = bullets(page)
    with st.expander(t("lesson.guide.title"), expanded=False):
        st.markdown("\n".join(f"- {item}" for item in items))
        before, after = neighbours(page)
        left, right = st.columns(2)
        if before is not None:
            _link(left, before, "lesson.prev")
        if after is not None:
            _link(right, after, "lesson.next")


def after_figure(page: str, intro: str, *, question: bool = True, **params: object) -> None:
    """Below the figure: the page's intro text, the folded guide and (question=True) the static
    question, its placeholders filled from `params` (what is on the page: text="...")."""
    st.markdown(intro)
    guide(page)
    if question:
        quiz(page, **params)


def _reveal(pick_key: str, shown_key: str) -> None:
    """Reveal-button callback: remember which pick was revealed (None: nothing picked)."""
    st.session_state[shown_key] = st.session_state.get(pick_key)


def _digest(options: Sequence[str]) -> str:
    return hashlib.sha1("\x1f".join(map(str, options)).encode("utf-8")).hexdigest()[:10]


def _question(page: str, options: Sequence[str] | None, answer: int | None,
              params: dict[str, str]) -> tuple[str, list[str], int, str, str] | None:
    """(question, option labels, right index, why, widget key prefix), or None: no question."""
    if options is not None and answer is not None and 0 <= answer < len(options):
        labels = [md_escape(o) for o in options]
        q_key = f"lesson.{page}.live_q" if f"lesson.{page}.live_q" in catalog() else f"lesson.{page}.q"
        why_key = f"lesson.{page}.live_why" if f"lesson.{page}.live_why" in catalog() \
            else "lesson.live_why"
        why = t(why_key, answer=labels[answer], **params)
        return t(q_key, **params), labels, answer, why, f"lesson_{page}_live_{_digest(options)}_"
    if page not in QUIZZES:
        return None
    count, right = QUIZZES[page]
    labels = [t(f"lesson.{page}.o{i}", **params) for i in range(1, count + 1)]
    return (t(f"lesson.{page}.q", **params), labels, right,
            t(f"lesson.{page}.why", answer=labels[right], **params), f"lesson_{page}_")


def quiz(page: str, options: Sequence[str] | None = None, answer: int | None = None,
         **params: object) -> None:
    """Predict-then-reveal: a question, a radio with no default pick, and a Reveal button.

    Static (no `options`): the page's question from the locale table. Live: `options` are
    words the page computed (e.g. the sentence's tokens) and `answer` the model's index;
    they are shown as plain text. Invalid live input (no options, answer out of range)
    falls back to the static question. `params` fill the text's placeholders (word="it").
    A new set of live options gets fresh widgets (keys carry a digest of the options).
    """
    _check(page)
    safe = {name: md_escape(value) for name, value in params.items()}
    asked = _question(page, options, answer, safe)
    if asked is None:  # "home": guide only
        return
    question, labels, right, why, prefix = asked
    pick_key, shown_key = prefix + "pick", prefix + "shown"
    opened = st.session_state.get(pick_key) is not None  # stays open once the class is in it
    with st.expander(f"**{t('lesson.quiz.title')}:** {question}", icon=":material/quiz:",
                     expanded=opened):
        pick = st.radio(t("lesson.quiz.pick"), range(len(labels)), index=None, key=pick_key,
                        format_func=labels.__getitem__)
        clicked = st.button(t("lesson.quiz.reveal"), key=prefix + "reveal", on_click=_reveal,
                            args=(pick_key, shown_key))
        if pick is None:
            if clicked:
                st.warning(t("lesson.quiz.guess_first"))
        elif st.session_state.get(shown_key) == pick:  # hidden again when the pick changes
            verdict = t("lesson.quiz.right" if pick == right else "lesson.quiz.wrong",
                        answer=labels[right])
            (st.success if pick == right else st.info)(f"{verdict}\n\n{why}")
