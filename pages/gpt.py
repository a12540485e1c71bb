"""10.4 GPT: the next-token distribution (temperature, top-k, top-p), generation one token at a
time, causal attention.

The first screen is the model, the prompt, the sampling controls and the bars. The controls
and the bars are one fragment: they redraw from logits cached per (model, prompt) and never
run the model again. Generation and the causal map open on demand, each in its own fragment.
"""
from __future__ import annotations

import time

import streamlit as st

from lmcore.catalog import CAUSAL_KINDS
from lmcore.pretrained.generation import new_token_maps
from lmcore.views import lens, plots
from lmcore.views.combine import stacked
from ui import lesson, lm_logic, loaders, url_state
from ui.export_widgets import chart, part_fragment, table, view_fragment
from ui.file_names import export_stem
from ui.i18n import map_labels, t, t_plain
from ui.lm_widgets import call_or_stop, load_or_stop, model_label, model_picker
from ui.loaders import inside
from ui.notices import show_notices
from ui.steps import stepper

# Each model's own prompt; "My mother is a" gives bars of jobs (good, doctor, teacher, genius,
# nurse) and, drawn with seed 0, "teacher. and then i can do the job".
EXAMPLES = {"minilm-gpt": "My mother is a", "tiny-gpt2": "ROMEO:\nBut soft, what light"}
MIN_TOKENS = 6   # no sentence end ([SEP]) before this many new tokens: not "... is eat."
MAX_STEPS = 40   # tokens one session may generate from a prompt
PLAY_STEPS = 10  # tokens added by one press of "play"
STEPS, SETTINGS = "lmp_gpt_steps", "lmp_gpt_settings"
TEMPERATURES = [round(0.1 * i, 1) for i in range(1, 21)]
TOP_PS = [round(0.05 * i, 2) for i in range(1, 21)]
VIEWS = ("generate", "causal")


def _min_tokens_key() -> str:
    return url_state.field("lmp_gpt_min", "min_tokens", MIN_TOKENS, choices=range(MAX_STEPS + 1))


def _min_tokens() -> int:
    """The fewest new tokens before the model may end the sentence (the generation view's box)."""
    return int(st.session_state[_min_tokens_key()])


def _press(action: str) -> None:
    st.session_state[STEPS] = lm_logic.next_steps(st.session_state.get(STEPS, 0), action,
                                                  PLAY_STEPS, MAX_STEPS)


def _settings_changed(settings: lm_logic.GenSettings) -> None:
    """A new prompt or sampling restarts the generation (a shared link's first run keeps its count)."""
    if SETTINGS not in st.session_state:
        st.session_state[STEPS] = url_state.from_url("tokens", 0, int, range(MAX_STEPS + 1))[0]
        st.session_state[SETTINGS] = settings
    elif st.session_state[SETTINGS] != settings:
        had_steps = st.session_state.get(STEPS, 0) > 0
        st.session_state[SETTINGS], st.session_state[STEPS] = settings, 0
        if had_steps:  # the generation below shows the old draw: redraw the page once
            st.rerun(scope="app")


