"""10.4 GPT: the next-token distribution, generation one token at a time, causal attention."""
from __future__ import annotations

import time

import streamlit as st

from lmcore.catalog import CAUSAL_KINDS
from lmcore.pretrained.predict import new_token_maps
from lmcore.views import plots
from ui import lm_logic
from ui import loaders
from ui import url_state
from ui.export_widgets import chart, table
from ui.i18n import map_labels, t, t_plain
from ui.steps import stepper
from ui.lm_widgets import call_or_stop, load_or_stop, model_label, model_picker
from ui.notices import show_notices
from ui import lesson

EXAMPLES = {"minilm-gpt": "The cat sat on the", "tiny-gpt2": "ROMEO:\nBut soft, what light"}  # each model's own
MAX_STEPS = 40   # tokens one session may generate from a prompt
PLAY_STEPS = 10  # tokens added by one press of "play"
STEPS, SETTINGS = "lmp_gpt_steps", "lmp_gpt_settings"


def _press(action: str) -> None:
    st.session_state[STEPS] = lm_logic.next_steps(st.session_state.get(STEPS, 0), action,
                                                  PLAY_STEPS, MAX_STEPS)


st.title(t("lmp.gpt.title"))
st.write(t("lmp.gpt.intro"))
lesson.guide("gpt")
lesson.quiz("gpt")

# ---------------------------------------------------------------- inputs
with st.sidebar:
    name = model_picker(CAUSAL_KINDS, "lmp_gpt_model")
lm = load_or_stop(name)
model_label(name, lm.kind)

prompt = st.text_area(t("lmp.gpt.prompt"), height=90, key=url_state.field("lmp_gpt_prompt", "text", EXAMPLES.get(name, EXAMPLES["minilm-gpt"])))
cols = st.columns(3)
TEMPERATURES = [round(0.1 * i, 1) for i in range(1, 21)]
temperature = cols[0].slider(t("lmp.gpt.temperature"), 0.1, 2.0, step=0.1, help=t("lmp.gpt.temperature_help"),
                             key=url_state.field("lmp_gpt_temp", "temperature", 1.0, lambda v: round(float(v), 1), TEMPERATURES))
top_k = cols[1].slider(t("lmp.gpt.top_k"), 1, 50, help=t("lmp.gpt.top_k_help"),
                       key=url_state.field("lmp_gpt_topk", "top_k", 10, choices=range(1, 51)))
seed = int(cols[2].number_input(t("lmp.gpt.seed"), 0, 9999, help=t("lmp.gpt.seed_help"),
                                key=url_state.field("lmp_gpt_seed", "seed", 0, choices=range(10000))))

# ---------------------------------------------------------------- next token
st.header(t("lmp.gpt.next_title"))
st.caption(t("lmp.gpt.next_help"))
nxt = call_or_stop(loaders.next_token, name, prompt, top_k, temperature)
show_notices(nxt.notices)
chart(plots.weights_bar([p.display for p in nxt.predictions], [p.probability for p in nxt.predictions],
                        token_label=t("lmp.token"), weight_label=t("lmp.probability")),
      key="lmp_gpt_next", width="stretch")

# ---------------------------------------------------------------- generation
st.header(t("lmp.gpt.gen_title"))
st.caption(t("lmp.gpt.gen_help"))
settings = lm_logic.GenSettings(name, prompt, top_k, temperature, seed)
if SETTINGS not in st.session_state:  # first run: a shared link may say how far it went
    st.session_state[STEPS] = url_state.from_url("tokens", 0, int, range(MAX_STEPS + 1))[0]
    st.session_state[SETTINGS] = settings
if st.session_state.get(SETTINGS) != settings:  # new prompt or sampling: start again
    st.session_state[SETTINGS], st.session_state[STEPS] = settings, 0
buttons = st.columns(3)
buttons[0].button(t("lmp.gpt.step"), key="lmp_gpt_step", on_click=_press, args=("step",),
                  width="stretch")
play = buttons[1].button(t("lmp.gpt.play", n=PLAY_STEPS), key="lmp_gpt_play", width="stretch")
buttons[2].button(t("common.reset"), key="lmp_gpt_reset", on_click=_press, args=("reset",),
                  width="stretch")
text_box = st.empty()
if play:  # show the tokens arriving one by one, then keep the result
    start = st.session_state[STEPS]
    target = lm_logic.next_steps(start, "play", PLAY_STEPS, MAX_STEPS)
    ahead = call_or_stop(loaders.generation, name, prompt, target, top_k, temperature, seed)
    for n in range(start + 1, len(ahead.steps) + 1):
        text_box.text(prompt + "".join(s.chosen.token for s in ahead.steps[:n]))
        time.sleep(0.15)
    st.session_state[STEPS] = target
n_steps = st.session_state[STEPS]
url_state.publish("tokens", n_steps, 0)
trace = call_or_stop(loaders.generation, name, prompt, n_steps, top_k, temperature, seed)
show_notices(trace.notices[len(nxt.notices):])
text_box.text(trace.text)
st.caption(t("lmp.gpt.count", n=len(trace.steps), limit=MAX_STEPS))

if trace.steps:
    table({t("lmp.gpt.col.step"): list(range(1, len(trace.steps) + 1)),
           t("lmp.gpt.col.chosen"): [s.chosen.display for s in trace.steps],
           t("lmp.probability"): [round(s.chosen.probability, 3) for s in trace.steps],
           t("lmp.gpt.col.rivals"): [lm_logic.rivals_text(s.rivals) for s in trace.steps]},
          key="lmp_gpt_table", stem="generation", hide_index=True, width="stretch")
    shown = len(trace.steps)
    if shown > 1:
        shown = stepper("lmp_gpt_step_pick", len(trace.steps), signature=(settings, len(trace.steps)),
                        start=len(trace.steps), label=t("lmp.gpt.step_pick"))
    step = trace.steps[shown - 1]
    chart(plots.weights_bar(
        [r.display for r in step.rivals], [r.probability for r in step.rivals],
        title=t_plain("lmp.gpt.rivals_title", n=shown, token=step.chosen.display),
        token_label=t("lmp.token"), weight_label=t("lmp.probability")),
        key="lmp_gpt_rivals", width="stretch")
    row_maps = new_token_maps(
        step.attention, trace.final.maps.key_tokens,
        lambda layer, head: t("lmp.gpt.row_label", layer=layer, head=head))
    chart(plots.attention_heatmap(
        row_maps, 0, 0, title=t_plain("lmp.gpt.new_attn_title", n=shown, token=step.chosen.display),
        query_label=t("lmp.gpt.heads_axis"), key_label=t("common.key"),
        weight_label=t("common.weight")), key="lmp_gpt_new_attn", width="stretch")
else:
    st.info(t("lmp.gpt.no_steps"))

# ---------------------------------------------------------------- causal map
st.header(t("lmp.gpt.causal_title"))
st.caption(t("lmp.gpt.causal_help"))
final = trace.final.maps
pick = st.columns(2)
layer = pick[0].selectbox(t("common.layer"), range(final.n_layers),
                          key=url_state.field("lmp_gpt_layer", "layer", 0, choices=range(final.n_layers)))
head = pick[1].selectbox(t("common.head"), range(final.n_heads),
                         key=url_state.field("lmp_gpt_head", "head", 0, choices=range(final.n_heads)))
chart(plots.attention_heatmap(final, layer, head, **map_labels(),
                              title=t("lmp.head.figure_title", layer=layer, head=head)),
      key="lmp_gpt_causal", width="stretch")
