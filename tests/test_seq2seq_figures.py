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


def test_figures_escape_tokens_and_fix_the_weight_axis():
    fig = w.scores_and_weights([HOSTILE, "cat"], np.array([1.0, -1.0]), np.array([0.88, 0.12]),
                               "Scores", "Weights", "Source")
    assert len(fig.data) == 2 and list(fig.layout.yaxis2.range) == [0, 1.15]
    assert HOSTILE not in fig.to_json() and "&lt;/script&gt;" in fig.layout.xaxis2.ticktext[0]
    assert len(w.scores_and_weights(["a"], None, np.array([1.0]), "S", "W", "T").data) == 1
    bar = w.topk_bar([("<b>x</b>", 0.6), ("y", 0.3)], "<b>x</b>", "P")
    assert bar.data[0].marker.color[0] != bar.data[0].marker.color[1]
    assert "<b>" not in "".join(bar.layout.yaxis.ticktext)


def test_loss_curve_has_a_training_and_a_validation_line_with_escaped_names():
    labels = {"train": "<b>train</b>", "val": "val", "x": "epoch", "loss": "loss"}
    fig = training_curves([{"x": 0.25, "loss": 2.0}, {"x": 0.5, "loss": 1.5}],
                          [{"epoch": 1, "val_loss": 1.7}], labels)
    assert len(fig.data) == 2 and fig.data[0].name == "&lt;b&gt;train&lt;/b&gt;"
    assert list(fig.data[1].y) == [1.7] and fig.layout.yaxis.rangemode == "tozero"
