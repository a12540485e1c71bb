"""bertviz's head view and model view as self-contained, offline, injection-safe HTML.

bertviz 1.4 (`bertviz.head_view(..., html_action="return")`) loads require.js, d3 5 and
jQuery from a CDN, so it draws nothing offline, and it pastes the tokens into a
`<script>` with plain `json.dumps`, so a token containing `</script>` ends the script.
Here we reuse bertviz's own view scripts (`head_view.js`, `model_view.js` from the
installed package) with these changes:

* the `require.config(...)`/`requirejs([...], f)` wrapper becomes `(f)(jQuery, d3)`,
  with d3 5 and jQuery inlined from `lmcore/assets/js/` (vendored with their licences);
* the parameters travel in a `<script type="application/json">` block whose JSON has
  `<`, `>` and `&` written as `\\u003c`, `\\u003e`, `\\u0026` (`escape_json_for_html`);
* the weights travel once, rounded, as integers (weight x 10^decimals); a sentence
  pair's A/B blocks are sliced from them in the browser (`bertvizExpand`), so the page
  is ~17x smaller than bertviz's at 64 tokens (bench/bench_bertviz_offline.py);
* the few English labels inside the scripts come from the translation table, and the
  model view takes the iframe's width.

A Content-Security-Policy meta tag also forbids every network request from the page.
Tokens are drawn by d3's `.text()` (textContent), never parsed as HTML.
"""
from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from lmcore.i18n import translate
from lmcore.record import AttentionMaps

JS_DIR = Path(__file__).parents[1] / "assets" / "js"
ROOT_ID = "bertviz-view"
PARAMS_ID = "bertviz-params"
# Interactive views draw one SVG line per (layer, head, query, key); past this the
# browser crawls, so pages show a notice instead (the heatmaps still show everything).
MAX_VIEW_TOKENS = 64
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src 'none'; connect-src 'none'; font-src 'none'; frame-src 'none'")

_REQUIRE_CONFIG = re.compile(r"require\.config\(\{.*?\}\);", re.DOTALL)
_REQUIRE_CALL = re.compile(r"requirejs\(\[\s*'jquery',\s*'d3'\s*\],\s*function\s*\(\$,\s*d3\)\s*\{")
_PARAMS_EXPR = f'bertvizExpand(JSON.parse(document.getElementById("{PARAMS_ID}").textContent))'
# The page carries the full map once, as integers (weight x scale); the sentence-pair blocks
# are slices of it, rebuilt in the browser. `expand_params` is the same in Python.
_EXPAND_JS = """
function bertvizExpand(p) {
  const all = p.attention[0];
  all.attn = all.attn.map(l => l.map(h => h.map(row => row.map(v => v / p.scale))));
  (p.blocks || []).forEach(function (b) {
    p.attention.push({name: b.name,
      attn: all.attn.map(l => l.map(h => h.slice(b.q[0], b.q[1]).map(r => r.slice(b.k[0], b.k[1])))),
      left_text: all.left_text.slice(b.q[0], b.q[1]),
      right_text: all.right_text.slice(b.k[0], b.k[1])});
  });
  return p;
}
"""


@dataclass(frozen=True)
class ViewFilter:
    """One entry of bertviz's "Attention:" selector: a block of the full map."""

    name: str
    queries: slice
    keys: slice


def escape_json_for_html(data: object) -> str:
    """JSON that is safe inside a <script> element: no `<`, `>` or `&` characters.

    `json.loads` of the result gives `data` back; the browser's JSON.parse does too.
    """
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


@lru_cache(maxsize=4)
def vendored_script(name: str) -> str:
    """A vendored library from lmcore/assets/js ("d3.v5.min.js", "jquery.min.js")."""
    text = (JS_DIR / name).read_text(encoding="utf-8")
    return text.replace("</script", "<\\/script")  # never true for these files; belt and braces


