"""Shareable page state: widget values mirrored in the URL, so a link reopens the same view.

    text = st.text_area(label, key=url_state.field("lmp_bert_a", "text", EXAMPLE))
    layer = st.selectbox(label, range(n), key=url_state.field("lmp_bert_layer", "layer", 0,
                                                               choices=range(n)))

`field` seeds the widget's session state from `?param=` the first time the page
runs in a session (or the default), then writes the current value back to the URL
(a default value is left out, so links stay short). Widgets bound this way take no
`value=`/`index=` argument: their starting value lives in session state.

Nothing typed is lost: `field` also keeps the last value it saw in a plain session-state
copy (`_SHADOW`), so when a widget's own state goes missing (a rerun from a front end that
sent only some of its widget states, a widget that was not drawn in one run, a text too
long for the URL) the widget is seeded again from that copy, not reset to the default.

Values from a link are checked: a wrong type, an unknown choice or a text longer
than MAX_CHARS falls back to the default with a toast, never a traceback. Texts
longer than MAX_CHARS stay out of the URL (browsers and servers cut long URLs).
"""
from __future__ import annotations

from typing import Any, Callable, Collection
from urllib.parse import urlencode

import streamlit as st

from ui.i18n import t
from ui.navigation import page_by_path

MAX_CHARS = 2000
_SHADOW = "_url_state_last"     # {widget key: last value seen}: survives a lost widget state
_FIELDS = "_url_state_fields"   # {widget key: (param, default)}: for `update`
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _parse(raw: str, kind: Callable[[str], Any]) -> Any:
    if kind is bool:
        low = raw.strip().lower()
        if low not in _TRUE + _FALSE:
            raise ValueError(raw)
        return low in _TRUE
    return kind(raw)


def _encode(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def from_url(param: str, default: Any, kind: Callable[[str], Any] = str,
             choices: Collection[Any] | None = None) -> tuple[Any, bool]:
    """(value from ?param= or default, whether the URL held a value that was refused)."""
    raw = st.query_params.get(param)
    if raw is None:
        return default, False
    try:
        value = _parse(raw, kind)
    except (TypeError, ValueError):
        return default, True
    if isinstance(value, str) and len(value) > MAX_CHARS:
        return default, True
    if choices is not None and value not in choices:
        return default, True
    return value, False


def publish(param: str, value: Any, default: Any) -> None:
    """Write one value into the URL (removed when it is the default or too long)."""
    encoded = _encode(value)
    if value == default or value is None or len(encoded) > MAX_CHARS:
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get(param) != encoded:
        st.query_params[param] = encoded


def field(key: str, param: str, default: Any, kind: Callable[[str], Any] | None = None,
          choices: Collection[Any] | None = None) -> str:
    """Bind session-state `key` to `?param=`; returns `key` for the widget.

    kind: str, int, float or bool (defaults to the default's type).
    choices: allowed values (a link with anything else falls back to the default).
    """
    kind = kind or (type(default) if default is not None else str)
    shadow = st.session_state.setdefault(_SHADOW, {})
    st.session_state.setdefault(_FIELDS, {})[key] = (param, default)
    if key not in st.session_state and key in shadow:  # the widget's state was lost: seed it again
        st.session_state[key] = shadow[key]
    if key not in st.session_state:
        value, refused = from_url(param, default, kind, choices)
        if refused:
            st.toast(t("url.refused", param=param), icon=":material/link_off:")
        st.session_state[key] = value
    if choices is not None and st.session_state[key] not in choices:
        st.session_state[key] = default
    shadow[key] = st.session_state[key]
    publish(param, st.session_state[key], default)
    return key


def update(key: str, value: Any) -> None:
    """Change the value of a widget bound by `field` before it is drawn (URL and copy too)."""
    st.session_state[key] = value
    if key in st.session_state.get(_FIELDS, {}):
        param, default = st.session_state[_FIELDS][key]
        st.session_state[_SHADOW][key] = value
        publish(param, value, default)


def set_value(key: str, param: str, value: Any, default: Any) -> None:
    """Change a bound value from code (e.g. a table click that picks a head)."""
    st.session_state[key] = value
    st.session_state.setdefault(_SHADOW, {})[key] = value
    publish(param, value, default)


def link_to(url_path: str, label: str, params: dict[str, Any], icon: str | None = None) -> None:
    """A link that opens another page with this state (e.g. one row of a table in its page).

    Values too long for a URL are left out; the language and view settings go along.
    """
    keep = {k: st.query_params[k] for k in ("lang", "present", "scale", "img") if k in st.query_params}
    query = keep | {k: _encode(v) for k, v in params.items() if len(_encode(v)) <= MAX_CHARS}
    spec = page_by_path(url_path)
    try:
        st.page_link(spec.script, label=label, icon=icon, query_params=query)
    except st.errors.StreamlitAPIException:  # a page run on its own (no router): a plain link
        st.link_button(label, f"./{url_path}?{urlencode(query)}", icon=icon)
