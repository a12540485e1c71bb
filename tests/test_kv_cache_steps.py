"""The key/value cache shown step by step (issue 14, item 2): cached maps = uncached maps,
and the bytes formula = the cache tensors' nbytes, for the translator and GPT models."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lmcore.demos.kv_cache_steps import translator_steps
from lmcore.record import cache_bytes, tensors_bytes
from lmcore.pretrained.cache_steps import gpt_steps
from lmcore.pretrained.encoding import encode
from tests.test_decoding import tiny_transformer
from tests.test_base_weights import _causal_folder

pytestmark = pytest.mark.usefixtures("one_thread")


def _check(steps, prefill: int) -> None:
    w = steps.maps.weights
    assert steps.max_difference <= 1e-5 and steps.prefill == prefill
    assert np.allclose(w.sum(-1), 1.0, atol=1e-5)                       # every row a distribution
    assert (np.triu(np.ones(w.shape[-2:]), 1)[None, None] * w == 0).all()  # nothing from the future
    for t, measured in enumerate(steps.measured_bytes, start=1):
        assert measured == steps.bytes_at(t), t                          # formula == nbytes
    assert steps.bytes_at(4, layers=2 * steps.maps.n_layers) == 2 * steps.bytes_at(4)
    assert steps.maps_at(3).weights.shape[2:] == (3, 3)
    assert steps.cached_seconds > 0 and steps.uncached_seconds > 0


def test_translator_cache_steps():
    steps = translator_steps("tf-en-fr", "the cat is on the table .")
    assert steps.maps.key_tokens[0] == "<bos>" and steps.generated == steps.maps.weights.shape[2]
    _check(steps, 1)
    layers, heads, d = 3, 6, 32  # tf-en-fr: 3 decoder layers x 6 heads, d_model 192
    assert steps.fixed_bytes == cache_bytes(layers, heads, 7, d)  # the 7 source tokens, once


@pytest.mark.parametrize("name", ["tiny-gpt2", "wordpiece-causal"])
def test_gpt_cache_steps(name, tmp_path):
    model = _causal_folder(tmp_path, {}) if name == "wordpiece-causal" else name
    steps = gpt_steps(model, "the cat sat", 5)
    prompt = len(encode(model, "the cat sat").input_ids)  # the prefill covers the whole prompt
    _check(steps, prompt)
    assert steps.generated <= 5 and len(steps.measured_bytes) == prompt + steps.generated


def test_cache_bytes_is_the_tensors_nbytes():
    model = tiny_transformer()
    memory = model.encode(torch.tensor([[5, 6, 7]]))
    state = model.init_state(memory)
    for t in range(1, 4):
        state = model.step(memory, state, torch.tensor([2])).state
        assert tensors_bytes(state.self_kv) == cache_bytes(2, 4, t, 8)
    assert tensors_bytes(state.cross_kv) == cache_bytes(2, 4, 3, 8)
