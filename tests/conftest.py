"""Shared test set-up: the repository root on sys.path, offline hub settings, one torch
thread, fresh Streamlit caches."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Tests never reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


@pytest.fixture(scope="module")
def one_thread():
    """Torch on one thread for a module (restored after): tiny matrices run faster on one
    thread, above all on a busy machine. Use with `pytestmark = pytest.mark.usefixtures(...)`."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def fresh_caches():
    """Streamlit's data caches emptied before and after a test (pages see the test's models)."""
    import streamlit as st  # here, not at the top: most tests never load streamlit

    st.cache_data.clear()
    yield
    st.cache_data.clear()
