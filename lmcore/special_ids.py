"""The four special tokens of the chapter's own translators, and their ids in every vocabulary.

Ground floor: the models (lmcore.seq2seq, lmcore.transformer) and the translation package
(lmcore.translation.text builds vocabularies that start with them) both read them here.
"""
from __future__ import annotations

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS: tuple[str, ...] = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3   # position in SPECIALS: <pad> gets exactly 0 attention
