"""Every cached call into lmcore: models, translators and the results the pages draw.

Models and translators go in `st.cache_resource` (one copy shared by every session: read
only, never trained); results go in `st.cache_data` with bounded size. Pages keep no cache
of their own, and no module outside this package holds one: `ui.loaders.inside` has the
"inside a generating model" pages' calls, `ui.loaders.finetune` the Fine-tuning page's. A
`UserFacingError` raised inside is not cached and reaches the page, which shows it translated.
"""
from __future__ import annotations

import json

import numpy as np
import streamlit as st
import torch

from lmcore import catalog, inference, positional
from lmcore.catalog import LM_KINDS, TRANSLATOR_KINDS, ModelInfo
from lmcore.demos import batch, compare, score
from lmcore.demos.self_attention_steps import LayerSteps, OrderDemo, compute_steps, order_blindness
from lmcore.demos.transformer_view import TransformerView
from lmcore.inference.job_bodies import Settings, prepare, snapshot
from lmcore.notices import Notice
from lmcore.pretrained import analysis, bertviz, encoding, loading, model_paths, positions, predict
from lmcore.pretrained.generation import GenerationTrace
from lmcore.record import AttentionMaps
from lmcore.translation.data import pairs_from_bytes
from lmcore.translation.translators import TranslationResult, Translator, load_translator
from ui.finetune_jobs import session_model_roots


def _infer():
    """Where model calls run (ATTN_LAB_INFERENCE): here with the shared models below, or Ray Serve."""
    return inference.backend(model, translator)


# ================================================================ BERT and GPT (10.4)
# The BERT page draws layers x heads x n^2 cells (72 x 64^2 for MiniLM): longer input is
# truncated with a notice; the CLI gives the full length.
PAGE_MAX_TOKENS = 64


@st.cache_data(ttl=300, max_entries=16, show_spinner=False)
def model_choices(kinds: tuple[str, ...]) -> list[ModelInfo]:
    """Catalog entries of these kinds, ones that work offline first (catalog order kept)."""
    entries = [m for m in loading.catalog_entries() if m.kind in kinds]
    return sorted(entries, key=lambda m: not m.offline)


def model(name: str) -> loading.LoadedModel:
    """A loaded model, shared by all sessions (never mutate it). A free model id is first
    confined (uncached, per session): catalog name, hub id, or a folder under the allowed
    roots plus this session's own fine-tuned models (lmcore.pretrained.model_paths)."""
    model_paths.confine(name, loading._bundled(), session_model_roots())
    return _shared_model(name)


@st.cache_resource(show_spinner=False, max_entries=loading.CACHE_SIZE)
def _shared_model(name: str) -> loading.LoadedModel:
    return loading.load_model(name)


@st.cache_data(max_entries=64, show_spinner=False)
def metrics_status(name: str) -> tuple[dict, str | None]:
    """(the model folder's metrics.json or {}, None or why it could not be read)."""
    path = catalog.ASSETS / name / "metrics.json"  # a local folder's own path when `name` is one
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return {}, type(error).__name__
    return (data, None) if isinstance(data, dict) else ({}, "not a JSON object")


def metrics(name: str) -> dict:
    """The model's measured quality and size ({} when absent or broken: see metrics_status)."""
    return metrics_status(name)[0]


# The heavy results (layers x heads x n^2 floats, ~1.2 MB each for MiniLM at 64 tokens) keep
# 16 entries and go after an idle hour: memory stays flat under new sentences (issue 16).
@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def attention(name: str, text: str, text_b: str | None) -> encoding.AttentionResult:
    """Attention of every layer and head, (layers, heads, n, n), for a text or pair."""
    return _infer().attention(name, text, text_b, max_tokens=PAGE_MAX_TOKENS)


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def display_maps(name: str, text: str, text_b: str | None, words: bool = False,
                 hide_special: bool = False) -> tuple[AttentionMaps, int | None]:
    """`encoding.display_maps` of the cached attention: (maps (layers, heads, n', n'), B's start)."""
    return encoding.display_maps(attention(name, text, text_b), words, hide_special)


@st.cache_data(max_entries=32, show_spinner=False)
def head_report(name: str, text: str, text_b: str | None, words: bool = False,
                hide_special: bool = False) -> list[dict]:
    """Clark et al. (2019) statistics of the shown maps, one dict per (layer, head)."""
    maps, _ = display_maps(name, text, text_b, words, hide_special)
    return [s.to_dict() for s in analysis.head_report(maps)]


