"""A step control for the step-by-step views: buttons, keyboard keys, a slider, the URL.

    step = stepper("tf_step", n, signature=(name, text, beam))   # 1..n
    ...draw step...
    autoplay("tf_step", n)                                       # at the end of the page

← and → move one step, Home and End jump to the first and the last (Streamlit
button shortcuts; they do nothing while the cursor is in a text box). The step is
kept in `?step=`, so a shared link opens at the same step. When `signature`
changes (another sentence or model) the view goes back to `start`, except on the
first run, where a step from the link wins.
"""
from __future__ import annotations

import time
from typing import Hashable

import streamlit as st
from streamlit.errors import StreamlitAPIException

from ui import url_state
from ui.i18n import t

PLAY_SECONDS = 1.2
SHORTCUTS = {"first": "Home", "back": "Left", "next": "Right", "last": "End"}
KEY_NAMES = {"first": "Home", "back": "←", "next": "→", "last": "End"}  # as the keyboard labels them
ICONS = {"first": ":material/first_page:", "back": ":material/chevron_left:",
         "next": ":material/chevron_right:", "last": ":material/last_page:"}


def _tooltip(action: str) -> str:
    """A compact button's tooltip: its name and key; "next" also explains the keyboard."""
    text = f"{t(f'steps.{action}')} ({KEY_NAMES[action]})"
    return f"{text}. {t('steps.keys')}" if action == "next" else text


def advance(step: int, n: int, action: str) -> int:
    """The step (1..n) after an action: first, back, next or last."""
    if n <= 0:
        return 0
    step = min(max(step, 1), n)
    return {"first": 1, "back": max(step - 1, 1), "next": min(step + 1, n), "last": n}.get(action, step)


def _move(key: str, n: int, action: str) -> None:
    st.session_state[key] = advance(st.session_state.get(key, 1), n, action)
    st.session_state[key + "_play"] = False


def _toggle_play(key: str, n: int) -> None:
    playing = not st.session_state.get(key + "_play", False)
    if playing and st.session_state.get(key, 1) >= n:
        st.session_state[key] = 1
    st.session_state[key + "_play"] = playing


def _prepare(key: str, n: int, start: int, signature: Hashable | None, param: str) -> None:
    """Apply a pending autoplay move and a signature reset before the widgets exist."""
    seen = st.session_state.get(key + "_sig")
    if signature is not None and seen is not None and seen != signature:
        st.session_state[key] = start
        st.session_state[key + "_play"] = False
    st.session_state[key + "_sig"] = signature
    pending = st.session_state.pop(key + "_pending", None)
    if pending is not None:
        st.session_state[key] = pending
    url_state.field(key, param, start, int, choices=range(1, n + 1))


def stepper(key: str, n: int, signature: Hashable | None = None, start: int = 1,
            param: str = "step", label: str | None = None, play: bool = False,
            compact: bool = False) -> int:
    """Draw the controls and return the step shown (1..n); n must be ≥ 1.

    compact: buttons and slider in one row, the keyboard hint on the slider's help (figure-first
    pages); otherwise the slider and the hint sit under the buttons.
    """
    start = min(max(start, 1), n)
    _prepare(key, n, start, signature, param)
    actions = ("first", "back", "next", "last")
    # one horizontal container, not st.columns: a fragment step resends every block it holds,
    # and six columns are six more messages (~0.8 kB per step; issue 12)
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    width = "content" if compact else "stretch"
    for action in actions:  # compact: icon buttons, the name and key in the tooltip
        name = t(f"steps.{action}")
        row.button(ICONS[action] if compact else name, key=f"{key}_{action}",
                   icon=None if compact else ICONS[action], help=_tooltip(action) if compact else None,
                   shortcut=SHORTCUTS[action], on_click=_move, args=(key, n, action),
                   width=width, disabled=(action in ("first", "back") and st.session_state[key] <= 1)
                   or (action in ("next", "last") and st.session_state[key] >= n))
    if play:
        playing = st.session_state.get(key + "_play", False)
        name, icon = (t("steps.pause"), ":material/pause:") if playing else \
            (t("steps.play"), ":material/play_arrow:")
        row.button(icon if compact else name, key=f"{key}_play_button",
                   icon=None if compact else icon, help=name if compact else None,
                   on_click=_toggle_play, args=(key, n), width=width)
    if n > 1:
        # the keyboard hint sits on the "next" button, which a step resends only when it is
        # switched on or off, not on the slider, which every step resends
        (row if compact else st).slider(label or t("steps.slider"), 1, n, key=key,
                                        label_visibility="collapsed" if compact else "visible",
                                        width="stretch")
    if not compact:
        st.caption(t("steps.keys"))
    return int(st.session_state[key])


def autoplay(key: str, n: int, fragment: bool = False) -> None:
    """Call at the end of the page (or of the fragment drawing the step, with fragment=True):
    while playing, show the next step after a pause, rerunning only that fragment when it can."""
    step = st.session_state.get(key, 1)
    if not st.session_state.get(key + "_play") or step >= n:
        st.session_state[key + "_play"] = False
        return
    time.sleep(PLAY_SECONDS)
    st.session_state[key + "_pending"] = step + 1
    if fragment:
        try:
            st.rerun(scope="fragment")
        except StreamlitAPIException:  # the fragment ran as part of a full run
            pass
    st.rerun()
