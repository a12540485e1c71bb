"""The learned position tables of real models (BERT's position_embeddings, GPT-2's wpe):
what the positional page sets beside the sinusoidal code (lmcore.positional).

    position_tables(lmcore.catalog.position_table_files()) -> {name: (T, D)}
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from safetensors import safe_open
from torch import nn

from lmcore.errors import UserFacingError

_POSITION_SUFFIXES = ("position_embeddings.weight", "wpe.weight")


def _is_position_table(name: str) -> bool:
    return name.endswith(_POSITION_SUFFIXES) and "token_type" not in name


def learned_positions_from_model(model: nn.Module) -> np.ndarray:
    """The (max_positions, hidden) learned position table of a loaded transformers model.

    Finds BERT's `embeddings.position_embeddings` or GPT-2's `wpe`; raises
    UserFacingError("tf.err.no_learned_positions") for models without one.
    """
    for name, param in model.named_parameters():
        if _is_position_table(name):
            return param.detach().float().cpu().numpy()
    raise UserFacingError("tf.err.no_learned_positions", name=type(model).__name__)


def learned_positions_from_safetensors(path: str | Path) -> np.ndarray:
    """The learned position table stored in a safetensors file, read without building the model."""
    with safe_open(str(path), framework="np") as f:
        for name in f.keys():
            if _is_position_table(name):
                return np.asarray(f.get_tensor(name), dtype=np.float32)
    raise UserFacingError("tf.err.no_learned_positions", name=Path(path).parent.name)


def position_tables(files: dict[str, Path]) -> dict[str, np.ndarray]:
    """Learned position tables read from weight files: name -> (T, D); a file without one
    is left out (lmcore.catalog.position_table_files gives the bundled models' files)."""
    tables = {}
    for name, path in files.items():
        try:
            tables[name] = learned_positions_from_safetensors(path)
        except UserFacingError:
            continue
    return tables
