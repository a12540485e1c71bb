"""The data side of the MiniLM training (scripts.minilm), on tiny made-up text (never ../shared):
length-bucketed causal batches, held-out pairs with random second sentences, the filter that
keeps near-copies of held-out sentences out of training, and a continued model's stages."""
from __future__ import annotations

import pytest

from scripts.minilm import data as minilm_data
from scripts.minilm import lms
from scripts.minilm import pairs as nsp_pairs
from scripts.minilm.models import minilm_dir

WORDS = "the cat sat on a mat and then it ran to see what the dog in the big red house was doing".split()


@pytest.fixture
def tokenizer():
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(minilm_dir())


@pytest.fixture
def tiny_corpus(monkeypatch):
    english = [" ".join(WORDS[: 2 + i % 17]) + "." for i in range(300)]
    shake = [" ".join(WORDS[i % 5: i % 5 + 6]) for i in range(40)]
    monkeypatch.setattr(minilm_data, "english_sentences", lambda: {"train": english, "val": [], "test": []})
    monkeypatch.setattr(minilm_data, "shakespeare_lines", lambda: (shake, shake[:4]))


def padding_share(data, batches: int) -> float:
    pad = total = 0
    for _ in range(batches):
        b = data.batch(8)
        assert b["input_ids"].shape == b["attention_mask"].shape == b["labels"].shape
        assert (b["labels"][b["attention_mask"] == 0] == -100).all()  # padding is never a target
        assert (b["attention_mask"].sum(1) > 0).all()
        assert b["attention_mask"][:, -1].any()  # as wide as its longest row, no wider
        pad += int((b["attention_mask"] == 0).sum())
        total += b["attention_mask"].numel()
    return pad / total


def test_bucketed_causal_batches_pad_far_less_than_random_ones(tokenizer, tiny_corpus):
    plain = padding_share(minilm_data.CausalData(tokenizer, seed=1, shakespeare=0.0), 40)
    bucketed = padding_share(minilm_data.CausalData(tokenizer, seed=1, shakespeare=0.0, bucket=True), 40)
    assert plain > 0.2
    assert bucketed < plain / 4, (plain, bucketed)


def test_the_shakespeare_share_is_respected(tokenizer, tiny_corpus):
    data = minilm_data.CausalData(tokenizer, seed=3, shakespeare=0.0)
    assert all(t.endswith(".") for t in (data.text() for _ in range(200)))  # only the Tatoeba stand-ins
    data = minilm_data.CausalData(tokenizer, seed=3, shakespeare=1.0)
    assert not any(t.endswith(".") for t in (data.text() for _ in range(200)))


def test_held_out_pairs_alternate_true_and_a_random_other_b():
    true = [(f"A{i}.", f"B{i}.") for i in range(10)]
    rows = nsp_pairs.with_random_b(true, seed=5)
    assert [y for _, _, y in rows] == [1, 0] * 5
    for i, (a, b, y) in enumerate(rows):
        assert a == f"A{i}."
        assert (b == f"B{i}.") == bool(y)
        assert b in {pb for _, pb in true}
    assert rows == nsp_pairs.with_random_b(true, seed=5)  # fixed by the seed


def test_training_pairs_close_to_a_held_out_sentence_are_dropped():
    held = ["The kettle is boiling.", "Shall I make some tea?"]
    pairs = [("The kettle is boiling!", "I'll switch it off."),       # a near-copy of a held-out A
             ("My bike has a flat tyre.", "You can borrow mine."),     # unrelated: kept
             ("Our train was cancelled.", "Shall I make some tea?")]   # a held-out B, copied
    assert nsp_pairs.drop_close(pairs, held) == [pairs[1]]
    assert nsp_pairs.drop_close(pairs, []) == pairs


def test_a_continued_model_records_every_stage_and_sums_its_budget():
    before = {"train_cpu_seconds": 600.0, "train_cpu_minutes_budget": 10.0, "steps": 100,
              "command": "python first", "stages": [{"command": "python first"}]}
    this_run = {"train_cpu_seconds": 300.0, "train_cpu_minutes_budget": 5.0, "steps": 40, "train_wall_seconds": 320.0,
                "learning_rate": 1e-4, "command": "python second"}
    now = lms.with_stages(before, this_run, "minilm-gpt", "python second", {"shakespeare_share": 0.15})
    assert this_run["steps"] == 40  # the run's own figures are not changed in place
    assert now["train_cpu_seconds"] == 900.0 and now["train_cpu_minutes_budget"] == 15.0 and now["steps"] == 140
    assert [s["command"] for s in now["stages"]] == ["python first", "python second"]
    assert now["stages"][-1]["shakespeare_share"] == 0.15
    assert now["command"] == "python first && python second"


def test_wordnet_texts_are_mixed_in_as_single_mlm_texts_at_their_share(tokenizer, tiny_corpus):
    data = minilm_data.WithWordNet(minilm_data.MLMData(tokenizer), ["A pill is a dose of medicine."], share=0.5)
    rows = [data.example() for _ in range(400)]
    wordnet = [r for r in rows if r[0] == "A pill is a dose of medicine."]
    assert all(b is None and y == -100 for _, b, y in wordnet)  # no next-sentence label
    assert 150 < len(wordnet) < 250
    assert data.rng is data.data.rng  # one stream, reseeded as one when a run resumes
    batch = data.batch(4)
    assert batch["input_ids"].shape[0] == 4 and (batch["labels"] != -100).any()


def test_held_out_sentences_are_tatoeba_val_test_and_every_pair_file_but_training_ones(monkeypatch):
    monkeypatch.setattr(minilm_data, "english_sentences", lambda: {"train": ["t"], "val": ["v"], "test": ["x"]})
    read = []
    monkeypatch.setattr(minilm_data, "read_pairs", lambda name: read.append(name) or [("a " + name, "b")])
    held = minilm_data.held_out_sentences()
    assert held[:2] == ["v", "x"] and "everyday_pairs.tsv" in read and "everyday_pairs_dev.tsv" in read
    assert not any("_train" in name for name in read)