def _replace_once(pattern: re.Pattern | str, replacement: str, text: str, what: str) -> str:
    regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
    result, count = regex.subn(lambda _: replacement, text)
    if count != 1:
        raise RuntimeError(f"bertviz {what}: expected one match, found {count} "
                           "(is the installed bertviz version 1.4.x?)")
    return result


@lru_cache(maxsize=2)
def bertviz_script(view: str) -> str:
    """bertviz's `head_view.js` / `model_view.js` rewired to run without require.js or a CDN."""
    source = resources.files("bertviz").joinpath(f"{view}_view.js").read_text(encoding="utf-8")
    text = _replace_once(_REQUIRE_CONFIG, "", source, "require.config")
    text = _replace_once(_REQUIRE_CALL, "(function ($, d3) {", text, "requirejs call")
    text = _replace_once("const params = PYTHON_PARAMS;", f"const params = {_PARAMS_EXPR};",
                         text, "params marker")
    text = text.rstrip()
    if not text.endswith("});"):
        raise RuntimeError(f"bertviz {view}_view.js does not end with '}});'")
    text = _EXPAND_JS + text[:-3] + "})(window.jQuery, window.d3);\n"
    if view == "model":
        text = _replace_once("const DIV_WIDTH = 970;",  # fit the iframe instead of 970px
                             "const DIV_WIDTH = Math.max(600, Math.min(970, window.innerWidth - 16));",
                             text, "width")
        text = _replace_once('.text("Heads")', ".text(params.labels.heads)", text, "Heads label")
        text = _replace_once('.text("Layers")', ".text(params.labels.layers)", text, "Layers label")
        text = _replace_once("'Layer ' + config.layers[layerIndex] + \", Head \"",
                             "params.labels.layer + ' ' + config.layers[layerIndex] + ', ' + "
                             "params.labels.head + ' '", text, "detail heading")
    return text


def view_filters(n_tokens: int, sentence_b_start: int | None, lang: str) -> list[ViewFilter]:
    """The whole map, plus the A->A, B->B, A->B, B->A blocks for a sentence pair."""
    everything = slice(0, n_tokens)
    if sentence_b_start is None or not 0 < sentence_b_start < n_tokens:
        return [ViewFilter(translate("lmp.bv.all", lang), everything, everything)]
    a, b = slice(0, sentence_b_start), slice(sentence_b_start, n_tokens)
    return [ViewFilter(translate("lmp.bv.all", lang), everything, everything),
            ViewFilter(translate("lmp.bv.aa", lang), a, a),
            ViewFilter(translate("lmp.bv.bb", lang), b, b),
            ViewFilter(translate("lmp.bv.ab", lang), a, b),
            ViewFilter(translate("lmp.bv.ba", lang), b, a)]


def view_params(maps: AttentionMaps, sentence_b_start: int | None = None, lang: str = "en",
                decimals: int = 3) -> dict:
    """bertviz's `params` object, compact: the full map once as integers, blocks as slices.

    attention[0].attn: round(weight * scale), (layers, heads, q, k) nested lists;
    blocks: [{"name", "q": [start, stop], "k": [start, stop]}] for a sentence pair.
    """
    if not np.isfinite(maps.weights).all():
        raise ValueError("attention weights contain NaN or inf")
    scale = 10 ** decimals
    weights = np.rint(maps.weights.astype(np.float64) * scale).astype(np.int64)  # (L, H, q, k)
    square = len(maps.query_tokens) == len(maps.key_tokens)
    everything, *pairs = view_filters(len(maps.key_tokens), sentence_b_start if square else None,
                                      lang)
    attention = [{"name": everything.name, "attn": weights.tolist(),
                  "left_text": list(maps.query_tokens), "right_text": list(maps.key_tokens)}]
    blocks = [{"name": f.name, "q": [f.queries.start, f.queries.stop],
               "k": [f.keys.start, f.keys.stop]} for f in pairs]
    return {
        "attention": attention,
        "blocks": blocks,
        "scale": scale,
        "default_filter": "0",
        "root_div_id": ROOT_ID,
        "layer": 0,
        "heads": None,
        "include_layers": list(range(maps.n_layers)),
        "include_heads": list(range(maps.n_heads)),
        "total_heads": maps.n_heads,
        "display_mode": "light",
        "labels": {"layer": translate("common.layer", lang), "head": translate("common.head", lang),
                   "layers": translate("lmp.bv.layers", lang),
                   "heads": translate("lmp.bv.heads", lang)},
    }


