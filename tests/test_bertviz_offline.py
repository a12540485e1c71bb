"""bertviz views offline: no CDN, no script break-out, the data round-trips."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from lmcore.pretrained import bertviz as bv
from lmcore.record import AttentionMaps

HOSTILE = "</script><img src=x onerror=alert(1)>"
# URLs that may appear: XML namespaces inside d3, licence/credit comments. None is fetched.
ALLOWED_URL = re.compile(r"https?://(www\.w3\.org/|d3js\.org|github\.com/tensorflow/tensor2tensor/)")


def tiny_maps(tokens: list[str], layers: int = 2, heads: int = 4, seed: int = 0) -> AttentionMaps:
    rng = np.random.default_rng(seed)
    w = rng.random((layers, heads, len(tokens), len(tokens))).astype(np.float32)  # (L, H, n, n)
    w /= w.sum(-1, keepdims=True)
    return AttentionMaps(w, tokens, tokens, "self")


@pytest.fixture(scope="module")
def hostile_maps() -> AttentionMaps:
    return tiny_maps(["[CLS]", "a", HOSTILE, "b & c", "[SEP]", "한국어", "[SEP]"])


@pytest.mark.parametrize("build", [bv.head_view_html, bv.model_view_html])
def test_no_network_url_and_no_loader(build, hostile_maps):
    page = build(hostile_maps, sentence_b_start=5)
    urls = re.findall(r"https?://[^\s\"'<>)]+", page)
    assert urls, "d3's namespaces are expected to be present"
    assert [u for u in urls if not ALLOWED_URL.match(u)] == []
    assert "cdnjs" not in page and "require.config" not in page and "requirejs(" not in page
    assert not re.search(r"<script[^>]*\bsrc=", page), "every script is inline"
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


@pytest.mark.parametrize("build", [bv.head_view_html, bv.model_view_html])
def test_hostile_token_only_appears_escaped(build, hostile_maps):
    page = build(hostile_maps, sentence_b_start=5)
    assert HOSTILE not in page
    assert "<img" not in page
    # exactly the script elements we emit (params, jquery, d3, view); jQuery's own code
    # mentions "<script" in strings, which is harmless without "<!--" in the same script
    assert page.count("</script>") == 4
    ours = page
    for name in ("jquery.min.js", "d3.v5.min.js"):
        assert "<!--" not in bv.vendored_script(name)
        ours = ours.replace(bv.vendored_script(name), "")
    assert ours.count("<script") == 4
    assert "\\u003c/script\\u003e\\u003cimg src=x onerror=alert(1)\\u003e" in page
    assert "b \\u0026 c" in page


def test_data_round_trips(hostile_maps):
    params = bv.params_from_html(bv.head_view_html(hostile_maps, sentence_b_start=5))
    blocks = params["attention"]
    assert [len(b["left_text"]) for b in blocks] == [7, 5, 2, 5, 2]
    assert blocks[0]["left_text"] == list(hostile_maps.query_tokens)
    assert blocks[0]["left_text"][2] == HOSTILE
    full = np.array(blocks[0]["attn"])  # (L, H, n, n)
    assert full.shape == hostile_maps.weights.shape
    np.testing.assert_allclose(full, hostile_maps.weights, atol=5e-4)
    a_to_b = np.array(blocks[3]["attn"])
    np.testing.assert_allclose(a_to_b, hostile_maps.weights[:, :, :5, 5:], atol=5e-4)
    assert blocks[3]["right_text"] == ["한국어", "[SEP]"]


def test_weights_are_rounded_and_sent_once(hostile_maps):
    page = bv.model_view_html(hostile_maps, sentence_b_start=5, decimals=2)
    raw = page.split(f'id="{bv.PARAMS_ID}">', 1)[1].split("</script>")[0]
    assert not re.search(r"\d\.\d", raw), "weights travel as integers (weight x 100)"
    assert raw.count("[CLS]") == 2, "tokens once per side; pair blocks are rebuilt in the browser"
    values = np.array(bv.params_from_html(page)["attention"][0]["attn"]).ravel()
    np.testing.assert_allclose(values * 100, np.round(values * 100), atol=1e-9)
    np.testing.assert_allclose(values, hostile_maps.weights.ravel(), atol=0.005)


def test_single_sentence_has_no_filter_and_korean_labels():
    maps = tiny_maps(["[CLS]", "x", "[SEP]"])
    page = bv.head_view_html(maps, lang="ko")
    assert 'id="filter"' not in page and "층:" in page
    params = bv.params_from_html(page)
    assert len(params["attention"]) == 1 and params["labels"]["heads"] == "헤드"
    paired = bv.head_view_html(maps, sentence_b_start=2, lang="ko")
    assert "문장 A → 문장 B" in paired


def test_escape_json_for_html_is_lossless():
    data = {"t": ["</script>", "<!--", "a&b", "\u2028", "ok"]}
    text = bv.escape_json_for_html(data)
    assert not set("<>&") & set(text) and "\u2028" not in text
    assert json.loads(text) == data


def test_nan_weights_are_refused():
    maps = tiny_maps(["a", "b"])
    bad = AttentionMaps(np.full((1, 1, 2, 2), np.nan, np.float32), maps.query_tokens,
                        maps.key_tokens, "self")
    with pytest.raises(ValueError):
        bv.head_view_html(bad)


def test_rewired_scripts_call_the_globals():
    for view in ("head", "model"):
        script = bv.bertviz_script(view)
        assert "function bertvizExpand(p)" in script and "(function ($, d3) {" in script
        assert script.rstrip().endswith("})(window.jQuery, window.d3);")
        assert "PYTHON_PARAMS;" not in script
    assert "params.labels.heads" in bv.bertviz_script("model")


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")
def test_views_draw_in_a_browser_with_the_network_cut(hostile_maps, tmp_path):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless"])
        page = browser.new_page()
        outside, dialogs, errors = [], [], []
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://")
                   else (outside.append(r.request.url), r.abort()))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: errors.append(str(e)))
        for build, lines in ((bv.head_view_html, 4 * 7 * 7), (bv.model_view_html, 2 * 4 * 7 * 7)):
            path = tmp_path / f"{build.__name__}.html"
            path.write_text(build(hostile_maps, sentence_b_start=5), encoding="utf-8")
            page.goto(path.as_uri())
            page.wait_for_selector("svg line", state="attached", timeout=10_000)
            assert page.locator("svg").count() >= 1 and page.locator("line").count() == lines
            assert page.locator("img").count() == 0
            if build is bv.model_view_html:  # tokens appear in a thumbnail's detail view
                page.locator("svg rect").nth(5).click(force=True)
            assert HOSTILE in page.locator("svg").first.text_content()  # drawn as text
            page.select_option("#filter", "3")  # sentence A -> sentence B, rebuilt in JS
            assert page.locator("line").count() == lines // 49 * 5 * 2
        browser.close()
    assert outside == [] and dialogs == [] and errors == []
