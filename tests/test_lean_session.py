"""ui.lean_session: a fragment rerun's new_session leaves out the page list; a full run keeps it;
plotly specs go as compact JSON."""
from __future__ import annotations

import json

import plotly.graph_objects as go
import plotly.io as pio
import streamlit
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.app_session import AppSession

from ui import lean_session


def new_session(fragment_ids: tuple[str, ...]) -> ForwardMsg:
    msg = ForwardMsg()
    msg.new_session.name = "app"
    msg.new_session.initialize.environment_info.streamlit_version = streamlit.__version__
    msg.new_session.initialize.user_info.installation_id_v3 = "49209834-c7df-5114-af5a-c55a61d4fc2c"
    page = msg.new_session.app_pages.add()
    page.page_script_hash, page.page_name = "abc", "Home"
    msg.metadata.run.fragment_ids.extend(fragment_ids)
    return msg


def test_a_fragment_run_drops_the_page_list_and_keeps_the_rest():
    msg = lean_session.trim(new_session(("frag",)))
    assert len(msg.new_session.app_pages) == 0
    assert msg.new_session.name == "app"  # the front end still reads these on a fragment run
    assert msg.new_session.initialize.environment_info.streamlit_version == streamlit.__version__
    assert msg.new_session.initialize.HasField("user_info")  # present (read there: "", not a crash)
    assert msg.new_session.initialize.user_info.installation_id_v3 == ""


def test_a_full_run_keeps_the_page_list_and_the_ids():
    msg = lean_session.trim(new_session(()))
    assert [p.page_name for p in msg.new_session.app_pages] == ["Home"]
    assert msg.new_session.initialize.user_info.installation_id_v3.startswith("4920")


def test_install_patches_once_and_only_a_checked_version(monkeypatch):
    original = AppSession._create_new_session_message
    monkeypatch.setattr(AppSession, "_create_new_session_message", original)
    monkeypatch.setattr(AppSession, "_enqueue_forward_msg", AppSession._enqueue_forward_msg)
    monkeypatch.setattr(streamlit, "__version__", "9.0.0")
    assert lean_session.install() is False
    assert AppSession._create_new_session_message is original
    monkeypatch.setattr(streamlit, "__version__", "1.67.0")
    assert lean_session.install() is True
    patched = AppSession._create_new_session_message
    assert patched is not original and lean_session.install() is True
    assert AppSession._create_new_session_message is patched  # not wrapped twice


def chart_message(spec: str) -> ForwardMsg:
    msg = ForwardMsg()
    msg.delta.new_element.plotly_chart.spec = spec
    return msg


def test_a_chart_spec_goes_as_compact_utf8_json_that_parses_to_the_same_figure():
    fig = go.Figure(go.Bar(x=["고양이", "&lt;b&gt;"], y=[0.5, 0.25], hovertemplate="%{x}<br>%{y}<extra></extra>"),
                    layout=dict(title="단계 2: “sommes” → 0.636"))
    spec = pio.to_json(fig, validate=False)
    assert "\\u003c" in spec and "\\ub2e8" in spec  # plotly's escapes
    msg = lean_session.compact(chart_message(spec))
    out = msg.delta.new_element.plotly_chart.spec
    assert json.loads(out) == json.loads(spec)
    assert "<extra></extra>" in out and "단계" in out
    assert len(out.encode()) < len(spec.encode()) - 40


def test_compact_leaves_other_messages_and_a_broken_spec_alone():
    broken = chart_message('{"data": [')
    assert lean_session.compact(broken).delta.new_element.plotly_chart.spec == '{"data": ['
    text = ForwardMsg()
    text.delta.new_element.markdown.body = "\\u003c"
    assert lean_session.compact(text).delta.new_element.markdown.body == "\\u003c"


def test_the_checked_front_end_skips_the_page_list_on_fragment_runs():
    """The reason the trim is safe: Streamlit 1.67's App.handleNewSession reads app pages only
    when the run names no fragments (`if(u.length)…else{…appNavigation.handleNewSession(e)…}`)."""
    from pathlib import Path
    static = Path(streamlit.__file__).parent / "static" / "static" / "js"
    bundle = next(p for p in static.glob("index.*.js") if "handleNewSession=" in p.read_text("utf-8"))
    text = bundle.read_text("utf-8")
    start = text.index("handleNewSession=(e,t)=>")
    body = text[start:start + 1500]
    fragment_branch = body.index("fragmentIds:u}")
    assert body.index("if(u.length)this.setState({fragmentIdsThisRun:u", fragment_branch) < \
        body.index("this.appNavigation.handleNewSession(e)")


def test_the_checked_front_end_reads_the_ids_only_when_it_initialises():
    """Why the ids may go empty on fragment runs: userInfo is read in one place,
    propsFromNewSessionMessage, called by handleInitialization, which handleNewSession calls only
    before the session is set up or after a lost connection."""
    from pathlib import Path
    static = Path(streamlit.__file__).parent / "static" / "static" / "js"
    bundle = next(p for p in static.glob("index.*.js") if "handleNewSession=" in p.read_text("utf-8"))
    text = bundle.read_text("utf-8")
    assert text.count("userInfo") == 1
    assert text.index("userInfo") > text.index("static propsFromNewSessionMessage(e)")
    assert text.count("propsFromNewSessionMessage(") == 2  # its definition and handleInitialization
    assert "(!this.sessionInfo.isSet||!this.sessionInfo.current.isConnected)&&this.handleInitialization(e)" in text
