"""`fill-mask --file`, `next-sentence`, `evaluate --text` (public JSON contract) and
lmcore.pretrained.evaluation, on tiny models in tmp folders (never the bundled assets)."""
from __future__ import annotations

import json
import math

import pytest
import torch
from transformers import BertConfig, BertLMHeadModel

from lmcore.cli import main
from lmcore.pretrained import evaluation as E
from lmcore.pretrained import loading as lm_loading
from tests.test_pretrained import _bert_tokenizer, bert_dir, gpt2_dir  # noqa: F401 (fixtures)


def run(capsys, *argv: str) -> tuple[int, object, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 and out.startswith(("{", "[")) else out), err


@pytest.fixture(scope="module")
def wordpiece_gpt_dir(tmp_path_factory):
    torch.manual_seed(2)
    tok = _bert_tokenizer()
    model = BertLMHeadModel(BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2,
                                       num_attention_heads=4, intermediate_size=64,
                                       max_position_embeddings=32, is_decoder=True))
    folder = tmp_path_factory.mktemp("wpgpt")
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return str(folder)


def test_fill_mask_file_gives_a_list_in_order(bert_dir, tmp_path, capsys):
    texts = ["the [MASK] sat on the mat .", "[MASK] dog ran .", "[mask] [mask] [mask]", "a cat [MASK]"]
    path = tmp_path / "masks.txt"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    code, data, _ = run(capsys, "fill-mask", "--model", bert_dir, "--file", str(path), "--top-k", "3", "--json")
    assert code == 0 and isinstance(data, list) and len(data) == 4
    for text, item in zip(texts, data):
        code, single, _ = run(capsys, "fill-mask", "--model", bert_dir, "--top-k", "3", "--json", text)
        assert item == single  # each item is the single-text output
    assert len(data[2]["masks"]) == 3 and data[1]["tokens"][1] == "[MASK]"  # every word, first word


@pytest.mark.parametrize("content,needle", [("", "no text"), ("no blank here\n", "Line 1"),
                                            ("a [MASK]\nnone here\n", "Line 2")])
def test_fill_mask_file_bad_input_is_a_clear_message(bert_dir, tmp_path, capsys, content, needle):
    path = tmp_path / "f.txt"
    path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "fill-mask", "--model", bert_dir, "--file", str(path), "--json")
    assert code == 2 and needle in err and "Traceback" not in err and out == ""


def test_fill_mask_needs_text_or_file_and_defaults_to_a_bundled_mlm(bert_dir, tmp_path, capsys):
    code, _, err = run(capsys, "fill-mask", "--model", bert_dir)
    assert code == 2 and "--file" in err
    code, _, err = run(capsys, "--lang", "ko", "fill-mask", "--model", bert_dir, "a [MASK]", "--file", "x")
    assert code == 2 and "--file" in err and "주세요" in err
    assert lm_loading.default_masked_lm() in ("minilm-mlm", "tiny-bert")


def test_next_sentence_json_and_pairs(bert_dir, tmp_path, capsys):
    code, one, _ = run(capsys, "next-sentence", "--model", bert_dir, "--json", "the cat sat .", "it slept .")
    assert code == 0 and 0 <= one["probability"] <= 1 and one["tokens"][0] == "[CLS]"
    from lmcore.pretrained.predict import next_sentence
    assert one["probability"] == pytest.approx(next_sentence(bert_dir, "the cat sat .", "it slept .").probability, abs=1e-6)
    path = tmp_path / "pairs.tsv"
    path.write_text("the cat sat .\tit slept .\na dog ran .\tthe bird sang .\n", encoding="utf-8")
    code, many, _ = run(capsys, "next-sentence", "--model", bert_dir, "--pairs", str(path), "--json")
    assert code == 0 and len(many) == 2 and many[0] == one
    code, text, _ = run(capsys, "next-sentence", "--model", bert_dir, "--pairs", str(path))
    assert code == 0 and text.count("P(B follows A)") == 2


