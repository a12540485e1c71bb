"""Self-attention, step by step, with real numbers (Vaswani et al. 2017, eq. 1 and 3.2.2).

For one layer of a model and the user's sentence:

    Q = X W^Q,  K = X W^K,  V = X W^V                         (per head, d_k columns each)
    S = Q K^T  ->  S / sqrt(d_k)  ->  mask  ->  A = softmax(.)  ->  Z = A V
    MultiHead(X) = Concat(Z_1 .. Z_h) W^O

Weights come from the bundled all-MiniLM-L6-v2 (a real 6-layer, 12-head BERT encoder,
read straight from its safetensors file; the layer input X is computed by running the
embeddings and the layers below), or from fixed random weights, labelled as such.
`order_blindness` shows that attention without positions only permutes when the words do.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from tokenizers import Tokenizer
from torch import Tensor

from lmcore.catalog import minilm_folder
from lmcore.demos.transformer_view import encoder_layer_input
from lmcore.errors import UserFacingError
from lmcore.notices import Notice
from lmcore.positional import sinusoidal_encoding
from lmcore.record import AttentionMaps
from lmcore.transformer import AttentionWeights

MINILM = "all-MiniLM-L6-v2"
RANDOM = "random"
SOURCES = (MINILM, RANDOM)
MAX_TOKENS = 24           # the page shows T x T matrices per step: keep them readable
RANDOM_D_MODEL, RANDOM_HEADS, RANDOM_LAYERS = 16, 2, 2


@dataclass(frozen=True)
class HeadSteps:
    """Every intermediate of one head, float32 numpy. T tokens, d_k columns."""

    q: np.ndarray        # (T, d_k)  X W^Q_i
    k: np.ndarray        # (T, d_k)  X W^K_i
    v: np.ndarray        # (T, d_k)  X W^V_i
    scores: np.ndarray   # (T, T)    Q K^T
    scaled: np.ndarray   # (T, T)    Q K^T / sqrt(d_k)
    masked: np.ndarray   # (T, T)    scaled, NaN where masked (shown blank; -inf in the maths)
    weights: np.ndarray  # (T, T)    softmax over each row
    output: np.ndarray   # (T, d_k)  weights V


@dataclass(frozen=True)
class LayerSteps:
    """One self-attention layer: the input, each head's steps, concatenation, output projection."""

    source: str
    tokens: tuple[str, ...]
    layer: int
    d_k: int
    causal: bool
    x: np.ndarray            # (T, D) layer input
    heads: tuple[HeadSteps, ...]
    concat: np.ndarray       # (T, D) Concat(Z_1..Z_h)
    output: np.ndarray       # (T, D) Concat(...) W^O + b^O
    notices: tuple[Notice, ...] = ()  # what the page shows above the steps

    def maps(self) -> AttentionMaps:
        """This layer's weights as the attention record: (1, heads, T, T)."""
        weights = np.stack([h.weights for h in self.heads])[None]
        return AttentionMaps(weights, self.tokens, self.tokens, "causal" if self.causal else "self")


# ---------------------------------------------------------------- the steps

def head_steps(x: Tensor, w: AttentionWeights, head: int, mask: Tensor | None) -> HeadSteps:
    """x (T, D) -> every intermediate of one head; mask bool (T, T), True = may attend."""
    d_k = w.wq.shape[0] // w.n_heads
    cols = slice(head * d_k, (head + 1) * d_k)
    q = F.linear(x, w.wq[cols], w.bq[cols])  # (T, d_k)
    k = F.linear(x, w.wk[cols], w.bk[cols])  # (T, d_k)
    v = F.linear(x, w.wv[cols], w.bv[cols])  # (T, d_k)
    scores = q @ k.T                          # (T, T)
    scaled = scores / math.sqrt(d_k)
    blocked = torch.zeros_like(scaled, dtype=torch.bool) if mask is None else ~mask
    weights = torch.softmax(scaled.masked_fill(blocked, float("-inf")), dim=-1)  # (T, T)
    out = weights @ v                         # (T, d_k)
    as_np = lambda t: t.detach().float().numpy().copy()  # noqa: E731
    return HeadSteps(as_np(q), as_np(k), as_np(v), as_np(scores), as_np(scaled),
                     as_np(scaled.masked_fill(blocked, float("nan"))), as_np(weights), as_np(out))


