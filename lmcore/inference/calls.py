"""The model calls every inference backend offers (names shared by client and server)."""
from __future__ import annotations

# The calls a remote backend may forward: method name -> parameter names, in order.
CALLS: dict[str, tuple[str, ...]] = {
    "attention": ("name", "text", "text_b", "max_tokens"),
    "head_report": ("name", "text", "text_b", "words", "hide_special", "max_tokens"),
    "fill_mask": ("name", "text", "top_k"),
    "next_sentence": ("name", "text_a", "text_b"),
    "next_token": ("name", "text", "top_k", "temperature", "top_p"),
    "generation": ("name", "prompt", "steps", "top_k", "temperature", "seed", "top_p", "min_tokens"),
    "translate": ("name", "text", "beam", "top_k"),
    "transformer_view": ("name", "text", "beam"),
    "encoder_view": ("name", "text"),
    # inside a generating model (GPT's top-p bars, logit lens, heads off, KV cache) and Your sentences
    "next_token_logits": ("name", "text"),
    "logit_lens": ("name", "text", "top_k", "max_tokens"),
    "heads_off_ranking": ("name", "text", "word"),
    "heads_off_before_after": ("name", "text", "heads"),
    "kv_cache_steps": ("name", "text", "steps"),
    "sentence_maps": ("name", "sentence"),
}
