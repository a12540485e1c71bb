"""Top-p (nucleus) sampling: lmcore.pretrained.sampling, .nucleus, generation and the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lmcore.cli import main
from lmcore.errors import UserFacingError
from lmcore.pretrained import nucleus as N
from lmcore.pretrained import generation
from lmcore.pretrained import predict as LP
from lmcore.pretrained import sampling as S
from tests.test_pretrained import gpt2_dir  # noqa: F401 (fixture)


def _brute_force_size(probs: np.ndarray, p: float) -> int:
    """The smallest k such that the k most likely probabilities sum to at least p."""
    ordered = np.sort(probs)[::-1]
    for k in range(1, len(ordered) + 1):
        if ordered[:k].sum() >= p:
            return k
    return len(ordered)


@pytest.mark.parametrize("seed", range(5))
def test_nucleus_is_the_smallest_most_likely_prefix_reaching_p(seed):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(200, generator=gen) * 3
    for top_p in (0.05, 0.3, 0.5, 0.9, 0.99):
        dist = S.distribution(logits, 1.0, top_k=200, top_p=top_p)
        probs = torch.softmax(logits.double(), -1).numpy()
        assert dist.nucleus == _brute_force_size(probs, top_p)
        assert dist.nucleus_probability >= top_p - 1e-12                    # it reaches P
        assert float(dist.probabilities[: dist.nucleus - 1].sum()) < top_p   # one token fewer does not
        assert np.all(np.diff(dist.probabilities.numpy()) <= 0)             # most likely first
        assert set(dist.ids[: dist.nucleus].tolist()) == set(np.argsort(-probs)[: dist.nucleus].tolist())


def test_p_one_keeps_every_token_and_tiny_p_keeps_the_most_likely():
    logits = torch.tensor([2.0, 1.0, 0.5, -1.0, -float("inf")])  # the last is never offered
    every = S.distribution(logits, 1.0, top_k=50, top_p=1.0)
    assert every.nucleus == 4 and every.nucleus_probability == pytest.approx(1.0)
    tiny = S.distribution(logits, 1.0, top_k=50, top_p=1e-9)
    assert tiny.nucleus == 1 and int(tiny.ids[0]) == 0
    assert tiny.sampling_probabilities().tolist() == [1.0]


def test_top_k_and_top_p_intersect_and_renormalise():
    logits = torch.log(torch.tensor([0.5, 0.2, 0.15, 0.1, 0.05]))
    dist = S.distribution(logits, 1.0, top_k=2, top_p=0.8)  # nucleus: 0.5 + 0.2 + 0.15 = 0.85 >= 0.8
    assert (dist.nucleus, dist.kept) == (3, 2)
    assert dist.nucleus_probability == pytest.approx(0.85)
    assert dist.sampling_probabilities().tolist() == pytest.approx([0.5 / 0.7, 0.2 / 0.7])
    exact = S.distribution(logits, 1.0, top_k=5, top_p=0.7)  # 0.5 + 0.2 reaches 0.7 exactly
    assert exact.nucleus in (2, 3)  # float rounding of 0.5 + 0.2 decides; never more
    assert S.nucleus_size(torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64), 0.75) == 2


def test_temperature_changes_the_nucleus():
    logits = torch.tensor([3.0, 2.0, 1.0, 0.0])
    cold = S.distribution(logits, 0.3, top_k=4, top_p=0.9)
    hot = S.distribution(logits, 3.0, top_k=4, top_p=0.9)
    assert cold.nucleus < hot.nucleus


@pytest.mark.parametrize("top_k,temperature,top_p,key", [(0, 1.0, 0.5, "lm.err.sampling"),
                                                         (5, 0.0, 0.5, "lm.err.sampling"),
                                                         (5, 1.0, 0.0, "inside.err.top_p"),
                                                         (5, 1.0, 1.5, "inside.err.top_p")])
def test_bad_sampling_settings_are_translated_errors(top_k, temperature, top_p, key):
    with pytest.raises(UserFacingError) as info:
        S.check_sampling(top_k, temperature, top_p)
    assert info.value.key == key


def test_view_from_cached_logits_marks_the_nucleus_and_matches_next_token(gpt2_dir):
    cached = N.next_token_logits(gpt2_dir, "the cat")
    for top_k, temperature, top_p in [(10, 1.0, 1.0), (10, 0.7, 0.5), (3, 1.3, 0.9), (50, 1.0, 0.01)]:
        view = N.next_token_view(gpt2_dir, cached, top_k, temperature, top_p)
        flags = [c.in_nucleus for c in view.candidates]
        assert flags == sorted(flags, reverse=True)  # a prefix: in, ..., in, out, ...
        assert sum(flags) == min(view.nucleus_size, len(flags))
        assert view.nucleus_probability >= top_p - 1e-9
        direct = LP.next_token(gpt2_dir, "the cat", top_k=top_k, temperature=temperature, top_p=top_p)
        assert [p.token_id for p in view.predictions] == [p.token_id for p in direct.predictions]
        total = sum(p.probability for p in direct.predictions)  # the model's own: renormalise to compare
        assert [p.probability for p in view.predictions] == pytest.approx(
            [p.probability / total for p in direct.predictions], abs=1e-5)
        assert sum(p.probability for p in view.predictions) == pytest.approx(1.0)
        assert [c.prediction.probability for c in view.candidates][:len(direct.predictions)] == pytest.approx(
            [p.probability for p in direct.predictions], abs=1e-5)


def test_generation_with_top_p_draws_only_from_the_nucleus(gpt2_dir):
    trace = generation.generate_trace(gpt2_dir, "the cat", steps=6, top_k=50, temperature=1.0, seed=3, top_p=0.05)
    plain = generation.generate_trace(gpt2_dir, "the cat", steps=6, top_k=50, temperature=1.0, seed=3)
    assert len(trace.steps) == 6 and all(len(s.rivals) == 50 for s in plain.steps)
    for step in trace.steps:  # the random tiny model is nearly flat: 5% is a handful of its 300 tokens
        assert step.chosen in step.rivals and len(step.rivals) < 50
        assert sum(r.probability for r in step.rivals) >= 0.05 - 1e-6  # the nucleus reaches top_p


def test_cli_next_token_top_p_adds_the_nucleus(capsys, gpt2_dir):
    assert main(["next-token", "--model", gpt2_dir, "--top-k", "3", "--top-p", "0.4", "--json", "the cat"]) == 0
    data = json.loads(capsys.readouterr().out)
    nucleus = data["nucleus"]
    probs = [n["probability"] for n in nucleus]
    assert set(nucleus[0]) == {"token", "display", "probability"}
    assert probs == sorted(probs, reverse=True)
    assert data["nucleus_probability"] == pytest.approx(sum(probs), abs=1e-5)
    assert data["nucleus_probability"] >= 0.4 - 1e-6 and sum(probs[:-1]) < 0.4
    assert len(data["predictions"]) == min(3, len(nucleus))
    assert main(["next-token", "--model", gpt2_dir, "--json", "the cat"]) == 0
    assert "nucleus" not in json.loads(capsys.readouterr().out)  # unchanged without --top-p
    assert main(["next-token", "--model", gpt2_dir, "--top-p", "0", "the cat"]) == 2
