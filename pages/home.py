"""Home: what the app is, the chapter map with links, and a glossary."""
import streamlit as st

from ui.i18n import t
from ui.navigation import CHAPTER_MAP, GLOSSARY_TERMS, page_by_path
from ui import lesson

st.title(t("home.title"))
st.write(t("home.intro"))
lesson.guide("home")
st.info(t("home.offline_note"))

st.header(t("home.map_title"))
for section, concept, does, url_path in CHAPTER_MAP:
    spec = page_by_path(url_path)
    cols = st.columns([1, 5, 6])
    cols[0].markdown(f"**{section}**")
    if spec is None:
        cols[1].markdown(f"{t(concept)}  \n*{t('home.coming')}*")
    else:
        cols[1].page_link(spec.script, label=t(concept), icon=spec.icon)
    cols[2].write(t(does))

st.header(t("home.glossary_title"))
for term in GLOSSARY_TERMS:
    with st.expander(t(f"home.term.{term}")):
        st.write(t(f"home.def.{term}"))

st.caption(t("home.credits"))
