"""Switching heads off (issue 14, item 3): masked LM, GPT models, the Transformer translator, the CLI.

Invariants: no head off changes nothing, bit for bit; a whole layer off changes the output;
the ranking has layers x heads entries; bad L:H is a clear message.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lmcore.cli import main
from lmcore.errors import UserFacingError
from lmcore.heads_off import (check_heads, format_heads, keep_mask, one_off_masks, parse_heads,
                              rank_correlation)
from lmcore.pretrained import heads_off
from lmcore.pretrained.encoding import model_inputs
from lmcore.pretrained.loading import load_model
from lmcore.pretrained.predict import fill_mask, next_token
from lmcore.transformer import HeadMask
from tests.test_decoding import tiny_transformer
from tests.test_base_weights import _causal_folder

pytestmark = pytest.mark.usefixtures("one_thread")
MLM_TEXT = "the cat sat on the [MASK] ."
GPT_TEXT = "ROMEO:\nBut soft"


# ---------------------------------------------------------------- choosing heads
def test_parse_heads_reads_pairs_and_refuses_bad_items():
    assert parse_heads(" 1:2, 0:3,1:2 ", 2, 4) == ((0, 3), (1, 2))
    assert parse_heads("", 2, 4) == ()
    assert format_heads(parse_heads("1:2,0:3", 2, 4)) == "0:3,1:2"
    for bad in ("2:0", "0:4", "a:b", "1", "1:2:3", "-1:0"):
        with pytest.raises(UserFacingError) as err:
            parse_heads(bad, 2, 4)
        assert err.value.key == "abl.err.heads" and err.value.params["layers"] == 1
    with pytest.raises(UserFacingError):
        check_heads([(0, 9)], 2, 4)


def test_masks_and_rank_correlation():
    mask = keep_mask([(1, 2)], 2, 4)
    assert mask.sum() == 7 and mask[1, 2] == 0
    rows = one_off_masks(2, 3)
    assert rows.shape == (6, 2, 3) and all(rows[r].flatten()[r] == 0 and rows[r].sum() == 5 for r in range(6))
    a = np.arange(6.0).reshape(2, 3)
    assert rank_correlation(a, a) == pytest.approx(1.0)
    assert rank_correlation(a, -a) == pytest.approx(-1.0)
    assert rank_correlation(a, np.ones((2, 3))) == 0.0


# ---------------------------------------------------------------- pretrained models
@pytest.fixture(scope="module", params=["tiny-bert", "tiny-gpt2", "wordpiece-causal"])
def lm_and_text(request, tmp_path_factory):
    if request.param == "wordpiece-causal":  # BertLMHeadModel, as minilm-gpt
        return load_model(_causal_folder(tmp_path_factory.mktemp("causal"), {})), "the cat sat"
    return load_model(request.param), MLM_TEXT if request.param == "tiny-bert" else GPT_TEXT


def _logits(lm, text, mask):
    enc, position = heads_off._encode(lm, text)
    return heads_off._logits(heads_off.run(lm, model_inputs(enc), mask), lm)[0]


def test_no_head_off_changes_nothing_bit_for_bit(lm_and_text):
    lm, text = lm_and_text
    enc, _ = heads_off._encode(lm, text)
    with torch.inference_mode():
        plain = heads_off._logits(lm.model(**model_inputs(enc)), lm)[0]
    ones = torch.ones(lm.n_layers, lm.n_heads)
    assert torch.equal(_logits(lm, text, None), plain)
    assert torch.equal(_logits(lm, text, ones), plain)  # the twin with every head kept, too
    usual = fill_mask(lm, text, 5).masks[0] if lm.kind == "masked-lm" else next_token(lm, text, 5).predictions
    assert heads_off.predictions(lm, text, (), 5).predictions == usual


def test_a_whole_layer_off_changes_the_output_and_leaves_the_shared_model_alone(lm_and_text):
    lm, text = lm_and_text
    before = _logits(lm, text, None)
    layer_off = keep_mask([(0, h) for h in range(lm.n_heads)], lm.n_layers, lm.n_heads)
    assert (_logits(lm, text, layer_off) - before).abs().max() > 1e-4
    assert torch.equal(_logits(lm, text, None), before)  # the loaded model is unchanged
    assert lm.model.config._attn_implementation == "eager"


def test_batched_masks_match_one_by_one(lm_and_text):
    lm, text = lm_and_text
    masks = one_off_masks(lm.n_layers, lm.n_heads)[:3]
    enc, position = heads_off._encode(lm, text)
    batch = {k: v.expand(3, -1) for k, v in model_inputs(enc).items()}
    together = heads_off._logits(heads_off.run(lm, batch, masks), lm)
    for r in range(3):
        torch.testing.assert_close(together[r], _logits(lm, text, masks[r]), atol=1e-4, rtol=1e-4)


def test_ranking_has_one_entry_per_head_and_matches_single_runs(lm_and_text):
    lm, text = lm_and_text
    r = heads_off.head_ranking(lm, text)
    assert r.effect.shape == r.attention.shape == (lm.n_layers, lm.n_heads)
    assert len(r.order()) == lm.n_layers * lm.n_heads and r.forward_passes == lm.n_layers * lm.n_heads + 1
    layer, head = r.order()[0]
    off = heads_off.predictions(lm, text, [(layer, head)], 50).predictions
    assert r.effect[layer, head] == max(r.effect.ravel())
    assert 0 <= r.attention.min() and r.attention.max() <= 1
    assert r.word != r.position and -1.0 <= r.correlation() <= 1.0
    again = heads_off.head_ranking(lm, text, word=0)
    assert again.word == 0 and np.array_equal(again.effect, r.effect)
    assert off  # the ablated prediction is there


def test_wrong_model_kind_is_a_message():
    with pytest.raises(UserFacingError) as err:
        heads_off.predictions("tiny-gpt2", "hello", [(9, 9)])
    assert err.value.key == "abl.err.heads"
    with pytest.raises(UserFacingError):
        heads_off.predictions("tiny-bert", "no blank here", ())


# ---------------------------------------------------------------- the from-scratch Transformer
def test_transformer_head_mask_none_or_ones_is_bit_identical_and_zeros_change():
    model = tiny_transformer()
    src, tgt = torch.randint(4, 60, (2, 7)), torch.randint(4, 50, (2, 5))
    plain, w = model.forward_with_weights(src, tgt)
    ones = HeadMask(*(torch.ones(2, 4) for _ in range(3)))
    same, w1 = model.forward_with_weights(src, tgt, ones)
    assert torch.equal(plain, same) and all(torch.equal(a, b) for a, b in zip(w["cross"], w1["cross"]))
    for part in ("encoder", "decoder", "cross"):
        off = torch.ones(2, 4)
        off[0] = 0
        changed, _ = model.forward_with_weights(src, tgt, HeadMask(**{part: off}))
        assert (changed - plain).abs().max() > 1e-4, part


def test_transformer_cached_steps_honour_the_mask():
    from lmcore.translation.heads_off import HeadsOff
    from lmcore.translation.decoding import allowed_logits, decode

    model = tiny_transformer()
    mask = HeadMask(encoder=keep_mask([(0, 1)], 2, 4), cross=keep_mask([(1, 0), (1, 3)], 2, 4))
    src, out = [5, 9, 12, 7], decode(HeadsOff(model, mask), [5, 9, 12, 7], max_len=6)
    tgt = torch.tensor([[model.bos_id] + out.tokens[:5]])
    with torch.no_grad():
        logits, _ = model.forward_with_weights(torch.tensor([src]), tgt, mask)
    logp = torch.log_softmax(allowed_logits(logits[0].float()), -1)
    for i, step in enumerate(out.steps[: tgt.size(1)]):  # the cached steps = one teacher-forced pass
        assert step.prob == pytest.approx(float(logp[i, step.token].exp()), abs=1e-5)


def test_translator_before_after_and_ranking():
    from lmcore.translation import heads_off as translator_heads_off

    tr = translator_heads_off.as_transformer("tf-en-fr")
    text = "the cat is on the table ."
    assert translator_heads_off.translate_heads_off(tr, text, ()).to_dict() == tr.translate(text).to_dict()
    layers, heads = translator_heads_off.size(tr)
    everything = [(l, h) for l in range(layers) for h in range(heads)]
    assert translator_heads_off.translate_heads_off(tr, text, everything).translation != tr.translate(text).translation
    ranking = translator_heads_off.head_ranking(tr, text)
    assert ranking.effect.shape == (layers, heads) and len(ranking.order()) == layers * heads
    assert ranking.source_tokens[ranking.word] in text.split()
    with pytest.raises(UserFacingError) as err:
        translator_heads_off.as_transformer("s2s-en-fr-bahdanau")
    assert err.value.key == "abl.err.not_transformer"


# ---------------------------------------------------------------- CLI
def _json(args, capsys):
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_ablate_masked_lm_and_gpt(capsys):
    data = _json(["ablate", "--model", "tiny-bert", "--heads", "0:1,3:2", "--json", MLM_TEXT], capsys)
    assert set(data) >= {"model", "heads", "before", "after"}
    assert data["heads"] == [{"layer": 0, "head": 1}, {"layer": 3, "head": 2}]
    usual = _json(["fill-mask", "--model", "tiny-bert", "--json", MLM_TEXT], capsys)
    assert data["before"]["predictions"] == usual["predictions"]
    assert data["after"]["predictions"] != data["before"]["predictions"]
    gpt = _json(["ablate", "--model", "tiny-gpt2", "--heads", "0:0", "--json", GPT_TEXT], capsys)
    usual = _json(["next-token", "--model", "tiny-gpt2", "--top-k", "5", "--json", GPT_TEXT], capsys)
    assert gpt["before"]["predictions"] == [{k: p[k] for k in ("token", "display", "token_id", "probability")}
                                            for p in usual["predictions"]]  # the model's own numbers both


def test_cli_ablate_translator_and_bad_heads(capsys):
    data = _json(["ablate", "--model", "tf-en-fr", "--heads", "0:0", "--json", "the cat is here ."], capsys)
    assert data["part"] == "cross" and set(data["before"]) == {"translation", "output_tokens"}
    assert main(["ablate", "--model", "tiny-bert", "--heads", "7:0", MLM_TEXT]) == 2
    assert "0–3" in capsys.readouterr().err
    assert main(["--lang", "ko", "ablate", "--model", "tiny-gpt2", "--heads", "zero", "hi"]) == 2
    assert "헤드" in capsys.readouterr().err