@pytest.mark.parametrize("argv,content,needle", [
    (["a", ""], None, "Pair 1 has an empty sentence"),
    (["only one"], None, "exactly two"),
    ([], "a\tb\nc\t \n", "Pair 2 has an empty sentence"),
    ([], "no tab here\n", "Pair 1"),
    ([], "", "no text"),
])
def test_next_sentence_bad_input_is_a_clear_message(bert_dir, tmp_path, capsys, argv, content, needle):
    extra = []
    if content is not None:
        (tmp_path / "p.tsv").write_text(content, encoding="utf-8")
        extra = ["--pairs", str(tmp_path / "p.tsv")]
    code, _, err = run(capsys, "next-sentence", "--model", bert_dir, "--json", *extra, *argv)
    assert code == 2 and needle in err and "Traceback" not in err


def test_next_sentence_needs_an_nsp_head(gpt2_dir, capsys):
    code, _, err = run(capsys, "next-sentence", "--model", gpt2_dir, "a", "b")
    assert code == 2 and "next-sentence head" in err


def _hf_bits(lm, ids: list[int]) -> float:
    with torch.inference_mode():
        loss = lm.model(input_ids=torch.tensor([ids]), labels=torch.tensor([ids])).loss
    return float(loss) * (len(ids) - 1) / math.log(2)


@pytest.mark.parametrize("fixture", ["gpt2_dir", "wordpiece_gpt_dir"])
def test_text_bits_is_the_summed_next_token_loss(request, fixture):
    lm = lm_loading.load_model(request.getfixturevalue(fixture))
    lines = ["the cat sat on the mat .", "a dog ran in the park !"]
    score = E.text_bits(lm, lines)
    ids = [lm.tokenizer(line)["input_ids"] for line in lines]
    bits = sum(_hf_bits(lm, i) for i in ids)
    assert score.tokens == sum(len(i) - 1 for i in ids) and score.characters == sum(map(len, lines))
    assert score.bits_per_character == pytest.approx(bits / score.characters, rel=1e-4)
    assert score.token_perplexity == pytest.approx(2 ** (bits / score.tokens), rel=1e-4)
    if fixture == "wordpiece_gpt_dir":  # [CLS] ... [SEP]: [SEP] is predicted too
        assert ids[0][0] == lm.tokenizer.cls_token_id and ids[0][-1] == lm.tokenizer.sep_token_id


def test_long_text_is_scored_in_windows_once_per_token(wordpiece_gpt_dir):
    lm = lm_loading.load_model(wordpiece_gpt_dir)
    ids = lm.tokenizer("the cat sat on the mat . " * 20)["input_ids"]  # 142 tokens; context 32
    bits, n = E.sequence_bits(lm, ids)
    assert n == len(ids) - 1 and math.isfinite(bits) and bits > 0
    short = ids[:lm.max_length]
    assert E.sequence_bits(lm, short)[0] == pytest.approx(_hf_bits(lm, short), rel=1e-4)  # one window


def test_evaluate_text_json_and_bad_input(gpt2_dir, wordpiece_gpt_dir, bert_dir, tmp_path, capsys):
    path = tmp_path / "t.txt"
    path.write_text("the cat sat on the mat .\n\na dog ran in the park !\n", encoding="utf-8")
    code, data, _ = run(capsys, "evaluate", "--model", wordpiece_gpt_dir, "--text", str(path), "--json")
    assert code == 0 and {"bits_per_character", "token_perplexity", "characters", "tokens"} <= set(data)
    expected = E.text_bits(wordpiece_gpt_dir, ["the cat sat on the mat .", "a dog ran in the park !"])
    assert data["bits_per_character"] == pytest.approx(expected.bits_per_character, abs=1e-5)
    assert data["characters"] == expected.characters and data["tokens"] == expected.tokens
    huge = tmp_path / "huge.txt"
    huge.write_text(" ".join(["cat"] * 10_000), encoding="utf-8")  # one 10,000-word line
    code, data, _ = run(capsys, "evaluate", "--model", gpt2_dir, "--text", str(huge), "--json")
    assert code == 0 and data["characters"] == 39_999 and data["tokens"] > 5_000
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    for model, text, needle in ((gpt2_dir, "empty.txt", "no text"), (bert_dir, "t.txt", "causal-lm"),
                                (gpt2_dir, "missing.txt", "missing.txt")):
        code, _, err = run(capsys, "evaluate", "--model", model, "--text", str(tmp_path / text), "--json")
        assert code == 2 and needle in err and "Traceback" not in err