def _controls(view: str, params: dict, lang: str) -> str:
    """The selectors above the SVG (escaped: filter names are ours, but escape anyway)."""
    parts = []
    if view == "head":
        parts.append(f'{html.escape(translate("common.layer", lang))}: <select id="layer"></select>')
    names = [block["name"] for block in params["attention"] + params["blocks"]]
    if len(names) > 1:
        options = "".join(f'<option value="{i}">{html.escape(n)}</option>' for i, n in enumerate(names))
        parts.append(f'{html.escape(translate("lmp.bv.attention", lang))}: '
                     f'<select id="filter">{options}</select>')
    return " ".join(parts)


def _left_room(params: dict) -> int:
    """Pixels to the left of the head view's SVG for tokens wider than its 110px column."""
    longest = max((len(tok) for block in params["attention"] for tok in block["left_text"]),
                  default=0)
    return min(400, max(0, 9 * longest - 100))


def _page(view: str, params: dict, lang: str) -> str:
    pad = _left_room(params) if view == "head" else 0
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        "<style>body{margin:0;background:white;color:black}"
        f"#vis{{padding-left:{pad}px}} #vis svg{{overflow:visible}}</style></head><body>\n"
        f'<div id="{ROOT_ID}" style="font-family:\'Helvetica Neue\', Helvetica, Arial, sans-serif;">'
        f'<span style="user-select:none">{_controls(view, params, lang)}</span>'
        "<div id='vis'></div></div>\n"
        f'<script type="application/json" id="{PARAMS_ID}">{escape_json_for_html(params)}</script>\n'
        f"<script>{vendored_script('jquery.min.js')}</script>\n"
        f"<script>{vendored_script('d3.v5.min.js')}</script>\n"
        f"<script>{bertviz_script(view)}</script>\n"
        "</body></html>\n"
    )


def head_view_html(maps: AttentionMaps, sentence_b_start: int | None = None,
                   lang: str = "en", decimals: int = 3) -> str:
    """bertviz's head view (one layer, all heads as coloured lines) as one offline HTML page.

    maps: weights (layers, heads, q, k); a pair's B sentence starts at `sentence_b_start`.
    """
    return _page("head", view_params(maps, sentence_b_start, lang, decimals), lang)


def model_view_html(maps: AttentionMaps, sentence_b_start: int | None = None,
                    lang: str = "en", decimals: int = 3) -> str:
    """bertviz's model view (a thumbnail per layer and head, click for detail), offline."""
    return _page("model", view_params(maps, sentence_b_start, lang, decimals), lang)


def params_from_html(page: str) -> dict:
    """Read the embedded params back out of a page made here (tests and debugging)."""
    match = re.search(f'<script type="application/json" id="{PARAMS_ID}">(.*?)</script>',
                      page, re.DOTALL)
    if match is None:
        raise ValueError("no bertviz params block in this page")
    return expand_params(json.loads(match.group(1)))


def expand_params(data: dict) -> dict:
    """What the browser's bertvizExpand makes of the embedded params (floats, all blocks)."""
    full = data["attention"][0]
    weights = np.asarray(full["attn"], dtype=np.float64) / data["scale"]  # (L, H, q, k)
    attention = [dict(full, attn=weights.tolist())]
    for b in data.get("blocks", []):
        (q0, q1), (k0, k1) = b["q"], b["k"]
        attention.append({"name": b["name"], "attn": weights[:, :, q0:q1, k0:k1].tolist(),
                          "left_text": full["left_text"][q0:q1],
                          "right_text": full["right_text"][k0:k1]})
    return dict(data, attention=attention)
