"""The "Switch heads off" page's data, the same for a masked LM, a GPT model and a translator.

    is_translator(name) -> bool
    before_after(name, text, heads) -> BeforeAfter      (the prediction with and without heads)
    ranking(name, text, word=None) -> Ranking           (each head off alone vs its attention)

Masked LM: the first [MASK]'s top words; GPT: the next token's; translator: the greedy
translation, its heads being the decoder's cross-attention heads. Built on
lmcore.pretrained.heads_off and lmcore.translation.heads_off.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

import lmcore.pretrained.heads_off
import lmcore.translation.heads_off
from lmcore.catalog import TRANSLATOR_KINDS, list_models
from lmcore.heads_off import Head, rank_correlation
from lmcore.notices import Notice
from lmcore.pretrained.loading import load_model

TOP_K = 5


def is_translator(name: str) -> bool:
    return any(m.name == name and m.kind in TRANSLATOR_KINDS for m in list_models())


@dataclass(frozen=True)
class BeforeAfter:
    translation: bool                              # a translator (texts) or an LM (top-k words)
    before: tuple[tuple[str, float], ...]          # (word, probability), or ((translation, 1.0),)
    after: tuple[tuple[str, float], ...]
    heads: tuple[Head, ...]
    notices: tuple[Notice, ...]


@dataclass(frozen=True)
class Ranking:
    effect: np.ndarray          # (layers, heads): drop in the prediction's probability, head off alone
    attention: np.ndarray       # (layers, heads): attention on `word` from the predicted position(s)
    word: int                   # index into keys (the default: the most attended)
    rows: np.ndarray            # (layers, heads, len(keys)): the attention on every key
    keys: tuple[str, ...]       # the tokens attention can land on (the text, or the source)
    target: str                 # what is predicted (the top word, or the translation)
    probability: float          # its probability with every head on
    forward_passes: int
    translation: bool

    def on_word(self, word: int) -> "Ranking":
        """The same ranking measured against another key's attention (no model run)."""
        if not 0 <= int(word) < len(self.keys):
            return self
        return replace(self, attention=self.rows[:, :, int(word)].copy(), word=int(word))

    @property
    def correlation(self) -> float:
        return rank_correlation(self.effect, self.attention)

    def order(self) -> list[Head]:
        flat = np.argsort(-self.effect.ravel(), kind="stable")
        return [divmod(int(i), self.effect.shape[1]) for i in flat]

    def most_attending(self) -> Head:
        """The head that puts the most attention on the word."""
        return divmod(int(self.attention.argmax()), self.attention.shape[1])


def _pairs(preds) -> tuple[tuple[str, float], ...]:
    return tuple((p.display, p.probability) for p in preds)


def before_after(name: str, text: str, heads: tuple[Head, ...]) -> BeforeAfter:
    """The prediction with every head on and with `heads` switched off."""
    if is_translator(name):
        tr = lmcore.translation.heads_off.as_transformer(name)
        base = lmcore.translation.heads_off.translate_heads_off(tr, text, ())
        off = lmcore.translation.heads_off.translate_heads_off(tr, text, heads)
        return BeforeAfter(True, ((base.translation, 1.0),), ((off.translation, 1.0),), tuple(heads),
                           tuple(base.notices))
    base = lmcore.pretrained.heads_off.predictions(name, text, (), TOP_K)
    off = lmcore.pretrained.heads_off.predictions(name, text, heads, TOP_K)
    return BeforeAfter(False, _pairs(base.predictions), _pairs(off.predictions), off.heads,
                       tuple(base.notices))


def ranking(name: str, text: str, word: int | None = None) -> Ranking:
    """Each head switched off alone, ranked by how much the prediction's probability drops."""
    if is_translator(name):
        r = lmcore.translation.heads_off.head_ranking(name, text, word)
        target = lmcore.translation.heads_off.as_transformer(name).detokenize(list(r.output_tokens))
        return Ranking(r.effect, r.attention, r.word, r.rows, r.source_tokens, target, r.probability,
                       r.forward_passes, True)
    r = lmcore.pretrained.heads_off.head_ranking(name, text, word)
    return Ranking(r.effect, r.attention, r.word, r.rows, r.tokens, r.token.display, r.probability,
                   r.forward_passes, False)


def size(name: str) -> tuple[int, int]:
    """(layers, heads) of the heads that can be switched off on the page."""
    if is_translator(name):
        return lmcore.translation.heads_off.size(lmcore.translation.heads_off.as_transformer(name), "cross")
    lm = load_model(name)
    return lm.n_layers, lm.n_heads