@view_fragment("lmp_gpt_sampling_view")
def sampling_view(name: str, prompt: str) -> None:
    """Temperature, top-k, top-p, seed and the next-token bars (from cached logits)."""
    cols = st.columns(4)
    temperature = cols[0].slider(t("lmp.gpt.temperature"), 0.1, 2.0, step=0.1, help=t("lmp.gpt.temperature_help"),
                                 key=url_state.field("lmp_gpt_temp", "temperature", 1.0, lambda v: round(float(v), 1), TEMPERATURES))
    top_k = cols[1].slider(t("lmp.gpt.top_k"), 1, 50, help=t("lmp.gpt.top_k_help"),
                           key=url_state.field("lmp_gpt_topk", "top_k", 10, choices=range(1, 51)))
    top_p = cols[2].slider(t("inside.gpt.top_p"), 0.05, 1.0, step=0.05, help=t("inside.gpt.top_p_help"),
                           key=url_state.field("lmp_gpt_topp", "top_p", 1.0, lambda v: round(float(v), 2), TOP_PS))
    seed = int(cols[3].number_input(t("lmp.gpt.seed"), 0, 9999, help=t("lmp.gpt.seed_help"),
                                    key=url_state.field("lmp_gpt_seed", "seed", 0, choices=range(10000))))
    _settings_changed(lm_logic.GenSettings(name, prompt, top_k, temperature, seed, top_p))
    view = call_or_stop(inside.next_token_bars, name, prompt, top_k, temperature, top_p)
    labels = lens.NucleusLabels(t("lmp.token"), t("inside.gpt.bar.probability"), t("inside.gpt.bar.cumulative"),
                                  t("inside.gpt.bar.sampled"), t("inside.gpt.bar.in"), t("inside.gpt.bar.out"),
                                  t("inside.gpt.top_p"))
    c = view.candidates
    chart(lens.nucleus_bars([x.prediction.display for x in c], [x.prediction.probability for x in c],
                              [x.in_nucleus for x in c], [x.sampled_probability for x in c], top_p,
                              title=t_plain("inside.gpt.bars_title", n=view.nucleus_size, top_p=f"{top_p:.2f}",
                                      p=f"{view.nucleus_probability:.1%}"), labels=labels),
          key="lmp_gpt_next", width="stretch", height=340,
          filename=export_stem("gpt", name, "next-token", f"top-p{top_p:.2f}", f"temperature{temperature:.1f}"))
    st.caption(t("inside.gpt.bars_help"))


@view_fragment("lmp_gpt_step_view")
def generation_view() -> None:
    """Step / play / reset, the generated text, its table, and one step's rivals and attention."""
    s: lm_logic.GenSettings = st.session_state[SETTINGS]
    st.caption(t("lmp.gpt.gen_help"))
    buttons = st.columns(4, vertical_alignment="bottom")
    buttons[0].button(t("lmp.gpt.step"), key="lmp_gpt_step", on_click=_press, args=("step",), width="stretch")
    play = buttons[1].button(t("lmp.gpt.play", n=PLAY_STEPS), key="lmp_gpt_play", width="stretch")
    buttons[2].button(t("common.reset"), key="lmp_gpt_reset", on_click=_press, args=("reset",), width="stretch")
    buttons[3].number_input(t("lmp.gpt.min_tokens"), 0, MAX_STEPS, help=t("lmp.gpt.min_tokens_help"),
                            key=_min_tokens_key())
    text_box = st.empty()
    args = (s.model, s.prompt)
    if play:  # show the tokens arriving one by one, then keep the result
        start = st.session_state[STEPS]
        target = lm_logic.next_steps(start, "play", PLAY_STEPS, MAX_STEPS)
        ahead = call_or_stop(loaders.generation, *args, target, s.top_k, s.temperature, s.seed, s.top_p,
                             _min_tokens())
        for n in range(start + 1, len(ahead.steps) + 1):
            text_box.text(s.prompt + "".join(x.chosen.token for x in ahead.steps[:n]))
            time.sleep(0.15)
        st.session_state[STEPS] = target
    n_steps = st.session_state[STEPS]
    url_state.publish("tokens", n_steps, 0)
    trace = call_or_stop(loaders.generation, *args, n_steps, s.top_k, s.temperature, s.seed, s.top_p,
                         _min_tokens())
    show_notices(trace.notices[len(trace.final.encoded.notices):] if n_steps else ())
    text_box.text(trace.text)
    st.caption(t("lmp.gpt.count", n=len(trace.steps), limit=MAX_STEPS))
    if not trace.steps:
        st.info(t("lmp.gpt.no_steps"))
        return
    table({t("lmp.gpt.col.step"): list(range(1, len(trace.steps) + 1)),
           t("lmp.gpt.col.chosen"): [x.chosen.display for x in trace.steps],
           t("lmp.probability"): [round(x.chosen.probability, 3) for x in trace.steps],
           t("lmp.gpt.col.rivals"): [lm_logic.rivals_text(x.rivals) for x in trace.steps]},
          key="lmp_gpt_table", stem=export_stem("gpt", s.model, "generation"), hide_index=True,
          width="stretch")
    step_view(trace, s)


