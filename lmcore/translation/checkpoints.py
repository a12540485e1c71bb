"""Translator checkpoints: safetensors weights + JSON config + JSON vocabularies.

A checkpoint directory holds

    model.safetensors   the weights (float16 by default: half the size, same translations)
    config.json         {"arch": "rnn", "model": {...config...}, "source": {tokenizer},
                         "target": {tokenizer}, "meta": {...free-form facts...}}
    vocab.src.json      the source vocabulary, a list of tokens (id = position)
    vocab.tgt.json      the target vocabulary

`ARCHITECTURES` maps config["arch"] to "module:Class"; the class needs
`from_config(dict)` and a `config` with `to_dict()`. Another model family registers
itself with one line here. Nothing is unpickled: safetensors and JSON only.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from lmcore.errors import UserFacingError
from lmcore.translation.text import Tokenizer, Vocab

ARCHITECTURES: dict[str, str] = {
    "rnn": "lmcore.seq2seq:Seq2Seq",
    "transformer": "lmcore.transformer:Transformer",
}
WEIGHTS, CONFIG, SRC_VOCAB, TGT_VOCAB = "model.safetensors", "config.json", "vocab.src.json", "vocab.tgt.json"


@dataclass
class Checkpoint:
    """A loaded translator: model (eval mode) and its text handling."""

    model: nn.Module
    src_tokenizer: Tokenizer
    tgt_tokenizer: Tokenizer
    src_vocab: Vocab
    tgt_vocab: Vocab
    meta: dict = field(default_factory=dict)


def model_class(arch: str) -> type:
    if arch not in ARCHITECTURES:
        raise UserFacingError("s2s.err.bad_checkpoint", path=f"arch={arch}")
    module, name = ARCHITECTURES[arch].split(":")
    return getattr(import_module(module), name)


def save_checkpoint(directory: str | Path, ckpt: Checkpoint, dtype: torch.dtype = torch.float16) -> Path:
    """Write the four files; returns the directory."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: (v.to(dtype) if v.is_floating_point() else v).contiguous()
               for k, v in ckpt.model.state_dict().items()}
    save_file(tensors, str(out / WEIGHTS))
    config = {"arch": getattr(ckpt.model.config, "arch", "rnn"),
              "model": ckpt.model.config.to_dict(),
              "source": ckpt.src_tokenizer.to_dict(), "target": ckpt.tgt_tokenizer.to_dict(),
              "meta": ckpt.meta}
    _write_json(out / CONFIG, config)
    _write_json(out / SRC_VOCAB, ckpt.src_vocab.to_list())
    _write_json(out / TGT_VOCAB, ckpt.tgt_vocab.to_list())
    return out


def load_checkpoint(directory: str | Path) -> Checkpoint:
    """Read a checkpoint directory; weights come back as float32, model in eval mode."""
    path = Path(directory)
    try:
        config = json.loads((path / CONFIG).read_text(encoding="utf-8"))
        src_vocab = Vocab.from_list(json.loads((path / SRC_VOCAB).read_text(encoding="utf-8")))
        tgt_vocab = Vocab.from_list(json.loads((path / TGT_VOCAB).read_text(encoding="utf-8")))
        tensors = load_file(str(path / WEIGHTS))
        model = model_class(config.get("arch", "rnn")).from_config(config["model"])
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in tensors.items()})
    except UserFacingError:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError):
        raise UserFacingError("s2s.err.bad_checkpoint", path=str(path)) from None
    model.eval()
    return Checkpoint(model, Tokenizer.from_dict(config["source"]), Tokenizer.from_dict(config["target"]),
                      src_vocab, tgt_vocab, config.get("meta", {}))


def checkpoint_size(directory: str | Path) -> int:
    """Bytes of the weight file."""
    return (Path(directory) / WEIGHTS).stat().st_size


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