@st.cache_data(max_entries=32, show_spinner=False)
def rollout(name: str, text: str, text_b: str | None, words: bool = False,
            hide_special: bool = False) -> AttentionMaps:
    """Attention rollout (Abnar & Zuidema 2020) of the shown maps: (layers, 1, n, n)."""
    maps, _ = display_maps(name, text, text_b, words, hide_special)
    return analysis.rollout_maps(maps)


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def bertviz_html(view: str, name: str, text: str, text_b: str | None, words: bool,
                 hide_special: bool, lang: str) -> str:
    """bertviz's head or model view of the shown maps, as offline, escaped HTML."""
    maps, b_start = display_maps(name, text, text_b, words, hide_special)
    build = bertviz.head_view_html if view == "head" else bertviz.model_view_html
    return build(maps, b_start, lang)


@st.cache_data(max_entries=32, show_spinner=False)
def fill_mask(name: str, text: str, top_k: int) -> predict.FillMaskResult:
    """Top-k words for each [MASK] in the text."""
    return _infer().fill_mask(name, text, top_k)


@st.cache_data(max_entries=32, show_spinner=False)
def next_sentence(name: str, text_a: str, text_b: str) -> predict.NextSentenceResult:
    """P(B follows A) from the model's NSP head."""
    return _infer().next_sentence(name, text_a, text_b)


@st.cache_data(max_entries=32, show_spinner=False)
def next_token(name: str, text: str, top_k: int, temperature: float) -> predict.NextTokenResult:
    """The next-token distribution after temperature and top-k."""
    return _infer().next_token(name, text, top_k, temperature)


@st.cache_data(max_entries=64, show_spinner=False)
def generation(name: str, prompt: str, steps: int, top_k: int, temperature: float,
               seed: int, top_p: float = 1.0, min_tokens: int = 0) -> GenerationTrace:
    """`steps` tokens generated from the prompt (no sentence end before `min_tokens`); a fixed
    seed makes step i repeatable."""
    return _infer().generation(name, prompt, steps, top_k, temperature, seed, top_p, min_tokens)


# ================================================================ translators (10.1-10.3)
EVAL_FILE = catalog.ASSETS / "seq2seq_eval.json"
UPLOAD_MAX_BYTES = 2_000_000   # uploads: the first 2 MB are read (with a notice)
UPLOAD_MAX_LINES = 20_000      # and the first 20k lines: a few minutes of CPU training at most


@st.cache_data(ttl=60, max_entries=16, show_spinner=False)
def translator_choices() -> list[ModelInfo]:
    """Bundled translators whose files are present (seq2seq first, then Transformers)."""
    models = [m for m in catalog.list_models() if m.kind in TRANSLATOR_KINDS and m.offline]
    return sorted(models, key=lambda m: TRANSLATOR_KINDS.index(m.kind))


@st.cache_resource(max_entries=6, show_spinner=False)
def translator(name: str) -> Translator:
    """A loaded translator shared by all sessions (eval mode; never train it)."""
    return load_translator(name)


@st.cache_data(max_entries=64, show_spinner=False)
def translate(name: str, text: str, beam: int = 1) -> TranslationResult:
    """Translation with the full per-step trace (greedy when beam is 1)."""
    return _infer().translate(name, text, beam)


@st.cache_data(max_entries=32, show_spinner=False)
def encoder_view(name: str, text: str) -> dict:
    """The encoder's states and final state (the plain model's one context vector)."""
    return _infer().encoder_view(name, text)


