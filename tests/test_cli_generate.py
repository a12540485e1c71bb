"""`python -m lmcore generate` and the CLI's defaults: the app's model and the app's numbers."""
from __future__ import annotations

import json

import pytest

from lmcore.cli import main
from lmcore.pretrained import generation, nucleus
from lmcore.pretrained.loading import default_causal_lm
from tests.page_support import chart, run_page, values
from tests.test_page_gpt import PAGE


def run_json(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_generate_json_contract(capsys):
    data = run_json(capsys, "generate", "--model", "tiny-gpt2", "--tokens", "6", "--seed", "3", "--json", "ROMEO:")
    assert set(data) >= {"model", "prompt", "text", "tokens"} and data["model"] == "tiny-gpt2"
    assert data["prompt"] == "ROMEO:" and data["text"].startswith("ROMEO:") and len(data["tokens"]) == 6
    for token in data["tokens"]:
        assert 0 < token["probability"] <= token["sampled_probability"] <= 1  # top-k renormalises up
    again = run_json(capsys, "generate", "--model", "tiny-gpt2", "--tokens", "6", "--seed", "3", "--json", "ROMEO:")
    assert again == data  # a seed repeats the text


def test_generate_probability_is_the_model_own(capsys):
    data = run_json(capsys, "generate", "--model", "tiny-gpt2", "--tokens", "1", "--greedy", "--json", "ROMEO:")
    cached = nucleus.next_token_logits("tiny-gpt2", "ROMEO:")
    view = nucleus.next_token_view("tiny-gpt2", cached, top_k=10)
    assert data["tokens"][0]["probability"] == pytest.approx(view.candidates[0].prediction.probability, abs=1e-5)


def test_min_tokens_holds_the_sentence_end_back():
    trace = generation.generate_trace("minilm-gpt", "The cat sat on the", steps=8, greedy=True, min_tokens=6)
    assert len(trace.steps) >= 6 and all(s.chosen.display != "[SEP]" for s in trace.steps[:6])


@pytest.mark.parametrize("argv", [["--tokens", "0"], ["--tokens", "500"], ["--tokens", "3", "--min-tokens", "4"],
                                  ["--temperature", "0"]])
def test_generate_bad_numbers_are_clear_errors(capsys, argv):
    assert main(["generate", *argv, "hi"]) == 2
    err = capsys.readouterr().err
    assert err.strip() and "Traceback" not in err


def test_cli_defaults_are_the_gpt_page_default(capsys):
    assert default_causal_lm() == "minilm-gpt"
    for command in (["next-token"], ["logit-lens"], ["generate", "--tokens", "2"]):
        assert run_json(capsys, *command, "--json", "I would like a cup of")["model"] == "minilm-gpt"


def test_next_token_and_the_gpt_page_agree_on_model_and_probability(capsys):
    """A teacher preparing slides from the CLI gets the numbers on the screen (issue 25)."""
    prompt = "I would like a cup of"
    data = run_json(capsys, "next-token", "--json", prompt)
    at = run_page(PAGE, "en", timeout=180, text=prompt)  # the page's own default model
    assert at.selectbox(key="lmp_gpt_model").value == data["model"]
    shown = values(chart(at, "lmp_gpt_next")["data"][0]["y"])
    cli = [p["probability"] for p in data["predictions"]][: len(shown)]
    assert shown.ravel().tolist() == pytest.approx(cli, abs=0.006)  # the page sends whole percents
