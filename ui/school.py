"""School deployment (several replicas behind nginx): tell a user whose session restarted.

When a Streamlit replica dies, the browser reconnects through the proxy to another replica.
Its WebSocket asks to resume its old session (the third entry of Sec-WebSocket-Protocol is
the previous session id); the new replica does not know that id and starts a fresh session,
which reopens the view from the URL state. That case, and only that one, gets a notice: a
fresh visit or a shared link carries no previous session id.
"""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.i18n import t

_SEEN = "_school_session_checked"


def previous_session_id(protocol_header: str | None) -> str | None:
    """The session id a reconnecting browser asks to resume, from Sec-WebSocket-Protocol."""
    entries = [e.strip() for e in (protocol_header or "").split(",")]
    return entries[2] if len(entries) >= 3 and entries[2] else None


def restarted(protocol_header: str | None, session_id: str | None) -> bool:
    """True when the browser resumed a session this server never had (it restarted elsewhere)."""
    previous = previous_session_id(protocol_header)
    return previous is not None and previous != session_id


def session_notice() -> None:
    """On a session's first run: the restarted-session notice when it applies."""
    if st.session_state.get(_SEEN):
        return
    st.session_state[_SEEN] = True
    ctx = get_script_run_ctx()
    try:
        header = st.context.headers.get("Sec-Websocket-Protocol")
    except Exception:  # noqa: BLE001 - no request headers (AppTest, bare mode)
        header = None
    if restarted(header, ctx.session_id if ctx else None):
        st.info(t("school.notice.session_restarted"), icon=":material/restart_alt:")
