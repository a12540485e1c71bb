"""Models that read frozen tensors from another package (base_weights.json), on tiny BERT folders.

The bundled minilm-mlm / minilm-gpt are built this way; here a tiny "base" folder plays the
package, so the tests never need the real assets.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from transformers import BertConfig, BertForPreTraining, BertLMHeadModel

from lmcore.errors import UserFacingError
from lmcore.pretrained import generation
from lmcore.pretrained import loading as lm_loading
from tests.test_pretrained import _bert_tokenizer

WORD_EMB = "bert.embeddings.word_embeddings.weight"
TIED = "cls.predictions.decoder.weight"
BASE_KEY = "embeddings.word_embeddings.weight"


def _config(vocab: int, decoder: bool) -> BertConfig:
    return BertConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                      intermediate_size=64, max_position_embeddings=32, is_decoder=decoder)


def split_folder(tmp_path, model, tok, arch: str, base_shape_change: int = 0) -> tuple[str, str]:
    """Save `model` without its word embeddings (+ base_weights.json) and a base folder with them."""
    base, folder = tmp_path / "base", tmp_path / "model"
    base.mkdir()
    emb = model.get_input_embeddings().weight.detach().clone()
    if base_shape_change:
        emb = torch.zeros(emb.shape[0] + base_shape_change, emb.shape[1])
    save_file({BASE_KEY: emb.contiguous()}, str(base / "model.safetensors"))
    model.save_pretrained(folder)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()
             if k not in (WORD_EMB, TIED)}
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    config = json.loads((folder / "config.json").read_text())
    config["architectures"] = [arch]
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "base_weights.json").write_text(json.dumps(
        {"package": "no-such-package", "path": str(base), "file": "model.safetensors",
         "tensors": {WORD_EMB: BASE_KEY}}))
    tok.save_pretrained(folder)
    return str(folder), str(base)


def _half(model) -> None:
    """Round the trained tensors as the float16 file does (embeddings stay float32)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name != WORD_EMB:
                p.copy_(p.half().float())


@pytest.mark.parametrize("cls,arch,decoder", [(BertForPreTraining, "BertForPreTraining", False),
                                              (BertLMHeadModel, "BertLMHeadModel", True)])
def test_split_folder_loads_as_the_full_model(tmp_path, cls, arch, decoder, capfd):
    torch.manual_seed(3)
    tok = _bert_tokenizer()
    full = cls(_config(len(tok), decoder)).eval()
    _half(full)
    folder, _ = split_folder(tmp_path, full, tok, arch)
    capfd.readouterr()
    lm = lm_loading.load_model(folder)
    assert "MISSING" not in "".join(capfd.readouterr())  # the loading report stays quiet
    assert lm.kind == ("causal-lm" if decoder else "masked-lm") and lm.has_nsp == (not decoder)
    model = lm.model
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    ids = torch.tensor([tok("the cat sat on the mat .")["input_ids"]])
    with torch.inference_mode():
        got, want = model(input_ids=ids), full(input_ids=ids)
    key = "logits" if decoder else "prediction_logits"
    torch.testing.assert_close(got[key], want[key], atol=1e-5, rtol=1e-4)
    if not decoder:
        torch.testing.assert_close(got.seq_relationship_logits, want.seq_relationship_logits, atol=1e-5, rtol=1e-4)


def _spec(folder: str) -> dict:
    return json.loads((Path(folder) / "base_weights.json").read_text())


def _write_spec(folder: str, spec: dict) -> None:
    (Path(folder) / "base_weights.json").write_text(json.dumps(spec))


def test_missing_package_or_file_or_tensor_is_a_clear_message(tmp_path):
    torch.manual_seed(4)
    tok = _bert_tokenizer()
    folder, base = split_folder(tmp_path, BertForPreTraining(_config(len(tok), False)), tok, "BertForPreTraining")
    spec = _spec(folder)
    cases = [({k: v for k, v in spec.items() if k != "path"}, "lm.err.base_package", "no-such-package"),
             ({**spec, "file": "gone.safetensors"}, "lm.err.base_file", "gone.safetensors"),
             ({**spec, "tensors": {WORD_EMB: "nope"}}, "lm.err.base_tensor", "model.safetensors")]
    for bad, key, named in cases:
        _write_spec(folder, bad)
        lm_loading.clear_cache()
        with pytest.raises(UserFacingError) as info:
            lm_loading.load_model(folder)
        assert info.value.key == key
        assert named in info.value.message("en") and info.value.message("ko") != info.value.message("en")
    (tmp_path / "model" / "base_weights.json").write_text("{not json")
    lm_loading.clear_cache()
    with pytest.raises(UserFacingError) as info:
        lm_loading.load_model(folder)
    assert info.value.key == "lm.err.base_spec"


