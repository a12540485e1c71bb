"""The light protocol client of bench/ (bench.ws_client) against a real server on loopback:
it opens a page, reads its widgets by key, and a rerun with a changed text comes back with it."""
from __future__ import annotations

import asyncio

import pytest
from streamlit.proto.Element_pb2 import Element

from bench.classroom import text_lost
from bench.local_server import local_server
from bench.ws_client import ActionResult, Session
from bench.ws_widgets import _read_widget, _state


@pytest.fixture(scope="module")
def server():
    with local_server() as (url, pid):
        yield url, pid


def run(coro):
    return asyncio.run(coro)


def test_wire_values_of_widgets_follow_streamlit_serde():
    """A selectbox travels as its formatted option, a slider as a list of doubles."""
    element = Element()
    element.selectbox.id = "$$ID-abc-my_head"
    element.selectbox.options[:] = ["0", "1", "2"]
    element.selectbox.default = 2
    box = _read_widget("selectbox", element.selectbox, "")
    assert (box.key, box.value_field, box.value, box.server_value) == ("my_head", "string_value", "2", None)
    element.slider.id = "$$ID-def-k"
    element.slider.default[:] = [5.0]
    element.slider.value[:] = [7.0]
    element.slider.set_value = True
    slider = _read_widget("slider", element.slider, "frag")
    assert (slider.value, slider.server_value, slider.fragment_id) == ([7.0], [7.0], "frag")
    assert list(_state(slider.id, slider.value_field, [3.0]).double_array_value.data) == [3.0]
    element.markdown.body = "no id: not a widget"
    assert _read_widget("markdown", element.markdown, "") is None


def test_home_page_opens_and_finishes(server):
    url, _ = server

    async def go():
        async with Session(url, timeout=60) as s:
            return await s.open(""), s

    result, s = run(go())
    assert result.status == "ok" and not result.exceptions, result
    assert result.bytes > 1000 and result.messages > 3
    assert "bert" in s.pages and s.page_hash
    assert "language_picker" in s.keys()


def test_a_changed_text_comes_back_from_the_server(server):
    url, _ = server
    first, typed = "one two three", "the students typed this"

    async def go():
        async with Session(url, timeout=60) as s:
            opened = await s.open("self-attention", "model=random&text=" + first.replace(" ", "+"))
            box = next(w for w in s.widgets.values() if w.key.startswith("sa_text_"))
            seeded = (box.server_value, s.query("text"))
            changed = await s.set(box.key, typed)
            return opened, seeded, changed, s.query("text"), s

    opened, seeded, changed, text_after, s = run(go())
    assert opened.status == "ok" and not opened.exceptions, opened
    assert seeded == (first, first)  # the link's text seeded the text area
    assert changed.status == "ok" and not changed.exceptions, changed
    assert text_after == typed
    assert not text_lost(s, changed, typed, "sa_text_")
    assert text_lost(s, changed, "something else", "sa_text_")
    assert text_lost(s, ActionResult("x", alerts=["Please type some text first."]), typed, "sa_text_")


# Bytes are counted, not timed: the same code, models and default examples send the same bytes.
MET = ("steps: keyboard step", "bert: head picker", "gpt: step picker (keyboard)", "tf: keyboard step")
# GPT's Step button now adds a real token: the page's default prompt no longer ends its sentence
# after two tokens (issue 25: 'Fewest new tokens' 6), so a step draws the new step's figure
# (rivals + the 72-row map) and its table row: 36.8 % of the first run. The 12.5 % measured
# before was a press after generation had ended, which sent almost nothing. Sending a view's
# steps to the browser once is issue 32; until then this case fails the 20 % target (strict:
# it is reported as soon as it meets it).
UNMET = ("gpt: Step button",)


@pytest.mark.parametrize("case", MET + tuple(
    pytest.param(c, marks=pytest.mark.xfail(strict=True, reason="a real GPT step: 36.8 % (issue 32)"))
    for c in UNMET))
def test_a_picker_or_step_resends_at_most_a_fifth_of_the_first_run(server, case):
    """Issue 12 item 3, measured as bench/byte_ratio.py does (the browser's message cache, the
    protocol's own bytes): the action's bytes / the page's first run <= 20 %, and a step back or
    the next pick costs no more than a fifth either (the English pages, as the bench measures)."""
    from bench.byte_ratio import TARGET, measure
    url, _ = server
    row = run(measure(url, case))
    assert row.get("error") is None, row
    assert row["ratio"] <= TARGET and row["again_ratio"] <= TARGET, \
        f"{case}: {row['step_bytes']} of {row['first_bytes']} B ({row['ratio']:.1%}, then {row['again_ratio']:.1%})"
