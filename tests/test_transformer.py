"""The from-scratch Transformer: parity with torch's layers, attention invariants, trace shapes."""
import numpy as np
import pytest
import torch
from torch import nn

from lmcore.record import AttentionMaps
from lmcore.transformer import Transformer, TransformerConfig, attention_trace
from lmcore.transformer import DecoderLayer, EncoderLayer, target_mask

D, H, FF = 32, 4, 64


def tiny(**kw) -> Transformer:
    torch.manual_seed(0)
    cfg = TransformerConfig(src_vocab_size=100, tgt_vocab_size=90, d_model=D, n_heads=H,
                            n_encoder_layers=2, n_decoder_layers=2, d_ff=FF, dropout=0.0,
                            max_len=16, **kw)
    return Transformer(cfg).eval()


def batch():
    # row 0 has 2 padding tokens in the source and 1 in the target
    src = torch.tensor([[5, 6, 7, 8, 0, 0], [9, 10, 11, 12, 13, 14]])
    tgt = torch.tensor([[1, 20, 21, 22, 0], [1, 23, 24, 25, 26]])
    return src, tgt


@pytest.mark.parametrize("norm_first", [True, False])
def test_encoder_layer_matches_torch(norm_first):
    torch.manual_seed(1)
    ref = nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, batch_first=True,
                                     norm_first=norm_first).eval()
    ours = EncoderLayer(D, H, FF, 0.0, norm_first).eval()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(2, 6, D)
    pad = torch.tensor([[False] * 4 + [True] * 2, [False] * 6])  # torch: True = ignore
    with torch.no_grad():
        expected = ref(x, src_key_padding_mask=pad)
        got, w = ours(x, (~pad)[:, None, None, :])
    assert torch.allclose(got[0, :4], expected[0, :4], atol=1e-5)
    assert torch.allclose(got[1], expected[1], atol=1e-5)
    assert w.shape == (2, H, 6, 6)


@pytest.mark.parametrize("norm_first", [True, False])
def test_decoder_layer_matches_torch(norm_first):
    torch.manual_seed(2)
    ref = nn.TransformerDecoderLayer(D, H, FF, dropout=0.0, batch_first=True,
                                     norm_first=norm_first).eval()
    ours = DecoderLayer(D, H, FF, 0.0, norm_first).eval()
    ours.load_state_dict(ref.state_dict())
    y, memory = torch.randn(2, 5, D), torch.randn(2, 6, D)
    mem_pad = torch.tensor([[False] * 4 + [True] * 2, [False] * 6])
    causal = nn.Transformer.generate_square_subsequent_mask(5)
    with torch.no_grad():
        expected = ref(y, memory, tgt_mask=causal, memory_key_padding_mask=mem_pad)
        self_mask = torch.tril(torch.ones(5, 5, dtype=torch.bool))[None, None]
        got, ws, wc = ours(y, memory, self_mask, (~mem_pad)[:, None, None, :])
    assert torch.allclose(got, expected, atol=1e-5)
    assert ws.shape == (2, H, 5, 5) and wc.shape == (2, H, 5, 6)


def test_weights_are_distributions_with_zero_on_masked_cells():
    model = tiny()
    src, tgt = batch()
    with torch.no_grad():
        _, w = model.forward_with_weights(src, tgt)
    for kind in ("encoder", "decoder", "cross"):
        assert len(w[kind]) == 2
        for layer in w[kind]:
            assert torch.isfinite(layer).all()
            assert torch.allclose(layer.sum(-1), torch.ones(()), atol=1e-5)
    for layer in w["encoder"] + w["cross"]:
        assert torch.all(layer[0, :, :, 4:] == 0)  # source padding: exactly 0
    for layer in w["decoder"]:
        upper = torch.triu(torch.ones(5, 5, dtype=torch.bool), 1)
        assert torch.all(layer[:, :, upper] == 0)  # no peeking at future tokens
        assert torch.all(layer[0, :, :, 4] == 0)    # target padding


def test_batch_equals_one_by_one_and_fast_path_equals_slow_path():
    model = tiny()
    src, tgt = batch()
    with torch.no_grad():
        logits, w = model.forward_with_weights(src, tgt)
        fast = model(src, None, tgt)
        alone, w0 = model.forward_with_weights(src[:1, :4], tgt[:1, :4])
    assert torch.allclose(logits, fast, atol=1e-5)
    assert torch.allclose(logits[0, :4], alone[0], atol=1e-5)
    assert torch.allclose(w["cross"][1][0, :, :4, :4], w0["cross"][1][0], atol=1e-5)


def test_decoder_output_ignores_future_tokens():
    model = tiny()
    src, tgt = batch()
    changed = tgt.clone()
    changed[1, 3:] = torch.tensor([40, 41])
    with torch.no_grad():
        a = model(src, None, tgt)
        b = model(src, None, changed)
    assert torch.allclose(a[1, :3], b[1, :3], atol=1e-6)
    assert not torch.allclose(a[1, 3:], b[1, 3:])


