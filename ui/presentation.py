"""View settings for a classroom: presentation mode, colour scale, picture format.

Presentation mode (`?present=1`): large type, sidebar collapsed, chrome hidden.
Colour scale (`?scale=cividis|contrast`): colour-blind safe or black-on-white
charts (lmcore.views.colour_scales). Picture format (`?img=svg`): what a chart's camera
button saves. All three live in the URL, so a shared link opens the same way.
The CSS is a fixed string (no user text reaches it).
"""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from lmcore.views import colour_scales
from lmcore.views.legible import legible
from ui import url_state
from ui.i18n import t

PARAM = "present"
IMAGE_FORMATS = ("png", "svg")
# (session-state key, URL parameter, default, allowed values) of the two sidebar settings
SCALE = ("view_colour_scale", "scale", colour_scales.DEFAULT, tuple(colour_scales.SCALES))
IMAGE = ("view_picture_format", "img", "png", IMAGE_FORMATS)

# Presentation: the figure grows (ui.export_widgets.chart calls `enlarge`), the text after it
# grows, and what sits above the figure (title, widget labels, inputs) keeps its size, so the
# figure still starts on the first screen of a 1280x720 projector.
_CSS = """
<style>
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] li,
[data-testid="stMain"] td, [data-testid="stMain"] th { font-size: 1.2rem !important; }
[data-testid="stMain"] [data-testid="stWidgetLabel"] p,
[data-testid="stMain"] [data-testid="stCaptionContainer"] p { font-size: 1rem !important; }
[data-testid="stMain"] h2 { font-size: 2.0rem !important; }
[data-testid="stMain"] .block-container { max-width: 100% !important; }
[data-testid="stMainMenu"], [data-testid="stToolbarActions"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"] { display: none !important; }
.st-key-present_language_box { position: fixed !important; top: 0.45rem; right: 1rem;
  width: auto !important; z-index: 999991; }
[data-testid="stMain"] textarea, [data-testid="stMain"] input { font-size: 1.25rem !important; }
</style>
"""
ENLARGE = 1.25    # presentation mode: figure height and font sizes times this
FONT_PX = 13          # the smallest text in a figure
PRESENT_FONT_PX = 20  # ... in presentation mode (what a class reads on a projector)
SCREEN_PX = 720       # the first screen of a 1280x720 projector: the main figure ends above it
# Each page's main figure (and the figures beside it), by chart-key prefix: the px above it at
# 1280x720 (title, one row of pickers), the most of en/ko, normal/presentation, as
# tests/test_browser_layout.py measures it, plus a little. chart() caps its height to end
# inside SCREEN_PX.
MAIN_FIGURES: dict[str, int] = {
    "sent_chart": 300, "s2sp_context": 400, "s2sp_untrained_map": 375, "attn_vectors": 215,
    "attn_weights": 215, "s2sp_step_figure": 300, "tf_one": 300, "tf_summary": 300, "sa_": 215,
    "pos_sin": 215, "lmp_bert_grid": 340, "lmp_bert_heatmap": 340, "lmp_bert_rollout": 340,
    "lmp_gpt_next": 330, "inside_lens": 215, "kv_grid": 400, "abl_grid": 215, "ft_cls_before": 285,
    "cmp_map_": 355, "cmp_tr_map_": 355,
}
# the main area's width at 1280 px (sidebar open; folded in presentation mode), for label spacing
MAIN_WIDTH_PX, PRESENT_WIDTH_PX = 880, 1180


