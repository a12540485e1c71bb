"""lmcore.pretrained.evaluation's masked-LM measures (the figures minilm-mlm's metrics.json records),
on a tiny BERT in a tmp folder: they agree with the fill-mask and next-sentence the app shows."""
from __future__ import annotations

import pytest
import torch

from lmcore.pretrained import evaluation as E
from lmcore.pretrained import loading as lm_loading
from lmcore.pretrained import predict
from tests.test_pretrained import bert_dir  # noqa: F401 (fixture)

SENTENCES = ["the cat sat on the mat .", "we like red apples .", "is it raining ?", "yes", "a dog ran home ."]


def test_fill_mask_accuracy_counts_the_words_the_fill_mask_page_would_offer(bert_dir):
    lm = lm_loading.load_model(bert_dir)
    got = E.fill_mask_accuracy(lm, SENTENCES, seed=3)
    assert got["sentences"] + got["skipped"] == len(SENTENCES) and got["skipped"] >= 1  # "yes": one word
    assert 0.0 <= got["top1"] <= got["top5"] <= 1.0
    assert got == E.fill_mask_accuracy(lm, SENTENCES, seed=3)  # the seed fixes the masked words
    # the same top 5 as predict.fill_mask on the same blank, whole words only
    text = "the [MASK] sat on the mat ."
    offered = [p.token_id for p in predict.fill_mask(lm, text, top_k=5).masks[0]]
    enc = lm.tokenizer(text, return_tensors="pt")
    position = (enc["input_ids"][0] == lm.tokenizer.mask_token_id).nonzero()[0, 0]
    with torch.inference_mode():
        logits = E._mask_logits(lm, enc, position)
        logits[predict._not_a_word(lm)] = -float("inf")
    assert logits.topk(5).indices.tolist() == offered


def test_next_sentence_margins_agree_with_the_next_sentence_probability(bert_dir):
    lm = lm_loading.load_model(bert_dir)
    pairs = [("the cat sat .", "it was happy .", 1), ("we like red apples .", "is it raining ?", 0),
             ("a dog ran home .", "yes , it is .", 1)]
    margins = E.next_sentence_margins(lm, pairs)
    for (a, b, _), (margin, _) in zip(pairs, margins):
        assert torch.sigmoid(torch.tensor(margin)).item() == pytest.approx(predict.next_sentence(lm, a, b).probability, abs=1e-5)
    acc = E.next_sentence_accuracy(lm, pairs)
    assert acc["pairs"] == 3 and acc["accuracy"] == sum((m > 0) == bool(y) for m, y in margins) / 3
    assert E.next_sentence_accuracy(lm, pairs, threshold=-1e9)["accuracy"] == pytest.approx(2 / 3)  # all "follows"
