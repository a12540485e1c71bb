"""Train the two tiny bundled language models: tiny-bert and tiny-gpt2.

    nice -n 10 python -m scripts.tiny_lms gpt2 --minutes 14     # or scripts/train_tiny_lms.py gpt2 ...
    nice -n 10 python -m scripts.tiny_lms bert --minutes 14

Both use transformers' own model classes (`GPT2LMHeadModel`, `BertForPreTraining`)
from a small config, so they take the same code path in `lmcore.pretrained.encoding` as the
real GPT-2 and BERT. Each gets its own tokenizer trained with `tokenizers`
(byte-level BPE for GPT-2, lower-cased WordPiece for BERT).

Data (../shared/datasets, read only):
  tiny-gpt2: Tiny Shakespeare; the last 10% of lines is the validation split.
  tiny-bert: Tiny Shakespeare (MLM + next-sentence pairs of consecutive lines) and
             the English side of fra-eng.tsv (Tatoeba, CC-BY 2.0 FR; MLM only);
             held out: the last 10% of Shakespeare lines and 5% of the English
             sentences (split by sentence).
The training budget is CPU minutes of the one training thread: the step count is
fixed after timing the first steps (or given with --steps). Output: config.json, model.safetensors, tokenizer files and
metrics.json (validation perplexity / masked-token accuracy) in the asset folder.
Ctrl-C stops training early and still evaluates and saves.
"""
from __future__ import annotations

import argparse
import math
import random
from pathlib import Path

import torch
from transformers import BertConfig, BertForPreTraining, GPT2Config, GPT2LMHeadModel

from scripts.tiny_lms.parts import (ASSETS, SEED, bert_batch, bert_examples, bert_losses, english_sentences,
                                    gpt2_blocks, gpt2_loss, log, save, shakespeare_lines, train_bpe,
                                    train_loop, train_wordpiece)


def run_gpt2(args) -> None:
    train_lines, val_lines = shakespeare_lines()
    tok = train_bpe(train_lines, args.vocab)
    cfg = GPT2Config(vocab_size=len(tok), n_positions=128, n_embd=args.width, n_layer=4, n_head=4,
                     bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id)
    model = GPT2LMHeadModel(cfg)
    train, val = gpt2_blocks(tok, train_lines, 128), gpt2_blocks(tok, val_lines, 128)
    log(f"gpt2: {len(train)} train / {len(val)} val blocks of 128, vocab {len(tok)}")
    g = torch.Generator().manual_seed(SEED)
    batch = lambda: train[torch.randint(len(train), (args.batch,), generator=g)]
    info = train_loop(model, batch, lambda x: gpt2_loss(model, x), args.minutes, args.lr, args.steps,
                      args.max_wall_minutes, args.stop_after)
    with torch.inference_mode():
        losses = [gpt2_loss(model, val[i:i + 32]).item() * len(val[i:i + 32])
                  for i in range(0, len(val), 32)]
    val_loss = sum(losses) / len(val)
    save(model, tok, Path(args.out or ASSETS / "tiny-gpt2"), {
        **info, "validation_perplexity": round(math.exp(val_loss), 2),
        "validation_tokens": int(val.numel()),
        "data": "Tiny Shakespeare (first 90% of lines; last 10% held out)",
        "tokenizer": f"byte-level BPE, {len(tok)} tokens", "seed": SEED,
        "learning_rate": args.lr, "batch": args.batch})


def run_bert(args) -> None:
    rng = random.Random(SEED)
    (sh_train, sh_val), (en_train, en_val) = shakespeare_lines(), english_sentences()
    tok = train_wordpiece(sh_train + en_train, args.vocab)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=args.width, num_hidden_layers=4,
                     num_attention_heads=4, intermediate_size=4 * args.width,
                     max_position_embeddings=128, pad_token_id=tok.pad_token_id)
    model = BertForPreTraining(cfg)
    train, val = bert_examples(sh_train, en_train, rng), bert_examples(sh_val, en_val, rng)
    log(f"bert: {len(train)} train / {len(val)} val examples, vocab {len(tok)}")
    g = torch.Generator().manual_seed(SEED)
    batch = lambda: bert_batch(tok, rng.sample(train, args.batch), g, args.mask_rate)
    info = train_loop(model, batch, lambda b: bert_losses(model, b)[0], args.minutes, args.lr, args.steps,
                      args.max_wall_minutes, args.stop_after)
    # evaluated on the standard task (bert_batch's default rate, 15%) whatever the training rate
    correct = total = nsp_ok = nsp_n = 0
    val_rng = random.Random(SEED + 1)
    gv = torch.Generator().manual_seed(SEED + 1)
    val = val_rng.sample(val, min(len(val), 4000))
    with torch.inference_mode():
        for i in range(0, len(val), 64):
            b = bert_batch(tok, val[i:i + 64], gv)
            _, (mlm_logits, targets, nsp_logits) = bert_losses(model, b)
            correct += (mlm_logits.argmax(-1) == targets).sum().item()
            total += targets.numel()
            p = b[4] >= 0
            nsp_ok += (nsp_logits.argmax(-1)[p] == b[4][p]).sum().item()
            nsp_n += p.sum().item()
    save(model, tok, Path(args.out or ASSETS / "tiny-bert"), {
        **info, "masked_token_accuracy": round(correct / total, 4), "masked_tokens": total,
        "next_sentence_accuracy": round(nsp_ok / max(nsp_n, 1), 4), "next_sentence_pairs": nsp_n,
        "data": "Tiny Shakespeare (90% of lines; consecutive lines as next-sentence pairs) + "
                "English side of Tatoeba fra-eng (95% of sentences; CC-BY 2.0 FR)",
        "tokenizer": f"lower-cased WordPiece, {len(tok)} tokens", "seed": SEED,
        "training_mask_rate": args.mask_rate, "learning_rate": args.lr, "batch": args.batch})


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m scripts.tiny_lms", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("which", choices=["gpt2", "bert"])
    p.add_argument("--minutes", type=float, default=14.0, help="training budget in CPU minutes (one thread)")
    p.add_argument("--max-wall-minutes", type=float, default=None, help="hard wall-clock cap (default 3 x minutes)")
    p.add_argument("--steps", type=int, default=None, help="fixed step count (default: fit the budget)")
    p.add_argument("--out", default=None, help="output folder (default: lmcore/assets/tiny-<which>)")
    p.add_argument("--stop-after", type=int, default=None,
                   help="stop after this many steps of the --steps schedule (replays a run cut short)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--mask-rate", type=float, default=0.15, help="BERT: share of tokens masked in training")
    p.add_argument("--vocab", type=int, default=4096)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    (run_gpt2 if args.which == "gpt2" else run_bert)(args)


if __name__ == "__main__":
    main()
