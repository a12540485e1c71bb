"""How well a language model does on held-out text: the figures its metrics.json records.

    score = text_bits(lm, ["I would like to go.", "She ran home."])
    score.bits_per_character, score.token_perplexity
    fill_mask_accuracy(lm, sentences)         # {"top1", "top5", "sentences", "skipped"}
    next_sentence_accuracy(lm, [(a, b, 1), ...])  # {"accuracy", "pairs"}

Each line is scored on its own (the training code, scripts/minilm/measure.py, scores its
held-out sentences with this function): a WordPiece causal LM reads
[CLS] + tokens + [SEP] and every token after [CLS] is predicted, [SEP] included; a
byte-level GPT-2 predicts every token after the first. Bits are summed over the
predicted tokens and divided by the characters of the lines. A line longer than the
model's context is processed in overlapping windows of `lm.max_length` tokens: each
token is predicted once, with up to half a window of preceding context.
Bad input raises lmcore.errors.UserFacingError.

fill_mask_accuracy masks one random single-piece word per sentence (fixed seed) and asks for
the top 5 whole words, as the fill-mask page offers them; next_sentence_accuracy counts the
pairs whose next-sentence margin (logit of "B follows" minus logit of "random B") is on the
right side of a threshold (0: P(follows) > 0.5). The training scripts (scripts/minilm) call
these on the model they train.
"""
from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

import torch

from lmcore.errors import UserFacingError
from lmcore.pretrained.loading import LoadedModel, as_loaded, require_kind
from lmcore.pretrained.predict import _not_a_word


@dataclass(frozen=True)
class TextScore:
    bits_per_character: float  # sum of -log2 p(token | before) over the characters
    token_perplexity: float    # 2 ** (bits / tokens)
    characters: int
    tokens: int                # tokens predicted (scored)
    lines: int

    def to_dict(self) -> dict:
        return {"bits_per_character": round(self.bits_per_character, 6),
                "token_perplexity": round(self.token_perplexity, 6), "characters": self.characters,
                "tokens": self.tokens, "lines": self.lines}


def _line_ids(lm: LoadedModel, line: str) -> list[int]:
    with lm.lock:
        return list(lm.tokenizer(line)["input_ids"])  # [CLS] ... [SEP] for WordPiece


