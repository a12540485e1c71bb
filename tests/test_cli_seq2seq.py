"""The seq2seq commands: train, translate, evaluate, models (their JSON is a public contract).

`train seq2seq` and `train transformer` share their options; `train-transformer` still works
(deprecated: the same options and JSON, plus a one-line note on stderr)."""
from __future__ import annotations

import json
import random

import pytest

from lmcore.cli import build_parser, main

ANIMALS = {"cat": "chat", "dog": "chien", "bird": "oiseau", "fish": "poisson", "cow": "vache"}


pytestmark = pytest.mark.usefixtures("one_thread")


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
    assert len(data["translations"]) == 150 and all(isinstance(t, str) for t in data["translations"])
    swapped = tmp_path / "swapped.tsv"
    swapped.write_text("".join(f"{t}\t{s}\n" for s, t, _ in
                               (line.split("\t") for line in pairs_file.read_text("cp949").splitlines())),
                       encoding="utf-8")
    code, again, _ = run_json(capsys, ["evaluate", "--model", str(model_dir), "--pairs", str(swapped),
                                       "--swap", "--json"])
    assert code == 0 and again["bleu"] == data["bleu"] and again["chrf"] == data["chrf"]
    assert again["translations"] == data["translations"]  # in input order


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


# ---------------------------------------------------------------- train transformer / train-transformer

TINY_TF = ["--d-model", "16", "--heads", "2", "--layers", "1", "--d-ff", "32", "--epochs", "2",
           "--lr", "1e-2", "--min-freq", "1", "--batch-size", "16", "--val-fraction", "0.2", "--json"]
IO = ["--pairs", "p.tsv", "--out", "o"]
SHARED = ["--swap", "--src-lang", "fr", "--tgt-lang", "en", "--epochs", "3", "--batch-size", "8",
          "--lr", "0.01", "--patience", "1", "--max-minutes", "2", "--max-cpu-minutes", "1",
          "--eval-every", "5", "--min-freq", "1", "--tgt-min-freq", "3", "--max-vocab", "500",
          "--max-src-tokens", "20", "--max-tgt-tokens", "25", "--val-fraction", "0.2",
          "--test-fraction", "0.1", "--joined-fraction", "0", "--max-pairs", "100", "--seed", "4",
          "--threads", "1", "--float32", "--dataset", "x.tsv", "--json"]
TF_MODEL = ["--d-model", "32", "--heads", "4", "--layers", "2", "--d-ff", "64", "--dropout", "0.3",
            "--positional", "learned", "--post-norm", "--max-len", "40"]
SUMMARY = {"out", "stopped", "epochs_run", "best_epoch", "best_val_loss", "seconds", "cpu_seconds",
           "weights_bytes", "src_vocab", "tgt_vocab", "history", "notices"}


def options(argv: list[str]) -> dict:
    args = vars(build_parser().parse_args(argv))
    return {k: v for k, v in args.items() if k not in ("command", "train_kind", "handler")}


def test_both_transformer_spellings_parse_the_same_options():
    new = options(["train", "transformer", *IO, *SHARED, *TF_MODEL])
    assert new == options(["train-transformer", *IO, *SHARED, *TF_MODEL])
    assert new["d_model"] == 32 and new["post_norm"] and new["max_tgt_tokens"] == 25
    defaults = options(["train", "transformer", *IO])
    assert defaults == options(["train-transformer", *IO]) and defaults["lr"] == 5e-4


def test_seq2seq_and_transformer_share_the_data_and_training_options():
    s2s, tf = options(["train", "seq2seq", *IO, *SHARED]), options(["train", "transformer", *IO, *SHARED])
    shared = set(s2s) & set(tf)
    assert {"pairs", "swap", "epochs", "max_cpu_minutes", "max_tgt_tokens", "float32", "json"} <= shared
    assert all(s2s[k] == tf[k] for k in shared - {"layers", "dropout"})  # same names, own defaults
    assert options(["train", "seq2seq", *IO])["lr"] == 1e-3
    assert {"attention", "cell", "emb", "hidden"} <= set(s2s) - set(tf)
    assert {"d_model", "heads", "d_ff", "positional", "post_norm", "max_len"} <= set(tf) - set(s2s)


def train_json(capsys, argv: list[str]) -> tuple[dict, str]:
    code, data, err = run_json(capsys, argv)
    assert code == 0, err
    return data, err


def test_train_transformer_and_the_deprecated_alias_give_the_same_model(pairs_file, tmp_path, capsys):
    new, err = train_json(capsys, ["train", "transformer", "--pairs", str(pairs_file),
                                   "--out", str(tmp_path / "new"), *TINY_TF])
    old, old_err = train_json(capsys, ["train-transformer", "--pairs", str(pairs_file),
                                       "--out", str(tmp_path / "old"), *TINY_TF])
    assert "deprecated" not in err
    notes = [line for line in old_err.splitlines() if "deprecated" in line]
    assert len(notes) == 1 and "train transformer" in notes[0]
    assert set(new) == set(old) == SUMMARY
    assert new["best_val_loss"] == old["best_val_loss"] and new["epochs_run"] == 2  # same seed
    for folder in ("new", "old"):
        config = json.loads((tmp_path / folder / "config.json").read_text("utf-8"))
        assert config["arch"] == "transformer" and config["model"]["d_model"] == 16
    code, data, _ = run_json(capsys, ["translate", "--model", str(tmp_path / "new"), "--json", "cat dog ."])
    assert code == 0 and data["source_tokens"] == ["cat", "dog", "."]


def test_the_deprecation_note_in_korean(pairs_file, tmp_path, capsys):
    _, err = train_json(capsys, ["--lang", "ko", "train-transformer", "--pairs", str(pairs_file),
                                 "--out", str(tmp_path / "ko"), *TINY_TF, "--epochs", "1"])
    assert "train transformer" in err and "권장" in err


def test_train_seq2seq_json_keeps_its_fields_and_gains_the_history(pairs_file, tmp_path, capsys):
    data, err = train_json(capsys, ["train", "seq2seq", "--pairs", str(pairs_file), "--out",
                                    str(tmp_path / "s"), "--emb", "8", "--hidden", "16", "--epochs", "1",
                                    "--min-freq", "1", "--val-fraction", "0.2", "--json"])
    assert "deprecated" not in err and set(data) == SUMMARY


def test_the_training_script_uses_the_new_spelling():
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "scripts" / "train_transformer.sh"
    text = script.read_text("utf-8")
    assert "lmcore train transformer" in text and "train-transformer" not in text
