"""Which model folders the app may open, and a model folder's files checked before loading.

A free model id typed in the app (or carried by a shared link) is one of:
- a catalog name (`tiny-bert`, `bert-base-uncased`, ...);
- a hub id (`owner/name`), looked up in the local Hugging Face cache;
- a folder under an allowed root: the Hugging Face cache, the project's assets, the
  folders named in ATTN_LAB_MODEL_DIRS (os.pathsep-separated; the operator's setting)
  and the roots the caller adds (the session's own fine-tuned models).
Anything else gets one message, `lm.err.path_refused`, which names nothing and is the
same for `/etc`, `/root` and `/nonexistent`: it says nothing about what exists.

    confine("tiny-bert")                          # fine
    confine("/etc")                               # UserFacingError("lm.err.path_refused")
    confine(str(folder), extra_roots=[session])   # a session's own fine-tuned model
    check_folder(folder)                          # UserFacingError naming a broken file

The command line does not confine paths (its user is the machine's operator).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Iterable

from huggingface_hub import constants

from lmcore.catalog import ASSETS
from lmcore.errors import UserFacingError

ENV_DIRS = "ATTN_LAB_MODEL_DIRS"
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
MAX_CONFIG_BYTES = 1_000_000
MAX_PARAMETERS = 1_500_000_000   # ~6 GB of float32: more does not fit a classroom server
CONFIG_LIMITS = {  # config field -> largest value loaded (BERT and GPT-2 spellings)
    "num_hidden_layers": 96, "n_layer": 96, "num_attention_heads": 128, "n_head": 128,
    "hidden_size": 8192, "n_embd": 8192, "intermediate_size": 65536, "n_inner": 65536,
    "vocab_size": 500_000, "max_position_embeddings": 65_536, "n_positions": 65_536,
}
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "base_weights.json")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json")


def allowed_roots(extra_roots: Iterable[str | Path] = ()) -> list[Path]:
    """The folders under which a model folder may be opened (resolved, existing or not)."""
    roots: list[Path] = [ASSETS]
    try:
        roots.append(Path(constants.HF_HUB_CACHE))
    except ImportError:
        pass
    roots += [Path(p) for p in os.environ.get(ENV_DIRS, "").split(os.pathsep) if p.strip()]
    roots += [Path(p) for p in extra_roots]
    return [r.expanduser().resolve() for r in roots]


def looks_like_path(name: str) -> bool:
    """True for names that can only mean a folder (absolute, ~, ./, ../, backslash, a:/)."""
    return name.startswith(("/", ".", "~")) or "\\" in name or ":" in name or name.count("/") > 1


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def confine(name: str, bundled: Iterable[str] = (), extra_roots: Iterable[str | Path] = ()) -> None:
    """Raise UserFacingError unless `name` is a catalog name, a hub id or an allowed folder.

    bundled: the catalog's names (always fine). A hub-shaped name that is also a folder
    outside the roots gets the same answer as a hub id that is not here.
    """
    name = (name or "").strip()
    if not name or name in set(bundled):
        return
    roots = allowed_roots(extra_roots)
    if not looks_like_path(name):
        try:
            local = Path(name).resolve()
        except (OSError, RuntimeError, ValueError):
            return  # the loader answers "unknown model"
        if local.is_dir() and not _inside(local, roots):  # the loader's answer when it is not here
            raise UserFacingError("lm.err.unavailable" if HUB_ID.match(name) else "errors.unknown_model", name=name)
        return
    try:
        path = Path(name).expanduser().resolve()
        ok = _inside(path, roots) and path.is_dir()
    except (OSError, RuntimeError, ValueError):  # unreadable, a symlink loop, a NUL byte
        ok = False
    if not ok:
        raise UserFacingError("lm.err.path_refused")


def check_folder(folder: str | Path) -> None:
    """A local model folder's files, checked before transformers reads them.

    Raises UserFacingError naming the file: lm.err.not_a_model (no config.json),
    lm.err.file_bad (unreadable or bad JSON), lm.err.file_too_big, lm.err.config_too_big
    (a field over CONFIG_LIMITS or more than MAX_PARAMETERS), lm.err.file_missing.
    A broken metrics.json is not checked here: the model loads without its figures.
    """
    folder = Path(folder)
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise UserFacingError("lm.err.not_a_model", name=str(folder))
    config = _read_json(config_path)
    _check_sizes(config)
    for optional in ("tokenizer_config.json", "special_tokens_map.json", "tokenizer.json"):  # base_weights.json: its own messages
        if (folder / optional).is_file():
            _read_json(folder / optional, max_bytes=50 * MAX_CONFIG_BYTES)
    if not any((folder / f).is_file() for f in WEIGHT_FILES):
        raise UserFacingError("lm.err.file_missing", file=WEIGHT_FILES[0])
    if not any((folder / f).is_file() for f in TOKENIZER_FILES):
        raise UserFacingError("lm.err.file_missing", file=TOKENIZER_FILES[0])


def _read_json(path: Path, max_bytes: int = MAX_CONFIG_BYTES) -> dict:
    try:
        if path.stat().st_size > max_bytes:
            raise UserFacingError("lm.err.file_too_big", file=path.name, megabytes=max_bytes / 1e6)
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UserFacingError("lm.err.file_bad", file=path.name, reason=type(error).__name__) from error
    if not isinstance(data, dict):
        raise UserFacingError("lm.err.file_bad", file=path.name, reason="not a JSON object")
    return data


def _check_sizes(config: dict) -> None:
    """Each size field a positive int under its limit, and the model under MAX_PARAMETERS."""
    for field, limit in CONFIG_LIMITS.items():
        value = config.get(field)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= limit:
            raise UserFacingError("lm.err.config_too_big", file="config.json", field=field, value=str(value)[:40])
    layers = config.get("num_hidden_layers") or config.get("n_layer") or 0
    width = config.get("hidden_size") or config.get("n_embd") or 0
    inner = config.get("intermediate_size") or config.get("n_inner") or 4 * width
    vocab, positions = config.get("vocab_size") or 0, config.get("max_position_embeddings") or config.get("n_positions") or 0
    estimate = layers * (4 * width * width + 2 * width * inner) + (vocab + positions) * width
    if estimate > MAX_PARAMETERS:
        raise UserFacingError("lm.err.config_too_big", file="config.json", field="parameters", value=f"{estimate:,}")


def read_metrics(folder: str | Path) -> dict:
    """A model folder's metrics.json: {} when absent, unreadable or not a JSON object."""
    try:
        data = json.loads((Path(folder) / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def measured(m: dict) -> dict[str, str]:
    """Display figures of a metrics.json written by scripts/train_minilm_lms.py ("?" if absent)."""
    test = m.get("test", {})
    fill, nsp, every = test.get("fill_mask", {}), test.get("next_sentence", {}), test.get("everyday", {})

    def pct(v: object) -> str:
        return f"{100 * v:.1f}%" if isinstance(v, (int, float)) else "?"

    def num(v: object, digits: int) -> str:
        return f"{v:.{digits}f}" if isinstance(v, (int, float)) else "?"

    seconds = m.get("train_cpu_seconds")
    parts = [v for v in nsp.get("parts", {}).values() if isinstance(v, dict)] or [nsp]
    nsp_parts = ", ".join(f"{pct(p.get('accuracy'))} ({p.get('pairs', '?')})" for p in parts)
    return {"minutes": num(seconds / 60 if isinstance(seconds, (int, float)) else None, 1),
            "steps": f"{m['steps']:,}" if isinstance(m.get("steps"), int) else "?",
            "top1": pct(fill.get("top1")), "top5": pct(fill.get("top5")), "nsp": pct(nsp.get("accuracy")),
            "nsp_pairs": str(nsp.get("pairs", "?")), "nsp_parts": nsp_parts,
            "bpc": num(every.get("bits_per_character"), 2), "perplexity": num(every.get("token_perplexity"), 1)}
