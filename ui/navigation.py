"""The page registry: app.py builds st.navigation from it; tests open every page in it.

Only pages that work are listed. Groups follow the chapter's sections.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    script: str     # path from the repository root
    title_key: str  # translation key of the page title
    icon: str
    url_path: str   # stable URL path (shared links rely on it)


PAGES: list[tuple[str, list[PageSpec]]] = [
    ("nav.group.start", [
        PageSpec("pages/home.py", "home.nav", ":material/home:", ""),
        PageSpec("pages/your_sentences.py", "sent.nav", ":material/list_alt:", "your-sentences"),
    ]),
    ("nav.group.seq2seq", [
        PageSpec("pages/seq2seq.py", "s2sp.nav.seq2seq", ":material/swap_horiz:", "seq2seq"),
        PageSpec("pages/train_seq2seq.py", "s2sp.nav.train", ":material/model_training:",
                 "train-seq2seq"),
    ]),
    ("nav.group.attention", [
        PageSpec("pages/attention_basics.py", "attn.nav", ":material/target:", "attention"),
        PageSpec("pages/translate_steps.py", "s2sp.nav.steps", ":material/footprint:",
                 "translate-steps"),
    ]),
    ("nav.group.transformer", [
        PageSpec("pages/transformer.py", "tf.page.nav", ":material/account_tree:", "transformer"),
        PageSpec("pages/self_attention.py", "tf.steps.nav", ":material/calculate:",
                 "self-attention"),
        PageSpec("pages/positional.py", "tf.pos.nav", ":material/waves:", "positional"),
    ]),
    ("nav.group.pretrained", [
        PageSpec("pages/bert.py", "lmp.bert.nav", ":material/hub:", "bert"),
        PageSpec("pages/gpt.py", "lmp.gpt.nav", ":material/edit_note:", "gpt"),
        PageSpec("pages/logit_lens.py", "inside.nav", ":material/layers:", "logit-lens"),
        PageSpec("pages/kv_cache.py", "kv.nav", ":material/memory:", "kv-cache"),
        PageSpec("pages/heads_off.py", "abl.nav", ":material/toggle_off:", "heads-off"),
        PageSpec("pages/finetune.py", "ft.nav", ":material/tune:", "fine-tuning"),
        PageSpec("pages/compare.py", "cmp.nav", ":material/compare:", "compare"),
    ]),
]

# The chapter map on the home page: (section, concept key, what-you-do key, url path).
CHAPTER_MAP: list[tuple[str, str, str, str]] = [
    ("10.1", "home.map.s2s", "home.map.s2s_do", "seq2seq"),
    ("10.2", "home.map.attn", "home.map.attn_do", "attention"),
    ("10.2", "home.map.steps", "home.map.steps_do", "translate-steps"),
    ("10.3", "home.map.tf", "home.map.tf_do", "transformer"),
    ("10.3", "home.map.selfattn", "home.map.selfattn_do", "self-attention"),
    ("10.3", "home.map.pos", "home.map.pos_do", "positional"),
    ("10.4", "home.map.bert", "home.map.bert_do", "bert"),
    ("10.4", "home.map.gpt", "home.map.gpt_do", "gpt"),
    ("10.4", "inside.map", "inside.map_do", "logit-lens"),
    ("10.3\u2060–\u20604", "kv.map", "kv.map_do", "kv-cache"),  # "10.3–4", word joiners: one line in its narrow column
    ("10.4", "abl.map", "abl.map_do", "heads-off"),
    ("10.4", "home.map.ft", "home.map.ft_do", "fine-tuning"),
    ("10.4", "cmp.map", "cmp.map_do", "compare"),
    ("—", "home.map.train", "home.map.train_do", "train-seq2seq"),
]


def all_pages() -> list[PageSpec]:
    return [spec for _, specs in PAGES for spec in specs]


def page_by_path(url_path: str) -> PageSpec | None:
    return next((p for p in all_pages() if p.url_path == url_path), None)

GLOSSARY_TERMS: tuple[str, ...] = (
    "seq2seq", "encdec", "attention", "transformer", "selfattn", "multihead", "bert", "gpt",
    "finetune",
)
