"""Multi-head attention (Vaswani et al. 2017, section 3.2.2), built on lmcore.attention.

`MultiHeadAttention` runs scaled dot-product attention per head on a separate head axis
(B, H, T, d_head) and returns `(output, weights)`; nothing is stored on the module. Its
parameters are laid out like `torch.nn.MultiheadAttention`, so weights copy both ways.
It also runs one decoding step against a key/value cache (lmcore.kv_cache): the cache code
lives with the packed weights it slices.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lmcore.attention import scaled_dot_product_attention

KeyValues = tuple[Tensor, Tensor]  # keys, values as heads (B, H, T, d_head)


@dataclass(frozen=True)
class AttentionWeights:
    """One layer's W^Q, W^K, W^V (d_model, d_model), W^O and their biases (d_model,) unpacked,
    in torch layout (y = x W^T + b), plus the head count: what the self-attention steps show."""

    wq: Tensor
    bq: Tensor
    wk: Tensor
    bk: Tensor
    wv: Tensor
    bv: Tensor
    wo: Tensor
    bo: Tensor
    n_heads: int


class MultiHeadAttention(nn.Module):
    """MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,
    head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V).

    Vaswani et al. 2017, section 3.2.2. Parameters mirror torch.nn.MultiheadAttention
    (in_proj_weight (3 d_model, d_model) = [W^Q; W^K; W^V], in_proj_bias, out_proj),
    so `load_from_torch` / `to_torch` copy weights exactly. Inputs are batch-first.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, bias: bool = True) -> None:
        super().__init__()
        if d_model % n_heads != 0:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.d_model = d_model
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.dropout = dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))  # [W^Q; W^K; W^V]
        # [b^Q; b^K; b^V]
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model)) if bias else None
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)  # W^O
        nn.init.xavier_uniform_(self.in_proj_weight)
        if bias:
            nn.init.zeros_(self.out_proj.bias)

    def _heads(self, x: Tensor, n: int, contiguous: bool) -> tuple[Tensor, ...]:
        """(B, T, n * d_model) -> n tensors (B, H, T, d_head); one copy for all if contiguous."""
        B, T, _ = x.shape
        heads = x.view(B, T, n, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)  # (n,B,H,T,dh)
        return (heads.contiguous() if contiguous else heads).unbind(0)

    def _project(self, query: Tensor, key: Tensor, value: Tensor,
                 contiguous: bool) -> tuple[Tensor, ...]:
        """Q W^Q, K W^K, V W^V as heads (B, H, T, d_head); one matmul for shared inputs.

        The fused kernel takes strided views; the explicit path copies them once, up
        front (one copy for shared inputs), instead of every matmul copying its operands.
        """
        w, b, d = self.in_proj_weight, self.in_proj_bias, self.d_model
        if query is key and key is value:  # self-attention
            return self._heads(F.linear(query, w, b), 3, contiguous)
        bq, bk, bv = (None, None, None) if b is None else (b[:d], b[d:2 * d], b[2 * d:])
        (q,) = self._heads(F.linear(query, w[:d], bq), 1, contiguous)
        if key is value:  # cross-attention over one memory
            bkv = None if b is None else b[d:]
            return (q, *self._heads(F.linear(key, w[d:], bkv), 2, contiguous))
        (k,) = self._heads(F.linear(key, w[d:2 * d], bk), 1, contiguous)
        (v,) = self._heads(F.linear(value, w[2 * d:], bv), 1, contiguous)
        return q, k, v

    def forward(self, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None,
                need_weights: bool = True, head_mask: Tensor | None = None
                ) -> tuple[Tensor, Tensor | None]:
        """query (B, Tq, d_model), key/value (B, Tk, d_model);
        mask bool broadcastable to (B, H, Tq, Tk), True = may attend;
        head_mask (H,) or (B, H): 1 keeps a head, 0 zeroes its output before W^O (None: all kept).
        Returns output (B, Tq, d_model) and weights (B, H, Tq, Tk) or None on the fast path.
        """
        if query.dim() != 3 or key.dim() != 3 or query.size(-1) != self.d_model:
            raise ValueError(f"expected (B, T, {self.d_model}) inputs, got query "
                             f"{tuple(query.shape)} and key {tuple(key.shape)}")
        q, k, v = self._project(query, key, value, contiguous=need_weights)  # (B, H, T, d_head)
        out, weights = scaled_dot_product_attention(q, k, v, mask, need_weights, self._dropout_p())
        # out (B, H, Tq, d_head), weights (B, H, Tq, Tk) or None
        return self._merge(out, head_mask), weights

    def _dropout_p(self) -> float:
        return self.dropout if self.training else 0.0

    def _merge(self, out: Tensor, head_mask: Tensor | None = None) -> Tensor:
        """Heads (B, H, T, d_head) -> Concat(head_1, ..., head_h) W^O (B, T, d_model).
        head_mask (H,) or (B, H) scales each head's output first (0 = head switched off);
        None leaves the computation exactly as it is without a mask."""
        B, H, T, _ = out.shape
        if head_mask is not None:
            out = out * head_mask.to(out.dtype).reshape(-1, H, 1, 1)  # (B|1, H, 1, 1)
        return self.out_proj(out.transpose(1, 2).reshape(B, T, self.d_model))

    # ------------------------------------------------------------ cached decoding (lmcore.kv_cache)
    def memory_keys_values(self, memory: Tensor) -> KeyValues:
        """K = memory W^K + b^K, V = memory W^V + b^V: (B, Ts, D) -> two (B, H, Ts, d_head).
        The encoder output never changes while decoding, so a cache computes this once."""
        d, b = self.d_model, self.in_proj_bias
        k, v = self._heads(F.linear(memory, self.in_proj_weight[d:], None if b is None else b[d:]),
                           2, contiguous=True)
        return k, v

    def attend_with_cache(self, h: Tensor, past: KeyValues | None, mask: Tensor,
                          head_mask: Tensor | None = None) -> tuple[Tensor, KeyValues, Tensor]:
        """Self-attention of one new position h (B, 1, D) over itself and the past positions.
        past: keys/values of the earlier positions (B, H, t-1, d_head) or None; mask (B, 1, 1, t);
        head_mask as in forward.
        Returns output (B, 1, D), keys/values with the new position appended (B, H, t, d_head)
        and weights (B, H, 1, t) -- the last row of the causal map."""
        q, k, v = self._heads(F.linear(h, self.in_proj_weight, self.in_proj_bias), 3,
                              contiguous=False)
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        out, weights = scaled_dot_product_attention(q.contiguous(), k, v, mask, True,
                                                    self._dropout_p())
        return self._merge(out, head_mask), (k.contiguous(), v.contiguous()), weights

    def attend_to_memory(self, h: Tensor, memory: KeyValues, mask: Tensor,
                         head_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Cross-attention of h (B, 1, D) over precomputed memory keys/values (B, H, Ts, d_head)
        (memory_keys_values); mask (B, 1, 1, Ts); head_mask as in forward.
        Returns output (B, 1, D), weights (B, H, 1, Ts)."""
        d, b = self.d_model, self.in_proj_bias
        (q,) = self._heads(F.linear(h, self.in_proj_weight[:d], None if b is None else b[:d]), 1,
                           contiguous=True)
        out, weights = scaled_dot_product_attention(q, memory[0], memory[1], mask, True,
                                                    self._dropout_p())
        return self._merge(out, head_mask), weights

    def unpacked_weights(self) -> AttentionWeights:
        """The packed [W^Q; W^K; W^V] and out_proj as AttentionWeights (views, no copies)."""
        wq, wk, wv = self.in_proj_weight.chunk(3)
        bq, bk, bv = self.in_proj_bias.chunk(3)
        return AttentionWeights(wq, bq, wk, bk, wv, bv, self.out_proj.weight, self.out_proj.bias,
                                self.n_heads)

    @torch.no_grad()
    def load_from_torch(self, mha: nn.MultiheadAttention) -> "MultiHeadAttention":
        """Copy weights from a torch.nn.MultiheadAttention of the same size."""
        return load_from_torch(self, mha)

    @torch.no_grad()
    def to_torch(self) -> nn.MultiheadAttention:
        """A torch.nn.MultiheadAttention(batch_first=True) with these weights."""
        mha = nn.MultiheadAttention(self.d_model, self.n_heads, dropout=self.dropout,
                                    bias=self.in_proj_bias is not None, batch_first=True)
        mha.load_state_dict(self.state_dict())
        return mha.to(self.in_proj_weight.device, self.in_proj_weight.dtype)


@torch.no_grad()
def load_from_torch(module: MultiHeadAttention, mha: nn.MultiheadAttention) -> MultiHeadAttention:
    """Copy torch.nn.MultiheadAttention weights (packed in_proj, out_proj) into `module`."""
    if mha.embed_dim != module.d_model or mha.num_heads != module.n_heads:
        raise ValueError(f"size mismatch: torch ({mha.embed_dim}, {mha.num_heads} heads) vs "
                         f"lmcore ({module.d_model}, {module.n_heads} heads)")
    if not mha._qkv_same_embed_dim or mha.bias_k is not None:
        raise ValueError("only nn.MultiheadAttention with kdim == vdim == embed_dim and "
                         "add_bias_kv=False can be copied")
    if (mha.in_proj_bias is None) != (module.in_proj_bias is None):
        raise ValueError("one module has biases and the other has not (bias=True/False)")
    module.load_state_dict(mha.state_dict())
    return module