def test_base_tensor_of_the_wrong_shape_names_the_file(tmp_path):
    torch.manual_seed(5)
    tok = _bert_tokenizer()
    folder, base = split_folder(tmp_path, BertLMHeadModel(_config(len(tok), True)), tok, "BertLMHeadModel",
                                base_shape_change=7)
    with pytest.raises(UserFacingError) as info:
        lm_loading.load_model(folder)
    assert info.value.key == "lm.err.base_shape"
    message = info.value.message("en")
    assert "model.safetensors" in message and str(len(tok) + 7) in message


def test_a_trained_tensor_missing_from_the_file_is_refused(tmp_path):
    torch.manual_seed(6)
    tok = _bert_tokenizer()
    folder, _ = split_folder(tmp_path, BertForPreTraining(_config(len(tok), False)), tok, "BertForPreTraining")
    from safetensors.torch import load_file
    state = load_file(f"{folder}/model.safetensors")
    state.pop("bert.encoder.layer.0.attention.self.query.weight")
    save_file(state, f"{folder}/model.safetensors", metadata={"format": "pt"})
    with pytest.raises(UserFacingError) as info:
        lm_loading.load_model(folder)
    assert info.value.key == "lm.err.load_failed" and "query" in info.value.message("en")


def test_minilm_entries_are_described_from_their_metrics(monkeypatch, tmp_path):
    for name, kind in lm_loading.MINILM_LMS.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text("{}")
    (tmp_path / "minilm-mlm" / "metrics.json").write_text(json.dumps(
        {"train_cpu_seconds": 4230.0, "steps": 2100,
         "test": {"fill_mask": {"top1": 0.412, "top5": 0.655}, "next_sentence": {"accuracy": 0.85}}}))
    (tmp_path / "minilm-gpt" / "metrics.json").write_text(json.dumps(
        {"train_cpu_seconds": 3600.0, "steps": 900,
         "test": {"everyday": {"bits_per_character": 1.3141, "token_perplexity": 25.04}}}))
    monkeypatch.setattr(lm_loading, "ASSETS", tmp_path)
    entries = {m.name: m for m in lm_loading.catalog_entries()}
    assert entries["minilm-mlm"].kind == "masked-lm" and entries["minilm-gpt"].kind == "causal-lm"
    causal = [m.name for m in lm_loading.catalog_entries() if m.kind == "causal-lm"]
    assert causal.index("minilm-gpt") < causal.index("tiny-gpt2")  # the GPT page's default
    assert lm_loading.default_masked_lm() == "minilm-mlm"  # the BERT page fills blanks with it
    mlm = lm_loading.describe("minilm-mlm", "en")
    for figure in ("70.5 CPU minutes", "2,100 steps", "41.2%", "65.5%", "85.0%", "all-MiniLM-L6-v2"):
        assert figure in mlm
    assert "70.5" in lm_loading.describe("minilm-mlm", "ko") and "41.2%" in lm_loading.describe("minilm-mlm", "ko")
    gpt = lm_loading.describe("minilm-gpt", "en")
    assert "60.0 CPU minutes" in gpt and "1.31 bits per character" in gpt and "Rothe" in gpt
    (tmp_path / "minilm-mlm" / "metrics.json").write_text(json.dumps({"test": {"next_sentence": {
        "accuracy": 0.8333, "pairs": 264, "parts": {"first": {"accuracy": 0.75, "pairs": 64},
                                                    "second": {"accuracy": 0.86, "pairs": 200}}}}}))
    for lang in ("en", "ko"):  # every test file's figure is shown beside the total
        text = lm_loading.describe("minilm-mlm", lang)
        assert "264" in text and "83.3%" in text and "75.0% (64), 86.0% (200)" in text, text
    (tmp_path / "minilm-gpt" / "config.json").unlink()
    assert "minilm-gpt" not in {m.name for m in lm_loading.catalog_entries()}


# ---------------------------------------------------------------- a WordPiece causal LM (item: minilm-gpt)
def _causal_folder(tmp_path, boost: dict[str, float]) -> str:
    """A tiny BertLMHeadModel whose output bias favours the given pieces."""
    torch.manual_seed(7)
    tok = _bert_tokenizer()
    model = BertLMHeadModel(_config(len(tok), True))
    with torch.no_grad():
        for piece, value in boost.items():
            model.cls.predictions.bias[tok.convert_tokens_to_ids(piece)] += value
    folder = tmp_path / "causal"
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return str(folder)


