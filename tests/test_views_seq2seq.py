"""The seq2seq pages' figures (lmcore.views.seq2seq), without Streamlit: escaped tokens,
fixed axes, one line per model."""
from __future__ import annotations

import numpy as np

from lmcore.views import seq2seq as w
from lmcore.views.curves import training_curves

HOSTILE = "</script><img src=x onerror=alert(1)>"
BUCKETS = ["1-5", "6-10", "11-15", "16-20", "21-30", "31+"]


def fake_report() -> dict:
    def model(attention: str, scores: list[float]) -> dict:
        return {"attention": attention, "source_lang": "en", "target_lang": "fr",
                "buckets": [{"bucket": b, "bleu": s, "chrf": s + 20, "n": 10} for b, s in zip(BUCKETS, scores)]}
    return {"buckets": BUCKETS, "models": {"s2s-en-fr-plain": model("none", [40, 30, 15, 8, 5]),
                                           "s2s-en-fr-bahdanau": model("bahdanau", [42, 38, 33, 30, 28]),
                                           "s2s-ko-en-bahdanau": {**model("bahdanau", [20, 10]), "source_lang": "ko"}}}


def test_vector_strip_is_symmetric_around_zero_and_escapes_rows():
    fig = w.vector_strip(np.array([[0.5, -2.0], [1.0, 0.0]]), [HOSTILE, "b"], "t", "dim", "value")
    heat = fig.data[0]
    assert heat.zmin == -2.0 and heat.zmax == 2.0 and heat.zmid == 0.0
    assert "<img" not in fig.layout.yaxis.ticktext[0] and "&lt;img" in fig.layout.yaxis.ticktext[0]


def test_bleu_chart_has_one_line_per_model_in_bucket_order():
    report = fake_report()
    fig = w.bleu_by_length(report, "bleu", {"s2s-en-fr-plain": "plain <i>", "s2s-en-fr-bahdanau": "attn",
                                            "missing": "x"}, "words", "BLEU")
    assert [d.name for d in fig.data] == ["plain &lt;i&gt;", "attn"]
    assert list(fig.data[1].y) == [42, 38, 33, 30, 28] and list(fig.layout.xaxis.categoryarray) == BUCKETS
    assert list(w.bleu_by_length(report, "chrf", {"s2s-en-fr-plain": "p"}, "w", "c").data[0].y)[0] == 60


LABELS = dict(title="Step 2 of 5: <b>x</b>", scores="Scores", weights="Weights", source="Source", topk="P")


def test_the_step_figure_escapes_tokens_and_fixes_the_weight_axis():
    fig = w.step_figure([HOSTILE, "cat"], np.array([1.0, -1.0]), np.array([0.88, 0.12]),
                        [("<b>x</b>", 0.6), ("y", 0.3)], "<b>x</b>", LABELS)
    scores, weights, rivals = fig.data
    assert (scores.xaxis, weights.xaxis, rivals.xaxis) == ("x", "x3", "x2")  # weights under scores
    assert list(fig.layout.yaxis3.range) == [0, 1.15] and list(fig.layout.xaxis2.range) == [0, 1.15]
    assert HOSTILE not in fig.to_json() and "&lt;/script&gt;" in fig.layout.xaxis3.ticktext[0]
    assert fig.layout.xaxis.showticklabels is False  # the scores sit over the weights' labels
    assert rivals.marker.color[0] != rivals.marker.color[1]  # the chosen word stands out
    assert "<b>" not in "".join(fig.layout.yaxis2.ticktext) and "<b>" not in fig.layout.title.text
    assert not fig.layout.annotations  # panels are named by their axes: no subplot titles


def test_a_transformer_step_has_weights_only_and_no_attention_has_the_rivals_only():
    fig = w.step_figure(["a", "b"], None, np.array([0.5, 0.5]), [("x", 0.6)], "x", LABELS)
    assert [d.type for d in fig.data] == ["bar", "bar"] and fig.layout.yaxis.title.text == "Weights"
    bare = w.step_figure(["a"], None, None, [("x", 0.6), ("y", 0.3)], "y", LABELS)
    assert len(bare.data) == 1 and bare.data[0].orientation == "h"
    assert bare.layout.title.text == "Step 2 of 5: &lt;b&gt;x&lt;/b&gt;"


def test_loss_curve_has_a_training_and_a_validation_line_with_escaped_names():
    labels = {"train": "<b>train</b>", "val": "val", "x": "epoch", "loss": "loss"}
    fig = training_curves([{"x": 0.25, "loss": 2.0}, {"x": 0.5, "loss": 1.5}],
                          [{"epoch": 1, "val_loss": 1.7}], labels)
    assert len(fig.data) == 2 and fig.data[0].name == "&lt;b&gt;train&lt;/b&gt;"
    assert list(fig.data[1].y) == [1.7] and fig.layout.yaxis.rangemode == "tozero"