# Always on.
# - Streamlit's own table download writes =HYPERLINK(...) cells as live formulas; every table
#   has a "Numbers" menu with a spreadsheet-safe CSV instead (ui.export_widgets.table).
# - A compact page top (less padding, a smaller title), so the figure starts high.
# - No focus frame around the whole main area ("Skip to content", or a click on the page before
#   the arrow keys step, focuses it; Streamlit 1.67 draws that frame as an inset shadow on
#   stMain::before); controls keep theirs.
# - The sidebar's own settings (language, presentation) above the page links, not below 13 links.
_BASE_CSS = """
<style>
[data-testid="stElementToolbar"] button[aria-label="Download as CSV"] { display: none !important; }
[data-testid="stMainBlockContainer"], [data-testid="stMain"] .block-container {
  padding-top: 3.25rem !important; padding-bottom: 3rem !important; }
[data-testid="stMain"] h1 { font-size: 2.1rem !important; padding: 0.2rem 0 0.4rem 0 !important; }
[data-testid="stMain"]:focus, [data-testid="stMain"]:focus-visible,
[data-testid="stAppViewContainer"]:focus, [data-testid="stMainBlockContainer"]:focus,
[data-testid="stMain"]::before, [data-testid="stMain"]:focus::before,
[data-testid="stMain"]:focus-visible::before {
  outline: none !important; box-shadow: none !important; }
[data-testid="stSidebarContent"] { display: flex !important; flex-direction: column !important; }
[data-testid="stSidebarHeader"] { order: 0; }
[data-testid="stSidebarUserContent"] { order: 1; padding-top: 0 !important; padding-bottom: 0.5rem !important; }
[data-testid="stSidebarNav"] { order: 2; }
</style>
"""


def is_on() -> bool:
    return st.query_params.get(PARAM) == "1"


def apply() -> None:
    """Inject the base CSS, and the presentation CSS when the mode is on (once per run, app.py)."""
    st.html(_BASE_CSS)
    if is_on():
        st.html(_CSS)


def enlarge(fig: go.Figure) -> go.Figure:
    """In presentation mode: the figure ENLARGE times taller, its text ENLARGE times larger.

    Idempotent (a figure drawn twice, or kept in a cache, grows once).
    """
    if not is_on() or getattr(fig, "_presented", False):
        return fig
    layout = fig.layout
    if layout.height:
        fig.update_layout(height=round(layout.height * ENLARGE))
    else:
        fig.update_layout(height=round(450 * ENLARGE))  # plotly's default height is 450 px
    fig.update_layout(font_size=round((layout.font.size or 12) * ENLARGE))
    if layout.title and layout.title.font and layout.title.font.size:
        fig.update_layout(title_font_size=round(layout.title.font.size * ENLARGE))
    fig._presented = True
    return fig


def main_figure_above(key: str) -> int | None:
    """The px above the chart `key` when it is a page's main figure (MAIN_FIGURES), else None."""
    return next((px for prefix, px in MAIN_FIGURES.items() if key.startswith(prefix)), None)


def fit(fig: go.Figure, above: int | None = None, share: float = 1.0) -> go.Figure:
    """Every figure, as chart() draws it: enlarged in presentation mode, every text at least
    FONT_PX (PRESENT_FONT_PX presenting), crowded token axes rotated or thinned (full labels on
    hover; lmcore.views.legible).

    above: px above the figure at 1280x720 (title, pickers): the figure then ends inside the
    first SCREEN_PX (the page's main figure passes it). share: the part of the main area's width
    the figure's container has (a column: its share), for label spacing.
    """
    enlarge(fig)
    width = (PRESENT_WIDTH_PX if is_on() else MAIN_WIDTH_PX) * share
    room = None if above is None else SCREEN_PX - above - 12
    return legible(fig, PRESENT_FONT_PX if is_on() else FONT_PX, width, room)


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
    """Sidebar pickers for the colour scale and the picture format (both kept in the URL),
    folded in one expander so the language and presentation switch stay above the page links."""
    scales = {name: t(f"view.scale.{name}") for name in colour_scales.SCALES}
    box = st.sidebar.expander(t("layout.view_settings"), icon=":material/palette:")
    box.selectbox(t("view.scale"), list(scales), format_func=scales.__getitem__,
                         help=t("view.scale_help"),
                         key=url_state.field(*SCALE[:3], choices=SCALE[3]))
    box.radio(t("view.picture"), IMAGE_FORMATS, format_func=str.upper, horizontal=True,
                     help=t("view.picture_help"),
                     key=url_state.field(*IMAGE[:3], choices=IMAGE[3]))
