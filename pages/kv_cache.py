"""10.3-10.4 The key/value cache: prefill, then one query row per new token against cached keys."""
from __future__ import annotations

import streamlit as st

from lmcore.views import plots
from lmcore.views.inside import cache_growth
from ui import inputs, lesson, url_state
from ui.export_widgets import chart
from ui.file_names import export_stem
from ui.i18n import t, t_plain
from ui.lm_widgets import call_or_stop
from ui.loaders import inside
from ui.safe_text import md_escape
from ui.seq2seq_widgets import quality_caption
from ui.steps import autoplay, stepper

MODELS = ["minilm-gpt", "tf-en-fr", "tf-ko-en", "tiny-gpt2"]  # the from-scratch tiny-gpt2 last (issue 26)
EXAMPLES = {"tiny-gpt2": "ROMEO: But soft, what light", "minilm-gpt": "The cat sat on the",
            "tf-en-fr": "the cat is on the table .", "tf-ko-en": "나는 학생이다 ."}
TEXT = "kv_text"
# New tokens by default: at 16 the cache wins on a 2-core classroom machine (minilm-gpt: 1.5-2.0x,
# tiny-gpt2 1.4-2.6x, measured with inside.kv_cache_steps under load); at 8 it was 0.96-1.6x.
TOKENS = 16
WINS = 1.1  # below this ratio the page says why a short decoding gains little


def _new_model() -> None:
    name = st.session_state["kv_model"]
    url_state.set_value(TEXT, "text", EXAMPLES[name], EXAMPLES[name])


st.title(t("kv.title"))
models = [m for m in MODELS if m in inside.heads_off_models()]
cols = st.columns([2, 4, 2, 1.5], vertical_alignment="bottom")  # inputs in one row, the figure below
name = cols[0].selectbox(t("common.model"), models, on_change=_new_model, help=t("kv.model_help"),
                         key=url_state.field("kv_model", "model", models[0], choices=models))
with cols[1]:
    text = inputs.text_input(t("kv.text"), limit=300, key=url_state.field(TEXT, "text", EXAMPLES[name]))
n_new = cols[2].slider(t("kv.steps"), 1, 16, key=url_state.field("kv_steps", "tokens", TOKENS, choices=range(1, 17)))
steps = call_or_stop(inside.kv_cache_steps, name, text, n_new)
maps = steps.maps
layer = cols[3].selectbox(t("kv.layer"), range(maps.n_layers),
                          key=url_state.field("kv_layer", "layer", 0, choices=range(maps.n_layers)))
total = maps.weights.shape[2]
length = stepper("kv_step", total, signature=(name, text, n_new), start=steps.prefill,
                 label=t("kv.step_label"), play=True)
chart(plots.attention_grid(maps_at := steps.maps_at(length), layers=[layer],
                           title=t_plain("kv.grid_title", layer=layer, t=length), layer_label=t("common.layer"),
                           head_label=t("common.head"), query_label=t("common.query"),
                           key_label=t("common.key"), weight_label=t("common.weight")),
      key="kv_grid", width="stretch",
      filename=export_stem("kv-cache", name, f"layer{layer}", f"step{length}"))
if length <= steps.prefill and steps.fixed_bytes:  # a translator: the source is the prefill
    st.caption(t("kv.prefill_note_tr", kib=f"{steps.fixed_bytes / 1024:.1f}"))
elif length <= steps.prefill:
    st.caption(t("kv.prefill_note", n=steps.prefill))
else:
    st.caption(t("kv.step_note", k=length - steps.prefill, token=md_escape(maps_at.query_tokens[-1]),
                       t=length))

quality_caption(name)  # a translator's held-out BLEU (nothing for the GPTs)

# ---------------------------------------------------------------- live numbers
measured = steps.measured_bytes[length - 1]
numbers = st.columns(4 if steps.fixed_bytes else 3)
numbers[0].metric(t("kv.bytes"), t_plain("kv.bytes_value", kib=f"{measured / 1024:.1f}"),
                  help=t("kv.bytes_help", layers=maps.n_layers, heads=maps.n_heads, t=length,
                         d=steps.d_head, b=steps.bytes_per_value, bytes=f"{steps.bytes_at(length):,}",
                         measured=f"{measured:,}"))
numbers[1].metric(t("kv.with_cache"), t_plain("kv.seconds", s=f"{steps.cached_seconds:.3f}"))
numbers[2].metric(t("kv.without_cache"), t_plain("kv.seconds", s=f"{steps.uncached_seconds:.3f}"))
if steps.fixed_bytes:
    numbers[3].metric(t("kv.fixed"), t_plain("kv.bytes_value", kib=f"{steps.fixed_bytes / 1024:.1f}"))
ratio = steps.uncached_seconds / max(steps.cached_seconds, 1e-9)
st.caption(t("kv.speedup", x=f"{ratio:.2f}", n=steps.generated))
if ratio < WINS:  # a few tokens: the fixed cost of each step outweighs the attention saved
    why = [t("kv.small_gain", n=steps.generated)]
    if steps.generated < n_new:  # the model wrote its end of sentence first
        why.append(t("kv.ended_early", n=steps.generated))
    elif n_new < TOKENS:
        why.append(t("kv.try_longer", tokens=TOKENS))
    st.caption(" ".join(why))
st.success(t("kv.same_maps", diff=f"{steps.max_difference:.1e}"))
lengths = list(range(1, total + 1))
series = {t("kv.series.this", layers=maps.n_layers, heads=maps.n_heads): [steps.bytes_at(n) for n in lengths],
          t("kv.series.layers"): [steps.bytes_at(n, layers=2 * maps.n_layers) for n in lengths],
          t("kv.series.gpt2"): [steps.bytes_at(n, layers=12, heads=12, d_head=64) for n in lengths]}
chart(cache_growth(lengths, series, length, t("kv.growth_title"), t("kv.length"), t("kv.kib")),
      key="kv_growth", width="stretch", filename=export_stem("kv-cache", name, "growth"))
lesson.after_figure("kv-cache", t("kv.intro"))
autoplay("kv_step", total)