@torch.inference_mode()
def layer_steps(x: Tensor, w: AttentionWeights, causal: bool = False
                ) -> tuple[tuple[HeadSteps, ...], np.ndarray, np.ndarray]:
    """All heads, then Concat(Z_1..Z_h) (T, D) and Concat W^O + b^O (T, D)."""
    T = x.shape[0]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool)) if causal else None
    heads = tuple(head_steps(x, w, h, mask) for h in range(w.n_heads))
    concat = torch.from_numpy(np.concatenate([h.output for h in heads], axis=1))  # (T, D)
    return heads, concat.numpy(), F.linear(concat, w.wo, w.bo).numpy()


# ---------------------------------------------------------------- all-MiniLM-L6-v2

@lru_cache(maxsize=1)
def _minilm_tensors() -> dict[str, Tensor]:
    folder = minilm_folder()
    if folder is None:
        raise UserFacingError("tf.err.minilm_missing")
    return load_file(str(folder / "model.safetensors"))


def _minilm_tokenize(text: str) -> tuple[list[str], list[int], list[Notice]]:
    """WordPiece with [CLS]/[SEP], capped at MAX_TOKENS; returns tokens, ids, notices."""
    # a fresh tokenizer per call: no "Already borrowed" between sessions
    tok = Tokenizer.from_file(str(minilm_folder() / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    enc = tok.encode(text)
    tokens, ids, notices = list(enc.tokens), list(enc.ids), []
    if len(ids) > MAX_TOKENS:
        tokens, ids = tokens[: MAX_TOKENS - 1] + ["[SEP]"], ids[: MAX_TOKENS - 1] + [102]
        notices.append(Notice("tf.notice.steps_truncated"))
    if "[UNK]" in tokens or any(0x1100 <= ord(c) <= 0x11FF for t in tokens for c in t):
        notices.append(Notice("tf.notice.minilm_korean"))
    return tokens, ids, notices


def _ln(x: Tensor, p: dict[str, Tensor], name: str) -> Tensor:
    return F.layer_norm(x, x.shape[-1:], p[f"{name}.weight"], p[f"{name}.bias"], eps=1e-12)


def minilm_attention_weights(layer: int) -> AttentionWeights:
    p, pre = _minilm_tensors(), f"encoder.layer.{layer}.attention."
    g = lambda n: p[pre + n]  # noqa: E731
    return AttentionWeights(g("self.query.weight"), g("self.query.bias"), g("self.key.weight"),
                            g("self.key.bias"), g("self.value.weight"), g("self.value.bias"),
                            g("output.dense.weight"), g("output.dense.bias"), n_heads=12)


def minilm_embed(ids: list[int], with_positions: bool = True) -> Tensor:
    """LayerNorm(word + position + segment embedding), (T, 384); positions optional."""
    p = _minilm_tensors()
    idx = torch.tensor(ids)
    x = p["embeddings.word_embeddings.weight"][idx] + p["embeddings.token_type_embeddings.weight"][0]
    if with_positions:
        x = x + p["embeddings.position_embeddings.weight"][: len(ids)]
    return _ln(x, p, "embeddings.LayerNorm")


def _fused_attention(x: Tensor, w: AttentionWeights) -> Tensor:
    """The same maths as layer_steps in a few batched calls (for the layers below), (T, D)."""
    T, D = x.shape
    split = lambda t: t.view(T, w.n_heads, D // w.n_heads).transpose(0, 1)  # noqa: E731 (H, T, d_k)
    q, k, v = (split(F.linear(x, a, b)) for a, b in ((w.wq, w.bq), (w.wk, w.bk), (w.wv, w.bv)))
    z = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(D // w.n_heads), dim=-1) @ v  # (H, T, d_k)
    return F.linear(z.transpose(0, 1).reshape(T, D), w.wo, w.bo)


def _minilm_layer(x: Tensor, layer: int) -> Tensor:
    """One BERT layer, post-norm: attention, add & norm, GELU FFN, add & norm. (T, D) -> (T, D)"""
    p, pre = _minilm_tensors(), f"encoder.layer.{layer}."
    h = _ln(x + _fused_attention(x, minilm_attention_weights(layer)), p,
            pre + "attention.output.LayerNorm")
    ff = F.gelu(F.linear(h, p[pre + "intermediate.dense.weight"], p[pre + "intermediate.dense.bias"]))
    ff = F.linear(ff, p[pre + "output.dense.weight"], p[pre + "output.dense.bias"])
    return _ln(h + ff, p, pre + "output.LayerNorm")


@torch.inference_mode()
def minilm_layer_input(ids: list[int], layer: int) -> Tensor:
    """X entering `layer` (0-5): the embeddings run through the layers below, (T, 384)."""
    x = minilm_embed(ids)
    for below in range(layer):
        x = _minilm_layer(x, below)
    return x


# ---------------------------------------------------------------- fixed random weights

def _random_weights(layer: int) -> AttentionWeights:
    g = torch.Generator().manual_seed(1000 + layer)
    d = RANDOM_D_MODEL
    m = lambda: torch.randn(d, d, generator=g) / math.sqrt(d)  # noqa: E731
    z = torch.zeros(d)
    return AttentionWeights(m(), z, m(), z, m(), z, m(), z, RANDOM_HEADS)


def _random_embed(tokens: list[str]) -> Tensor:
    """A fixed pseudo-random vector per distinct token, plus sinusoidal positions."""
    rows = [np.random.default_rng(zlib.crc32(t.encode("utf-8"))).standard_normal(RANDOM_D_MODEL)
            for t in tokens]
    return torch.from_numpy((np.array(rows) + sinusoidal_encoding(len(tokens), RANDOM_D_MODEL))
                            .astype(np.float32))


# ---------------------------------------------------------------- public entry points

def compute_steps(text: str, source: str = MINILM, layer: int = 0, causal: bool = False) -> LayerSteps:
    """The page's one call: every step of self-attention for `text` at `layer` of `source`.

    source: MINILM, RANDOM, or a Transformer translator (catalog name such as "tf-ko-en",
    or a checkpoint folder); anything else raises UserFacingError("errors.unknown_model").
    """
    if not text or not text.strip():
        raise UserFacingError("errors.empty_text")
    if source == MINILM:
        if not 0 <= layer < 6:
            raise UserFacingError("tf.err.bad_layer", layer=layer, n_layers=6)
        tokens, ids, notices = _minilm_tokenize(text)
        x, w = minilm_layer_input(ids, layer), minilm_attention_weights(layer)
    elif source == RANDOM:
        if not 0 <= layer < RANDOM_LAYERS:
            raise UserFacingError("tf.err.bad_layer", layer=layer, n_layers=RANDOM_LAYERS)
        tokens, notices = text.split(), []
        if len(tokens) > MAX_TOKENS:
            tokens, notices = tokens[:MAX_TOKENS], [Notice("tf.notice.steps_truncated")]
        x, w = _random_embed(tokens), _random_weights(layer)
    else:  # a Transformer translator's encoder: catalog name or checkpoint folder
        tokens, x, w, notices = encoder_layer_input(source, text, layer, MAX_TOKENS)
    heads, concat, out = layer_steps(x, w, causal)
    return LayerSteps(source, tuple(tokens), layer, w.wq.shape[0] // w.n_heads, causal,
                      x.numpy().copy(), heads, concat, out, tuple(notices))


@dataclass(frozen=True)
class OrderDemo:
    """One head's map for a sentence and for its shuffled copy, with or without positions."""

    original: AttentionMaps   # (1, 1, T, T)
    shuffled: AttentionMaps   # (1, 1, T, T)
    permutation: tuple[int, ...]  # shuffled[i] = original[permutation[i]]
    difference: float         # max |shuffled - P original P^T|: 0 when order is invisible


@torch.inference_mode()
def order_blindness(text: str, permutation: list[int] | None = None, with_positions: bool = False,
                    layer: int = 0, head: int = 0, seed: int = 0) -> OrderDemo:
    """MiniLM's layer-`layer` attention on the words and on the words shuffled.

    Without position embeddings, self-attention is permutation-equivariant: the shuffled
    map is exactly the original with rows and columns permuted (difference ~ 0).
    [CLS]/[SEP] are left out so every token can move.
    """
    if not text or not text.strip():
        raise UserFacingError("errors.empty_text")
    tokens, ids, _ = _minilm_tokenize(text)
    tokens, ids = tokens[1:-1], ids[1:-1]
    if len(ids) < 2:
        raise UserFacingError("tf.err.need_two_tokens")
    perm = list(permutation) if permutation is not None else \
        list(np.random.default_rng(seed).permutation(len(ids)))
    if sorted(perm) != list(range(len(ids))):
        raise UserFacingError("tf.err.bad_permutation")
    w = minilm_attention_weights(layer)

    def one_map(order: list[int]) -> np.ndarray:
        x = minilm_embed([ids[i] for i in order], with_positions)
        for below in range(layer):
            x = _minilm_layer(x, below)
        return head_steps(x, w, head, None).weights

    a, b = one_map(list(range(len(ids)))), one_map(perm)
    diff = float(np.abs(b - a[np.ix_(perm, perm)]).max())
    wrap = lambda m, toks: AttentionMaps(m[None, None], toks, toks, "self")  # noqa: E731
    return OrderDemo(wrap(a, tokens), wrap(b, [tokens[i] for i in perm]), tuple(int(i) for i in perm),
                     diff)