@st.cache_data(ttl=60, max_entries=16, show_spinner=False)
def eval_report() -> dict | None:
    """lmcore/assets/seq2seq_eval.json (BLEU and chrF by length), or None when absent."""
    if not EVAL_FILE.is_file():
        return None
    try:
        return json.loads(EVAL_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@st.cache_data(ttl=60, max_entries=32, show_spinner=False)
def translator_quality(name: str) -> dict | None:
    """A bundled translator's held-out scores from seq2seq_eval.json (every bundled translator,
    Transformers included, has an entry): {"held_out_pairs", "joined_pairs", "short", "joined",
    "cpu_minutes"}, or None when the model has none."""
    entry = (eval_report() or {}).get("models", {}).get(name)
    if not entry or "short" not in entry:
        return None
    cpu = (entry.get("training") or {}).get("cpu_seconds")
    return {"held_out_pairs": entry.get("held_out_pairs"), "joined_pairs": entry.get("joined_pairs"),
            "short": entry["short"].get("bleu"), "joined": (entry.get("joined") or {}).get("bleu"),
            "cpu_minutes": round(cpu / 60) if cpu else None}


@st.cache_data(max_entries=4, show_spinner=False)
def uploaded_pairs(raw: bytes, swap: bool) -> tuple[list[tuple[str, str]], list[Notice]]:
    """Sentence pairs from an uploaded TSV (encodings, binary and caps via lmcore.files)."""
    return pairs_from_bytes(raw, swap=swap, max_bytes=UPLOAD_MAX_BYTES, max_lines=UPLOAD_MAX_LINES)


@st.cache_data(max_entries=32, show_spinner=False)
def transformer_view(name: str, text: str, beam: int) -> TransformerView:
    """The Transformer page's translation with every layer's and head's maps."""
    return _infer().transformer_view(name, text, beam)


@st.cache_data(max_entries=8, show_spinner=False)
def untrained_snapshot(pairs: tuple, settings: Settings) -> dict:
    """What a model with these settings does before any training ("Train your own"'s opening
    view): the epoch-0 snapshot of the watched sentence ({"epoch": 0, "output", "weights"
    (T, S) | None}) and its source tokens."""
    data, _, net, watched = prepare(list(pairs), settings)
    with torch.inference_mode():
        first = snapshot(0, net, watched.ids, data.tgt_vocab.itos)
    return {**first, "source_tokens": list(watched.tokens)}


# ================================================================ worked examples
@st.cache_data(max_entries=64, show_spinner=False)
def score_steps(decoder: tuple, encoders: tuple, score_name: str, scale: bool, masked: tuple,
                labels: tuple) -> score.ScoreDemoResult:
    """Score -> weight -> context vector with the page's numbers."""
    return score.compute(decoder, encoders, score_name, scale, masked, labels)


@st.cache_data(max_entries=32, show_spinner=False)
def self_attention_steps(text: str, source: str, layer: int, causal: bool) -> LayerSteps:
    """Q, K, V, scores and weights of one layer, head by head."""
    return compute_steps(text, source, layer, causal)


@st.cache_data(max_entries=16, show_spinner=False)
def sinusoid(length: int, d_model: int) -> np.ndarray:
    return positional.sinusoidal_encoding(length, d_model)


@st.cache_data(max_entries=1, show_spinner=False)
def learned_position_tables() -> dict[str, np.ndarray]:
    return positions.position_tables(catalog.position_table_files())


@st.cache_data(max_entries=32, show_spinner=False)
def order_demo(text: str, seed: int, with_positions: bool, layer: int, head: int) -> OrderDemo:
    return order_blindness(text, None, with_positions, layer, head, seed)


@st.cache_data(max_entries=32, show_spinner=False)
def compare_lm_side(name: str, text: str) -> tuple[compare.Side, tuple]:
    """The model's maps on the sentence's words (layers, heads, W, W), and its notices."""
    result = attention(name, text, None)
    lm = model(name)
    unk = None if lm.byte_level else lm.tokenizer.unk_token
    return compare.lm_side(result, compare.split_words(text), unk), result.notices


# ================================================================ Your sentences
@st.cache_data(ttl=300, max_entries=16, show_spinner=False)
def all_model_choices() -> list[ModelInfo]:
    """Every catalog model, the offline ones first."""
    return sorted(catalog.list_models(), key=lambda m: not m.offline)


@st.cache_data(max_entries=8, show_spinner=False)
def parsed_upload(data: bytes, filename: str, column: int | None, header: bool | None) -> batch.ParsedSentences:
    return batch.parse_sentences(data, filename, column, header)


def batch_model(info: ModelInfo) -> batch.BatchModel:
    """The shared cached model (the BERT/GPT pages' and translators' loaders)."""
    if info.kind in LM_KINDS:
        return batch.BatchModel(info.name, info.kind, model(info.name))
    return batch.BatchModel(info.name, info.kind, translator(info.name))


@st.cache_data(max_entries=32, show_spinner=False)
def sentence_maps(name: str, sentence: str) -> AttentionMaps | None:
    return _infer().sentence_maps(name, sentence)
