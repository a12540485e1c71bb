"""lmcore.pretrained.encoding on tiny random BERT/GPT-2 folders (and the bundled MiniLM for real checks)."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (BertConfig, BertForPreTraining, GPT2Config, GPT2LMHeadModel,
                          PreTrainedTokenizerFast)

from lmcore.pretrained import loading as lm_loading
from lmcore.pretrained import predict as LP
from lmcore.pretrained import encoding as P
from lmcore.errors import UserFacingError

CORPUS = ["the cat sat on the mat .", "a dog ran in the park !", "the bird sang , the cat slept .",
          "we like red apples and green pears .", "is it raining ? yes , it is ."] * 4
HOSTILE = "</script><img src=x onerror=alert(1)>"


def _bert_tokenizer() -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(CORPUS, trainers.WordPieceTrainer(
        vocab_size=100, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                   model_max_length=32,
                                   model_input_names=["input_ids", "token_type_ids", "attention_mask"])


def _gpt2_tokenizer() -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>",
                                   bos_token="<|endoftext|>", unk_token="<|endoftext|>", model_max_length=64)


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory):
    torch.manual_seed(0)
    tok = _bert_tokenizer()
    model = BertForPreTraining(BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2,
                                          num_attention_heads=4, intermediate_size=64,
                                          max_position_embeddings=32))
    folder = tmp_path_factory.mktemp("bert")
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory):
    torch.manual_seed(0)
    tok = _gpt2_tokenizer()
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_positions=64, n_embd=32, n_layer=2, n_head=4))
    folder = tmp_path_factory.mktemp("gpt2")
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return str(folder)


def test_load_folder_is_cached_eval_and_eager(bert_dir, gpt2_dir):
    bert, gpt = lm_loading.load_model(bert_dir), lm_loading.load_model(gpt2_dir)
    assert lm_loading.load_model(bert_dir) is bert
    assert (bert.kind, bert.has_nsp, bert.byte_level) == ("masked-lm", True, False)
    assert (gpt.kind, gpt.byte_level, gpt.max_length) == ("causal-lm", True, 64)
    for lm in (bert, gpt):
        assert not lm.model.training
        assert lm.model.config._attn_implementation == "eager"


def test_bert_attention_rows_sum_to_one_with_specials(bert_dir):
    res = P.attention(bert_dir, "The cat sat on the mat.")
    w = res.maps.weights
    assert res.maps.kind == "self" and w.dtype == np.float32
    assert w.shape == (2, 4, len(res.maps.key_tokens), len(res.maps.key_tokens))
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-5)
    assert res.maps.key_tokens[0] == "[CLS]" and res.maps.key_tokens[-1] == "[SEP]"
    assert res.maps.key_tokens[1] == "The"  # display keeps the user's case via offsets
    assert "encoder" in res.trace


def test_bert_pair_has_segments(bert_dir):
    res = P.attention(bert_dir, "the cat sat.", "a dog ran.")
    enc = res.encoded
    assert enc.segments[0] == 0 and enc.segments[-1] == 1
    assert enc.token_type_ids is not None and enc.token_type_ids[-1] == 1
    assert enc.tokens.count("[SEP]") == 2


def test_gpt2_causal_map_is_zero_above_diagonal(gpt2_dir):
    res = P.attention(gpt2_dir, "the cat sat on the mat")
    w = res.maps.weights
    assert res.maps.kind == "causal" and "decoder" in res.trace
    assert np.all(np.triu(w, k=1) == 0.0)
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-5)


def test_attention_equals_bare_forward(bert_dir, gpt2_dir):
    """The record's weights are exactly what the full model returns (fast path = slow path)."""
    for folder, text in ((bert_dir, "the bird sang"), (gpt2_dir, "the bird sang")):
        lm = lm_loading.load_model(folder)
        res = P.attention(lm, text)
        enc = lm.tokenizer(text, return_tensors="pt")
        with torch.inference_mode():
            bare = lm.model(**enc, output_attentions=True).attentions
        np.testing.assert_allclose(res.maps.weights, torch.stack(bare)[:, 0].numpy(), atol=1e-6)


def test_gpt2_prefix_attention_is_a_block_of_the_full_map(gpt2_dir):
    full = P.attention(gpt2_dir, "the cat sat on the mat").maps.weights
    n = len(P.attention(gpt2_dir, "the cat sat").maps.key_tokens)
    prefix = P.attention(gpt2_dir, "the cat sat").maps.weights
    np.testing.assert_allclose(full[:, :, :n, :n], prefix, atol=1e-5)


def test_truncation_gives_notice(bert_dir):
    res = P.attention(bert_dir, "the cat sat " * 40)
    assert len(res.maps.key_tokens) == 32
    assert [n.key for n in res.notices] == ["errors.text_truncated"]
    assert res.notices[0].params == {"kept": 32, "total": 122}
    assert "32" in res.notices[0].message("en") and "32" in res.notices[0].message("ko")


@pytest.mark.parametrize("bad, key", [("", "errors.empty_text"), ("   \n", "errors.empty_text"),
                                      ("a\x00b", "lm.err.binary"), (b"\xff\xfe\x00", "lm.err.encoding"),
                                      ("x" * (P.MAX_CHARS + 1), "lm.err.too_long")])
def test_bad_text_gives_user_facing_error(bert_dir, bad, key):
    with pytest.raises(UserFacingError) as info:
        P.attention(bert_dir, bad)
    assert info.value.key == key
    assert info.value.message("ko") != key


