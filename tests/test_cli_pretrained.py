"""`python -m lmcore attention | fill-mask | next-token | models` (the public JSON contract)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lmcore.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run_json(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_attention_json_is_layers_heads_n_n_with_specials(capsys):
    data = run_json(capsys, "attention", "--model", "all-MiniLM-L6-v2", "--json", "The cat sat on the mat.")
    tokens, att = data["tokens"], np.asarray(data["attentions"])
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    assert att.shape == (6, 12, len(tokens), len(tokens))
    np.testing.assert_allclose(att.sum(-1), 1.0, atol=1e-3)
    assert data["kind"] == "self" and data["notices"] == []


def test_attention_json_gpt2_is_causal(capsys):
    data = run_json(capsys, "attention", "--model", "tiny-gpt2", "--json", "To be, or not to be")
    att = np.asarray(data["attentions"])
    assert data["kind"] == "causal" and att.shape[2] == len(data["tokens"])
    assert np.all(np.triu(att, 1) == 0)


def test_attention_keeps_up_to_model_maximum_and_notes_truncation(capsys):
    text = "word " * 120  # 120 tokens + 2 specials: under tiny-bert's 128, no truncation
    data = run_json(capsys, "attention", "--model", "tiny-bert", "--decimals", "2", "--json", text)
    assert len(data["tokens"]) == 122 and data["notices"] == []
    data = run_json(capsys, "attention", "--model", "tiny-bert", "--json", "word " * 300)
    assert len(data["tokens"]) == 128 and "128" in data["notices"][0]


def test_hostile_text_round_trips(capsys):
    hostile = "</script><img src=x onerror=alert(1)>"
    data = run_json(capsys, "attention", "--model", "all-MiniLM-L6-v2", "--json", hostile)
    assert "".join(data["tokens"][1:-1]) == hostile.replace(" ", "")


def test_fill_mask_json(capsys):
    data = run_json(capsys, "fill-mask", "--model", "tiny-bert", "--top-k", "3", "--json",
                    "The [MASK] sat on the [MASK].")
    assert len(data["masks"]) == 2 and data["predictions"] == data["masks"][0]
    assert len(data["predictions"]) == 3
    assert {"token", "probability"} <= set(data["predictions"][0])


def test_fill_mask_without_mask_is_a_clear_error(capsys):
    assert main(["fill-mask", "--model", "tiny-bert", "no blank here"]) == 2
    assert "[MASK]" in capsys.readouterr().err
    assert main(["--lang", "ko", "fill-mask", "--model", "tiny-bert", "no blank here"]) == 2
    assert "[MASK]를" in capsys.readouterr().err


def test_next_token_json(capsys):
    data = run_json(capsys, "next-token", "--model", "tiny-gpt2", "--top-k", "4", "--temperature", "0.7",
                    "--json", "ROMEO:")
    preds = data["predictions"]  # probability: the model's own; sampled: renormalised over the top 4
    assert len(preds) == 4 and sum(p["sampled_probability"] for p in preds) == pytest.approx(1.0, abs=1e-4)
    assert sum(p["probability"] for p in preds) < 1.0
    ratios = [p["sampled_probability"] / p["probability"] for p in preds]
    assert ratios == pytest.approx([ratios[0]] * 4, rel=1e-3)  # the same renormalisation for each
    assert all(isinstance(p["token"], str) for p in preds)


def test_next_token_rejects_bad_sampling_and_wrong_kind(capsys):
    assert main(["next-token", "--model", "tiny-gpt2", "--temperature", "0", "hi"]) == 2
    assert "Temperature" in capsys.readouterr().err
    assert main(["next-token", "--model", "tiny-bert", "hi"]) == 2
    assert "causal-lm" in capsys.readouterr().err


def test_unknown_model_offline_is_a_clear_error(capsys):
    assert main(["attention", "--model", "someone/unknown-model-xyz", "hello"]) == 2
    err = capsys.readouterr().err
    assert "someone/unknown-model-xyz" in err and "Traceback" not in err


def test_models_lists_kinds_and_offline(capsys):
    data = {m["name"]: m for m in run_json(capsys, "models", "--json")}
    assert data["all-MiniLM-L6-v2"]["kind"] == "encoder" and data["all-MiniLM-L6-v2"]["offline"] is True
    assert data["tiny-bert"]["kind"] == "masked-lm" and data["tiny-bert"]["offline"] is True
    assert data["tiny-gpt2"]["kind"] == "causal-lm" and data["tiny-gpt2"]["offline"] is True
    assert data["gpt2"]["kind"] == "causal-lm"


def test_python_dash_m_entry_point():
    out = subprocess.run([sys.executable, "-m", "lmcore", "next-token", "--model", "tiny-gpt2", "--json", "Hi"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "predictions" in json.loads(out.stdout)


def test_attention_pair_json(capsys):
    data = run_json(capsys, "attention", "--model", "tiny-bert", "--json", "Hear me speak.", "--pair", "Speak, speak.")
    assert data["tokens"].count("[SEP]") == 2
    assert np.asarray(data["attentions"]).shape[:2] == (4, 4)
