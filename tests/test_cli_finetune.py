"""`python -m lmcore finetune`: JSON contract and bad input, with a tiny random BERT."""
from __future__ import annotations

import json

import pytest

from lmcore.cli import main
from tests.test_finetune import make_tiny_bert, sentiment_texts


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return make_tiny_bert(tmp_path_factory.mktemp("cli-tiny-bert"))


@pytest.fixture()
def table(tmp_path):
    texts, labels = sentiment_texts(60)
    path = tmp_path / "toy.tsv"
    path.write_text("sentence\tmood\n" + "".join(f"{t}\t{y}\n" for t, y in zip(texts, labels)), encoding="utf-8")
    return path


def run(argv, capsys) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_has_val_accuracy_seconds_history_and_heads(tiny, table, tmp_path, capsys):
    code, out, err = run(["finetune", "--data", str(table), "--text-column", "sentence", "--label-column", "mood",
                          "--model", tiny, "--epochs", "2", "--lr", "1e-2", "--batch-size", "8", "--threads", "1",
                          "--save", str(tmp_path / "saved"), "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert 0 <= data["val_accuracy"] <= 1 and data["seconds"] > 0
    assert [h["epoch"] for h in data["history"]] == [1, 2]
    assert set(data["history"][0]) >= {"train_loss", "train_accuracy", "val_loss", "val_accuracy"}
    assert data["labels"] == ["neg", "pos"] and data["before"]["majority_accuracy"] == 0.5
    assert len(data["heads_changed_most"]) == 5 and all(1 <= l <= 2 and 1 <= h <= 4 for l, h, _ in data["heads_changed_most"])
    assert (tmp_path / "saved" / "model.safetensors").is_file() and data["saved_to"]
    assert "epoch 1" in err  # progress on stderr, JSON alone on stdout


def test_bundled_task_quiet(tiny, capsys):
    code, out, err = run(["finetune", "--task", "question", "--model", tiny, "--epochs", "1", "--threads", "1",
                          "--quiet", "--json"], capsys)
    assert code == 0 and err == ""
    assert json.loads(out)["val_size"] == 120


@pytest.mark.parametrize("content,needle", [
    ("text,label\n" + "".join(f"s {i},same\n" for i in range(10)), "same label"),
    ("text,label\na,x\nb,\nc,y\n", "no label"),
])
def test_bad_tables_exit_2_with_a_message(tmp_path, capsys, content, needle):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    code, out, err = run(["finetune", "--data", str(path)], capsys)
    assert code == 2 and out == "" and needle in err and "Traceback" not in err


def test_binary_huge_missing_and_no_data(tmp_path, capsys):
    binary = tmp_path / "x.csv"
    binary.write_bytes(bytes(range(256)) * 100)
    assert run(["finetune", "--data", str(binary)], capsys)[2].startswith("This looks like a binary file")
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as handle:  # 100 MB, sparse: refused from its size, never read
        handle.truncate(100_000_000)
    code, _, err = run(["finetune", "--data", str(huge)], capsys)
    assert code == 2 and "100.0 MB" in err
    code, _, err = run(["--lang", "ko", "finetune", "--data", str(tmp_path / "nope.csv")], capsys)
    assert code == 2 and "열 수 없습니다" in err
    code, _, err = run(["finetune"], capsys)
    assert code == 2 and "--task" in err


def test_decoder_model_is_refused(table, capsys):
    code, _, err = run(["finetune", "--data", str(table), "--text-column", "sentence", "--label-column", "mood",
                        "--model", "tiny-gpt2"], capsys)
    assert code == 2 and "encoder" in err
