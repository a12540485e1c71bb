"""Leaner messages (issue 12, bytes per step): a fragment rerun's new_session without the page
list, and compact plotly specs.

Streamlit starts every run, a fragment's too, with a new_session message that lists every page
of the app (~1.7 kB of this app's ~1.9 kB message). The browser reads that list only after a
full run: Streamlit 1.67's front end (App.handleNewSession) keeps the page list, theme and
config as they are when the run names fragments, and uses only the version, session, script
path and page hash. So a fragment's new_session can leave the page list out, and a keyboard step
sends ~1.7 kB less. It also sends the installation ids (user_info, ~125 bytes) empty: the front
end reads them only in handleInitialization, which runs on a session's first new_session (or the
first after a lost connection, and that run is a full one); the submessage stays, so even a
read there finds empty strings, not a missing field. `install()` does both; it changes nothing
for full runs, and nothing at all under a Streamlit version it was not checked against (the
front end might then read the list).

`install()` also sends every chart's plotly spec as compact JSON (`compact`): plotly.io.to_json
writes <, > and / as \\u003c, \\u003e, \\u002f (for JSON pasted into an HTML <script>, which
Streamlit never does: its front end JSON.parses the string) and every non-ASCII character as a
6-byte \\uXXXX escape (a Korean syllable, 3 bytes in UTF-8). The same spec re-encoded parses to
the same object: every "<extra></extra>" hover is 25 bytes shorter, a Korean title half as long.
"""
from __future__ import annotations

import functools
import json

import streamlit
from streamlit.runtime.app_session import AppSession

CHECKED = ("1.67.",)  # Streamlit versions whose front end ignores a fragment run's page list


def trim(msg):
    """Drop a fragment run's page list and installation ids from its new_session ForwardMsg
    (in place; returns it)."""
    if msg.WhichOneof("type") == "new_session" and msg.metadata.run.fragment_ids:
        msg.new_session.ClearField("app_pages")
        msg.new_session.initialize.user_info.Clear()
        msg.new_session.initialize.user_info.SetInParent()  # present, empty
    return msg


def compact(msg):
    """A plotly_chart delta's spec as compact UTF-8 JSON, the same object (in place; returns
    msg). Anything else, or a spec that does not parse, is left as it is."""
    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return msg
    element = msg.delta.new_element
    if element.WhichOneof("type") == "plotly_chart" and element.plotly_chart.spec:
        try:
            element.plotly_chart.spec = json.dumps(json.loads(element.plotly_chart.spec),
                                                   separators=(",", ":"), ensure_ascii=False)
        except (ValueError, UnicodeError):  # a lone surrogate cannot be UTF-8: keep the escapes
            pass
    return msg


def install() -> bool:
    """Patch AppSession once; False (and no patch) under an unchecked Streamlit version."""
    original = AppSession._create_new_session_message
    if getattr(original, "_lean", False):
        return True
    if not streamlit.__version__.startswith(CHECKED):
        return False

    @functools.wraps(original)
    def lean(self, *args, **kwargs):
        return trim(original(self, *args, **kwargs))

    enqueue = AppSession._enqueue_forward_msg

    @functools.wraps(enqueue)
    def enqueue_compact(self, msg):
        return enqueue(self, compact(msg))

    lean._lean = True
    AppSession._create_new_session_message = lean
    AppSession._enqueue_forward_msg = enqueue_compact
    return True
