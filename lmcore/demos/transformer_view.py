"""The bundled Transformer translators: catalog entries, a full attention trace, head statistics.

    tr = load_translator("tf-en-fr")                 # lmcore.translation.translators: same loader as seq2seq
    view = translate_with_trace(tr, "I am cold.")    # TransformerView
    view.trace["cross"].weights                      # (layers, heads, output, source)
    entropy, distance = head_statistics(view.trace["encoder"])

Decoding goes through lmcore.translation.decoding like every translator; the square maps come
from one more forward pass on the final output (identical to the per-step weights,
because the decoder is causal).
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lmcore.catalog import ModelInfo
from lmcore.translation.checkpoints import checkpoint_size
from lmcore.errors import UserFacingError
from lmcore.notices import Notice
from lmcore.pretrained.analysis import head_entropy
from lmcore.record import AttentionMaps, AttentionTrace
from lmcore.translation.text import BOS, BOS_ID, EOS
from lmcore.transformer import Transformer, attention_trace
from lmcore.translation.translators import ASSETS, BUNDLED, Translator, TranslationResult

TRANSFORMERS: tuple[str, ...] = ("tf-en-fr", "tf-ko-en")


@dataclass
class TransformerView:
    """A greedy (or beam) translation plus every attention map of its final forward pass."""

    result: TranslationResult     # tokens, per-step top-k and weights, notices
    trace: AttentionTrace         # "encoder" (self), "decoder" (causal), "cross"
    decoder_inputs: list[str]     # <bos> y1 .. yn: the tokens the decoder positions read
    written: list[str]            # y1 .. yn <eos>: what each decoder position wrote


def translate_with_trace(translator: Translator, text: str, beam: int = 1) -> TransformerView:
    """Translate, then run one forward pass on (source, <bos> + output) with weights."""
    model = translator.model
    if not isinstance(model, Transformer):
        raise UserFacingError("tf.err.not_transformer", name=translator.name)
    result = translator.translate(text, beam=beam)
    vocab = translator.ckpt.tgt_vocab
    out_ids = vocab.encode(result.output_tokens)
    src = torch.tensor([translator.encode(text).ids])
    tgt = torch.tensor([[BOS_ID] + out_ids])
    inputs = [BOS] + list(result.output_tokens)
    written = list(result.output_tokens) + ([EOS] if result.finished else [])
    trace = attention_trace(model, src, tgt, result.source_tokens, inputs)
    cross = trace["cross"]
    trace = AttentionTrace({**trace.maps, "cross": AttentionMaps(
        cross.weights[:, :, : len(written)], written, cross.key_tokens, "cross")})
    return TransformerView(result, trace, inputs, written)


@torch.inference_mode()
def encoder_layer_input(name: str, text: str, layer: int, max_tokens: int
                        ) -> tuple[list[str], torch.Tensor, "AttentionWeights", list[Notice]]:
    """For the self-attention page: the tokens, what enters `layer`'s self-attention (after its
    LayerNorm when pre-norm) (T, D), that layer's W^Q, W^K, W^V, W^O, and notices."""
    from lmcore.demos.self_attention_steps import AttentionWeights
    from lmcore.translation.translators import load_translator

    translator = load_translator(name)
    model = translator.model
    if not isinstance(model, Transformer):
        raise UserFacingError("tf.err.not_transformer", name=name)
    if not 0 <= layer < len(model.encoder_layers):
        raise UserFacingError("tf.err.bad_layer", layer=layer, n_layers=len(model.encoder_layers))
    enc = translator.encode(text)
    notices = list(enc.notices)
    tokens, ids = list(enc.tokens), list(enc.ids)
    if len(ids) > max_tokens:
        tokens, ids = tokens[:max_tokens], ids[:max_tokens]
        notices.append(Notice("tf.notice.steps_truncated"))
    x = model.src_embed(torch.tensor([ids]))                     # (1, T, D)
    for below in model.encoder_layers[:layer]:
        x, _ = below(x, None, need_weights=False)
    target = model.encoder_layers[layer]
    h = target.norm1(x) if target.norm_first else x
    attn = target.self_attn
    wq, wk, wv = attn.in_proj_weight.chunk(3)
    bq, bk, bv = attn.in_proj_bias.chunk(3)
    weights = AttentionWeights(wq, bq, wk, bk, wv, bv, attn.out_proj.weight, attn.out_proj.bias,
                               attn.n_heads)
    return tokens, h[0].clone(), weights, notices


