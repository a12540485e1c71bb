"""Tokenization and vocabularies for the small translators (English, French, Korean).

Two tokenizers, chosen per language by `tokenizer_for(lang)`:

- "word" (English, French): Unicode NFKC, lowercase, curly apostrophes made straight, then
  words split from punctuation: "L'heure, c'est 5 h !" -> l' heure , c' est 5 h !
- "char" (Korean): one token per Hangul syllable (or other character), and "▁" for a
  space. With ~3.5k Korean pairs a word-level vocabulary would leave most words unknown
  (Korean glues particles to words: 학교에, 학교는, 학교를 are three "words"); about
  1,200 distinct syllables cover nearly all Korean text, so almost nothing is unknown,
  no extra tokenizer model has to be trained or shipped, and every token is a readable
  syllable the attention view can label.

`Vocab` maps tokens to ids with four specials (<pad>=0, <unk>=1, <bos>=2, <eos>=3).
`encode_text` applies the length cap and reports unknown words and notices; notices are
`lmcore.notices.Notice(key, params)` pairs translated by the caller (keys live in locales/seq2seq.json).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

from lmcore.errors import UserFacingError
from lmcore.notices import Notice
from lmcore.special_ids import BOS, EOS, PAD, SPECIALS, UNK, UNK_ID

SPACE = "▁"
CHAR_LANGS = {"ko", "ja", "zh"}
# The one definition of "a word" in lmcore (imported, never copied):
# WORD_RE: the translators' tokens, a word with a French elision's apostrophe (l' c' don')
#   or one punctuation mark; also the word axis of the comparison page (lmcore.demos.compare).
# WHOLE_WORD_RE: a word as a reader sees it, letters and digits with inner apostrophes kept
#   (cat's, don't) and no punctuation: what the BERT page lets you mask and offers as answers.
WORD_RE = re.compile(r"\w+'|\w+|[^\w\s]")
WHOLE_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_HANGUL_RE = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
_LATIN_RE = re.compile(r"[A-Za-z\u00c0-\u024f]")
_NO_SPACE_BEFORE = set(".,!?;:)]}%'\"")
_NO_SPACE_AFTER = set("([{\"")


def normalize(text: str) -> str:
    """NFKC, straight apostrophes, collapsed whitespace."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split())


@dataclass(frozen=True)
class Tokenizer:
    """kind "word" (lowercased words and punctuation) or "char" (characters, ▁ for spaces)."""

    kind: str = "word"
    lang: str = "en"

    def tokenize(self, text: str) -> list[str]:
        text = normalize(text)
        if self.kind == "char":
            return [SPACE if ch == " " else ch for ch in text.lower()]
        return WORD_RE.findall(text.lower())

    def detokenize(self, tokens: Sequence[str]) -> str:
        """Tokens back to display text (inverse of tokenize up to case and spacing); a hyphen
        joins its neighbours (pourrais-tu, est-ce, well-known)."""
        if self.kind == "char":
            return "".join(" " if t == SPACE else t for t in tokens).strip()
        out = ""
        for tok in tokens:
            glue = (not out or tok[0] in _NO_SPACE_BEFORE or out[-1] in _NO_SPACE_AFTER
                    or out.endswith("'") or tok == "-" or out.endswith("-"))
            out += tok if glue else " " + tok
        return out

    def words(self, text: str) -> list[str]:
        """Whitespace words of the normalized text (for length buckets and notices)."""
        return normalize(text).split()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "lang": self.lang}

    @classmethod
    def from_dict(cls, data: dict) -> "Tokenizer":
        return cls(kind=data.get("kind", "word"), lang=data.get("lang", "en"))


def tokenizer_for(lang: str) -> Tokenizer:
    """The tokenizer used for a language code: "char" for Korean, "word" otherwise."""
    return Tokenizer("char" if lang in CHAR_LANGS else "word", lang)


