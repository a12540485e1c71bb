"""RNN encoder-decoder translators: no attention, Bahdanau, Luong (dot, general).

The chapter's model (attention="none", Sutskever et al. 2014): the encoder reads the
source, its final (h, c) becomes the decoder's initial state -- one fixed-size
vector for the whole sentence -- and the decoder predicts y_t from y_{t-1}.

Bahdanau et al. 2015 ("bahdanau"): before each step the previous decoder state
s_{t-1} scores every encoder state h_j additively, e_tj = v^T tanh(W s_{t-1} + U h_j);
a_t = softmax(e_t) over real (non-padding) source tokens; the context
c_t = sum_j a_tj h_j is fed into the RNN with the previous word:
s_t = RNN([E y_{t-1}; c_t], s_{t-1});  p(y_t) = softmax(W_o tanh(W_c [s_t; c_t])).

Luong et al. 2015 ("luong-dot", "luong-general"; global attention, no input feeding):
s_t = RNN(E y_{t-1}, s_{t-1}); e_tj = s_t . h_j or s_t^T W_a h_j; c_t as above;
p(y_t) = softmax(W_o tanh(W_c [c_t; s_t])). Without input feeding the whole target
is computed in parallel during training (`forward`); `step` is the same maths one
token at a time (a test checks both agree).

Every model follows the decoding protocol of lmcore.translation.decoding (encode / init_state /
step / reorder_*): `step` returns the attention weights, raw scores, context vector
and query explicitly (None for the plain model); nothing is stored on modules.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lmcore.attention import AdditiveScore, GeneralScore, context_vector, dot_score, masked_softmax
from lmcore.special_ids import BOS_ID, EOS_ID, PAD_ID

ATTENTIONS: tuple[str, ...] = ("none", "bahdanau", "luong-dot", "luong-general")
CELLS: tuple[str, ...] = ("lstm", "gru")
State = tuple[Tensor, ...]  # LSTM: (h, c), GRU: (h,); each (layers, B, H)


@dataclass
class Seq2SeqConfig:
    src_vocab_size: int
    tgt_vocab_size: int
    emb_dim: int = 256         # word embedding size (the chapter: 256)
    hidden_dim: int = 256      # RNN state size, encoder and decoder (the chapter: 256)
    cell: str = "lstm"         # "lstm" or "gru"
    num_layers: int = 1        # stacked RNN layers; attention uses the top layer
    attention: str = "none"    # one of ATTENTIONS
    dropout: float = 0.2       # on embeddings and the pre-output layer, training only
    arch: str = "rnn"          # checkpoint architecture name (lmcore.translation.checkpoints)

    def __post_init__(self) -> None:
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {self.attention!r}")
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {self.cell!r}")

    def to_dict(self) -> dict:
        return asdict(self)


class RNNMemory(NamedTuple):
    """What the RNN encoder hands the decoder: its states, and the final state that starts
    the decoder (the chapter's one context vector). The Transformer's encoder hands over
    something else (lmcore.transformer.TransformerMemory): no final state, its source ids."""

    states: Tensor  # (B, S, H) encoder outputs h_j, zeros at padding
    mask: Tensor    # (B, S) bool, True at real source tokens
    final: State    # encoder final state, each (layers, B, H)
    keys: Tensor | None = None  # (B, S, H) U_a h_j, precomputed once for additive scores


class StepOutput(NamedTuple):
    """One decoder step for a batch of B rows."""

    logits: Tensor               # (B, V)
    state: State                 # new decoder state
    weights: Tensor | None       # (B, S) attention over the source, 0 at padding
    scores: Tensor | None        # (B, S) raw scores before softmax
    context: Tensor | None       # (B, H) context vector c_t
    query: Tensor | None         # (B, H) the decoder state that scored the source


def make_rnn(cell: str, input_size: int, hidden: int, layers: int) -> nn.RNNBase:
    rnn = nn.LSTM if cell == "lstm" else nn.GRU
    return rnn(input_size, hidden, num_layers=layers, batch_first=True)


def _as_state(final: Tensor | tuple[Tensor, Tensor]) -> State:
    return tuple(final) if isinstance(final, tuple) else (final,)


def _rnn_state(state: State):
    return state if len(state) == 2 else state[0]


class Encoder(nn.Module):
    """Embedding + RNN over the source; padding never reaches the states (packed)."""

    def __init__(self, cfg: Seq2SeqConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(cfg.src_vocab_size, cfg.emb_dim, padding_idx=PAD_ID)
        self.rnn = make_rnn(cfg.cell, cfg.emb_dim, cfg.hidden_dim, cfg.num_layers)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, src: Tensor, lengths: Tensor) -> RNNMemory:
        """src (B, S) ids, lengths (B,) -> RNNMemory(states (B, S, H), mask (B, S), final)"""
        x = self.drop(self.embed(src))  # (B, S, E)
        packed = pack_padded_sequence(x, lengths.cpu().clamp(min=1), batch_first=True,
                                      enforce_sorted=False)
        out, final = self.rnn(packed)
        states, _ = pad_packed_sequence(out, batch_first=True, total_length=src.size(1))  # (B, S, H)
        mask = torch.arange(src.size(1), device=src.device)[None, :] < lengths[:, None]  # (B, S)
        return RNNMemory(states, mask, _as_state(final))


class Attention(nn.Module):
    """score -> masked softmax -> context, for "bahdanau", "luong-dot" or "luong-general"."""

    def __init__(self, kind: str, hidden: int) -> None:
        super().__init__()
        self.kind = kind
        if kind == "bahdanau":
            self.score = AdditiveScore(hidden, hidden, hidden)
        elif kind == "luong-general":
            self.score = GeneralScore(hidden, hidden)
        else:
            self.score = None

    def project_keys(self, states: Tensor) -> Tensor | None:
        """U_a h_j for the additive score, computed once per sentence, not per step."""
        return self.score.U_a(states) if self.kind == "bahdanau" else None  # (B, S, H)

    def scores(self, query: Tensor, memory: RNNMemory) -> Tensor:
        """query (B, T, H) -> raw scores e (B, T, S)"""
        if self.kind == "bahdanau":  # v_a^T tanh(W_a q + U_a h_j), same as AdditiveScore
            keys = memory.keys if memory.keys is not None else self.score.U_a(memory.states)
            hidden = torch.tanh(self.score.W_a(query)[:, :, None, :] + keys[:, None, :, :])
            return self.score.v_a(hidden).squeeze(-1)  # (B, T, S)
        return (self.score or dot_score)(query, memory.states)  # (B, T, S)

    def forward(self, query: Tensor, memory: RNNMemory) -> tuple[Tensor, Tensor, Tensor]:
        """query (B, T, H) -> context (B, T, H), weights (B, T, S), scores (B, T, S)"""
        scores = self.scores(query, memory)  # (B, T, S)
        weights = masked_softmax(scores, memory.mask[:, None, :])  # (B, T, S)
        return context_vector(weights, memory.states), weights, scores


class Seq2Seq(nn.Module):
    """Encoder-decoder translator; `attention` in the config picks the decoder."""

    bos_id, eos_id, pad_id = BOS_ID, EOS_ID, PAD_ID

    def __init__(self, cfg: Seq2SeqConfig) -> None:
        super().__init__()
        self.config = cfg
        H, E = cfg.hidden_dim, cfg.emb_dim
        self.encoder = Encoder(cfg)
        self.embed = nn.Embedding(cfg.tgt_vocab_size, E, padding_idx=PAD_ID)
        extra = H if cfg.attention == "bahdanau" else 0
        self.rnn = make_rnn(cfg.cell, E + extra, H, cfg.num_layers)
        self.attention = Attention(cfg.attention, H) if cfg.attention != "none" else None
        self.combine = nn.Linear(2 * H, H) if self.attention is not None else None  # W_c
        self.out = nn.Linear(H, cfg.tgt_vocab_size)  # W_o
        self.drop = nn.Dropout(cfg.dropout)

    # ------------------------------------------------------------ decoding protocol
    def encode(self, src: Tensor, src_lengths: Tensor) -> RNNMemory:
        memory = self.encoder(src, src_lengths)
        if self.attention is not None and self.attention.kind == "bahdanau":
            memory = memory._replace(keys=self.attention.project_keys(memory.states))
        return memory

    def init_state(self, memory: RNNMemory) -> State:
        """The encoder's final state starts the decoder (every variant)."""
        return memory.final

    def step(self, memory: RNNMemory, state: State, prev: Tensor) -> StepOutput:
        """prev (B,) previous target ids -> StepOutput for the next token."""
        emb = self.drop(self.embed(prev))[:, None, :]  # (B, 1, E)
        if self.config.attention == "bahdanau":
            out, ctx, w, e, new = self._bahdanau_step(memory, state, emb)
            logits = self._logits(torch.cat([out, ctx], dim=-1))
            return StepOutput(logits[:, 0], new, w[:, 0], e[:, 0], ctx[:, 0], state[0][-1])
        out, new = self.rnn(emb, _rnn_state(state))  # (B, 1, H)
        if self.attention is None:
            return StepOutput(self.out(self.drop(out))[:, 0], _as_state(new), None, None, None, None)
        ctx, w, e = self.attention(out, memory)  # (B, 1, H), (B, 1, S)
        logits = self._logits(torch.cat([ctx, out], dim=-1))
        return StepOutput(logits[:, 0], _as_state(new), w[:, 0], e[:, 0], ctx[:, 0], out[:, 0])

    def reorder_memory(self, memory: RNNMemory, index: Tensor) -> RNNMemory:
        keys = None if memory.keys is None else memory.keys.index_select(0, index)
        return RNNMemory(memory.states.index_select(0, index), memory.mask.index_select(0, index),
                      tuple(s.index_select(1, index) for s in memory.final), keys)

    def reorder_state(self, state: State, index: Tensor) -> State:
        return tuple(s.index_select(1, index) for s in state)

    # ------------------------------------------------------------ training
    def forward(self, src: Tensor, src_lengths: Tensor, tgt_in: Tensor) -> Tensor:
        """Teacher forcing: src (B, S), tgt_in (B, T) starting with <bos> -> logits (B, T, V)."""
        memory = self.encode(src, src_lengths)
        state = self.init_state(memory)
        if self.config.attention == "bahdanau":  # each step needs the previous state
            emb, both = self.drop(self.embed(tgt_in)), []  # (B, T, E)
            for t in range(tgt_in.size(1)):
                out, ctx, _, _, state = self._bahdanau_step(memory, state, emb[:, t:t + 1])
                both.append(torch.cat([out, ctx], dim=-1))  # (B, 1, 2H)
            return self._logits(torch.cat(both, dim=1))  # (B, T, V): one big output matmul
        out, _ = self.rnn(self.drop(self.embed(tgt_in)), _rnn_state(state))  # (B, T, H)
        if self.attention is None:
            return self.out(self.drop(out))  # (B, T, V)
        ctx, _, _ = self.attention(out, memory)  # (B, T, H)
        return self._logits(torch.cat([ctx, out], dim=-1))

    def _bahdanau_step(self, memory: RNNMemory, state: State, emb: Tensor):
        """s_{t-1} scores the source; [E y_{t-1}; c_t] feeds the RNN. emb (B, 1, E)."""
        query = state[0][-1][:, None, :]  # s_{t-1}: (B, 1, H)
        ctx, w, e = self.attention(query, memory)  # (B, 1, H), (B, 1, S)
        out, new = self.rnn(torch.cat([emb, ctx], dim=-1), _rnn_state(state))  # (B, 1, H)
        return out, ctx, w, e, _as_state(new)

    def _logits(self, both: Tensor) -> Tensor:
        """W_o tanh(W_c [.;.]): (..., 2H) -> (..., V)"""
        return self.out(self.drop(torch.tanh(self.combine(both))))

    @classmethod
    def from_config(cls, data: dict) -> "Seq2Seq":
        return cls(Seq2SeqConfig(**data))
