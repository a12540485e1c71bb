"""lmcore.demos.batch: parsing uploads and pasted text, and one row per sentence on tiny models."""
from __future__ import annotations

import codecs

import numpy as np
import pytest

from lmcore.demos import batch
from lmcore.pretrained import encoding as P
from lmcore.pretrained import loading as L
from lmcore.errors import UserFacingError
from tests.test_page_translate_steps import tiny_translator
from tests.test_pretrained import HOSTILE, bert_dir, gpt2_dir  # noqa: F401 (fixtures)

KOREAN = ["고양이가 매트 위에 앉았다.", "나는 책 읽기를 좋아한다."]
ENGLISH_CSV = b'id,text\n1,"The cat sat, then slept."\n2,"=HYPERLINK(""http://x"")"\n3,I love it.\n'


# ---------------------------------------------------------------- parsing
@pytest.mark.parametrize("encoding", ["cp949", "euc-kr", "utf-8", "utf-8-sig", "utf-16"])
def test_korean_text_file_in_every_encoding(encoding):
    parsed = batch.parse_sentences("\n".join(KOREAN).encode(encoding), "ko.txt")
    assert parsed.sentences == KOREAN
    assert parsed.columns == []


def test_english_csv_header_detected_and_sentence_column_chosen():
    parsed = batch.parse_sentences(ENGLISH_CSV, "en.csv")
    assert parsed.has_header and parsed.columns == ["id", "text"] and parsed.column == 1
    assert parsed.sentences == ["The cat sat, then slept.", '=HYPERLINK("http://x")', "I love it."]
    forced = batch.parse_sentences(ENGLISH_CSV, "en.csv", column=0, has_header=False)
    assert forced.sentences == ["id", "1", "2", "3"] and forced.columns == ["1", "2"]


def test_tsv_without_header_and_bad_column():
    data = "The cat sat.\tLe chat\nI am cold.\tJ'ai froid\n".encode("cp949")
    parsed = batch.parse_sentences(data, "pairs.TSV")
    assert not parsed.has_header and parsed.sentences == ["The cat sat.", "I am cold."]
    assert batch.parse_sentences(data, "pairs.tsv", column=1).sentences == ["Le chat", "J'ai froid"]
    with pytest.raises(UserFacingError) as err:
        batch.parse_sentences(data, "pairs.tsv", column=5)
    assert err.value.key == "sent.err.column"


@pytest.mark.parametrize("data,key", [(b"", "upload.err.empty"), (b"\n \n\t\n", "upload.err.empty"),
                                      (b"\x00\x01\x02\xff" * 100, "upload.err.binary"),
                                      (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "upload.err.binary")])
def test_empty_and_binary_files_give_messages(data, key):
    with pytest.raises(UserFacingError) as err:
        batch.parse_sentences(data, "x.txt")
    assert err.value.key == key


def test_huge_file_is_refused_by_its_size_before_reading():
    with pytest.raises(UserFacingError) as err:
        batch.check_upload_size(50_000_000)
    assert err.value.key == "sent.err.too_big" and err.value.params["megabytes"] == 50.0
    batch.check_upload_size(batch.REFUSE_BYTES)  # at the limit: fine


