"""The parts of the tiny LMs' training: data, tokenizers, batches, losses, the loop, saving.
Used by `python -m scripts.tiny_lms` (__main__.py, which says what is trained on what)."""
from __future__ import annotations

import json
import math
import random
import time
import zlib
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "datasets"
ASSETS = ROOT / "lmcore" / "assets"
SEED = 1234


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


# ---------------------------------------------------------------- data
def shakespeare_lines() -> tuple[list[str], list[str]]:
    lines = [ln.strip() for ln in (DATA / "tinyshakespeare.txt").read_text().splitlines()]
    lines = [ln for ln in lines if ln]
    cut = int(len(lines) * 0.9)
    return lines[:cut], lines[cut:]


def english_sentences() -> tuple[list[str], list[str]]:
    seen: dict[str, None] = {}
    for row in (DATA / "fra-eng.tsv").read_text(encoding="utf-8").splitlines():
        seen.setdefault(row.split("\t")[0].strip(), None)
    train, val = [], []
    for s in seen:
        (val if zlib.crc32(s.encode()) % 20 == 0 else train).append(s)
    return train, val


# ---------------------------------------------------------------- tokenizers
def train_bpe(texts: list[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Byte-level BPE as in GPT-2: any text (Korean too) is representable."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>",
                                   eos_token="<|endoftext|>", unk_token="<|endoftext|>",
                                   model_max_length=128)


def train_wordpiece(texts: list[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Lower-cased WordPiece as in bert-base-uncased."""
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=vocab_size,
                                                             special_tokens=specials))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                   model_max_length=128,
                                   model_input_names=["input_ids", "token_type_ids", "attention_mask"])


# ---------------------------------------------------------------- GPT-2
def gpt2_blocks(tok: PreTrainedTokenizerFast, lines: list[str], block: int) -> torch.Tensor:
    ids = tok("\n".join(lines))["input_ids"]
    n = len(ids) // block
    return torch.tensor(ids[: n * block]).view(n, block)  # (n, block)


def gpt2_loss(model: GPT2LMHeadModel, x: torch.Tensor) -> torch.Tensor:
    return model(input_ids=x, labels=x).loss


# ---------------------------------------------------------------- BERT
MASK_RATE = 0.15  # BERT's; --mask-rate changes it in training (Wettig et al. 2022: higher can help)


def mask_tokens(ids: torch.Tensor, special: torch.Tensor, tok, rng: torch.Generator, rate: float = MASK_RATE):
    """BERT's masking: pick `rate` of the tokens; 80% [MASK], 10% random, 10% unchanged."""
    labels = ids.clone()
    pick = (torch.rand(ids.shape, generator=rng) < rate) & ~special
    labels[~pick] = -100
    ids = ids.clone()
    r = torch.rand(ids.shape, generator=rng)
    ids[pick & (r < 0.8)] = tok.mask_token_id
    rand = pick & (r >= 0.8) & (r < 0.9)
    ids[rand] = torch.randint(5, len(tok), ids.shape, generator=rng)[rand]
    return ids, labels


def bert_examples(lines: list[str], sentences: list[str], rng: random.Random):
    """(text_a, text_b or None, nsp_label: 0 is-next, 1 random, -100 no pair)."""
    out = []
    for i in range(len(lines) - 1):
        if rng.random() < 0.5:
            out.append((lines[i], lines[i + 1], 0))
        else:
            out.append((lines[i], lines[rng.randrange(len(lines))], 1))
    out += [(s, None, -100) for s in sentences]
    return out


def bert_batch(tok, examples, rng: torch.Generator, mask_rate: float = MASK_RATE):
    """Pairs as [CLS] A [SEP] B [SEP], single sentences as [CLS] A [SEP]; padded to the
    longest in the batch (at most 64 tokens) and masked for MLM (`mask_rate` of the tokens)."""
    encs = [tok(a, b, truncation=True, max_length=64, return_special_tokens_mask=True)
            if b is not None else tok(a, truncation=True, max_length=64, return_special_tokens_mask=True)
            for a, b, _ in examples]
    width = max(len(e["input_ids"]) for e in encs)
    pad = lambda key, fill: torch.tensor([e[key] + [fill] * (width - len(e[key])) for e in encs])
    ids, labels = mask_tokens(pad("input_ids", tok.pad_token_id), pad("special_tokens_mask", 1).bool(), tok, rng,
                              mask_rate)
    nsp = torch.tensor([e[2] for e in examples])
    return ids, pad("token_type_ids", 0), pad("attention_mask", 0), labels, nsp


def bert_losses(model, batch):
    """MLM loss on the masked positions only (the vocabulary head runs on those rows
    alone) + NSP loss on the pairs."""
    ids, types, mask, labels, nsp = batch
    out = model.bert(input_ids=ids, token_type_ids=types, attention_mask=mask)
    picked = labels != -100
    mlm_logits = model.cls.predictions(out.last_hidden_state[picked])  # (masked, vocab)
    nsp_logits = model.cls.seq_relationship(out.pooler_output)  # (B, 2)
    ce = torch.nn.functional.cross_entropy
    mlm = ce(mlm_logits, labels[picked])
    nsp_loss = ce(nsp_logits, nsp, ignore_index=-100) if (nsp >= 0).any() else 0.0
    return mlm + nsp_loss, (mlm_logits, labels[picked], nsp_logits)


# ---------------------------------------------------------------- loop
def train_loop(model, next_batch, loss_fn, minutes: float, lr: float, steps: int | None = None,
               max_wall_minutes: float | None = None, stop_after: int | None = None) -> dict:
    """AdamW with warm-up and cosine decay over `steps` (default: as many as the first
    20 steps' speed says fit in `minutes` of CPU time: on a shared machine, wall time
    says little). Stops early, keeping what it learnt, on Ctrl-C, after 1.5 x `minutes`
    of CPU time, or after `max_wall_minutes` (default 3 x `minutes`) of wall time."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    model.train()
    wall0, step, total, warm = time.time(), 0, steps, 100
    start = time.process_time()
    max_wall = 60 * (max_wall_minutes or 3 * minutes)
    stopped = "completed"
    try:
        while total is None or step < total:
            frac = step / total if total else 0.0
            for g in opt.param_groups:
                g["lr"] = lr * min(1.0, (step + 1) / warm) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
            loss = loss_fn(next_batch())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            if step == 20 and total is None:
                total = max(50, int(minutes * 60 / ((time.process_time() - start) / 20)))
                log(f"CPU time per step {(time.process_time() - start) / 20:.2f}s -> {total} steps")
            if step % 50 == 0:
                log(f"step {step}/{total} loss {loss.item():.3f}")
            if step == stop_after:
                stopped = "stop-after"
                break
            if time.process_time() - start > 1.5 * minutes * 60 or time.time() - wall0 > max_wall:
                stopped = "time limit"
                log(f"time limit at step {step}/{total}; evaluating and saving what we have")
                break
    except KeyboardInterrupt:
        stopped = "interrupted"
        log(f"interrupted at step {step}; evaluating and saving what we have")
    model.eval()
    return {"steps": step, "planned_steps": total, "stopped": stopped,
            "train_cpu_seconds": round(time.process_time() - start, 1),
            "train_wall_seconds": round(time.time() - wall0, 1)}


def save(model, tok, folder: Path, metrics: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    metrics["size_bytes_on_disk"] = size
    metrics["parameters"] = sum(p.numel() for p in model.parameters())
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    write_card(folder, metrics, "tiny-gpt2" if isinstance(model, GPT2LMHeadModel) else "tiny-bert")
    log(f"saved to {folder}: {json.dumps(metrics)}")


def write_card(folder: Path, metrics: dict, name: str) -> None:
    """A short, honest model card next to the weights."""
    lines = [f"# {name}", "",
             "Trained by `scripts/train_tiny_lms.py` (see `scripts/train_tiny_lms.sh`) on one CPU thread.",
             "A teaching model: far weaker than the real model of the same architecture.", "",
             f"- data: {metrics.get('data')}", f"- tokenizer: {metrics.get('tokenizer')}",
             f"- parameters: {metrics.get('parameters'):,}; files: {metrics.get('size_bytes_on_disk', 0) / 1e6:.1f} MB",
             f"- training: {metrics.get('steps')} steps ({metrics.get('stopped', 'completed')}), "
             f"{metrics.get('train_cpu_seconds')} s CPU ({metrics.get('train_wall_seconds')} s wall), "
             f"seed {metrics.get('seed')}"]
    for key in ("validation_perplexity", "masked_token_accuracy", "next_sentence_accuracy"):
        if key in metrics:
            lines.append(f"- {key.replace('_', ' ')} (held-out split): {metrics[key]}")
    if "Tatoeba" in str(metrics.get("data")):
        lines += ["", "English sentences from Tatoeba (tatoeba.org), CC-BY 2.0 FR, via manythings.org."]
    (folder / "README.md").write_text("\n".join(lines) + "\n")
