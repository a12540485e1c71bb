"""Upload decoding order, the encoding override and the caps (issue 16, items 5 and 6)."""
from __future__ import annotations

import ast
import re
import codecs
import tomllib
from pathlib import Path

import pytest

from lmcore.files import ENCODINGS, decode_upload, detect_encoding, recode
from lmcore.i18n import translate
from tests.page_support import charts, ran_cleanly, run_page, texts, upload
from ui import inputs, lm_logic
from ui.safe_text import md_escape

ROOT = Path(__file__).resolve().parent.parent
GERMAN = "Größe,mäßig\nStraße,groß\n"
KOREAN = "고양이가 매트 위에 앉았다\n오늘은 날씨가 좋다\n"


@pytest.mark.parametrize("data,encoding,lines", [
    (GERMAN.encode("utf-8"), "utf-8", ["Größe,mäßig", "Straße,groß"]),
    (codecs.BOM_UTF8 + GERMAN.encode("utf-8"), "utf-8-sig", ["Größe,mäßig", "Straße,groß"]),
    (KOREAN.encode("utf-16"), "utf-16", ["고양이가 매트 위에 앉았다", "오늘은 날씨가 좋다"]),
    (KOREAN.encode("cp949"), "cp949", ["고양이가 매트 위에 앉았다", "오늘은 날씨가 좋다"]),
    (GERMAN.encode("latin-1"), "cp1252", ["Größe,mäßig", "Straße,groß"]),  # not CP949's Gr秤e
    ("café déjà\n".encode("cp1252") + b"\x81\n", "latin-1", ["café déjà", "\x81"]),  # 0x81: no CP1252 letter
])
def test_decoding_order(data, encoding, lines):
    decoded = decode_upload(data)
    assert (decoded.encoding, decoded.lines) == (encoding, lines)


def test_german_latin1_would_read_as_hanja_in_cp949():
    assert "秤" in GERMAN.encode("latin-1").decode("cp949", errors="replace")  # what the old order showed
    assert detect_encoding(GERMAN.encode("latin-1")) == "cp1252"


def test_the_override_wins_and_recode_hands_on_utf8():
    data = KOREAN.encode("cp949")
    assert decode_upload(data, encoding="latin-1").encoding == "latin-1"
    assert decode_upload(recode(GERMAN.encode("latin-1"), "latin-1")).lines == ["Größe,mäßig", "Straße,groß"]
    assert set(ENCODINGS) <= set(inputs.ENCODING_NAMES)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_finetune_page_says_which_encoding_and_lets_you_change_it(lang):
    rows = "".join(f"Größe {i},{'gut' if i % 2 else 'schlecht'}\n" for i in range(12))
    at = ran_cleanly(run_page(str(ROOT / "pages" / "finetune.py"), lang))
    at.radio(key="ft_source").set_value("upload").run()
    at = upload(at, "ft_upload", "german.csv", ("text,label\n" + rows).encode("latin-1"), "text/csv")
    assert translate("upload.encoding.used", lang, encoding="Windows-1252") in texts(at.caption)
    assert at.selectbox(key="ft_encoding").value == "auto"
    at.selectbox(key="ft_encoding").select("cp949").run()  # the user's override, even a wrong one
    ran_cleanly(at)
    assert translate("upload.encoding.used", lang, encoding=md_escape(inputs.ENCODING_NAMES["cp949"])) in texts(at.caption)


def test_korean_cp949_upload_on_your_sentences():
    at = ran_cleanly(run_page(str(ROOT / "pages" / "your_sentences.py"), "ko", timeout=120))
    at.radio(key="sent_source").set_value("upload").run()
    at = upload(at, "sent_file", "ko.txt", KOREAN.encode("cp949"), "text/plain")
    assert translate("upload.encoding.used", "ko", encoding=md_escape(inputs.ENCODING_NAMES["cp949"])) in texts(at.caption)


def test_upload_limit_is_the_apps_real_limit_everywhere():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == inputs.UPLOAD_LIMIT_MB == 5
    from lmcore.pretrained.tasks import MAX_BYTES
    assert MAX_BYTES <= inputs.UPLOAD_LIMIT_MB * 1_000_000
    uploaders = 0
    for page in (ROOT / "pages").glob("*.py"):
        for node in ast.walk(ast.parse(page.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "file_uploader":
                uploaders += 1
                limit = next((k.value for k in node.keywords if k.arg == "max_upload_size"), None)
                assert ast.unparse(limit) == "inputs.UPLOAD_LIMIT_MB", page.name
    assert uploaders >= 3


def test_lower_case_mask_works_on_the_bert_page():
    at = ran_cleanly(run_page(str(ROOT / "pages" / "bert.py"), "en", timeout=120, model="tiny-bert", show="fill"))
    at.text_area(key="lmp_bert_a").input("the [mask] is here and the [Mask] .").run()
    ran_cleanly(at)
    assert "the [MASK] is here and the [MASK] ." in texts(at.text)
    assert not any("[[MASK]]" in s for s in texts(at.text))
    assert len(charts(at, "lmp_bert_fill_")) == 2


def test_eighty_masks_draw_at_most_the_cap():
    at = ran_cleanly(run_page(str(ROOT / "pages" / "bert.py"), "en", timeout=120, model="tiny-bert", show="fill"))
    at.text_area(key="lmp_bert_a").input(" ".join(["[MASK]"] * 80)).run()
    ran_cleanly(at)
    shown = charts(at, "lmp_bert_fill_")
    assert 0 < len(shown) <= lm_logic.MAX_MASKS
    pattern = re.escape(translate("lmp.fill.too_many_masks", "en", n=999, limit=8)).replace("999", r"\d+")
    assert any(re.fullmatch(pattern, i) for i in texts(at.info)), texts(at.info)
