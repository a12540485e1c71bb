"""The Transformer page's view of a translation: every attention map, and head statistics.

    tr = load_translator("tf-en-fr")                 # lmcore.translation.translators: same loader as seq2seq
    view = translate_with_trace(tr, "I am cold.")    # TransformerView
    view.trace["cross"].weights                      # (layers, heads, output, source)
    entropy, distance = head_statistics(view.trace["encoder"])

Decoding goes through lmcore.translation.decoding like every translator; the square maps come
from one more forward pass on the final output (identical to the per-step weights,
because the decoder is causal).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from lmcore.errors import UserFacingError
from lmcore.notices import Notice
from lmcore.pretrained.analysis import head_entropy
from lmcore.record import AttentionMaps, AttentionTrace
from lmcore.special_ids import BOS, BOS_ID, EOS
from lmcore.transformer import AttentionWeights, Transformer, attention_trace
from lmcore.translation.translators import TranslationResult, Translator, load_translator


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
    cross = replace(trace["cross"].select(queries=slice(len(written))), query_tokens=written)
    trace = AttentionTrace({**trace.maps, "cross": cross})
    return TransformerView(result, trace, inputs, written)


@torch.inference_mode()
def encoder_layer_input(name: str, text: str, layer: int, max_tokens: int
                        ) -> tuple[list[str], torch.Tensor, AttentionWeights, list[Notice]]:
    """For the self-attention page: the tokens, what enters `layer`'s self-attention (after its
    LayerNorm when pre-norm) (T, D), that layer's W^Q, W^K, W^V, W^O, and notices."""
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
    weights = target.self_attn.unpacked_weights()
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