def head_statistics(maps: AttentionMaps) -> tuple[np.ndarray, np.ndarray]:
    """Per layer and head: mean entropy of the rows (bits) and mean attended distance.

    entropy  H_i = -sum_j a_ij log2 a_ij, averaged over queries i   -> (layers, heads)
             (lmcore.pretrained.analysis.head_entropy)
    distance sum_j a_ij |j - i'|, averaged over queries, where i' = i for self-attention
             and the query's proportional place in the source, i (S-1)/(T-1), for cross.
    Low entropy: a head that focuses; small distance: a head that looks nearby.
    """
    w = maps.weights.astype(np.float64)                   # (L, H, T, S)
    T, S = w.shape[-2:]
    entropy = head_entropy(maps)                          # (L, H), bits
    i = np.arange(T, dtype=np.float64)
    if maps.kind == "cross" and T > 1:
        i = i * (S - 1) / (T - 1)
    dist = np.abs(np.arange(S)[None, :] - i[:, None])     # (T, S)
    distance = (w * dist).sum(-1).mean(-1)
    return entropy.astype(np.float32), distance.astype(np.float32)


def compare_on_held_out(names: list[str], data_dir: str | Path, n_short: int = 400,
                        n_joined: int = 150, progress=None) -> dict:
    """BLEU and chrF by source-length bucket of several translators on the SAME pairs.

    The held-out split comes from the first model's checkpoint (split by source sentence,
    seed and fractions as in training; every model must share them), then `n_short` pairs
    are sampled and `n_joined` 10-30 word inputs are made by joining 2-4 held-out pairs.
    Time per epoch is taken from each checkpoint's training history. progress(name) is
    called before each model (for a log line).
    """
    from lmcore.translation.data import DataConfig, held_out_split, join_pairs, load_pairs
    from lmcore.translation.metrics import corpus_scores, scores_by_bucket, translate_for_scoring
    from lmcore.translation.translators import load_translator

    first = load_translator(names[0]).ckpt.meta
    cfg = DataConfig(**first["data"])
    pairs, _ = load_pairs(Path(data_dir) / first["dataset"], swap=first.get("swap", False),
                          max_bytes=50_000_000, max_lines=500_000)
    _, _, test = held_out_split(pairs, cfg)
    short = random.Random(0).sample(test, min(n_short, len(test)))
    joined = [p for p in join_pairs(test, n_joined, 2, 4, seed=7, max_source_words=30)
              if len(p[0].split()) >= 10]
    out = {"split": {"dataset": first["dataset"], **{k: first["data"][k] for k in
                                                     ("val_fraction", "test_fraction", "seed")}},
           "held_out_pairs": len(short), "joined_pairs": len(joined), "models": {}}
    for name in names:
        if progress:
            progress(name)
        translator = load_translator(name)
        if translator.ckpt.meta.get("data", {}).get("seed") != cfg.seed:
            raise ValueError(f"{name} was trained on another split")
        start = time.process_time()
        lengths, hyps, refs = translate_for_scoring(translator, short + joined)
        n = len(short)
        out["models"][name] = {
            "short": corpus_scores(hyps[:n], refs[:n]), "joined": corpus_scores(hyps[n:], refs[n:]),
            **scores_by_bucket(lengths, hyps, refs), "eval_cpu_seconds": round(time.process_time() - start, 1),
            "training": _training_facts(translator.ckpt.meta)}
    return out


def _training_facts(meta: dict) -> dict:
    result = meta.get("result", {})
    history = [h for h in result.get("history", []) if "seconds" in h]
    return {"epochs_run": result.get("epochs_run"), "stopped": result.get("stopped"),
            "seconds": result.get("seconds"), "cpu_seconds": result.get("cpu_seconds"),
            "best_val_loss": result.get("best_val_loss"),
            "train_examples": meta.get("train_examples"), "validations": history}


def catalog_entries() -> list[ModelInfo]:
    """ModelInfo (kind "transformer", attention "multi-head") for each bundled Transformer present."""
    entries = []
    for name in TRANSFORMERS:
        folder = ASSETS / BUNDLED[name][0]
        if not (folder / "config.json").is_file():
            continue
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        model, meta = config["model"], config.get("meta", {})
        data = meta.get("data", {})
        extra = {"weights_bytes": checkpoint_size(folder), "d_model": model.get("d_model"),
                 "n_heads": model.get("n_heads"), "n_layers": model.get("n_encoder_layers"),
                 "positional": model.get("positional"), "dataset": meta.get("dataset")}
        entries.append(ModelInfo(name, "transformer", True, BUNDLED[name][1], data.get("src_lang"),
                                 data.get("tgt_lang"), "multi-head", extra))
    return entries
