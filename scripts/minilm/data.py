"""The data of the MiniLM runs: the corpora and their splits, the held-out sentences, and the
batches of the masked LM (whole-word masking + next-sentence pairs) and of the causal LM.

Corpora (../shared/datasets, read only; never committed): the English side of fra-eng.tsv
(Tatoeba, CC-BY 2.0 FR) split by sentence hash into train 94% / validation 3% / test 3%; Tiny
Shakespeare, first 90% of lines train, last 10% held out; WordNet 3.0's glosses (wordnet.py).
The held-out everyday pairs are scripts/data/*.tsv but *_train*.tsv.
"""
from __future__ import annotations

import random
import re
import zlib

import torch

from scripts.minilm import wordnet
from scripts.minilm.budget import log
from scripts.minilm.config import DATA, PAIRS, SEED

TWO_SENTENCES = re.compile(r'^(.+?[.!?]"?)\s+(\S.*)$')


# ---------------------------------------------------------------- corpora
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
    rows = [ln.split("\t") for ln in (PAIRS / name).read_text(encoding="utf-8").splitlines()
            if ln.strip() and not ln.startswith("#")]
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
    files = sorted(f.name for f in PAIRS.glob("*.tsv") if "_train" not in f.name)
    return eng["val"] + eng["test"] + [s for name in files for pair in read_pairs(name) for s in pair]


def wordnet_texts() -> list[str]:
    """WordNet 3.0's definitions and examples as sentences, less near-copies of held-out sentences."""
    texts = wordnet.read_texts()
    kept = wordnet.drop_near_copies(texts, held_out_sentences())
    log(f"wordnet: {len(kept)} texts kept, {len(texts) - len(kept)} near-copies of held-out sentences dropped")
    return kept


# ---------------------------------------------------------------- masked LM batches
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


def pad(rows: list[list[int]], value: int) -> torch.Tensor:
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
        return {"input_ids": pad([m[0] for m in masked], 0),
                "token_type_ids": pad([e["token_type_ids"] for e in enc], 0),
                "attention_mask": pad([e["attention_mask"] for e in enc], 0),
                "labels": pad([m[1] for m in masked], -100),
                "next_sentence_label": torch.tensor(nsp)}


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


# ---------------------------------------------------------------- causal LM batches
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
        ids = pad(rows, 0)
        mask = pad([[1] * len(r) for r in rows], 0)
        labels = ids.masked_fill(mask == 0, -100)
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}
