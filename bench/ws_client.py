"""A light client of Streamlit's own protocol, for load tests on loopback (no browser).

    async with Session("http://127.0.0.1:8501") as s:
        first = await s.open("bert", "text=A+cat+sat.")     # ActionResult: seconds, bytes, ...
        head = await s.pick("lmp_bert_head", 3)               # a selectbox, by widget key
        await s.set("lmp_bert_a", "Another sentence.")        # a text area
        await s.click("s2sp_step_next")                       # a button (trigger)

What the browser does, done the same way (streamlit 1.67, starlette server): one WebSocket at
ws://HOST/_stcore/stream (subprotocol "streamlit"); each run is a BackMsg.rerun_script
(ClientState: query_string, widget_states, page_script_hash or, for a deep link's first run,
page_name, cached_message_hashes, fragment_id for a widget inside an st.fragment) answered by
ForwardMsgs until script_finished. Every value widget's state goes back on every run; a button
sends a trigger once. Large elements the client holds come back as ref_hash (the browser's
message cache), so byte counts are a browser's. Widgets are found by the key in their id
(`$$ID-<hash>-<key>`), never by position.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.ws_widgets import _CHOICE_KINDS, DONE, Widget, _read_widget, _state, describe


@dataclass
class ActionResult:
    """One rerun: from the BackMsg sent to the script_finished that ends it."""
    name: str
    seconds: float = 0.0
    bytes: int = 0            # ForwardMsg payload bytes received (uncompressed)
    messages: int = 0
    status: str = "ok"        # ok | compile_error | timeout | closed
    exceptions: list[str] = field(default_factory=list)  # st.exception elements (tracebacks)
    alerts: list[str] = field(default_factory=list)      # st.error / st.warning bodies
    parts: list[tuple[str, int]] = field(default_factory=list)  # (what, bytes) per ForwardMsg

    @property
    def failed(self) -> bool:
        return self.status != "ok" or bool(self.exceptions)


class Session:
    """One browser tab's worth of Streamlit session, over one WebSocket."""

    def __init__(self, base_url: str, timeout: float = 120.0, cache: bool = True) -> None:
        self.ws_url = base_url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
        self.timeout, self.cache = timeout, cache  # cache: report held messages, as browsers do
        self.widgets: dict[str, Widget] = {}
        self.query_string = ""
        self.page_hash = ""
        self.pages: dict[str, str] = {}   # url path -> page_script_hash
        self._cache: dict[str, list] = {}  # cacheable message hash -> [runs since seen, msg]
        self._max_age, self._ws = 2, None  # max age: new_session's config says
        self._pending: list[str] = []    # triggers for the next run
        self.omit: set[str] = set()      # widget keys left out of reruns (a front end that lost them)

    async def __aenter__(self) -> "Session":
        self._ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"],
                                            max_size=None, open_timeout=self.timeout,
                                            ping_interval=None)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    # ------------------------------------------------------------ actions
    async def open(self, page: str = "", query: str = "", name: str | None = None) -> ActionResult:
        """First run of a deep link /page?query (page "" is the home page)."""
        self.query_string = query
        return await self._run(name or f"open {page or 'home'}", page_name=page)

    async def navigate(self, page: str, query: str = "", name: str | None = None) -> ActionResult:
        """Switch page inside the session, as a click on the sidebar link does."""
        self.query_string = query
        if page not in self.pages:
            return await self._run(name or f"go {page}", page_name=page)
        self.page_hash = self.pages[page]
        return await self._run(name or f"go {page}")

    async def set(self, key: str, value: Any, name: str | None = None,
                  wait: bool = True) -> ActionResult:
        """Give a widget a new value (wire form) and rerun; wait=False only sends the rerun (an
        impatient user: the next action interrupts it, as a second click in a browser does)."""
        widget = self.widget(key)
        widget.value = value
        return await self._run(name or f"set {key}", fragment_id=widget.fragment_id, wait=wait)

    async def pick(self, key: str, index: int, name: str | None = None,
                   wait: bool = True) -> ActionResult:
        """Choose option `index` of a selectbox, radio, segmented control or select slider."""
        widget = self.widget(key)
        option = widget.options[index % len(widget.options)]
        single = widget.kind in _CHOICE_KINDS
        return await self.set(key, option if single else [option], name or f"pick {key}", wait)

    async def click(self, key: str, name: str | None = None, wait: bool = True) -> ActionResult:
        """Press a button (its trigger goes with this one run only)."""
        widget = self.widget(key)
        self._pending.append(widget.id)
        return await self._run(name or f"click {key}", fragment_id=widget.fragment_id, wait=wait)

    def widget(self, key: str) -> Widget:
        """The widget whose user key is `key` (KeyError if the last run drew none)."""
        found = [w for w in self.widgets.values() if w.key == key]
        if not found:
            raise KeyError(f"no widget with key {key!r}; keys: {sorted(self.keys())}")
        return found[0]

    def keys(self) -> list[str]:  # the user keys of the widgets the last run drew
        return [w.key for w in self.widgets.values()]

    def query(self, param: str) -> str | None:
        """A parameter of the URL as the server last set it."""
        values = parse_qs(self.query_string).get(param)
        return values[0] if values else None

    # ------------------------------------------------------------ protocol
    def _back_msg(self, page_name: str, fragment_id: str) -> BackMsg:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query_string
        cs.page_script_hash = "" if page_name else self.page_hash
        cs.page_name = page_name
        cs.fragment_id = fragment_id
        cs.cached_message_hashes.extend(self._cache if self.cache else ())
        cs.context_info.timezone = "UTC"
        cs.context_info.locale = "en-US"
        for w in self.widgets.values():
            if w.value_field is not None and w.value is not None and w.key not in self.omit:
                cs.widget_states.widgets.append(_state(w.id, w.value_field, w.value))
        for widget_id in self._pending:
            cs.widget_states.widgets.append(WidgetState(id=widget_id, trigger_value=True))
        self._pending = []
        return msg

    async def _run(self, name: str, page_name: str = "", fragment_id: str = "",
                   wait: bool = True) -> ActionResult:
        result = ActionResult(name, status="ok" if self._ws else "closed")
        if self._ws is None:
            return result
        seen: dict[str, Widget] = {}
        start = time.perf_counter()
        await self._ws.send(self._back_msg(page_name, fragment_id).SerializeToString())
        if not wait:
            return result
        try:
            status = await asyncio.wait_for(self._receive(result, seen), self.timeout)
        except asyncio.TimeoutError:
            status = "timeout"
        except websockets.ConnectionClosed:
            status = "closed"
        result.seconds = time.perf_counter() - start
        result.status = status
        if status == "ok":
            self._finish(seen, full=not fragment_id)
        return result

    async def _receive(self, result: ActionResult, seen: dict[str, Widget]) -> str:
        while True:
            frame = await self._ws.recv()
            result.bytes += len(frame)
            result.messages += 1
            msg = ForwardMsg()
            msg.ParseFromString(frame)
            kind = msg.WhichOneof("type")
            result.parts.append((describe(msg), len(frame)))
            if kind == "script_finished":
                if msg.script_finished in DONE:
                    return DONE[msg.script_finished]
                seen.clear()  # finished early for a rerun: the next run draws the page again
            elif kind == "delta":
                self._on_delta(msg, result, seen)
            elif kind == "ref_hash" and msg.ref_hash in self._cache:
                entry = self._cache[msg.ref_hash]
                entry[0] = 0
                self._on_delta(entry[1], result, seen)
            elif kind == "new_session":
                self._max_age = msg.new_session.config.max_cached_message_age or 2
                self._on_pages(msg.new_session.app_pages, msg.new_session.page_script_hash)
            elif kind == "navigation":
                self._on_pages(msg.navigation.app_pages, msg.navigation.page_script_hash)
            elif kind == "page_info_changed":
                self.query_string = msg.page_info_changed.query_string

    def _on_pages(self, pages: Any, current: str) -> None:
        self.pages.update({p.url_pathname: p.page_script_hash for p in pages})
        if current:
            self.page_hash = current

    def _on_delta(self, msg: ForwardMsg, result: ActionResult, seen: dict[str, Widget]) -> None:
        if msg.metadata.cacheable and msg.hash:
            self._cache[msg.hash] = [0, msg]
        delta = msg.delta
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind == "exception":
            result.exceptions.append(f"{element.exception.type}: {element.exception.message}")
        elif kind == "alert" and element.alert.format in (element.alert.ERROR, element.alert.WARNING):
            result.alerts.append(element.alert.body)
        elif kind is not None:
            widget = _read_widget(kind, getattr(element, kind), delta.fragment_id)
            if widget is not None:
                old = self.widgets.get(widget.id)
                if old is not None and widget.server_value is None and old.kind == widget.kind:
                    widget.value = old.value  # the client keeps what it sent (as the browser does)
                seen[widget.id] = widget

    def _finish(self, seen: dict[str, Widget], full: bool) -> None:
        """After a run: the page's widgets are those it drew; cached messages age."""
        if full:
            self.widgets = seen
        else:
            self.widgets.update(seen)
        for h, entry in list(self._cache.items()):
            entry[0] += 1
            if entry[0] > self._max_age:
                del self._cache[h]
