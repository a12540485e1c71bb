"""Switching heads off in the from-scratch Transformer translator (lmcore.transformer's head mask).

A head's output is zeroed before W^O, in the encoder's self-attention, the decoder's masked
self-attention or its cross-attention (`HeadMask`). Decoding runs through `HeadsOff`, the
decoding protocol of lmcore.translation.decoding around the model with a fixed mask.

API (translator: a Translator or a bundled name):
    translate_heads_off(translator, text, heads, part="cross") -> TranslationResult
    head_ranking(translator, text, word=None) -> TranslationRanking   (cross-attention heads)
Heads are (layer, head) pairs from 0 (lmcore.heads_off); seq2seq translators have no heads to
switch off and raise UserFacingError("abl.err.not_transformer").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from lmcore.errors import UserFacingError
from lmcore.heads_off import Head, check_heads, keep_mask, one_off_masks, rank_correlation
from lmcore.transformer import DecoderCache, HeadMask, Transformer, TransformerMemory, TransformerStep
from lmcore.translation.decoding import decode
from lmcore.translation.translators import TranslationResult, Translator, load_translator

PARTS = ("encoder", "decoder", "cross")


class HeadsOff:
    """A Transformer with some heads switched off, as a decoding model (encode/init_state/step)."""

    def __init__(self, model: Transformer, mask: HeadMask) -> None:
        self.model, self.mask = model, mask
        self.bos_id, self.eos_id = model.bos_id, model.eos_id

    def encode(self, src: Tensor, src_lengths: Tensor | None = None) -> TransformerMemory:
        states, _ = self.model.run_encoder(src, need_weights=False, head_mask=self.mask)
        return TransformerMemory(states, src != self.model.config.pad_id, src)

    def init_state(self, memory: TransformerMemory) -> DecoderCache:
        return self.model.init_state(memory)

    def step(self, memory: TransformerMemory, state: DecoderCache, prev: Tensor) -> TransformerStep:
        return self.model.step(memory, state, prev, self.mask)

    def reorder_memory(self, memory: TransformerMemory, index: Tensor) -> TransformerMemory:
        return self.model.reorder_memory(memory, index)

    def reorder_state(self, state: DecoderCache, index: Tensor) -> DecoderCache:
        return self.model.reorder_state(state, index)


def as_transformer(translator: Translator | str) -> Translator:
    """The translator, checked to be a Transformer (the one with heads to switch off)."""
    tr = translator if isinstance(translator, Translator) else load_translator(translator)
    if not isinstance(tr.model, Transformer):
        raise UserFacingError("abl.err.not_transformer", name=tr.name)
    return tr


def size(translator: Translator, part: str = "cross") -> tuple[int, int]:
    """(layers, heads) of one attention of the translator."""
    cfg = translator.model.config
    layers = cfg.n_encoder_layers if part == "encoder" else cfg.n_decoder_layers
    return layers, cfg.n_heads


def head_mask(translator: Translator, heads: dict[str, tuple[Head, ...]]) -> HeadMask | None:
    """{part: heads switched off} -> HeadMask, None when no head is off."""
    if not any(heads.values()):
        return None
    return HeadMask(**{part: keep_mask(hs, *size(translator, part)) if hs else None
                       for part, hs in heads.items()})


def translate_heads_off(translator: Translator | str, text: str, heads=(), part: str = "cross",
                        more: dict[str, tuple[Head, ...]] | None = None) -> TranslationResult:
    """Greedy translation with `heads` of `part` (and any `more` {part: heads}) switched off;
    no head off -> Translator.translate itself."""
    tr = as_transformer(translator)
    if part not in PARTS:
        raise UserFacingError("abl.err.part", part=part)
    chosen = {p: () for p in PARTS}
    for p, hs in {part: heads, **(more or {})}.items():
        chosen[p] = tuple(sorted(set(chosen[p]) | set(check_heads(hs, *size(tr, p)))))
    mask = head_mask(tr, chosen)
    if mask is None:
        return tr.translate(text)
    enc = tr.encode(text)
    return tr._result(enc, decode(HeadsOff(tr.model, mask), enc.ids), 1)


@dataclass(frozen=True)
class TranslationRanking:
    """Cross-attention heads, each switched off alone, on the translation with every head on."""
    effect: np.ndarray         # (layers, heads): drop in the mean probability of its words
    attention: np.ndarray      # (layers, heads): cross-attention on `word`, mean over output steps
    word: int                  # source token index
    rows: np.ndarray           # (layers, heads, Ts): cross-attention on every source token
    source_tokens: tuple[str, ...]
    output_tokens: tuple[str, ...]
    probability: float         # mean probability of the translation's words (and <eos>), all heads on
    forward_passes: int

    def order(self) -> list[Head]:
        flat = np.argsort(-self.effect.ravel(), kind="stable")
        return [divmod(int(i), self.effect.shape[1]) for i in flat]

    def correlation(self) -> float:
        return rank_correlation(self.effect, self.attention)


@torch.inference_mode()
def head_ranking(translator: Translator | str, text: str, word: int | None = None) -> TranslationRanking:
    """Teacher-force the unablated greedy translation (and <eos>) with each cross-attention head
    off alone (one batched pass) and measure the drop in its words' mean probability, beside
    each head's attention on source `word` (None: the most attended, mean over heads)."""
    tr = as_transformer(translator)
    base = tr.translate(text)
    model, vocab = tr.model, tr.ckpt.tgt_vocab
    enc = tr.encode(text)
    ids = [vocab.stoi.get(w, 1) for w in base.output_tokens] + [model.eos_id]
    src, tgt_in = torch.tensor([enc.ids]), torch.tensor([[model.bos_id] + ids[:-1]])
    target = torch.tensor(ids)                                            # (T,)
    model.eval()
    logits, weights = model.forward_with_weights(src, tgt_in)
    cross = torch.stack(weights["cross"])[:, 0].mean(dim=2).float().numpy()  # (L, H, Ts)
    if word is None or not 0 <= int(word) < len(enc.ids):
        word = int(cross.mean(axis=(0, 1)).argmax())
    p_base = _mean_probability(logits, target)                            # (1,)
    layers, heads = size(tr, "cross")
    masks = one_off_masks(layers, heads)                                  # (L*H, L, H)
    batch = masks.size(0)
    out, _ = model.forward_with_weights(src.expand(batch, -1), tgt_in.expand(batch, -1),
                                        HeadMask(cross=masks))
    effect = (p_base - _mean_probability(out, target)).reshape(layers, heads).numpy()
    return TranslationRanking(effect, cross[:, :, int(word)].copy(), int(word), cross, tuple(enc.tokens),
                              tuple(base.output_tokens), float(p_base[0]), batch + 1)


def _mean_probability(logits: Tensor, target: Tensor) -> Tensor:
    """logits (B, T, V), target (T,) -> (B,) mean over positions of p(target_t)."""
    probs = torch.softmax(logits.float(), dim=-1)                         # (B, T, V)
    return probs[:, torch.arange(target.numel()), target].mean(dim=1)
