"""View settings for a classroom: presentation mode, colour scale, picture format.

Presentation mode (`?present=1`): large type, sidebar collapsed, chrome hidden.
Colour scale (`?scale=cividis|contrast`): colour-blind safe or black-on-white
charts (lmcore.views.colour_scales). Picture format (`?img=svg`): what a chart's camera
button saves. All three live in the URL, so a shared link opens the same way.
The CSS is a fixed string (no user text reaches it).
"""
from __future__ import annotations

import streamlit as st

from lmcore.views.colour_scales import DEFAULT as DEFAULT_SCALE
from lmcore.views.colour_scales import SCALES
from ui import url_state
from ui.i18n import t

PARAM = "present"
IMAGE_FORMATS = ("png", "svg")
# (session-state key, URL parameter, default, allowed values) of the two sidebar settings
SCALE = ("view_colour_scale", "scale", DEFAULT_SCALE, tuple(SCALES))
IMAGE = ("view_picture_format", "img", "png", IMAGE_FORMATS)

_CSS = """
<style>
html { font-size: 21px; }
[data-testid="stMain"] p, [data-testid="stMain"] li, [data-testid="stMain"] label,
[data-testid="stMain"] td, [data-testid="stMain"] th { font-size: 1.15rem !important; }
[data-testid="stMain"] h1 { font-size: 2.6rem !important; }
[data-testid="stMain"] h2 { font-size: 2.0rem !important; }
[data-testid="stMain"] .block-container { max-width: 100% !important; padding-top: 3.5rem !important; }
[data-testid="stMainMenu"], [data-testid="stToolbarActions"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"] { display: none !important; }
</style>
"""


# Always on: Streamlit's own table download writes =HYPERLINK(...) cells as live formulas;
# every table has a "Numbers" menu with a spreadsheet-safe CSV instead (ui.export_widgets.table).
_BASE_CSS = """
<style>
[data-testid="stElementToolbar"] button[aria-label="Download as CSV"] { display: none !important; }
</style>
"""


def is_on() -> bool:
    return st.query_params.get(PARAM) == "1"


def apply() -> None:
    """Inject the base CSS, and the presentation CSS when the mode is on (once per run, app.py)."""
    st.html(_BASE_CSS)
    if is_on():
        st.html(_CSS)


def toggle() -> None:
    """Sidebar switch; writes the choice into the URL."""
    on = st.sidebar.toggle(t("present.toggle"), value=is_on(), help=t("present.help"),
                           key="presentation_toggle")
    if on and not is_on():
        st.query_params[PARAM] = "1"
        st.rerun()
    if not on and is_on():
        del st.query_params[PARAM]
        st.rerun()


def _current(key: str, param: str, default: str, choices: tuple[str, ...]) -> str:
    """A setting's value: the sidebar widget's, or (a page run on its own) the link's."""
    value = st.session_state.get(key)
    return value if value is not None else url_state.from_url(param, default, str, choices)[0]


def colour_scale() -> str:
    """The session's colour scale name (lmcore.views.colour_scales.SCALES)."""
    return _current(*SCALE)


def picture_format() -> str:
    """"png" or "svg": what the charts' camera buttons save."""
    return _current(*IMAGE)


def view_settings() -> None:
    """Sidebar pickers for the colour scale and the picture format (both kept in the URL)."""
    scales = {name: t(f"view.scale.{name}") for name in SCALES}
    st.sidebar.selectbox(t("view.scale"), list(scales), format_func=scales.__getitem__,
                         help=t("view.scale_help"),
                         key=url_state.field(*SCALE[:3], choices=SCALE[3]))
    st.sidebar.radio(t("view.picture"), IMAGE_FORMATS, format_func=str.upper, horizontal=True,
                     help=t("view.picture_help"),
                     key=url_state.field(*IMAGE[:3], choices=IMAGE[3]))
