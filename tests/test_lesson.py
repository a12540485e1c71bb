"""The guided lesson (ui/lesson.py): guide text and questions for every page, in both languages,
and the predict-then-reveal widget run headless with AppTest."""
from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lmcore.i18n import LANGUAGES, catalog, translate
from ui import lesson
from ui.navigation import all_pages, page_by_path

ROOT = Path(__file__).resolve().parent.parent
PAGE_IDS = ["home", "your-sentences", "seq2seq", "train-seq2seq", "attention", "translate-steps",
            "transformer", "self-attention", "positional", "bert", "gpt", "logit-lens", "kv-cache",
            "heads-off", "fine-tuning", "compare"]
QUIZ_PAGES = [p for p in PAGE_IDS if p != "home"]
WORDS = ["[CLS]", "the", "cat", "sat", "because", "it", "was", "tired", "[SEP]"]


# ---------------------------------------------------------------- content
def test_the_path_covers_every_page_once_and_every_registered_page():
    assert sorted(lesson.LESSON_PATH) == sorted(PAGE_IDS)
    assert lesson.LESSON_PATH[0] == "home"
    registered = {spec.url_path or "home" for spec in all_pages()}
    assert registered <= set(lesson.LESSON_PATH)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", PAGE_IDS)
def test_every_page_has_short_guide_bullets(page, lang):
    count = lesson.BULLETS[page]
    assert 2 <= count + (page == "home") <= 4
    for i in range(1, count + 1):
        key = f"lesson.{page}.b{i}"
        assert key in catalog(), key
        text = translate(key, lang)
        assert text.strip() and text != key
        if lang == "en":
            assert len(text.split()) <= 25, key


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", QUIZ_PAGES)
def test_every_page_has_a_question_with_its_answer_among_the_options(page, lang):
    count, answer = lesson.QUIZZES[page]
    assert 3 <= count <= 4 and 0 <= answer < count
    for key in [f"lesson.{page}.q", f"lesson.{page}.why"] + \
               [f"lesson.{page}.o{i}" for i in range(1, count + 1)]:
        assert key in catalog(), key
        assert translate(key, lang).strip()
    options = [translate(f"lesson.{page}.o{i}", lang) for i in range(1, count + 1)]
    assert len(set(options)) == count, "options are distinct"
    assert f"lesson.{page}.o{count + 1}" not in catalog(), "the table and the locale agree"


def test_home_has_no_question_and_bert_has_a_live_one():
    assert "home" not in lesson.QUIZZES
    for lang in LANGUAGES:
        question = translate("lesson.bert.live_q", lang, word="it")
        assert "‘it’" in question
        why = translate("lesson.bert.live_why", lang, word="it", answer="cat")
        assert "‘it’" in why and "‘cat’" in why


def test_the_locale_file_holds_exactly_the_lesson_keys():
    keys = set(json.loads((ROOT / "lmcore/locales/lesson.json").read_text("utf-8")))
    assert all(k.startswith("lesson.") for k in keys)
    assert {k for k in catalog() if k.startswith("lesson.")} == keys  # nobody else defines lesson.*
    expected = {"lesson.guide.title", "lesson.prev", "lesson.next", "lesson.route",
                "lesson.quiz.title", "lesson.quiz.pick", "lesson.quiz.reveal",
                "lesson.quiz.guess_first", "lesson.quiz.right", "lesson.quiz.wrong",
                "lesson.live_why", "lesson.bert.live_q", "lesson.bert.live_why",
                "lesson.translate-steps.live_q", "lesson.translate-steps.live_why",
                "lesson.logit-lens.live_q", "lesson.logit-lens.live_why"}
    for page, count in lesson.BULLETS.items():
        expected |= {f"lesson.{page}.b{i}" for i in range(1, count + 1)}
    for page, (count, _) in lesson.QUIZZES.items():
        expected |= {f"lesson.{page}.q", f"lesson.{page}.why"}
        expected |= {f"lesson.{page}.o{i}" for i in range(1, count + 1)}
    assert keys == expected, "no missing and no unused lesson strings"


def test_neighbours_skip_pages_that_are_not_registered():
    before, after = lesson.neighbours("home")
    assert before is None and after == page_by_path("seq2seq")
    before, after = lesson.neighbours("seq2seq")
    assert before == page_by_path("") and after == page_by_path("attention")
    before, _ = lesson.neighbours("train-seq2seq")
    assert before == page_by_path("your-sentences")
    _, after = lesson.neighbours("train-seq2seq")
    assert after is None
    _, after = lesson.neighbours("fine-tuning")
    assert after == (page_by_path("compare") or page_by_path("your-sentences"))


