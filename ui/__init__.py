"""Streamlit-only helpers: language, cached loaders, shared widgets. lmcore stays UI-free."""