class Vocab:
    """Token <-> id table; ids 0-3 are <pad>, <unk>, <bos>, <eos>."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self.itos: list[str] = list(SPECIALS) + [t for t in tokens if t not in SPECIALS]
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], min_freq: int = 1,
              max_size: int | None = None) -> "Vocab":
        """Tokens seen at least min_freq times, most frequent first, at most max_size in all."""
        counts = Counter(t for tokens in token_lists for t in tokens)
        kept = [t for t, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= min_freq]
        if max_size is not None:
            kept = kept[: max(0, max_size - len(SPECIALS))]
        return cls(kept)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def encode(self, tokens: Sequence[str]) -> list[int]:
        return [self.stoi.get(t, UNK_ID) for t in tokens]

    def decode(self, ids: Iterable[int], strip_specials: bool = True) -> list[str]:
        out = []
        for i in ids:
            tok = self.itos[i] if 0 <= i < len(self.itos) else UNK
            if strip_specials and tok in (PAD, BOS, EOS):
                continue
            out.append(tok)
        return out

    def to_list(self) -> list[str]:
        return list(self.itos)

    @classmethod
    def from_list(cls, itos: Sequence[str]) -> "Vocab":
        if list(itos[: len(SPECIALS)]) != list(SPECIALS):
            raise ValueError("a vocabulary must start with <pad>, <unk>, <bos>, <eos>")
        return cls(itos[len(SPECIALS):])


@dataclass(frozen=True)
class EncodedText:
    """A source sentence ready for a model, with what the user should be told."""

    tokens: list[str]                 # tokens fed to the model (after the cap)
    ids: list[int]                    # their ids (unknown -> <unk>)
    unknown: list[str]                # distinct input tokens not in the vocabulary, in order
    notices: list[Notice]             # truncation, unknown words, wrong script...
    truncated_from: int | None = None  # token count before the cap, when capped


def _script_notices(text: str, lang: str) -> list[Notice]:
    hangul = bool(_HANGUL_RE.search(text))
    if lang == "ko" and not hangul and _LATIN_RE.search(text):
        return [Notice("s2s.notice.expected_korean")]
    if lang != "ko" and hangul:
        return [Notice("s2s.notice.unexpected_korean", {"language": lang.upper()})]
    return []


def encode_text(text: str, tokenizer: Tokenizer, vocab: Vocab, max_tokens: int) -> EncodedText:
    """Tokenize, cap at max_tokens (with a notice), map to ids, report unknown tokens.

    Raises UserFacingError("errors.empty_text") when nothing is left to translate.
    """
    if text is None or not normalize(str(text)):
        raise UserFacingError("errors.empty_text")
    tokens = [t for t in tokenizer.tokenize(text) if t != SPACE or tokenizer.kind == "char"]
    tokens = _strip_spaces(tokens)
    if not tokens:
        raise UserFacingError("errors.empty_text")
    notices = _script_notices(text, tokenizer.lang)
    total = len(tokens)
    truncated_from = None
    if total > max_tokens:
        tokens = _strip_spaces(tokens[:max_tokens])
        truncated_from = total
        notices.append(Notice("errors.text_truncated", {"kept": len(tokens), "total": total}))
    ids = vocab.encode(tokens)
    unknown = list(dict.fromkeys(t for t, i in zip(tokens, ids) if i == UNK_ID and t != SPACE))
    if unknown and all(i == UNK_ID or t == SPACE for t, i in zip(tokens, ids)):
        notices.append(Notice("s2s.notice.all_unknown"))
    elif unknown:
        notices.append(Notice("s2s.notice.unknown_words", {"words": " ".join(unknown)}))
    return EncodedText(tokens, ids, unknown, notices, truncated_from)


def _strip_spaces(tokens: list[str]) -> list[str]:
    while tokens and tokens[0] == SPACE:
        tokens = tokens[1:]
    while tokens and tokens[-1] == SPACE:
        tokens = tokens[:-1]
    return tokens
