"""Fine-tuning with a tiny random BERT (vocab ~60, width 32, 2 layers, 4 heads) saved to tmp_path."""
from __future__ import annotations

import io
import json
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from lmcore.pretrained import encoding as pretrained
from lmcore.pretrained import loading as lm_loading
from lmcore.errors import UserFacingError
from lmcore.pretrained.finetune import (FinetuneConfig, confusion_matrix, finetune,
                                        majority_accuracy, save_classifier)
from lmcore.files import zip_folder
from lmcore.pretrained.classifier import (_attentions, as_loaded, build_classifier, encode_batch, head_change,
                                   js_distance, load_classifier, predict)
from lmcore.pretrained.tasks import Split, make_set

WORDS = ["good", "great", "nice", "fine", "happy", "bad", "awful", "sad", "poor", "ugly",
         "the", "a", "is", "was", "very", "film", "day", "food", "it", "so"]
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def make_tiny_bert(folder: Path, seed: int = 0) -> str:
    """A randomly initialised BertModel + WordPiece tokenizer saved like a hub folder."""
    from transformers import BertConfig, BertModel, BertTokenizerFast
    folder.mkdir(parents=True, exist_ok=True)
    vocab = SPECIAL + WORDS + list("abcdefghijklmnopqrstuvwxyz.,!?'") + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"]
    BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True).save_pretrained(folder)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64, architectures=["BertModel"])
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    return str(folder)


def sentiment_texts(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Toy sentences whose label is decided by one word (positive or negative list)."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = "pos" if i % 2 == 0 else "neg"
        word = rng.choice(WORDS[:5] if label == "pos" else WORDS[5:10])
        subject = rng.choice(["the film", "the day", "the food", "it"])
        texts.append(f"{subject} {rng.choice(['is', 'was'])} {rng.choice(['very ', 'so ', ''])}{word}")
        labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return make_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="module")
def toy_data():
    return make_set("toy", *sentiment_texts(120))


FAST = dict(epochs=10, lr=1e-2, batch_size=16, max_length=16, warmup=0.1, threads=1)


@pytest.fixture(scope="module")
def trained(tiny, toy_data):
    calls = []
    clf, result = finetune(toy_data, FinetuneConfig(model=tiny, **FAST), progress=calls.append)
    return clf, result, calls


def test_learns_a_one_word_rule(trained):
    _, result, _ = trained
    assert result.before["majority_accuracy"] == pytest.approx(0.5)
    assert result.val_accuracy >= 0.9 and result.before["val_accuracy"] <= 0.75
    assert result.history[-1]["val_loss"] < result.before["val_loss"]
    assert [h["epoch"] for h in result.history] == list(range(1, 11))
    assert all(np.isfinite(h["train_loss"]) and 0 <= h["val_accuracy"] <= 1 for h in result.history)
    out = result.to_dict()
    assert out["val_accuracy"] == pytest.approx(result.val_accuracy, abs=1e-4) and out["seconds"] > 0


