"""The trainer: progress callback, cancellation, early stopping, seeds, checkpoints."""
from __future__ import annotations

import random
import threading

import pytest
import torch

from lmcore.translation.checkpoints import Checkpoint, load_checkpoint, save_checkpoint
from lmcore.translation.data import DataConfig
from lmcore.errors import UserFacingError
from lmcore.seq2seq import Seq2Seq, Seq2SeqConfig
from lmcore.translation.text import Tokenizer, Vocab
from lmcore.translation.training import TrainConfig, batch_loss, train_model, train_translator
from lmcore.translation.data import make_batch


pytestmark = pytest.mark.usefixtures("one_thread")


def reverse_examples(n: int, seed: int) -> list[tuple[list[int], list[int]]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        seq = [rng.randrange(4, 20) for _ in range(rng.randint(2, 5))]
        out.append((seq, seq[::-1]))
    return out


def tiny(attention: str = "bahdanau") -> Seq2Seq:
    torch.manual_seed(0)
    return Seq2Seq(Seq2SeqConfig(20, 20, 16, 32, "gru", 1, attention, 0.0))


def test_progress_callback_sees_every_step_and_loss_falls():
    calls = []
    model = tiny("luong-general")
    result = train_model(model, reverse_examples(256, 0), reverse_examples(32, 1),
                         TrainConfig(epochs=3, batch_size=32, lr=1e-2, patience=5), calls.append)
    steps = [c for c in calls if c.val_loss is None]
    assert len(steps) == 3 * 8 and steps[0].total == 8
    assert [c.step for c in steps[:8]] == list(range(1, 9)) and steps[-1].epoch == 3
    assert [c.epoch for c in calls if c.val_loss is not None] == [1, 2, 3]
    assert result.history[-1]["val_loss"] < result.history[0]["val_loss"]
    assert result.stopped == "finished" and result.epochs_run == 3


def test_cancel_with_an_event_or_by_returning_false():
    stop = threading.Event()

    def cancel_at_3(p):
        if p.step == 3:
            stop.set()
    result = train_model(tiny(), reverse_examples(256, 0), reverse_examples(16, 1),
                         TrainConfig(epochs=5, batch_size=32), cancel_at_3, stop)
    assert result.stopped == "cancelled" and result.epochs_run == 1
    result = train_model(tiny(), reverse_examples(256, 0), reverse_examples(16, 1),
                         TrainConfig(epochs=5, batch_size=32), lambda p: p.step < 2)
    assert result.stopped == "cancelled"


def test_early_stopping_restores_the_best_weights():
    model = tiny("none")
    result = train_model(model, reverse_examples(64, 0), reverse_examples(16, 1),
                         TrainConfig(epochs=30, batch_size=16, lr=0.3, patience=1))  # lr too high
    assert result.stopped == "early_stopping" and result.epochs_run < 30
    from lmcore.translation.training import evaluate_loss
    assert evaluate_loss(model, reverse_examples(16, 1)) == pytest.approx(result.best_val_loss, rel=1e-5)


def test_fixed_seed_gives_identical_training():
    runs = []
    for _ in range(2):
        model = tiny()
        train_model(model, reverse_examples(96, 0), reverse_examples(16, 1),
                    TrainConfig(epochs=1, batch_size=32, seed=7))
        runs.append(model.state_dict())
    for key in runs[0]:
        assert torch.equal(runs[0][key], runs[1][key]), key


def test_checkpoint_round_trip_gives_identical_outputs(tmp_path):
    model = tiny("luong-general").eval()
    ckpt = Checkpoint(model, Tokenizer("word", "en"), Tokenizer("char", "ko"),
                      Vocab([f"s{i}" for i in range(16)]), Vocab([f"t{i}" for i in range(16)]), {"x": 1})
    batch = make_batch(reverse_examples(4, 3))
    with torch.no_grad():
        before = model(batch.src, batch.src_lengths, batch.tgt_in)
        save_checkpoint(tmp_path / "f32", ckpt, torch.float32)
        loaded = load_checkpoint(tmp_path / "f32")
        assert torch.equal(loaded.model(batch.src, batch.src_lengths, batch.tgt_in), before)
        save_checkpoint(tmp_path / "f16", ckpt)  # float16 on disk: close, and stable on reload
        half = load_checkpoint(tmp_path / "f16")
        torch.testing.assert_close(half.model(batch.src, batch.src_lengths, batch.tgt_in), before,
                                   atol=5e-3, rtol=5e-3)
        save_checkpoint(tmp_path / "again", half)
        again = load_checkpoint(tmp_path / "again").model(batch.src, batch.src_lengths, batch.tgt_in)
        assert torch.equal(again, half.model(batch.src, batch.src_lengths, batch.tgt_in))
    assert loaded.tgt_tokenizer == Tokenizer("char", "ko") and loaded.meta == {"x": 1}
    assert loaded.src_vocab.itos == ckpt.src_vocab.itos and not loaded.model.training
    assert (tmp_path / "f16" / "model.safetensors").stat().st_size < \
        (tmp_path / "f32" / "model.safetensors").stat().st_size


def test_broken_checkpoint_is_a_user_facing_error(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UserFacingError) as info:
        load_checkpoint(tmp_path)
    assert info.value.key == "s2s.err.bad_checkpoint"


def test_train_translator_from_sentence_pairs():
    words = ["cat", "dog", "bird", "fish", "cow", "pig"]
    french = dict(zip(words, ["chat", "chien", "oiseau", "poisson", "vache", "cochon"]))
    rng = random.Random(0)
    pairs = []
    for i in range(120):
        ws = [rng.choice(words) for _ in range(rng.randint(1, 3))] + [f"n{i}"]
        pairs.append((" ".join(ws), " ".join(french.get(w, w) for w in ws)))
    cfg = DataConfig("en", "fr", val_fraction=0.2, src_min_freq=1, tgt_min_freq=1)
    ckpt, result = train_translator(pairs, cfg, TrainConfig(epochs=2, batch_size=16),
                                    lambda s, t: Seq2Seq(Seq2SeqConfig(s, t, 16, 16, attention="luong-dot")))
    assert "chat" in ckpt.tgt_vocab and ckpt.meta["data"]["src_lang"] == "en"
    assert result.epochs_run == 2 and ckpt.meta["train_examples"] > 96


def test_warmup_schedule_rises_linearly_then_decays_as_inverse_square_root():
    from lmcore.translation.training import lr_factor
    assert [lr_factor(s, 0) for s in (1, 10, 10_000)] == [1.0, 1.0, 1.0]
    assert lr_factor(50, 100) == pytest.approx(0.5) and lr_factor(100, 100) == pytest.approx(1.0)
    assert lr_factor(400, 100) == pytest.approx(0.5)
    rising = [lr_factor(s, 100) for s in range(1, 101)]
    assert rising == sorted(rising)


def test_label_smoothing_changes_the_training_loss_but_not_validation():
    model = tiny("luong-dot")
    batch = make_batch(reverse_examples(8, 3))
    plain, smooth = batch_loss(model, batch), batch_loss(model, batch, label_smoothing=0.1)
    assert not torch.allclose(plain, smooth)
    a = train_model(tiny("luong-dot"), reverse_examples(64, 0), reverse_examples(16, 1),
                    TrainConfig(epochs=1, batch_size=32, label_smoothing=0.2, warmup_steps=4))
    assert a.history[0]["val_loss"] > 0 and a.stopped == "finished"


def test_save_best_receives_a_checkpoint_at_each_improvement(tmp_path):
    words = ["cat", "dog", "bird", "fish"]
    pairs = [(f"{w} n{i}", f"{w.upper()} n{i}") for i in range(60) for w in words[i % 4:i % 4 + 1]]
    cfg = DataConfig("en", "fr", val_fraction=0.2, src_min_freq=1, tgt_min_freq=1)
    seen = []
    ckpt, result = train_translator(pairs, cfg, TrainConfig(epochs=3, batch_size=16, lr=1e-2, patience=5),
                                    lambda s, t: Seq2Seq(Seq2SeqConfig(s, t, 16, 16, attention="luong-dot")),
                                    on_best=seen.append)
    improvements = sum(1 for i, h in enumerate(result.history)
                       if h["val_loss"] < min([x["val_loss"] for x in result.history[:i]] or [float("inf")]))
    assert len(seen) == improvements >= 1
    assert all(isinstance(c, Checkpoint) and c.meta["partial"] for c in seen)
    save_checkpoint(tmp_path / "best", seen[-1])
    assert load_checkpoint(tmp_path / "best").tgt_vocab.itos == ckpt.tgt_vocab.itos