def test_unknown_page_is_a_programming_error():
    with pytest.raises(ValueError):
        lesson.neighbours("no-such-page")


def test_model_words_are_escaped_for_markdown():
    assert lesson.md_escape("[CLS]") == "\\[CLS\\]"
    assert lesson.md_escape("*it*") == "\\*it\\*"
    assert lesson.md_escape("<b>") == "&lt;b&gt;"


# ---------------------------------------------------------------- the widgets (bare script)
def _script(page: str, live: bool, words: list[str], answer: int | None) -> None:
    from ui import lesson  # AppTest runs this function's source as its own script

    lesson.guide(page)
    if live:
        lesson.quiz(page, options=words, answer=answer, word="it")
    else:
        lesson.quiz(page)


def _run(page: str, lang: str = "en", live: bool = False, words: list[str] | None = None,
         answer: int | None = None) -> AppTest:
    at = AppTest.from_function(_script, default_timeout=30,
                               kwargs=dict(page=page, live=live, words=words or [], answer=answer))
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _reveal(at: AppTest, pick: int | None = None) -> AppTest:
    if pick is not None:
        at.radio[0].set_value(pick)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("lang", LANGUAGES)
def test_guide_is_a_collapsed_expander_with_the_bullets(lang):
    at = _run("attention", lang)
    assert [e.label for e in at.expander][0] == translate("lesson.guide.title", lang)
    assert at.expander[-1].label.startswith(f"**{translate('lesson.quiz.title', lang)}:**")
    assert at.expander[-1].proto.expanded is False  # the question shows; the choices open on a click
    assert at.expander[0].proto.expanded is False
    assert translate("lesson.attention.b1", lang) in at.expander[0].markdown[0].value
    assert not at.get("page_link"), "a script without st.navigation has nothing to link to"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_reveal_without_a_pick_asks_for_a_guess(lang):
    at = _run("attention", lang)
    assert at.radio[0].value is None, "no default pick"
    assert len(at.radio[0].options) == 4
    _reveal(at)
    assert [w.value for w in at.warning] == [translate("lesson.quiz.guess_first", lang)]
    assert not at.success and not at.info


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", ["attention", "gpt", "positional"])
def test_the_right_pick_succeeds_and_explains(page, lang):
    count, answer = lesson.QUIZZES[page]
    at = _reveal(_run(page, lang), answer)
    assert not at.warning and not at.info
    assert len(at.success) == 1
    text = at.success[0].value
    assert text.startswith(translate("lesson.quiz.right", lang, answer=""))
    assert translate(f"lesson.{page}.o{answer + 1}", lang) in text
    assert translate(f"lesson.{page}.why", lang) in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_wrong_pick_names_the_right_answer(lang):
    _, answer = lesson.QUIZZES["self-attention"]
    wrong = (answer + 1) % 4
    at = _reveal(_run("self-attention", lang), wrong)
    assert not at.success and len(at.info) == 1
    text = at.info[0].value
    assert text.startswith(translate("lesson.quiz.wrong", lang, answer=""))
    assert translate(f"lesson.self-attention.o{answer + 1}", lang) in text
    assert translate("lesson.self-attention.why", lang) in text


def test_changing_the_pick_hides_the_answer_until_the_next_reveal():
    _, answer = lesson.QUIZZES["gpt"]
    at = _reveal(_run("gpt"), answer)
    assert at.success
    at.radio[0].set_value((answer + 1) % 4).run()
    assert not at.success and not at.info and not at.warning
    _reveal(at)
    assert at.info


def test_home_shows_the_route_and_no_question():
    at = _run("home", "ko")
    assert not at.radio and not at.button
    bullets = at.expander[0].markdown[0].value
    assert translate("lesson.route", "ko", route="")[:5] in bullets
    assert translate(page_by_path("seq2seq").title_key, "ko") in bullets


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_live_question_uses_the_page_words(lang):
    at = _run("bert", lang, live=True, words=WORDS, answer=2)
    assert translate("lesson.bert.live_q", lang, word="it") in at.expander[-1].label
    assert at.radio[0].options == [lesson.md_escape(w) for w in WORDS]
    _reveal(at, 2)
    assert len(at.success) == 1 and "‘cat’" in at.success[0].value
    _reveal(at, 0)
    assert len(at.info) == 1
    assert at.info[0].value.startswith(translate("lesson.quiz.wrong", lang, answer="cat"))