def test_wordpiece_causal_input_is_cls_plus_tokens_and_map_is_causal(tmp_path):
    from lmcore.pretrained import encoding as P
    folder = _causal_folder(tmp_path, {})
    res = P.attention(folder, "the cat sat")
    assert res.encoded.raw_tokens == ("[CLS]", "the", "cat", "sat") and res.maps.kind == "causal"
    w = res.maps.weights
    assert w.shape == (2, 4, 4, 4) and (abs(w.sum(-1) - 1) < 1e-5).all()
    assert (w[..., [0, 0, 1], [1, 2, 3]] == 0).all() and not w[:, :, 3, :].min() == 0  # nothing from the future


def test_wordpiece_causal_never_offers_special_pieces_but_sep(tmp_path):
    from lmcore.pretrained import predict as LP
    folder = _causal_folder(tmp_path, {"[PAD]": 50, "[UNK]": 50, "[CLS]": 50, "[MASK]": 50})
    lm = lm_loading.load_model(folder)
    offered = {p.token_id for p in LP.next_token(lm, "the cat", top_k=len(lm.tokenizer)).predictions}
    tok = lm.tokenizer
    assert not offered & {tok.pad_token_id, tok.unk_token_id, tok.cls_token_id, tok.mask_token_id}
    assert tok.sep_token_id in offered
    trace = generation.generate_trace(lm, "the cat", steps=6, top_k=len(tok), seed=1)
    assert all(p.token_id not in (tok.pad_token_id, tok.unk_token_id, tok.cls_token_id, tok.mask_token_id)
               for s in trace.steps for p in s.rivals)


def test_wordpiece_causal_generation_stops_at_sep(tmp_path):
    folder = _causal_folder(tmp_path, {"[SEP]": 60})
    trace = generation.generate_trace(folder, "the cat sat", steps=10, greedy=True)
    assert len(trace.steps) == 1 and trace.steps[0].chosen.display == "[SEP]"
    assert trace.text == "the cat sat"
    assert [n.key for n in trace.notices] == ["lm.notice.sentence_end"]
    assert trace.final.encoded.special[-1] and trace.final.maps.weights.shape[-1] == 5
    assert "[SEP]" in trace.notices[0].message("en")


def test_wordpiece_causal_generated_text_joins_pieces(tmp_path):
    from lmcore.pretrained import predict as LP
    tok = _bert_tokenizer()
    suffix = sorted(p for p in tok.get_vocab() if p.startswith("##") and len(p) > 2)[0]
    words = generation.generate_trace(_causal_folder(tmp_path / "w", {"cat": 30}), "the", steps=2, greedy=True)
    assert [s.chosen.token for s in words.steps] == [" cat", " cat"] and words.text == "the cat cat"
    assert words.final.encoded.word_ids[1:] == (1, 2, 3)  # [CLS] the cat cat: one word each
    pieces = generation.generate_trace(_causal_folder(tmp_path / "p", {suffix: 30}), "the", steps=2, greedy=True)
    assert [s.chosen.token for s in pieces.steps] == [suffix[2:]] * 2
    assert pieces.text == "the" + suffix[2:] * 2 and pieces.steps[0].chosen.display == suffix[2:]
    final = pieces.final
    assert final.maps.weights.shape == (2, 4, 4, 4) and len(set(final.encoded.word_ids[1:])) == 1
    # the step's attention row is the new token's row of the final square map
    assert (pieces.steps[1].attention == final.maps.weights[:, :, 3, :4]).all()
    assert LP.next_token(_causal_folder(tmp_path / "n", {"cat": 30}), "the", top_k=1).predictions[0].token == " cat"


def test_wordpiece_surface_joins_like_text():
    from lmcore.pretrained.predict import wordpiece_surface as surface
    assert surface("go", "to") == " go" and surface("##ing", "go") == "ing"
    assert surface(".", "go") == "." and surface("t", "'") == "t" and surface("'", "don") == "'"
    assert "".join(surface(p, q) for q, p in zip(["[CLS]", "i", "don", "'", "t"], ["i", "don", "'", "t", "go"])) == " i don't go"


def test_the_bundled_causal_lm_never_offers_a_reserved_unused_piece():
    """BERT's [unusedN] slots appear in no text; in a peaked step they tied at ~0 with real words
    among the rivals ("[unused80]" was drawn on the GPT page)."""
    from lmcore.pretrained import predict as LP
    lm = lm_loading.load_model("minilm-gpt")
    reserved = {i for piece, i in lm.tokenizer.get_vocab().items() if piece.startswith("[unused")}
    assert len(reserved) > 900 and reserved <= set(LP._not_offered(lm))
    trace = generation.generate_trace(lm, "The cat sat on the mat.", steps=2, top_k=10, seed=0)
    assert not any(r.token_id in reserved for s in trace.steps for r in s.rivals)
