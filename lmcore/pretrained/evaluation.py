"""How well a causal LM predicts a text: bits per character and token perplexity.

    score = text_bits(lm, ["I would like to go.", "She ran home."])
    score.bits_per_character, score.token_perplexity

Each line is scored on its own, as the training script scores held-out sentences
(scripts/train_minilm_lms.py `eval_bits_per_character`): a WordPiece causal LM reads
[CLS] + tokens + [SEP] and every token after [CLS] is predicted, [SEP] included; a
byte-level GPT-2 predicts every token after the first. Bits are summed over the
predicted tokens and divided by the characters of the lines. A line longer than the
model's context is processed in overlapping windows of `lm.max_length` tokens: each
token is predicted once, with up to half a window of preceding context.
Bad input raises lmcore.errors.UserFacingError.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from lmcore.errors import UserFacingError
from lmcore.pretrained.loading import LoadedModel, as_loaded, require_kind


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
