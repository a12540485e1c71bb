"""The logit lens (lmcore.pretrained.logit_lens), attention sinks (.sinks), their figures and the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lmcore.cli import main
from lmcore.errors import UserFacingError
from lmcore.pretrained import logit_lens as L
from lmcore.pretrained import loading as lm_loading
from lmcore.pretrained import sinks
from lmcore.pretrained.encoding import attention, model_inputs
from lmcore.record import AttentionMaps
from lmcore.views import lens as inside
from tests.test_base_weights import _causal_folder
from tests.test_pretrained import bert_dir, gpt2_dir  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def bert_causal_dir(tmp_path_factory):
    """A tiny BertLMHeadModel with is_decoder (the shape of minilm-gpt)."""
    return _causal_folder(tmp_path_factory.mktemp("bert_causal"), {})


def _model_probabilities(folder: str, text: str) -> tuple[torch.Tensor, list[int]]:
    lm = lm_loading.load_model(folder)
    lens = L.logit_lens(lm, text, top_k=1)
    with torch.inference_mode():
        out = lm.model(**model_inputs(lens.encoded))
    logits = out.prediction_logits if lm.has_nsp else out.logits
    return torch.softmax(logits[0].float(), -1), lens


@pytest.mark.parametrize("fixture", ["gpt2_dir", "bert_causal_dir", "bert_dir"])
def test_last_layer_is_the_models_own_output(request, fixture):
    folder = request.getfixturevalue(fixture)
    text = "the cat [MASK] on the mat" if fixture == "bert_dir" else "the cat sat on the mat"
    probs, _ = _model_probabilities(folder, text)
    lens = L.logit_lens(folder, text, top_k=5)
    lm = lm_loading.load_model(folder)
    assert len(lens.layers) == lm.n_layers + 1 and lens.top_probability.shape == (lm.n_layers + 1, len(lens.tokens))
    for i, top in enumerate(lens.layers[-1]):
        p, ids = torch.topk(probs[i], 5)
        assert [t.token_id for t in top] == ids.tolist()
        assert np.allclose([t.probability for t in top], p.numpy(), atol=1e-5)
    assert np.allclose(lens.top_probability[-1], probs.max(-1).values.numpy(), atol=1e-5)


def test_lower_layers_differ_and_go_through_the_final_norm(gpt2_dir):
    lm = lm_loading.load_model(gpt2_dir)
    lens = L.logit_lens(lm, "the cat sat", top_k=3)
    enc = lens.encoded
    with torch.inference_mode():
        h = lm.model.transformer(**model_inputs(enc), output_hidden_states=True).hidden_states
        first = torch.softmax(lm.model.lm_head(lm.model.transformer.ln_f(h[1]))[0], -1)
    assert [t.token_id for t in lens.layers[1][0]] == torch.topk(first[0], 3).indices.tolist()
    assert not np.allclose(lens.top_probability[0], lens.top_probability[-1])


def test_lens_rejects_a_top_k_below_one(bert_dir):
    with pytest.raises(UserFacingError) as info:
        L.logit_lens(bert_dir, "the cat", top_k=0)
    assert info.value.key == "inside.err.top_k"


def test_first_layer_agreeing_and_json(gpt2_dir):
    lens = L.logit_lens(gpt2_dir, "the cat sat", top_k=2)
    layer = L.first_layer_agreeing(lens)
    final = lens.layers[-1][-1][0].token_id
    assert lens.layers[layer][-1][0].token_id == final
    assert all(lens.layers[i][-1][0].token_id != final for i in range(layer))
    data = lens.to_dict()
    assert [e["layer"] for e in data["layers"]] == list(range(len(lens.layers)))
    assert len(data["layers"][0]["top"]) == len(data["tokens"]) and len(data["layers"][0]["top"][0]) == 2


def test_cli_logit_lens_json(capsys, gpt2_dir):
    assert main(["logit-lens", "--model", gpt2_dir, "--top-k", "3", "--json", "the cat sat"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"model", "tokens", "layers"} and data["model"] == gpt2_dir
    lens = L.logit_lens(gpt2_dir, "the cat sat", top_k=3)
    assert data["layers"][-1]["top"][-1][0]["token"] == lens.layers[-1][-1][0].token
    assert {"token", "probability"} <= set(data["layers"][0]["top"][0][0])
    assert main(["logit-lens", "--model", gpt2_dir, "the cat"]) == 0  # the text table
    assert main(["logit-lens", "--model", gpt2_dir, ""]) == 2


# ---------------------------------------------------------------- attention sinks
def test_first_token_mass_is_the_mean_of_later_rows(gpt2_dir):
    maps = attention(gpt2_dir, "the cat sat on the mat").maps
    mass = sinks.first_token_mass(maps)
    assert mass.shape == (maps.n_layers, maps.n_heads)
    assert np.allclose(mass, maps.weights[:, :, 1:, 0].mean(-1))
    assert ((0 <= mass) & (mass <= 1)).all()
    one = AttentionMaps(np.ones((1, 2, 1, 1), np.float32), ("a",), ("a",), "causal")
    assert sinks.first_token_mass(one).tolist() == [[1.0, 1.0]]


def test_hiding_the_first_token_leaves_rows_summing_to_one(gpt2_dir):
    maps = attention(gpt2_dir, "the cat sat on the mat").maps
    hidden = sinks.without_first(maps)
    n = len(maps.key_tokens)
    assert hidden.weights.shape == (maps.n_layers, maps.n_heads, n - 1, n - 1)
    assert hidden.key_tokens == maps.key_tokens[1:]
    assert np.allclose(hidden.weights.sum(-1), 1.0, atol=1e-5)
    assert np.allclose(np.triu(hidden.weights[0, 0], 1), 0)  # still causal
    table = sinks.sink_table(sinks.first_token_mass(maps))
    assert len(table["layer"]) == maps.n_layers * maps.n_heads


# ---------------------------------------------------------------- figures
def test_nucleus_bars_mark_the_nucleus_and_escape_tokens():
    fig = inside.nucleus_bars(["<b>x</b>", "b", "c"], [0.6, 0.3, 0.1], [True, True, False], [0.67, 0.33, 0.0], 0.8)
    bars, line = fig.data
    assert list(bars.y) == [0.6, 0.3, 0.1] and list(line.y) == pytest.approx([0.6, 0.9, 1.0])
    assert bars.marker.color[0] == inside.IN_COLOUR and bars.marker.color[2] == inside.OUT_COLOUR
    assert "<b>" not in json.dumps(fig.to_plotly_json()["layout"]["xaxis"]["ticktext"])


def test_lens_grid_has_one_cell_per_layer_and_position():
    fig = inside.lens_grid([["a", "<i>"], ["c", "d"]], np.array([[0.2, 0.4], [0.9, 1.0]]),
                           [["a 0.20", "x 0.40"], ["c 0.90", "d 1.00"]], ["t0", "<s>"], ["emb", "out"])
    cell = fig.data[0]
    assert np.asarray(cell.z).shape == (2, 2) and (cell.zmin, cell.zmax) == (0.0, 1.0)
    assert "<i>" not in json.dumps(list(map(list, cell.text))) and "&lt;s&gt;" in fig.layout.xaxis.ticktext