def test_attention_trace_records():
    model = tiny(positional="learned")
    src, tgt = batch()
    trace = attention_trace(model, src, tgt, ["a", "b", "</script>", "d"], ["<s>", "x", "y", "z"])
    assert set(trace.names()) == {"encoder", "decoder", "cross"}
    enc, dec, cross = trace["encoder"], trace["decoder"], trace["cross"]
    assert enc.kind == "self" and dec.kind == "causal" and cross.kind == "cross"
    assert enc.weights.shape == (2, H, 4, 4) and enc.weights.dtype == np.float32
    assert dec.weights.shape == (2, H, 4, 4) and cross.weights.shape == (2, H, 4, 4)
    assert np.allclose(cross.weights.sum(-1), 1, atol=1e-5)
    assert np.all(np.triu(dec.weights[1, 2], 1) == 0)


def test_target_mask_combines_causal_and_padding():
    m = target_mask(torch.tensor([[1, 2, 0]]), pad_id=0)
    assert m.shape == (1, 1, 3, 3)
    assert m[0, 0].tolist() == [[True, False, False], [True, True, False], [True, True, False]]


def test_dropout_changes_training_output_only():
    src, tgt = batch()
    m = Transformer(TransformerConfig(100, 90, D, H, 1, 1, FF, dropout=0.5, max_len=16))
    m.train()
    a = m(src, None, tgt)
    b = m(src, None, tgt)
    assert not torch.allclose(a, b)
    m.eval()
    with torch.no_grad():
        assert torch.allclose(m(src, None, tgt), m(src, None, tgt))


