"""The embedded backend: every model call runs in this process, with today's lmcore code.

It is the default (no Ray, no proxy) and also what each Ray Serve replica runs inside
(deploy/serve_app.py), so both paths compute with the very same functions.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

from lmcore.catalog import LM_KINDS, list_models
from lmcore.demos import batch, heads_off
from lmcore.demos.kv_cache_steps import translator_steps
from lmcore.demos.transformer_view import TransformerView, translate_with_trace
from lmcore.errors import UserFacingError
from lmcore.pretrained import analysis, encoding, generation, loading, nucleus, predict
from lmcore.pretrained.cache_steps import gpt_steps
from lmcore.pretrained.logit_lens import logit_lens
from lmcore.translation.translators import TranslationResult, Translator, load_translator


@lru_cache(maxsize=6)
def _translator(name: str) -> Translator:
    return load_translator(name)


class Embedded:
    """Model calls in this process. `models`/`translators` load by name (the app passes its
    shared st.cache_resource loaders; the CLI and Serve replicas use per-process caches)."""

    name = "embedded"

    def __init__(self, models: Callable[[str], loading.LoadedModel] | None = None,
                 translators: Callable[[str], Translator] | None = None) -> None:
        self._model = models or loading.load_model
        self._translator = translators or _translator

    def attention(self, name: str, text: str, text_b: str | None = None,
                  max_tokens: int | None = None) -> encoding.AttentionResult:
        """Every layer's and head's weights, maps (layers, heads, n, n)."""
        return encoding.attention(self._model(name), text, text_b, max_tokens=max_tokens)

    def head_report(self, name: str, text: str, text_b: str | None = None, words: bool = False,
                    hide_special: bool = False, max_tokens: int | None = None) -> list[dict]:
        """Clark et al. (2019) statistics of the shown maps, one dict per (layer, head)."""
        result = self.attention(name, text, text_b, max_tokens)
        maps, _ = encoding.display_maps(result, words, hide_special)
        return [s.to_dict() for s in analysis.head_report(maps)]

    def fill_mask(self, name: str, text: str, top_k: int = 5) -> predict.FillMaskResult:
        return predict.fill_mask(self._model(name), text, top_k)

    def next_sentence(self, name: str, text_a: str, text_b: str) -> predict.NextSentenceResult:
        return predict.next_sentence(self._model(name), text_a, text_b)

    def next_token(self, name: str, text: str, top_k: int = 10,
                   temperature: float = 1.0, top_p: float = 1.0) -> predict.NextTokenResult:
        return predict.next_token(self._model(name), text, top_k, temperature, top_p=top_p)

    def generation(self, name: str, prompt: str, steps: int = 20, top_k: int = 10,
                   temperature: float = 1.0, seed: int = 0, top_p: float = 1.0,
                   min_tokens: int = 0) -> generation.GenerationTrace:
        """`steps` tokens from the prompt (no sentence end before `min_tokens`); each step's
        attention row (layers, heads, pos + 1)."""
        return generation.generate_trace(self._model(name), prompt, steps, top_k, temperature, seed,
                                      top_p=top_p, min_tokens=min_tokens)

    def translate(self, name: str, text: str, beam: int = 1, top_k: int = 5) -> TranslationResult:
        """Translation with its per-step trace (weights (S,) over the source per step)."""
        return self._translator(name).translate(text, beam=beam, top_k=top_k)

    def transformer_view(self, name: str, text: str, beam: int = 1) -> TransformerView:
        """Translation plus the encoder/decoder/cross maps of its final forward pass."""
        return translate_with_trace(self._translator(name), text, beam)

    def encoder_view(self, name: str, text: str) -> dict:
        """The RNN encoder's states (S, H) and final context vector (H,)."""
        return self._translator(name).encoder_states(text)

    # ------------------------------------------------------------ inside a generating model
    def next_token_logits(self, name: str, text: str):
        """The last position's logits (vocab,) behind GPT's top-p bars (lmcore.pretrained.nucleus)."""
        return nucleus.next_token_logits(self._model(name), text)

    def logit_lens(self, name: str, text: str, top_k: int = 5, max_tokens: int | None = None):
        """Top-k per layer and position through the model's own output head."""
        return logit_lens(self._model(name), text, top_k, max_tokens=max_tokens)

    def heads_off_ranking(self, name: str, text: str, word: int | None = None):
        """Every head switched off alone (layers x heads forward passes), ranked by effect."""
        return heads_off.ranking(name, text, word)

    def heads_off_before_after(self, name: str, text: str, heads: tuple):
        """The prediction with every head on and with `heads` ((layer, head), ...) switched off."""
        return heads_off.before_after(name, text, tuple(tuple(h) for h in heads))

    def kv_cache_steps(self, name: str, text: str, steps: int = 8):
        """Decoding step by step with the key/value cache (maps (layers, H, T, T)), checked and timed."""
        if heads_off.is_translator(name):
            return translator_steps(name, text)
        return gpt_steps(name, text, steps)

    def sentence_maps(self, name: str, sentence: str):
        """Your sentences: one sentence's maps (layers, heads, n, n), or cross (1, 1, out, src)."""
        info = next((m for m in list_models() if m.name == name), None)
        if info is None:
            raise UserFacingError("errors.unknown_model", name=name)
        loaded = self._model(name) if info.kind in LM_KINDS else self._translator(name)
        return batch.sentence_maps(batch.BatchModel(name, info.kind, loaded), sentence)
