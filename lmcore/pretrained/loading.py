"""Pretrained BERT-family encoders and GPT-2: the catalog and loading.

The only module that builds transformers' model classes, and the one place to import
`load_model`, `available`, `LoadedModel`, `catalog_entries` and `as_loaded` from;
encoding and attention live in `lmcore.pretrained.encoding`, predictions in
`lmcore.pretrained.predict`.

API:
    catalog_entries() -> list[ModelInfo]; available(name) -> bool; describe(name, lang) -> str
    load_model(name, allow_network=None) -> LoadedModel            (cached per process)
    as_loaded(model_or_name) -> LoadedModel; clear_cache()

Loading rules: `attn_implementation="eager"` (sdpa returns no weights), `.eval()`,
safetensors only, `trust_remote_code=False`, local files only unless the caller
allows the network (ATTN_LAB_ALLOW_DOWNLOAD=1). Loaded models are cached per
process and shared: never mutate them or call .train(). Each model's fast
tokenizer is guarded by `LoadedModel.lock` ("Already borrowed").
Unavailable models raise lmcore.errors.UserFacingError.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch
import transformers
from huggingface_hub import snapshot_download

from lmcore.catalog import ASSETS, ModelInfo, minilm_folder
from lmcore.errors import UserFacingError
from lmcore.i18n import translate
from lmcore.pretrained import base_weights, model_paths
from lmcore.pretrained.model_paths import measured  # noqa: F401 (API)
from lmcore.pretrained.model_paths import read_metrics

HUB_MODELS = {  # name -> (kind, description)
    "bert-base-uncased": ("masked-lm", "BERT base, uncased English (12 layers x 12 heads), MLM + NSP"),
    "distilbert-base-uncased": ("masked-lm", "DistilBERT base, uncased English (6 x 12), MLM"),
    "bert-base-multilingual-cased": ("masked-lm", "multilingual BERT, cased, 104 languages incl. Korean (12 x 12)"),
    "gpt2": ("causal-lm", "GPT-2 small (12 layers x 12 heads), English web text"),
    "distilgpt2": ("causal-lm", "DistilGPT-2 (6 layers x 12 heads), English web text"),
}
MULTILINGUAL = "bert-base-multilingual-cased"
MINILM_LMS = {"minilm-mlm": "masked-lm", "minilm-gpt": "causal-lm"}  # MiniLM trained further here


class HasLayersAndHeads:
    """`n_layers` and `n_heads` of a wrapper whose `model` has a transformers config."""
    model: torch.nn.Module

    @property
    def n_layers(self) -> int:
        return self.model.config.num_hidden_layers

    @property
    def n_heads(self) -> int:
        return self.model.config.num_attention_heads


@dataclass(eq=False)
class LoadedModel(HasLayersAndHeads):
    """A model ready for inference. Shared between sessions: read only."""
    name: str
    kind: str            # "encoder" | "masked-lm" | "causal-lm"
    model: torch.nn.Module
    tokenizer: object    # a transformers fast tokenizer
    max_length: int      # most tokens one forward pass takes (position embeddings)
    has_nsp: bool        # BertForPreTraining-style next-sentence head
    byte_level: bool     # byte-level BPE: any text is representable
    lock: threading.Lock = field(default_factory=threading.Lock)


# ---------------------------------------------------------------- catalog
def _bundled() -> dict[str, tuple[Path, str, str]]:
    """Bundled models: name -> (folder, kind, honest description)."""
    out: dict[str, tuple[Path, str, str]] = {}
    minilm = minilm_folder()
    if minilm is not None:
        out["all-MiniLM-L6-v2"] = (minilm, "encoder",
                                   "all-MiniLM-L6-v2: 6 layers x 12 heads, uncased English WordPiece; "
                                   "distilled from a BERT's self-attention, tuned for sentence "
                                   "embeddings; no MLM or NSP head")
    for name, kind in MINILM_LMS.items():  # only once trained (scripts/train_minilm_lms.py)
        if (ASSETS / name / "config.json").is_file():
            out[name] = (ASSETS / name, kind, describe(name, "en"))
    out["tiny-bert"] = (ASSETS / "tiny-bert", "masked-lm",
                        "tiny BERT (4 layers x 4 heads, MLM + NSP) trained by this project on Tiny "
                        "Shakespeare and Tatoeba English sentences")
    out["tiny-gpt2"] = (ASSETS / "tiny-gpt2", "causal-lm",
                        "tiny GPT-2 (4 layers x 4 heads) trained by this project on Tiny Shakespeare only")
    return out


def catalog_entries() -> list[ModelInfo]:
    """Provider for lmcore.catalog: bundled models (offline) and hub names."""
    entries = [ModelInfo(name, kind, (folder / "config.json").is_file(), desc,
                         attention="multi-head", extra={"metrics": read_metrics(folder)} if read_metrics(folder) else {})
               for name, (folder, kind, desc) in _bundled().items()]
    for name, (kind, desc) in HUB_MODELS.items():
        entries.append(ModelInfo(name, kind, _cached_folder(name) is not None, desc, attention="multi-head"))
    return entries


def _cached_folder(hub_id: str) -> Path | None:
    """The local snapshot of a hub model, if the HF cache holds one (no network)."""
    try:
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
CACHE_SIZE = 6  # models kept loaded per process, least recently used dropped (memory stays bounded)
_CACHE: OrderedDict[str, LoadedModel] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def load_model(name: str, allow_network: bool | None = None) -> LoadedModel:
    """Load (once per process) a catalog name, hub id or local folder.

    The network is tried only when `allow_network` is True (default: the
    ATTN_LAB_ALLOW_DOWNLOAD=1 environment variable, and never with HF_HUB_OFFLINE=1).
    Raises UserFacingError("lm.err.unavailable") when the model is not here.
    """
    name = (name or "").strip()
    with _CACHE_LOCK:
        if name in _CACHE:
            _CACHE.move_to_end(name)
            return _CACHE[name]
    if allow_network is None:
        allow_network = os.environ.get("ATTN_LAB_ALLOW_DOWNLOAD") == "1"
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        allow_network = False
    loaded = _load(name, _resolve(name, allow_network), allow_network)
    with _CACHE_LOCK:
        loaded = _CACHE.setdefault(name, loaded)
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
        return loaded


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
    if not name or not model_paths.HUB_ID.match(name):
        raise UserFacingError("errors.unknown_model", name=name)
    cached = _cached_folder(name)
    if cached is not None:
        return str(cached)
    if allow_network:
        return name
    raise UserFacingError("lm.err.unavailable", name=name)


def _model_class(config, kind_hint: str | None):
    """(transformers class, kind) for a config; only BERT/GPT-style families."""
    arch = (config.architectures or [""])[0]
    if arch.endswith("LMHeadModel") or arch.endswith("ForCausalLM") or config.model_type in ("gpt2", "gpt_neo", "gptj"):
        return transformers.AutoModelForCausalLM, "causal-lm"
    if config.model_type == "bert" and (arch in ("BertForPreTraining", "BertForMaskedLM") or kind_hint == "masked-lm"):
        return transformers.BertForPreTraining, "masked-lm"
    if arch.endswith("ForMaskedLM") or kind_hint == "masked-lm":
        return transformers.AutoModelForMaskedLM, "masked-lm"
    return transformers.AutoModel, "encoder"


def _load(name: str, source: str, allow_network: bool) -> LoadedModel:
    transformers.utils.logging.disable_progress_bar()
    hint = _bundled().get(name, (None, None))[1] or HUB_MODELS.get(name, (None,))[0]
    common = dict(local_files_only=not allow_network, trust_remote_code=False)
    if Path(source).is_dir():  # a broken file gets a message naming it, before transformers reads it
        model_paths.check_folder(source)
    spec = base_weights.read_spec(source) if Path(source).is_dir() else None
    stage = "config.json"
    try:
        config = transformers.AutoConfig.from_pretrained(source, **common)
        stage = "model.safetensors"
        cls, kind = _model_class(config, hint)
        with _quiet(spec is not None):  # the frozen tensors are "missing" on purpose
            model, info = cls.from_pretrained(source, config=config, attn_implementation="eager",
                                              use_safetensors=True, dtype=torch.float32,
                                              output_loading_info=True, **common)
        if spec is not None:
            base_weights.apply_base_weights(model, spec, name, info["missing_keys"])
        if cls is transformers.BertForPreTraining and any("seq_relationship" in k for k in info["missing_keys"]):
            model = transformers.AutoModelForMaskedLM.from_pretrained(source, config=config, attn_implementation="eager",
                                                                      use_safetensors=True, dtype=torch.float32, **common)
        stage = "tokenizer.json"
        tokenizer = transformers.AutoTokenizer.from_pretrained(source, **common)
    except UserFacingError:
        raise
    except Exception as error:  # broken or unsupported files: a message naming the file, never a traceback
        raise UserFacingError("lm.err.load_failed", name=name, reason=f"{stage}: {type(error).__name__}") from error
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


@contextmanager
def _quiet(on: bool):
    """transformers' loading report silenced (only while loading a model with base weights)."""
    level = transformers.utils.logging.get_verbosity()
    if on:
        transformers.utils.logging.set_verbosity_error()
    try:
        yield
    finally:
        transformers.utils.logging.set_verbosity(level)