@torch.inference_mode()
def sequence_bits(lm: LoadedModel, ids: list[int]) -> tuple[float, int]:
    """(bits, tokens predicted) for ids[1:], in windows of lm.max_length tokens.

    A window holds ids[start:end]; it scores the tokens from `done` (the first not yet
    scored) to end, each from its logits one position earlier. Logits: (1, window, vocab).
    """
    window = max(2, lm.max_length)
    stride = max(1, window // 2)
    bits, done = 0.0, 1
    while done < len(ids):
        end = min(len(ids), done + stride if done > 1 else window)
        start = max(0, end - window)
        logits = lm.model(input_ids=torch.tensor([ids[start:end]])).logits[0].float()
        logp = torch.log_softmax(logits[done - start - 1:end - start - 1], dim=-1)  # (new, vocab)
        target = torch.tensor(ids[done:end])
        bits -= float(logp.gather(1, target[:, None]).sum()) / math.log(2)
        done = end
    return bits, max(0, len(ids) - 1)


def text_bits(model: LoadedModel | str, lines: list[str]) -> TextScore:
    """Bits per character and token perplexity of a causal LM on lines of text."""
    lm = as_loaded(model)
    require_kind(lm, "causal-lm")
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise UserFacingError("errors.empty_text")
    bits, tokens, chars = 0.0, 0, 0
    for line in lines:
        b, n = sequence_bits(lm, _line_ids(lm, line))
        bits, tokens, chars = bits + b, tokens + n, chars + len(line)
    if tokens == 0:
        raise UserFacingError("lm.err.nothing_to_score")
    return TextScore(bits / chars, 2 ** (bits / tokens), chars, tokens, len(lines))


# ---------------------------------------------------------------- masked LMs
def single_piece_words(tokenizer, sentence: str) -> list[tuple[int, int]]:
    """(start, end) character spans of alphabetic words that are one WordPiece."""
    spans = []
    for m in re.finditer(r"[A-Za-z]+", sentence):
        pieces = tokenizer.tokenize(m.group(0))
        if len(pieces) == 1 and pieces[0] != tokenizer.unk_token:
            spans.append((m.start(), m.end()))
    return spans


def _mask_logits(lm: LoadedModel, enc, position: int) -> torch.Tensor:
    """MLM logits at one position (vocab,): for BERT the 30k-way head runs on that row alone."""
    body, cls = getattr(lm.model, "bert", None), getattr(lm.model, "cls", None)
    if body is not None and hasattr(cls, "predictions"):
        return cls.predictions(body(**enc).last_hidden_state[0, position])
    out = lm.model(**enc)
    return (out.prediction_logits if lm.has_nsp else out.logits)[0, position]


@torch.inference_mode()
def fill_mask_accuracy(model: LoadedModel | str, sentences: list[str], seed: int = 1234) -> dict:
    """One random single-piece word masked per sentence: whole-word top-1 / top-5 (candidates are
    whole words: no special tokens, no '##' continuation pieces). Sentences of one word or with
    no single-piece word are skipped."""
    lm = as_loaded(model)
    require_kind(lm, "masked-lm")
    lm.model.eval()
    rng, tok = random.Random(seed), lm.tokenizer
    banned = _not_a_word(lm)
    hits1 = hits5 = n = skipped = 0
    for s in sentences:
        with lm.lock:
            spans = single_piece_words(tok, s)
        if len(re.findall(r"\S+", s)) < 2 or not spans:
            skipped += 1
            continue
        a, b = rng.choice(spans)
        word = s[a:b].lower()
        with lm.lock:
            enc = tok(s[:a] + tok.mask_token + s[b:], return_tensors="pt")
        position = (enc["input_ids"][0] == tok.mask_token_id).nonzero()[0, 0]
        logits = _mask_logits(lm, enc, position)
        logits[banned] = -math.inf  # a blank holds a whole word, as on the BERT page
        with lm.lock:
            guesses = tok.convert_ids_to_tokens(logits.topk(5).indices.tolist())
        hits1 += guesses[0] == word
        hits5 += word in guesses
        n += 1
    return {"top1": hits1 / max(n, 1), "top5": hits5 / max(n, 1), "sentences": n, "skipped": skipped}


@torch.inference_mode()
def next_sentence_margins(model: LoadedModel | str, pairs: list[tuple[str, str, int]]) -> list[tuple[float, int]]:
    """(logit of "B follows" minus logit of "random B", label) per (A, B, label) pair."""
    lm = as_loaded(model)
    if not lm.has_nsp:
        raise UserFacingError("lm.err.no_nsp", name=lm.name)
    lm.model.eval()
    body, cls = getattr(lm.model, "bert", None), getattr(lm.model, "cls", None)
    out = []
    for a, b, y in pairs:
        with lm.lock:
            enc = lm.tokenizer(a, b, return_tensors="pt")
        if body is not None and hasattr(cls, "seq_relationship"):  # no 30k-way head on every token
            logits = cls.seq_relationship(body(**enc).pooler_output)[0]
        else:
            logits = lm.model(**enc).seq_relationship_logits[0]
        out.append(((logits[0] - logits[1]).item(), y))
    return out


def next_sentence_accuracy(model: LoadedModel | str, pairs: list[tuple[str, str, int]],
                           threshold: float = 0.0) -> dict:
    """Share of (A, B, 1 if B follows A) pairs whose margin is above `threshold` exactly when B follows."""
    margins = next_sentence_margins(model, pairs)
    right = sum((m > threshold) == bool(y) for m, y in margins)
    return {"accuracy": right / len(pairs), "pairs": len(pairs)}