def test_progress_callback_counts_steps_and_epochs(trained, toy_data):
    _, _, calls = trained
    steps = [p for p in calls if p.phase == "train"]
    ends = [p for p in calls if p.phase == "epoch"]
    per_epoch = -(-len(toy_data.train) // 16)
    assert len(steps) == 10 * per_epoch and all(p.total == per_epoch for p in steps)
    assert [p.epoch for p in ends] == list(range(1, 11))
    assert all(p.val_accuracy is not None and 0 <= p.accuracy <= 1 for p in ends)
    assert [p.step for p in steps[:per_epoch]] == list(range(1, per_epoch + 1))


def test_fixed_seed_repeats_exactly(tiny, toy_data, trained):
    _, first, _ = trained
    _, second = finetune(toy_data, FinetuneConfig(model=tiny, **FAST))
    assert [h["val_loss"] for h in first.history] == [h["val_loss"] for h in second.history]


def test_stop_event_and_false_callback_cancel(tiny, toy_data):
    stop = threading.Event()
    seen = []

    def progress(p):
        seen.append(p)
        if p.step == 2:
            stop.set()
    _, result = finetune(toy_data, FinetuneConfig(model=tiny, **FAST), progress, stop)
    assert result.stopped == "cancelled" and result.history == [] and len(seen) == 2
    _, result = finetune(toy_data, FinetuneConfig(model=tiny, **FAST), lambda p: p.step < 3)
    assert result.stopped == "cancelled" and result.validation is not None


def test_the_shared_cached_model_is_never_touched(tiny, trained):
    shared = lm_loading.load_model(tiny).model
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    clf, _, _ = trained
    finetune(make_set("t", *sentiment_texts(40)), FinetuneConfig(model=tiny, epochs=1, lr=1e-2, max_length=16))
    assert clf.model is not shared and clf.model.base_model is not shared
    assert all(torch.equal(before[k], v) for k, v in shared.state_dict().items())
    assert not shared.training


def test_save_load_roundtrip_and_zip(tmp_path, trained):
    clf, result, _ = trained
    folder = save_classifier(clf, tmp_path / "ft", result)
    texts = ["the food was awful", "it is very nice"]
    again = load_classifier(folder)
    assert again.label_names == clf.label_names == ("neg", "pos")
    assert np.allclose(predict(again, texts), predict(clf, texts), atol=1e-6)
    assert json.loads((folder / "config.json").read_text())["id2label"] == {"0": "neg", "1": "pos"}
    assert json.loads((folder / "finetune.json").read_text())["val_accuracy"] == pytest.approx(result.val_accuracy, abs=1e-4)
    names = zipfile.ZipFile(io.BytesIO(zip_folder(folder))).namelist()
    assert {"model.safetensors", "config.json", "tokenizer.json", "labels.json"} <= set(names)
    assert not any(n.endswith((".bin", ".pt", ".pkl")) for n in names)


def test_saved_model_loads_on_the_bert_page_path(tmp_path, trained):
    clf, result, _ = trained
    folder = save_classifier(clf, tmp_path / "ft-bert", result)
    page = pretrained.attention(lm_loading.load_model(str(folder)), "the day was sad")
    direct = pretrained.attention(as_loaded(clf), "the day was sad")
    assert page.maps.weights.shape == (2, 4, 6, 6) and page.maps.kind == "self"
    assert np.allclose(page.maps.weights, direct.maps.weights, atol=1e-5)
    assert np.allclose(direct.maps.weights.sum(-1), 1, atol=1e-5)


def test_padding_gets_exactly_zero_weight_and_batching_changes_nothing(trained):
    clf, _, _ = trained
    inputs = encode_batch(clf, ["it is sad", "the film was very very good"], 32)
    att = _attentions(clf.model.base_model, inputs)  # (B, L, H, T, T)
    n_short = int(inputs["attention_mask"][0].sum())
    assert n_short < att.shape[-1]
    assert np.all(att[0, :, :, :, n_short:] == 0.0)
    assert np.allclose(att.sum(-1), 1, atol=1e-5)
    alone = _attentions(clf.model.base_model, encode_batch(clf, ["it is sad"], 32))
    assert np.allclose(att[0, :, :, :n_short, :n_short], alone[0], atol=1e-5)


def test_predict_rows_sum_to_one_and_bad_text_is_refused(trained):
    clf, _, _ = trained
    p = predict(clf, ["the day is good", "</script><img src=x onerror=alert(1)>", "좋은 날 😀"])
    assert p.shape == (3, 2) and np.allclose(p.sum(-1), 1, atol=1e-5) and np.isfinite(p).all()
    with pytest.raises(UserFacingError) as err:
        predict(clf, ["   "])
    assert err.value.key == "errors.empty_text"


def test_js_distance_bounds():
    p = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    q = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    d = js_distance(p, q)
    assert d[0] == pytest.approx(0.0) and d[1] == pytest.approx(1.0)
    r = np.array([0.2, 0.3, 0.5]), np.array([0.6, 0.1, 0.3])
    assert js_distance(*r) == pytest.approx(js_distance(r[1], r[0])) and 0 < js_distance(*r) < 1


def test_head_change_is_zero_for_the_untouched_encoder_and_positive_after(tiny, trained):
    clf, _, _ = trained
    texts = ["the film is good", "it was very bad", "so sad"]
    base = lm_loading.load_model(tiny)
    fresh = build_classifier(tiny, ("neg", "pos"))
    same = head_change(base, fresh, texts)
    assert same.all_rows.shape == (2, 4) and np.allclose(same.all_rows, 0, atol=1e-3)
    moved = head_change(base, clf, texts)
    assert moved.all_rows.max() > 0.01 and np.all((moved.cls_row >= 0) & (moved.cls_row <= 1))
    layer, head, value = moved.top(1)[0]
    assert value == pytest.approx(moved.all_rows.max()) and moved.all_rows[layer, head] == value


def test_decoder_models_and_unknown_names_are_refused(tiny):
    with pytest.raises(UserFacingError) as err:
        build_classifier("tiny-gpt2", ("a", "b"))
    assert err.value.key == "ft.err.not_encoder"
    with pytest.raises(UserFacingError):
        build_classifier("no/such-model-anywhere", ("a", "b"))
    with pytest.raises(UserFacingError) as err:
        finetune(make_set("t", *sentiment_texts(20)), FinetuneConfig(model=tiny, epochs=0))
    assert err.value.key == "ft.err.bad_settings"


def test_majority_and_confusion():
    assert majority_accuracy(Split(("a",) * 3, (1, 1, 0)), Split(("b",) * 4, (1, 0, 0, 0))) == 0.25
    m = confusion_matrix([0, 0, 1, 2], [0, 1, 1, 2], 3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]


def test_figures_escape_labels_and_fix_ranges(trained):
    from lmcore.views.curves import training_curves
    from lmcore.views.finetune import cls_attention_figure, confusion_figure, head_change_figure
    clf, result, _ = trained
    evil = "<b>x</b>"
    fig = confusion_figure(np.array([[3, 1], [0, 4]]), [evil, "ok"], "true", "pred")
    assert "&lt;b&gt;x&lt;/b&gt;" in fig.layout.xaxis.ticktext and evil not in fig.layout.yaxis.ticktext
    maps = pretrained.attention(as_loaded(clf), "the the film").maps
    fig = cls_attention_figure(maps, maps, ("before", "after"), "Layer")
    assert fig.data[0].zmin == 0 and fig.data[0].zmax == 1 and len(fig.data[0].x) == 5  # repeated 'the' kept
    assert np.allclose(np.asarray(fig.data[0].z), maps.weights[:, :, 0].mean(1), atol=1e-4)
    fig = cls_attention_figure(maps, None, ("before",), "Layer")  # before training: one panel
    assert len(fig.data) == 1 and list(fig.layout.yaxis.ticktext)[0] == "0"
    fig = head_change_figure(np.array([[0.1, 0.5], [0.2, 0.0]]), "Layer", "Head", "JS")
    assert list(fig.layout.xaxis.ticktext) == ["0", "1"] and fig.data[0].zmin == 0  # from 0, like every page
    assert list(fig.layout.yaxis.ticktext) == ["0", "1"]
    labels = dict(loss="L", accuracy="A", train="tr", val="va", x="x")
    fig = training_curves([{"x": 0.5, "loss": 0.7, "accuracy": 0.5}], result.history, labels,
                          ("loss", "accuracy"))
    assert len(fig.data) == 4


def test_real_minilm_builds_a_fresh_classifier():
    if not lm_loading.available("all-MiniLM-L6-v2"):
        pytest.skip("all-MiniLM-L6-v2 not installed")
    clf = build_classifier("all-MiniLM-L6-v2", ("affirmative", "negated"))
    assert clf.model is not lm_loading.load_model("all-MiniLM-L6-v2").model
    assert clf.model.config._attn_implementation == "eager"
    maps = pretrained.attention(as_loaded(clf), "I don't know").maps
    assert maps.weights.shape[:2] == (6, 12) and np.allclose(maps.weights.sum(-1), 1, atol=1e-4)


def test_every_ft_key_used_exists_in_both_languages_with_the_same_placeholders():
    import re
    root = Path(__file__).resolve().parent.parent
    table = json.loads((root / "lmcore" / "locales" / "finetune.json").read_text(encoding="utf-8"))
    for key, entry in table.items():
        assert key.startswith("ft.") and entry["en"].strip() and entry["ko"].strip(), key
        assert set(re.findall(r"\{(\w+)\}", entry["en"])) == set(re.findall(r"\{(\w+)\}", entry["ko"])), key
    files = ["lmcore/pretrained/finetune.py", "lmcore/pretrained/classifier.py", "lmcore/pretrained/tasks.py", "lmcore/commands/finetune.py",
             "ui/finetune_jobs.py", "pages/finetune.py"]
    used = {k for f in files for k in re.findall(r'"(ft\.[a-z_.]+[a-z])"', (root / f).read_text(encoding="utf-8"))}
    used |= {f"ft.data.{s}" for s in ("bundled", "upload")} | {f"ft.heads.{s}" for s in ("all", "cls")}
    used |= {f"ft.compare.{s}" for s in ("before", "after")}
    assert used - set(table) == set() and len(used) > 40


def test_before_after_compares_one_text_under_both_classifiers(tiny, trained):
    from lmcore.pretrained.classifier import BeforeAfter, before_after, predict

    clf, _, _ = trained
    fresh = build_classifier(tiny, clf.label_names, clf.seed)
    out = before_after(fresh, clf, "the film is good " * 30, max_tokens=16)
    assert isinstance(out, BeforeAfter) and out.labels == tuple(clf.label_names)
    assert out.after == pytest.approx(tuple(predict(clf, ["the film is good " * 30])[0].tolist()))
    assert out.probabilities("before") == out.before and sum(out.after) == pytest.approx(1.0)
    assert out.before_maps.weights.shape[-1] == out.after_maps.weights.shape[-1] == 16
    assert [n.key for n in out.notices] == ["errors.text_truncated"]


def test_before_training_view_is_the_untrained_head_on_the_first_rows(tiny, toy_data):
    from lmcore.pretrained.classifier import build_classifier
    from lmcore.pretrained.preview import before_training
    data = toy_data
    fresh = build_classifier(tiny, data.label_names, 0)
    view = before_training(fresh, data.validation, rows=5, max_length=16)
    assert view.texts == data.validation.texts[:5] and view.gold == data.validation.labels[:5]
    assert view.probabilities.shape == (5, len(data.label_names))
    assert np.allclose(view.probabilities.sum(-1), 1, atol=1e-5)
    assert view.example == view.texts[0] and view.maps.query_tokens[0] == "[CLS]"
    assert view.maps.weights.shape[:2] == (fresh.n_layers, fresh.n_heads)
    assert 0 <= view.accuracy <= 1 and len(view.predictions) == 5
