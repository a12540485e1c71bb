"""The classroom flow in headless Chromium with the network cut (issue 7's must-show):

upload a CP949 file of Korean sentences and an English CSV, export a chart as PNG, the
numbers as CSV and the bertviz view as HTML, and reopen a shared link to the same view
(keyboard steps included). Downloads are read back and checked, not just clicked.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from lmcore.i18n import translate
from tests.browser_support import ARTIFACTS, OfflinePage, require_browser
from ui.inputs import UPLOAD_LIMIT_MB

require_browser()

KOREAN = ["고양이가 매트 위에 앉았다.", "나는 책 읽기를 좋아한다."]
HOSTILE = "</script><img src=x onerror=alert(1)>"
ENGLISH_CSV = ('id,text\n1,the cat sat on the mat .\n2,"=HYPERLINK(""http://x"",""y"")"\n3,' + HOSTILE + "\n")
SENTENCE = "The cat sat on the mat because it was tired."


def tr(key: str, lang: str, **params) -> str:
    return translate(key, lang, **params)


def download(tab: OfflinePage, click) -> tuple[str, bytes]:
    with tab.page.expect_download(timeout=60_000) as info:
        click()
    d = info.value
    return d.suggested_filename, Path(d.path()).read_bytes()


def upload_and_run(tab: OfflinePage, name: str, data: bytes, mime: str, lang: str) -> None:
    tab.page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}])
    tab.wait_until_idle()
    tab.page.get_by_role("button", name=tr("sent.run", lang)).click()
    tab.wait_until_idle()


def table_csv(tab: OfflinePage, lang: str) -> list[dict]:
    name, data = download(tab, tab.page.get_by_role("button", name=tr("sent.export.csv", lang)).click)
    assert name.endswith(".csv") and data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads Hangul
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def picture(tab: OfflinePage) -> tuple[str, bytes]:
    chart = tab.page.locator('[data-testid="stPlotlyChart"]').last
    chart.scroll_into_view_if_needed()
    chart.hover()
    camera = chart.locator('button.modebar-btn[data-title^="Download plot"]').first
    return download(tab, camera.click)


def test_korean_cp949_upload_then_png_and_csv_exports(app_url, browser):
    with OfflinePage(browser) as tab:
        tab.open(f"{app_url}/your-sentences?lang=ko&source=upload&model=s2s-ko-en-bahdanau")
        upload_and_run(tab, "korean.txt", "\n".join(KOREAN).encode("cp949"), "text/plain", "ko")
        assert tab.page.get_by_text("cp949").count() > 0  # the detected encoding is shown
        rows = table_csv(tab, "ko")
        assert [r["sentence"] for r in rows] == KOREAN and all(r["translation"] for r in rows)
        name, png = picture(tab)
        assert name.endswith(".png") and png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000
        (ARTIFACTS / "classroom-export.png").write_bytes(png)
        tab.page.locator('[data-testid="stPopover"] button').last.click()  # the chart's "Numbers" menu
        menu_csv = tab.page.get_by_role("button", name=tr("export.csv", "ko"))
        menu_csv.wait_for(state="visible")
        name, numbers = download(tab, menu_csv.click)
        cells = list(csv.DictReader(io.StringIO(numbers.decode("utf-8-sig"))))
        assert name.endswith(".csv") and cells and {"series", "row", "column", "value"} <= set(cells[0])
        assert any("고" in r["column"] for r in cells)  # source syllables, as typed
        tab.page.screenshot(path=str(ARTIFACTS / "classroom-korean.png"))
        assert tab.problems() == [] and tab.blocked == []


def test_english_csv_with_a_formula_cell_exports_it_harmless(app_url, browser):
    with OfflinePage(browser) as tab:
        tab.open(f"{app_url}/your-sentences?lang=en&source=upload&model=tiny-bert")
        upload_and_run(tab, "sentences.csv", ENGLISH_CSV.encode("utf-8"), "text/csv", "en")
        rows = table_csv(tab, "en")
        assert len(rows) == 3 and rows[0]["sentence"] == "the cat sat on the mat ."
        assert rows[1]["sentence"].startswith("'=HYPERLINK")  # neutralised: shown as text
        assert rows[2]["sentence"] == HOSTILE
        assert tab.page.locator('img[src="x"]').count() == 0 and not tab.dialogs
        assert tab.problems() == [] and tab.blocked == []
        opener = tab.page.locator('[data-testid="stPageLink"] a', has_text=tr("url.open_in_page", "en", page="BERT")[:20])
        opener.first.click()  # the picked row (the first) opens in its own page
        tab.wait_until_idle()
        assert urlparse(tab.page.url).path == "/bert" and "model=tiny-bert" in tab.page.url
        assert tab.page.locator('[data-testid="stMain"] textarea').first.input_value() == "the cat sat on the mat ."
        assert tab.problems() == [] and tab.blocked == []


def test_bertviz_view_downloads_as_a_standalone_offline_html_file(app_url, browser):
    with OfflinePage(browser) as tab:
        tab.open(f"{app_url}/bert?lang=en&model=all-MiniLM-L6-v2&show=bertviz&text=The+dog+chased+the+ball.")
        button = tab.page.get_by_role("button", name=tr("lmp.bv.download", "en"))
        button.scroll_into_view_if_needed()
        name, data = download(tab, button.click)
        html = data.decode("utf-8")
        assert name.endswith(".html") and "chased" in html
        assert not re.search(r"<script[^>]+src=|<link[^>]+href=['\"]?https?:", html)  # nothing fetched
        saved = ARTIFACTS / "classroom-view.html"
        saved.write_text(html, encoding="utf-8")
        with OfflinePage(browser) as view:  # the saved file draws on its own, network cut
            view.page.set_content(html)
            view.page.wait_for_selector("svg", timeout=30_000)
            assert view.page_errors == [] and view.blocked == []


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_shared_link_reopens_the_same_view(app_url, browser, lang):
    """Step with the keyboard, change the text, copy the address, open it elsewhere: same view."""
    with OfflinePage(browser) as tab:
        tab.open(f"{app_url}/translate-steps?lang={lang}&model=s2s-en-fr-bahdanau")
        box = tab.page.locator('[data-testid="stMain"] textarea').first
        box.fill("The dog is sleeping on the bed.")
        box.press("Control+Enter")
        tab.wait_until_idle()
        tab.page.locator('[data-testid="stMain"] h1').first.click()  # focus the page, not the box
        for _ in range(2):
            tab.page.keyboard.press("ArrowRight")
            tab.wait_until_idle()
        # the click focused the main area: no frame drawn round it (an inset shadow on ::before)
        frame = tab.page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
            const b = getComputedStyle(m, '::before'), s = getComputedStyle(m);
            return [b.boxShadow, s.boxShadow, s.outlineStyle]; }""")
        assert frame == ["none", "none", "none"]
        shared = tab.page.url
        query = parse_qs(urlparse(shared).query)
        assert query["step"] == ["3"] and query["text"] == ["The dog is sleeping on the bed."]
        step_title = '[data-testid="stPlotlyChart"] .gtitle'  # "Step 3 of 9: ..." in the step figure
        progress = tab.page.locator(step_title).first.text_content().split(":")[0]
    with OfflinePage(browser) as other:
        other.open(shared)
        assert other.page.locator('[data-testid="stMain"] textarea').first.input_value() == \
            "The dog is sleeping on the bed."
        other.page.wait_for_selector(step_title)
        assert other.page.locator(step_title).first.text_content().split(":")[0] == progress
        assert re.search(r"(?<!\d)3(?!\d)", progress)
        other.page.screenshot(path=str(ARTIFACTS / f"classroom-shared-{lang}.png"))
        assert other.problems() == [] and other.blocked == []