def _live_from_state() -> None:
    import streamlit as st

    from ui import lesson

    lesson.quiz("bert", options=st.session_state["words"], answer=st.session_state["answer"],
                word="it")


def test_new_live_words_start_a_fresh_question():
    at = AppTest.from_function(_live_from_state, default_timeout=30)
    at.session_state["words"], at.session_state["answer"] = WORDS, 2
    at.run()
    _reveal(at, 2)
    assert at.success
    at.session_state["words"], at.session_state["answer"] = ["it", "was", "a", "dog"], 3
    at.run()
    assert not at.exception
    assert at.radio[0].options == ["it", "was", "a", "dog"]
    assert at.radio[0].value is None and not at.success and not at.info
    assert at.radio[0].key.startswith("lesson_bert_live_")


def test_invalid_live_input_falls_back_to_the_static_question():
    at = _run("bert", live=True, words=WORDS, answer=len(WORDS))
    assert at.expander[-1].label.endswith(translate("lesson.bert.q", "en"))
    assert at.radio[0].key == "lesson_bert_pick"


def test_static_and_live_questions_can_share_a_page():
    def both() -> None:
        from ui import lesson

        lesson.quiz("bert")
        lesson.quiz("bert", options=["it", "cat"], answer=1, word="it")

    at = AppTest.from_function(both, default_timeout=30)
    at.run()
    assert not at.exception
    assert len({r.key for r in at.radio}) == 2
    assert all(r.key.startswith("lesson_bert_") for r in at.radio)


# ---------------------------------------------------------------- Previous / Next links
def _stub_app(tmp_path: Path) -> Path:
    """app.py's navigation over stub pages that only show the guide (no models needed)."""
    for spec in all_pages():
        page = tmp_path / spec.script
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"from ui import lesson\nlesson.guide({spec.url_path or 'home'!r})\n", "utf-8")
    app = tmp_path / "app.py"
    app.write_text(textwrap.dedent("""
        import streamlit as st
        from ui.i18n import t
        from ui.navigation import PAGES
        st.navigation({t(group): [st.Page(s.script, title=t(s.title_key), icon=s.icon,
                                          url_path=s.url_path, default=(s.url_path == ""))
                                  for s in specs] for group, specs in PAGES}).run()
    """), "utf-8")
    return app


def _links(at: AppTest) -> list[str]:
    return [link.value for link in at.get("page_link")]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_links_follow_the_lesson_path_through_the_navigation(tmp_path, lang):
    at = AppTest.from_file(str(_stub_app(tmp_path)), default_timeout=30)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    title = lambda path: translate(page_by_path(path).title_key, lang)  # noqa: E731
    assert _links(at) == [translate("lesson.next", lang, title=title("seq2seq"))]
    at.switch_page("pages/finetune.py").run()
    assert not at.exception, [e.value for e in at.exception]
    after = "compare" if page_by_path("compare") else "your-sentences"
    assert _links(at) == [translate("lesson.prev", lang, title=title("heads-off")),
                          translate("lesson.next", lang, title=title(after))]
    at.switch_page("pages/train_seq2seq.py").run()
    assert _links(at) == [translate("lesson.prev", lang, title=title("your-sentences"))]


QUOTED = re.compile(r"[‘“]([^’”]+)[’”]")


def test_no_question_quotes_a_sentence_that_is_not_on_the_screen():
    """A question about a sentence is built from the page's text ({placeholders}), never a
    fixed example the page may not show (issue 25: "animal"/"it" beside a [MASK] sentence)."""
    for key, entry in catalog().items():
        if not re.fullmatch(r"lesson\.[\w-]+\.(q|live_q|o\d)", key):
            continue
        for lang in LANGUAGES:
            for quoted in QUOTED.findall(entry[lang]):
                assert "{" in quoted or len(quoted.split()) <= 2, (key, lang, quoted)


def test_a_static_question_names_the_page_text_in_the_question_and_options():
    at = AppTest.from_function(_static_with_text, default_timeout=30)
    at.run()
    assert not at.exception
    assert at.expander[-1].label.endswith(translate(
        "lesson.bert.q", "en", sentence="My phone is broken", word="My", later="broken"))
    assert "‘My phone is broken’" in at.expander[-1].label
    assert any("‘broken’" in o for o in at.radio[0].options)


def _static_with_text() -> None:
    from ui import lesson

    lesson.quiz("bert", sentence="My phone is broken", word="My", later="broken")
