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
    mlm = lm_loading.describe("minilm-mlm", "en")
    for figure in ("70.5 CPU minutes", "2,100 steps", "41.2%", "65.5%", "85.0%", "all-MiniLM-L6-v2"):
        assert figure in mlm
    assert "70.5" in lm_loading.describe("minilm-mlm", "ko") and "41.2%" in lm_loading.describe("minilm-mlm", "ko")
    gpt = lm_loading.describe("minilm-gpt", "en")
    assert "60.0 CPU minutes" in gpt and "1.31 bits per character" in gpt and "Rothe" in gpt
    (tmp_path / "minilm-gpt" / "config.json").unlink()
    assert "minilm-gpt" not in {m.name for m in lm_loading.catalog_entries()}