def default_causal_lm() -> str | None:
    """The bundled model the GPT page opens on, and the CLI's default: minilm-gpt once trained,
    else tiny-gpt2 (None if neither is here)."""
    return next((n for n in ("minilm-gpt", "tiny-gpt2") if available(n)), None)


def default_masked_lm() -> str | None:
    """The bundled model the BERT page fills blanks with when the chosen one has no MLM head:
    minilm-mlm once trained, else tiny-bert (None if neither is here)."""
    return next((n for n in ("minilm-mlm", "tiny-bert") if available(n)), None)


def require_kind(lm: LoadedModel, kind: str) -> None:
    """UserFacingError("lm.err.wrong_kind") unless the model is of this kind."""
    if lm.kind != kind:
        raise UserFacingError("lm.err.wrong_kind", name=lm.name, kind=lm.kind, needed=kind)


def as_loaded(model: LoadedModel | str) -> LoadedModel:
    return model if isinstance(model, LoadedModel) else load_model(model)


def describe(name: str, lang: str = "en") -> str:
    """The translated, honest description of a catalog model (with its measured quality)."""
    if name in MINILM_LMS:
        return translate(f"lm.model.{name}", lang, **measured(read_metrics(ASSETS / name)))
    bundled = _bundled()
    if name not in bundled:
        return translate("lm.model.hub", lang, name=name)
    m = read_metrics(bundled[name][0])
    acc = f"{100 * m['masked_token_accuracy']:.1f}%" if "masked_token_accuracy" in m else "?"
    ppl = f"{m['validation_perplexity']:.1f}" if "validation_perplexity" in m else "?"
    minutes = f"{m['train_cpu_seconds'] / 60:.1f}" if "train_cpu_seconds" in m else "?"
    return translate(f"lm.model.{name}", lang, accuracy=acc, perplexity=ppl, minutes=minutes)