@part_fragment
def step_view(trace, s: lm_logic.GenSettings) -> None:
    """The step picker and that step's rivals and attention: a fragment inside the generation
    view, so picking a step resends neither the buttons, the text nor the table (issue 12)."""
    shown = len(trace.steps)
    if shown > 1:
        shown = stepper("lmp_gpt_step_pick", len(trace.steps), signature=(s, len(trace.steps)),
                        start=len(trace.steps), label=t("lmp.gpt.step_pick"))
    step = trace.steps[shown - 1]
    rivals = plots.weights_bar([r.display for r in step.rivals], [r.probability for r in step.rivals],
                               token_label=t("lmp.token"), weight_label=t("lmp.probability"))
    row_maps = new_token_maps(step.attention, trace.final.maps.key_tokens,
                              lambda layer, head: t("lmp.gpt.row_label", layer=layer, head=head))
    looked = plots.attention_heatmap(row_maps, 0, 0, query_label=t("lmp.gpt.heads_axis"), key_label=t("common.key"),
                                     weight_label=t("common.weight"))
    # one chart, not two: a pick resends one plotly message (issue 12)
    chart(stacked([rivals, looked], heights=[220, max(300, 7 * len(row_maps.query_tokens))],
                  title=t_plain("lmp.gpt.step_title", n=shown, token=step.chosen.display)),
          key="lmp_gpt_step_figure", width="stretch",
          filename=export_stem("gpt", s.model, f"step{shown}"))


@view_fragment("lmp_gpt_causal_view")
def causal_view() -> None:
    """The causal map of the prompt and the tokens generated so far, one layer and head."""
    s: lm_logic.GenSettings = st.session_state[SETTINGS]
    st.caption(t("lmp.gpt.causal_help"))
    trace = call_or_stop(loaders.generation, s.model, s.prompt, st.session_state[STEPS], s.top_k,
                         s.temperature, s.seed, s.top_p, _min_tokens())
    final = trace.final.maps
    pick = st.container(horizontal=True)  # one block, not three: a pick resends them all
    layer = pick.selectbox(t("common.layer"), range(final.n_layers),
                           key=url_state.field("lmp_gpt_layer", "layer", 0, choices=range(final.n_layers)))
    head = pick.selectbox(t("common.head"), range(final.n_heads),
                          key=url_state.field("lmp_gpt_head", "head", 0, choices=range(final.n_heads)))
    chart(plots.attention_heatmap(final, layer, head, **map_labels(),
                                  title=t_plain("lmp.head.figure_title", layer=layer, head=head)),
          key="lmp_gpt_causal", width="stretch",
          filename=export_stem("gpt", s.model, "causal", f"layer{layer}", f"head{head}"))


# ---------------------------------------------------------------- first screen
st.title(t("lmp.gpt.title"))
top = st.columns([1, 3])
with top[0]:
    name = model_picker(CAUSAL_KINDS, "lmp_gpt_model")
lm = load_or_stop(name)
prompt = top[1].text_area(t("lmp.gpt.prompt"), height=68,
                          key=url_state.field("lmp_gpt_prompt", "text", EXAMPLES.get(name, EXAMPLES["minilm-gpt"])))
logits = call_or_stop(inside.next_token_logits, name, prompt)  # the one model call of the bars
show_notices(logits.notices)
sampling_view(name, prompt)

# ---------------------------------------------------------------- after the figure
st.write(t("lmp.gpt.intro"))
model_label(name, lm.kind)
lesson.guide("gpt")
lesson.quiz("gpt")
url_state.link_to("logit-lens", t("inside.gpt.lens_link"), {"model": name, "text": prompt},
                  icon=":material/layers:")
linked_map = "layer" in st.query_params or "head" in st.query_params  # old links opened on the map
view = st.segmented_control(t("inside.gpt.more"), VIEWS, format_func=lambda v: t(f"inside.gpt.view.{v}"),
                            key=url_state.field("lmp_gpt_view", "view", "causal" if linked_map else "generate",
                                                choices=VIEWS))
if view == "generate":
    st.header(t("lmp.gpt.gen_title"))
    generation_view()
elif view == "causal":
    st.header(t("lmp.gpt.causal_title"))
    causal_view()