def test_a_shared_bert_link_opens_the_same_head_in_presentation_mode(app_url, browser):
    with OfflinePage(browser) as tab:
        tab.open(f"{app_url}/bert?lang=ko&present=1&scale=contrast&model=all-MiniLM-L6-v2"
                 f"&text={SENTENCE.replace(' ', '+')}&layer=4&head=7")
        title = tr("lmp.head.figure_title", "ko", layer=4, head=7)
        assert tab.page.locator(".gtitle", has_text=title).count() == 1
        assert "present=1" in tab.page.url and "layer=4" in tab.page.url
        tab.page.screenshot(path=str(ARTIFACTS / "classroom-bert-present.png"))
        assert tab.problems() == [] and tab.blocked == []


@pytest.mark.parametrize("name,data,expect", [
    ("empty.txt", b"", ("upload.err.empty", {})),
    ("huge.txt", b"a\n" * 3_000_000, ("uploader.too_big", {})),
    ("long-line.txt", b"a" * 100_000, ("sent.notice.long_sentences", dict(count=1, chars=1000))),
])
def test_bad_uploads_get_a_clear_message_through_the_real_upload(app_url, browser, name, data, expect):
    from lmcore.demos import batch
    key, params = expect
    if key == "sent.err.too_big":
        params = dict(megabytes=round(len(data) / 1e6, 1), limit=round(batch.REFUSE_BYTES / 1e6),
                      kept=round(batch.MAX_BYTES / 1e6))
    if key == "sent.notice.long_sentences":
        params = dict(count=1, chars=batch.MAX_SENTENCE_CHARS)
    with OfflinePage(browser) as tab:
        tab.open(f"{app_url}/your-sentences?lang=ko&source=upload")
        tab.page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            files=[{"name": name, "mimeType": "text/plain", "buffer": data}])
        # over server.maxUploadSize (= inputs.UPLOAD_LIMIT_MB): the uploader itself refuses it and
        # names the limit; nothing reaches the server
        message = (tab.page.get_by_text(re.compile(rf"{UPLOAD_LIMIT_MB}(\.0)? ?MB or smaller"))
                   if key == "uploader.too_big" else tab.page.get_by_text(tr(key, "ko", **params)))
        message.wait_for(timeout=90_000)  # a 50 MB upload takes a moment to arrive
        tab.wait_until_idle()
        tab.page.screenshot(path=str(ARTIFACTS / f"classroom-bad-{name}.png"))
        assert message.count() == 1
        assert tab.page.locator('[data-testid="stException"]').count() == 0
        assert not tab.page_errors and tab.blocked == []
