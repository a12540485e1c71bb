"""Running one page script headless (AppTest) the way every page test starts, and reading
what it drew: messages, buttons, uploads, metrics and the charts' figures."""
from __future__ import annotations

import base64
import json
import time
from typing import Any, Callable, Iterable

import numpy as np
from streamlit.runtime.state.common import user_key_from_element_id
from streamlit.testing.v1 import AppTest

from lmcore.i18n import translate


def prepared_page(script: str, lang: str = "en", timeout: float = 60, **params: str) -> AppTest:
    """The page in `lang` with any other URL parameters, not run yet (set session state first)."""
    at = AppTest.from_file(script, default_timeout=timeout)
    at.query_params["lang"] = lang
    at.query_params.update(params)
    return at


def run_page(script: str, lang: str = "en", timeout: float = 60, **params: str) -> AppTest:
    """The page run once in `lang`, with any other URL parameters (a shared link)."""
    return prepared_page(script, lang, timeout, **params).run()


def page_opener(script: str, timeout: float = 60) -> Callable[[str], AppTest]:
    """`open_page(lang)` for a page that needs nothing more than its language."""
    return lambda lang: run_page(script, lang, timeout=timeout)


def titled_page(opener: Callable[[str], AppTest], lang: str, title: str) -> AppTest:
    """The page opened in `lang`, after checking it ran without errors under `title`."""
    at = opener(lang)
    assert_clean(at)
    assert at.title[0].value == title
    return at


def ran_cleanly(at: AppTest) -> AppTest:
    """`at`, after checking the last run raised nothing."""
    assert not at.exception, [e.value for e in at.exception]
    return at


def assert_clean(at: AppTest) -> None:
    """The last run raised nothing and showed no error."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def texts(elements: Iterable[Any]) -> list[str]:
    """The shown texts of some elements (at.error, at.warning, at.info, at.caption, ...)."""
    return [e.value for e in elements]


def with_model(at: AppTest, key: str, model: str | None) -> AppTest:
    """`at` after choosing `model` in the sidebar's model picker `key` (None: the default)."""
    if model is not None:
        at.sidebar.selectbox(key=key).select(model).run()
    return at


def click(at: AppTest, key: str) -> AppTest:
    """`at` after clicking the button `key`, checking the run raised nothing."""
    at.button(key=key).click().run()
    return ran_cleanly(at)


def button_labelled(at: AppTest, label_key: str):
    """The first button labelled with the locale text `label_key`, in English or Korean
    (found by its label where a page's other buttons, e.g. the lesson's, come first)."""
    labels = (translate(label_key, "en"), translate(label_key, "ko"))
    return next(b for b in at.button if b.label in labels)


def upload(at: AppTest, key: str, name: str, content: bytes, mime: str) -> AppTest:
    """`at` after uploading one file through the file uploader `key`."""
    at.file_uploader(key=key).upload(name, content, mime)
    at.run()
    return ran_cleanly(at)


def wait_for_state(at: AppTest, state_key: str, seconds: float = 60, pause: float = 0.5) -> AppTest:
    """Rerun `at` until `state_key` is in its session state (a background job's result)."""
    deadline = time.monotonic() + seconds
    while state_key not in at.session_state and time.monotonic() < deadline:
        time.sleep(pause)
        at.run()
    return at


def metrics(at: AppTest) -> dict[str, str]:
    """Every metric shown: label -> value."""
    return {m.label: m.value for m in at.metric}


def charts(at: AppTest, prefix: str = "") -> list[dict]:
    """Every chart's figure spec (decoded plotly JSON) in page order, or only those whose
    key starts with `prefix`."""
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")
            if (chart_key(c) or "").startswith(prefix)]


def chart_key(element: Any) -> str | None:
    """The key a chart was drawn with (ui.export_widgets.chart(fig, key=...)): Streamlit
    ends the element id with it ("$$ID-<hash>-<key>")."""
    return user_key_from_element_id(element.proto.id)


def chart_keys(at: AppTest) -> list[str | None]:
    """The keys of every chart on the page, in page order."""
    return [chart_key(c) for c in at.get("plotly_chart")]


def chart_element(at: AppTest, key: str) -> Any:
    """The one chart element drawn with `key` (its .proto.spec is the figure's JSON text)."""
    found = [c for c in at.get("plotly_chart") if chart_key(c) == key]
    assert len(found) == 1, f"{len(found)} charts with key {key!r}; keys shown: {chart_keys(at)}"
    return found[0]


def chart(at: AppTest, key: str) -> dict:
    """The figure spec (decoded plotly JSON) of the one chart drawn with `key`."""
    return json.loads(chart_element(at, key).proto.spec)


def values(array: Any) -> np.ndarray:
    """A plotly array from a figure spec (plain list or base64 typed array, maybe 2-D)."""
    if isinstance(array, dict):
        flat = np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"]))
        shape = [int(n) for n in str(array.get("shape", len(flat))).split(",")]
        return flat.astype(float).reshape(shape)
    return np.asarray(array, dtype=float)


def weights(trace: dict) -> np.ndarray:
    """A heatmap trace's cells as weights 0-1: ui.wire sends attention maps as whole percents
    (zmax 100, hover and colour bar in %), other maps as they are."""
    z = values(trace["z"])
    return z / 100 if trace.get("zmax") == 100 and (trace.get("colorbar") or {}).get("ticksuffix") == "%" else z


def strings(node: Any) -> list[str]:
    """Every string inside a decoded figure spec."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    return []


def ticks(figure: dict, axis: str = "xaxis") -> list[str]:
    """A figure spec's tick labels on one axis: its ticktext, or, where ui.wire made the axis a
    category axis (unique labels), the categories of the trace on it."""
    spec_axis = figure["layout"][axis]
    if spec_axis.get("type") != "category":
        return spec_axis["ticktext"]
    field, ref = axis[0], axis.replace("axis", "")
    return next(t[field] for t in figure["data"] if t.get(f"{field}axis", field) == ref and field in t)