def test_unknown_hub_id_fails_fast_offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.delenv("ATTN_LAB_ALLOW_DOWNLOAD", raising=False)
    start = time.perf_counter()
    with pytest.raises(UserFacingError) as info:
        lm_loading.load_model("nobody-here/not-a-real-model-xyz")
    assert time.perf_counter() - start < 3.0
    assert info.value.key == "lm.err.unavailable"
    assert "huggingface-cli download nobody-here/not-a-real-model-xyz" in info.value.message("en")
    with pytest.raises(UserFacingError) as info:
        lm_loading.load_model("not a <model> name")
    assert info.value.key == "errors.unknown_model"
    with pytest.raises(UserFacingError) as info:
        lm_loading.load_model(str(tmp_path))
    assert info.value.key == "lm.err.not_a_model"
    with pytest.raises(UserFacingError) as info:
        lm_loading.load_model(str(tmp_path / "missing"))
    assert info.value.key == "lm.err.no_folder"


def test_broken_weights_give_a_message_not_a_traceback(bert_dir, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(bert_dir, broken)
    (broken / "model.safetensors").write_bytes(b"not really safetensors")
    with pytest.raises(UserFacingError) as info:
        lm_loading.load_model(str(broken))
    assert info.value.key == "lm.err.load_failed"


def test_hostile_text_round_trips_as_tokens(gpt2_dir):
    lm = lm_loading.load_model(gpt2_dir)
    res = P.attention(lm, HOSTILE)
    assert lm.tokenizer.decode(res.encoded.input_ids) == HOSTILE
    assert "".join(t for t in res.maps.key_tokens if t != "␣") == HOSTILE.replace(" ", "")
    mini = P.attention("all-MiniLM-L6-v2", HOSTILE)
    assert "".join(mini.maps.key_tokens[1:-1]) == HOSTILE.replace(" ", "")


def test_korean_notices(gpt2_dir):
    mini = P.attention("all-MiniLM-L6-v2", "나는 학생입니다")
    assert [n.key for n in mini.notices] == ["lm.notice.hangul_lost"]
    assert mini.notices[0].params["suggestion"] in ("tiny-gpt2", lm_loading.MULTILINGUAL)
    lm = lm_loading.load_model(gpt2_dir)
    res = P.attention(lm, "나는 학생")
    assert [n.key for n in res.notices] == ["lm.notice.hangul_bytes"]
    assert lm.tokenizer.decode(res.encoded.input_ids) == "나는 학생"
    assert any("(1/" in t for t in res.maps.key_tokens)


def test_minilm_real_attention():
    res = P.attention("all-MiniLM-L6-v2", "The quick brown fox jumps over the lazy dog.")
    assert res.maps.weights.shape[:2] == (6, 12)
    np.testing.assert_allclose(res.maps.weights.sum(-1), 1.0, atol=1e-4)


def test_shared_model_from_threads(bert_dir, gpt2_dir):
    errors: list[Exception] = []

    def work(i: int) -> None:
        try:
            P.attention(bert_dir, f"the cat sat {i} times on the mat " * (1 + 10 * (i % 2)))
            LP.next_token(gpt2_dir, f"the cat sat {i} times", top_k=3)
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []


def test_catalog_entries():
    entries = {m.name: m for m in lm_loading.catalog_entries()}
    assert entries["all-MiniLM-L6-v2"].kind == "encoder" and entries["all-MiniLM-L6-v2"].offline
    assert entries["tiny-bert"].kind == "masked-lm" and entries["tiny-gpt2"].kind == "causal-lm"
    for name in ("bert-base-uncased", "distilbert-base-uncased", "bert-base-multilingual-cased", "gpt2", "distilgpt2"):
        assert name in entries


def test_head_report_for_results(bert_dir, gpt2_dir):
    res = P.attention(bert_dir, "the cat sat.")
    rows = P.report(bert_dir, res)
    assert len(rows) == 2 * 4 and {r.label for r in rows} <= {"cls", "sep", "punct", "prev", "next", "same", "broad", "mixed"}
    # [CLS] statistics read the [CLS] column: compare with a direct mean
    w = res.maps.weights
    assert rows[5].cls == pytest.approx(float(w[1, 1, :, 0].mean()), rel=1e-5)
    assert rows[5].sep == pytest.approx(float(w[1, 1, :, -1].mean()), rel=1e-5)
    g = P.attention(gpt2_dir, "the cat sat on the mat")
    first = P.report(gpt2_dir, g)[0]
    assert first.cls == pytest.approx(float(g.maps.weights[0, 0, :, 0].mean()), rel=1e-5)
    assert first.next == 0.0  # causal: nobody sees the next token


def test_describe_is_translated_and_honest():
    assert "Tiny Shakespeare" in lm_loading.describe("tiny-gpt2", "en")
    assert "셰익스피어" in lm_loading.describe("tiny-gpt2", "ko")
    assert "no fill-mask" in lm_loading.describe("all-MiniLM-L6-v2", "en")
    assert "gpt2" in lm_loading.describe("gpt2", "ko")


def test_masked_lm_checkpoint_without_nsp_head(tmp_path):
    from transformers import BertForMaskedLM

    torch.manual_seed(1)
    tok = _bert_tokenizer()
    BertForMaskedLM(BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                               intermediate_size=64, max_position_embeddings=32)).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    lm = lm_loading.load_model(str(tmp_path))
    assert lm.kind == "masked-lm" and not lm.has_nsp
    assert len(LP.fill_mask(lm, "the [MASK] sat").masks) == 1
    with pytest.raises(UserFacingError) as info:
        LP.next_sentence(lm, "a", "b")
    assert info.value.key == "lm.err.no_nsp"


def test_utf8_bytes_are_accepted_as_text(bert_dir):
    res = P.attention(bert_dir, "the cat sat".encode("utf-8"))
    assert res.maps.key_tokens[1:-1] == ("the", "cat", "sat")