def test_size_line_and_sentence_caps_give_notices():
    data = ("one sentence here.\n" * 200_000).encode()  # 3.8 MB
    parsed = batch.parse_sentences(data, "many.txt")
    keys = [n.key for n in parsed.notices]
    assert keys == ["upload.notice.size_capped", "sent.notice.sentences_capped"]  # one cap notice, not two
    assert parsed.notices[1].params == {"kept": batch.MAX_SENTENCES, "total": 2_000_000 // 19}
    assert len(parsed.sentences) == batch.MAX_SENTENCES


def test_one_100k_character_line_is_cut_with_a_notice():
    parsed = batch.parse_sentences(("word " * 20_000).encode(), "long.txt")
    assert len(parsed.sentences) == 1 and len(parsed.sentences[0]) == batch.MAX_SENTENCE_CHARS
    assert [n.key for n in parsed.notices] == ["sent.notice.long_sentences"]


def test_pasted_text():
    assert batch.parse_pasted(" a \n\n b\n").sentences == ["a", "b"]
    for bad, key in [("", "sent.err.no_sentences"), ("  \n ", "sent.err.no_sentences"),
                     ("a\x00b", "upload.err.binary")]:
        with pytest.raises(UserFacingError) as err:
            batch.parse_pasted(bad)
        assert err.value.key == key


# ---------------------------------------------------------------- running
SENTENCES = ["the cat sat on the mat .", "고양이", HOSTILE + " 😀", "the dog " * 40]


def test_encoder_rows_heads_unknown_truncation_and_progress(bert_dir):
    model = batch.BatchModel("tiny", "masked-lm", L.load_model(bert_dir))
    seen = []
    rows = batch.run_batch(model, SENTENCES, progress=lambda d, n: seen.append((d, n)), max_tokens=16)
    assert seen == [(i + 1, 4) for i in range(4)]
    assert [r.index for r in rows] == [0, 1, 2, 3] and all(r.error is None for r in rows)
    first = rows[0]
    assert first.tokens[0] == "[CLS]" and len(first.heads) == batch.TOP_HEADS
    assert 0 < first.mean_entropy < np.log2(len(first.tokens))  # bits
    assert first.unknown == () and not first.truncated
    assert len(rows[1].unknown) >= 1  # Hangul is [UNK] for an English WordPiece vocabulary
    assert rows[3].truncated and len(rows[3].tokens) == 16
    table = rows[3].to_dict("ko")
    assert table["truncated"] is True and "16" in table["notes"]


def test_causal_lm_rows_and_maps(gpt2_dir):
    model = batch.BatchModel("tiny-gpt", "causal-lm", L.load_model(gpt2_dir))
    rows = batch.run_batch(model, SENTENCES[:3])
    assert all(r.unknown == () for r in rows)  # byte-level: nothing is unknown
    maps = batch.sentence_maps(model, SENTENCES[0])
    assert maps.kind == "causal" and maps.weights.shape[:2] == (2, 4)
    w = maps.weights
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-5)
    assert np.all(np.triu(w[0, 0], k=1) == 0)


def test_encoder_maps_rows_sum_to_one(bert_dir):
    model = batch.BatchModel("tiny", "masked-lm", L.load_model(bert_dir))
    maps = batch.sentence_maps(model, SENTENCES[0])
    assert maps.kind == "self" and maps.weights.shape == (2, 4, 9, 9)
    np.testing.assert_allclose(maps.weights.sum(-1), 1.0, atol=1e-5)


def test_translator_rows_and_alignment():
    model = batch.BatchModel("s2s-en-fr-bahdanau", "seq2seq", tiny_translator("b", "bahdanau"))
    rows = batch.run_batch(model, ["the cat is sleeping", "zebra cat", HOSTILE])
    assert all(isinstance(r.translation, str) for r in rows)
    assert rows[1].unknown == ("zebra",) and rows[0].heads == () and rows[0].mean_entropy is None
    maps = batch.sentence_maps(model, "the cat is sleeping")
    assert maps.kind == "cross" and maps.key_tokens == ("the", "cat", "is", "sleeping")
    plain = batch.BatchModel("s2s-en-fr-plain", "seq2seq", tiny_translator("p", "none"))
    assert batch.sentence_maps(plain, "the cat") is None


def test_a_refused_sentence_gets_an_error_row_and_the_batch_goes_on(bert_dir):
    model = batch.BatchModel("tiny", "masked-lm", L.load_model(bert_dir))
    rows = batch.run_batch(model, ["the cat", "x" * (P.MAX_CHARS + 1), "the dog"])
    assert rows[1].error.key == "lm.err.too_long" and rows[0].error is None is rows[2].error
    assert "20000" in rows[1].to_dict()["notes"] or "20,000" in rows[1].to_dict()["notes"]


def test_unknown_model_name():
    with pytest.raises(UserFacingError) as err:
        batch.load_batch_model("no-such-model")
    assert err.value.key == "errors.unknown_model"
