"""The seq2seq commands: train, translate, evaluate, models (their JSON is a public contract)."""
from __future__ import annotations

import json
import random

import pytest
import torch

from lmcore.cli import main

ANIMALS = {"cat": "chat", "dog": "chien", "bird": "oiseau", "fish": "poisson", "cow": "vache"}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory):
    rng = random.Random(0)
    lines = []
    for i in range(150):
        words = [rng.choice(list(ANIMALS)) for _ in range(rng.randint(1, 4))]
        lines.append(f"{' '.join(words)} .\t{' '.join(ANIMALS[w] for w in words)} .\tCC-BY #{i}")
    path = tmp_path_factory.mktemp("data") / "pairs.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="cp949")  # any supported encoding works
    return path


@pytest.fixture(scope="module")
def model_dir(pairs_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt") / "tiny"
    code = main(["train", "seq2seq", "--pairs", str(pairs_file), "--out", str(out), "--attention",
                 "luong-general", "--emb", "16", "--hidden", "32", "--epochs", "3", "--lr", "1e-2",
                 "--min-freq", "1", "--batch-size", "16", "--val-fraction", "0.2", "--json"])
    assert code == 0
    return out


def run_json(capsys, argv):
    capsys.readouterr()
    code = main(argv)
    out = capsys.readouterr()
    return code, (json.loads(out.out) if code == 0 else None), out.err


def test_train_writes_a_checkpoint(model_dir):
    names = sorted(p.name for p in model_dir.iterdir())
    assert names == ["config.json", "model.safetensors", "vocab.src.json", "vocab.tgt.json"]
    config = json.loads((model_dir / "config.json").read_text("utf-8"))
    assert config["model"]["attention"] == "luong-general" and config["model"]["hidden_dim"] == 32


def test_translate_json_contract(model_dir, capsys):
    code, data, _ = run_json(capsys, ["translate", "--model", str(model_dir), "--json", "cat dog zebra ."])
    assert code == 0
    assert data["source_tokens"] == ["cat", "dog", "zebra", "."]
    assert data["unknown_words"] == ["zebra"] and data["notices"][0]["key"] == "s2s.notice.unknown_words"
    assert len(data["attention"]) == len(data["output_tokens"])
    assert all(len(row) == 4 and abs(sum(row) - 1) < 1e-3 for row in data["attention"])
    assert len(data["steps"][0]["top_k"]) == 5 and len(data["steps"][0]["context"]) == 32


def test_translate_with_beam(model_dir, capsys):
    code, data, _ = run_json(capsys, ["translate", "--model", str(model_dir), "--beam", "3", "--json",
                                      "--no-vectors", "bird ."])
    assert code == 0 and data["beam"] == 3 and data["beams"] and "context" not in data["steps"][0]


@pytest.mark.parametrize("argv,key_text", [
    (["translate", "--model", "no-such-model", "hi"], "Unknown model"),
    (["translate", "--model", "{dir}", "   "], "Please type"),
    (["translate", "--model", "{dir}", "--beam", "99", "cat"], "Beam size"),
])
def test_bad_input_exits_2_with_a_message(model_dir, capsys, argv, key_text):
    argv = [a.replace("{dir}", str(model_dir)) for a in argv]
    code, _, err = run_json(capsys, argv)
    assert code == 2 and key_text in err and "Traceback" not in err


def test_korean_message_with_lang_ko(model_dir, capsys):
    code, _, err = run_json(capsys, ["--lang", "ko", "translate", "--model", "nope", "hi"])
    assert code == 2 and "알 수 없는 모델" in err


def test_evaluate_json_with_and_without_swap(model_dir, pairs_file, tmp_path, capsys):
    code, data, _ = run_json(capsys, ["evaluate", "--model", str(model_dir), "--pairs", str(pairs_file),
                                      "--json"])
    assert code == 0 and data["pairs"] == 150
    assert 0 <= data["bleu"] <= 100 and 0 <= data["chrf"] <= 100
    assert {b["bucket"] for b in data["buckets"]} == {"1-5"}
    swapped = tmp_path / "swapped.tsv"
    swapped.write_text("".join(f"{t}\t{s}\n" for s, t, _ in
                               (line.split("\t") for line in pairs_file.read_text("cp949").splitlines())),
                       encoding="utf-8")
    code, again, _ = run_json(capsys, ["evaluate", "--model", str(model_dir), "--pairs", str(swapped),
                                       "--swap", "--json"])
    assert code == 0 and again["bleu"] == data["bleu"] and again["chrf"] == data["chrf"]


def test_evaluate_rejects_a_binary_file(model_dir, tmp_path, capsys):
    binary = tmp_path / "x.tsv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    code, _, err = run_json(capsys, ["evaluate", "--model", str(model_dir), "--pairs", str(binary)])
    assert code == 2 and "binary" in err


def test_models_lists_the_bundled_translators(capsys):
    code, data, _ = run_json(capsys, ["models", "--json"])
    assert code == 0
    translators = {m["name"]: m for m in data if m["kind"] == "seq2seq"}
    assert {"s2s-en-fr-plain", "s2s-en-fr-bahdanau", "s2s-en-fr-luong", "s2s-ko-en-bahdanau"} <= set(translators)
    assert translators["s2s-en-fr-plain"]["attention"] == "none"
    assert translators["s2s-en-fr-luong"]["attention"] == "luong-general"
    ko = translators["s2s-ko-en-bahdanau"]
    assert (ko["source_lang"], ko["target_lang"], ko["offline"]) == ("ko", "en", True)
    assert all(m["weights_bytes"] <= 20_000_000 for m in translators.values())
