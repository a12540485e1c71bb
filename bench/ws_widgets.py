"""Reading Streamlit's protocol messages for bench.ws_client: the widgets a page drew (found by
the key in their id, `$$ID-<hash>-<key>`), how a run finished, and the widget states sent back."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

DONE = {ForwardMsg.FINISHED_SUCCESSFULLY: "ok", ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "ok",
        ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile_error"}
_CHOICE_KINDS = ("selectbox", "radio")


@dataclass
class Widget:
    """One input widget as the server last drew it, with the value the client will send."""
    id: str
    kind: str            # the Element oneof name: text_area, selectbox, slider, button, ...
    label: str
    fragment_id: str     # "" outside st.fragment
    options: list[str]   # formatted options of choice widgets
    value_field: str | None   # WidgetState oneof the value travels in (None: trigger only)
    value: Any = None
    server_value: Any = None  # what the server set (set_value) in its last reply, else None

    @property
    def key(self) -> str:
        return self.id.split("-", 2)[-1] if self.id.startswith("$$ID-") else self.id


def _choice_value(p: Any) -> str | None:
    if p.set_value and p.HasField("raw_value"):
        return p.raw_value
    return p.options[p.default] if p.HasField("default") and p.default < len(p.options) else None


def _read_widget(kind: str, p: Any, fragment_id: str) -> Widget | None:
    """A Widget from an element proto, or None for elements that are not inputs."""
    if not getattr(p, "id", ""):
        return None
    label = getattr(p, "label", "")
    opts: list[str] = []
    value_field, value, server = None, None, None
    if kind in ("text_area", "text_input"):
        value_field = "string_value"
        value = p.value if p.set_value and p.HasField("value") else (p.default if p.HasField("default") else "")
        server = value if p.set_value else None
    elif kind in _CHOICE_KINDS:
        value_field, opts, value = "string_value", list(p.options), _choice_value(p)
        server = value if p.set_value else None
    elif kind == "slider":
        opts = list(p.options)
        raw = list(p.value) if p.set_value else list(p.default)
        if p.type == p.SELECT_SLIDER:
            value_field, value = "string_array_value", [opts[int(i)] for i in raw]
        else:
            value_field, value = "double_array_value", raw
        server = value if p.set_value else None
    elif kind == "checkbox":  # and toggle
        value_field, value = "bool_value", p.value if p.set_value else p.default
    elif kind == "number_input":
        value_field = "int_value" if p.data_type == p.INT else "double_value"
        value = p.value if p.set_value and p.HasField("value") else (p.default if p.HasField("default") else None)
        value = int(value) if value is not None and value_field == "int_value" else value
    elif kind in ("button_group", "multiselect"):
        opts = [o.content for o in p.options] if kind == "button_group" else list(p.options)
        value_field = "string_array_value"
        value = list(p.raw_values) if p.set_value else [opts[i] for i in p.default if i < len(opts)]
    return Widget(p.id, kind, label, fragment_id, opts, value_field, value, server)


def describe(msg: ForwardMsg) -> str:
    """A short name for one ForwardMsg: its type, and for an element its kind and widget key."""
    kind = msg.WhichOneof("type")
    if kind != "delta":
        return kind or "?"
    delta = msg.delta
    what = delta.WhichOneof("type") or "?"
    if what == "new_element":
        element = delta.new_element
        what = element.WhichOneof("type") or "?"
        ident = getattr(getattr(element, what, None), "id", "") or ""
        what += f" {ident.split('-', 2)[-1]}" if ident else ""
    path = ".".join(str(i) for i in msg.metadata.delta_path)
    return f"{what} @{path}" + (" [fragment]" if delta.fragment_id else "")


def _state(widget_id: str, value_field: str, value: Any) -> WidgetState:
    ws = WidgetState(id=widget_id)
    if value_field.endswith("_array_value"):
        getattr(ws, value_field).data.extend(value)
    else:
        setattr(ws, value_field, value)
    return ws