def test_step_decoding_equals_teacher_forcing_and_reorders():
    from lmcore.demos.kv_cache_steps import PrefixDecoder

    model = tiny()
    src, tgt = batch()  # row 0 feeds a padding token last: masked as a key, like the full pass
    reference = PrefixDecoder(model, layer_maps=True)
    with torch.no_grad():
        full, w = model.forward_with_weights(src, tgt)
        memory = model.encode(src, None)
        state, ref_state = model.init_state(memory), reference.init_state(memory)
        for t in range(tgt.size(1)):
            out, ref = model.step(memory, state, tgt[:, t]), reference.step(memory, ref_state, tgt[:, t])
            state, ref_state = out.state, ref.state
            assert torch.allclose(out.logits[1], full[1, t], atol=1e-5)
            assert torch.allclose(out.weights[1], w["cross"][-1][1, :, t].mean(0), atol=1e-5)
            assert torch.all(out.weights[0, 4:] == 0)
            assert torch.allclose(out.logits, ref.logits, atol=1e-5)
            for layer in range(2):  # the new row of every layer's and head's maps
                assert torch.allclose(out.self_weights[:, layer], w["decoder"][layer][:, :, t, : t + 1],
                                      atol=1e-5)
                assert torch.allclose(out.cross_weights[:, layer], w["cross"][layer][:, :, t], atol=1e-5)
            assert torch.allclose(out.self_weights, ref.self_weights, atol=1e-5)
        idx = torch.tensor([1, 1, 0])
        again = model.reorder_memory(memory, idx)
        assert again.states.shape[0] == 3 and torch.equal(again.src[2], src[0])
        picked = model.reorder_state(state, idx)
        assert torch.equal(picked.prefix[0], tgt[1]) and torch.equal(picked.prefix[2], tgt[0])
        assert len(picked.self_kv) == len(picked.cross_kv) == 2
        assert torch.equal(picked.self_kv[1][0][2], state.self_kv[1][0][0])  # (H, t, d_head)
        assert picked.cross_kv[0][1].shape == (3, H, 6, D // H)


def test_config_round_trip_through_a_checkpoint(tmp_path):
    from lmcore.translation.checkpoints import Checkpoint, load_checkpoint, save_checkpoint
    from lmcore.translation.text import Tokenizer, Vocab

    model = tiny()
    vocab_src = Vocab([f"s{i}" for i in range(96)])
    vocab_tgt = Vocab([f"t{i}" for i in range(86)])
    save_checkpoint(tmp_path, Checkpoint(model, Tokenizer(), Tokenizer(), vocab_src, vocab_tgt),
                    torch.float32)
    loaded = load_checkpoint(tmp_path).model
    src, tgt = batch()
    with torch.no_grad():
        assert torch.allclose(model(src, None, tgt), loaded(src, None, tgt))


def _tiny_translator(tmp_path):
    from lmcore.translation.checkpoints import Checkpoint, load_checkpoint, save_checkpoint
    from lmcore.translation.text import Tokenizer, Vocab
    from lmcore.translation.translators import Translator

    words = [f"w{i}" for i in range(96)]
    save_checkpoint(tmp_path, Checkpoint(tiny(), Tokenizer(), Tokenizer(), Vocab(words),
                                         Vocab([f"t{i}" for i in range(86)]),
                                         {"data": {"max_src_tokens": 12}}), torch.float32)
    return Translator("tiny", load_checkpoint(tmp_path))


def test_translate_with_trace_matches_the_decoder_steps(tmp_path):
    from lmcore.demos.transformer_view import translate_with_trace

    view = translate_with_trace(_tiny_translator(tmp_path), "w1 w2 w3 </script>")
    res, trace = view.result, view.trace
    assert res.source_tokens == ["w1", "w2", "w3", "<", "/", "script", ">"]
    assert view.decoder_inputs[0] == "<bos>" and len(view.decoder_inputs) == len(res.output_tokens) + 1
    cross = trace["cross"]
    assert cross.weights.shape == (2, H, len(view.written), 7)
    for t, step in enumerate(res.steps[: len(view.written)]):  # causal: same as step by step
        assert np.allclose(cross.weights[-1, :, t].mean(0), step.weights, atol=1e-4)
    assert trace["decoder"].kind == "causal" and trace["encoder"].weights.shape == (2, H, 7, 7)


def test_translate_with_trace_bad_input(tmp_path):
    from lmcore.errors import UserFacingError
    from lmcore.demos.transformer_view import translate_with_trace

    tr = _tiny_translator(tmp_path)
    with pytest.raises(UserFacingError):
        translate_with_trace(tr, "   ")
    view = translate_with_trace(tr, "w1 " * 500)
    assert len(view.result.source_tokens) == 12
    assert any(n.key == "errors.text_truncated" for n in view.result.notices)


def test_head_statistics():
    from lmcore.record import AttentionMaps
    from lmcore.demos.transformer_view import head_statistics

    w = np.zeros((1, 2, 4, 4), np.float32)
    w[0, 0] = np.eye(4)       # each token looks at itself
    w[0, 1] = 0.25            # uniform
    ent, dist = head_statistics(AttentionMaps(w, list("abcd"), list("abcd"), "self"))
    assert ent.shape == (1, 2) and ent[0, 0] == 0 and ent[0, 1] == pytest.approx(2.0)
    assert dist[0, 0] == 0 and dist[0, 1] == pytest.approx(np.mean([1.5, 1.0, 1.0, 1.5]))
    diag = np.zeros((1, 1, 2, 4), np.float32)
    diag[0, 0, 0, 0] = diag[0, 0, 1, 3] = 1.0  # a monotone cross alignment
    _, d = head_statistics(AttentionMaps(diag, ["x", "y"], list("abcd"), "cross"))
    assert d[0, 0] == 0


def test_decoding_stops_at_the_end_of_the_positional_table():
    from lmcore.translation.decoding import decode, greedy_batch

    model = tiny()  # max_len 16
    res = decode(model, [5, 6, 7], max_len=40)
    assert len(res.steps) <= 16 and res.steps[-1].token == model.eos_id
    assert all(len(r) <= 15 for r in greedy_batch(model, [[5, 6], [7, 8, 9]], max_len=40))
    assert decode(model, [5, 6, 7], beam=3, max_len=40).tokens is not None


def test_compare_on_held_out_scores_models_on_the_same_pairs(tmp_path):
    from dataclasses import asdict

    from lmcore.translation.checkpoints import Checkpoint, save_checkpoint
    from lmcore.translation.data import DataConfig
    from lmcore.translation.text import Tokenizer, Vocab
    from lmcore.translation.metrics import compare_on_held_out

    lines = [f"w{i} w{i + 1} w{i + 2}\tt{i} t{i + 1}" for i in range(60)]
    (tmp_path / "pairs.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    meta = {"data": asdict(DataConfig(test_fraction=0.2)), "dataset": "pairs.tsv",
            "result": {"epochs_run": 1, "history": [{"epoch": 1, "step": 3, "seconds": 1.5}]}}
    folders = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        model = Transformer(TransformerConfig(100, 90, D, H, 1, 1, FF, 0.0, 16)).eval()
        folder = tmp_path / f"m{seed}"
        save_checkpoint(folder, Checkpoint(model, Tokenizer(), Tokenizer(),
                                           Vocab([f"w{i}" for i in range(96)]),
                                           Vocab([f"t{i}" for i in range(86)]), meta))
        folders.append(str(folder))
    report = compare_on_held_out(folders, tmp_path, n_short=5, n_joined=3)
    assert report["held_out_pairs"] == 5 and set(report["models"]) == set(folders)
    for scores in report["models"].values():
        assert scores["short"]["n"] == 5 and scores["overall"]["n"] == 5 + report["joined_pairs"]
        assert scores["training"]["validations"][0]["seconds"] == 1.5


def test_select_queries_takes_rows_with_their_tokens():
    w = np.random.default_rng(0).random((2, 3, 4, 5)).astype(np.float32)
    maps = AttentionMaps(w, ["a", "b", "c", "d"], list("vwxyz"), "cross")
    first = maps.select(queries=slice(2))
    assert first.query_tokens == ("a", "b") and first.key_tokens == maps.key_tokens
    np.testing.assert_array_equal(first.weights, w[:, :, :2])
    picked = maps.select(layers=[1], heads=slice(0, 2), queries=[3, 0])
    assert picked.query_tokens == ("d", "a") and picked.kind == "cross"
    np.testing.assert_array_equal(picked.weights, w[[1]][:, 0:2][:, :, [3, 0]])
    assert maps.select(queries=slice(0)).weights.shape == (2, 3, 0, 5)
