"""Greedy and beam-search decoding for any encoder-decoder, with a per-step trace.

The decode loop only needs this protocol (lmcore.seq2seq.Seq2Seq follows it; a
Transformer can too, keeping its prefix or cache inside `state`):

    model.bos_id, model.eos_id                     ints
    model.encode(src (B, S) long, lengths (B,)) -> memory
    model.init_state(memory) -> state
    model.step(memory, state, prev (B,) long) -> out with
        out.logits (B, V), out.state, out.weights (B, S) | None, out.scores (B, S) | None,
        out.context (B, d) | None, out.query (B, d) | None
    model.reorder_memory(memory, index (K,)) / model.reorder_state(state, index (K,))
        -> the rows `index` of the batch (used by beam search)

A step output may also carry `self_weights` (B, layers, heads, t) and `cross_weights`
(B, layers, heads, S): the new position's row of every attention map (lmcore.transformer
does, from its key/value cache); `decode` keeps them per step (StepTrace.self_rows/cross_rows).

`greedy_decode` / `greedy_batch` are the plain loops (no trace, for scoring and as the
benchmark reference). `decode` returns a `DecodeResult`: for every output step the
chosen token and its probability, the top-k next words, the attention weights over the
source, the raw scores and the context vector (None for a model without attention),
and for beam search the beams kept at each step. Beam search with beam=1 is greedy.

Every loop chooses among real output tokens: <pad>, <unk> and <bos> are masked out of the
logits first (`allowed_logits`), so a translation never contains <unk>; probabilities are
renormalised over the tokens that can be chosen.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import numpy as np
import torch

from lmcore.special_ids import BOS_ID, PAD_ID, UNK_ID


class StepModel(Protocol):
    bos_id: int
    eos_id: int

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> Any: ...
    def init_state(self, memory: Any) -> Any: ...
    def step(self, memory: Any, state: Any, prev: torch.Tensor) -> Any: ...
    def reorder_memory(self, memory: Any, index: torch.Tensor) -> Any: ...
    def reorder_state(self, state: Any, index: torch.Tensor) -> Any: ...


@dataclass
class Beam:
    tokens: list[int]     # ids so far (no <bos>)
    score: float          # sum of log-probabilities
    finished: bool = False


@dataclass
class StepTrace:
    """What the decoder saw and chose at one output step."""

    token: int                       # id chosen at this step (may be <eos>)
    prob: float                      # its probability p(y_t | y_<t, x)
    top_k: list[tuple[int, float]]   # the k most likely next ids with probabilities
    weights: np.ndarray | None       # (S,) attention over the source; None without attention
    scores: np.ndarray | None        # (S,) raw scores before softmax
    context: np.ndarray | None       # (d,) context vector c_t
    query: np.ndarray | None         # (d,) decoder state that scored the source
    # Models with layers and heads (the Transformer) also give this step's row of every map:
    self_rows: np.ndarray | None = None   # (layers, heads, t) causal self-attention over the prefix
    cross_rows: np.ndarray | None = None  # (layers, heads, S) cross-attention over the source


@dataclass
class DecodeResult:
    tokens: list[int]                # output ids, without <bos> and <eos>
    steps: list[StepTrace]           # one per decoder step (the last one may be <eos>)
    score: float                     # log-probability of the output (with <eos> when finished)
    finished: bool                   # True when <eos> was produced before max_len
    beams: list[list[Beam]] = field(default_factory=list)  # beam search: beams kept per step


NEVER_EMITTED = (PAD_ID, UNK_ID, BOS_ID)  # lmcore.translation.text's fixed special ids


def allowed_logits(logits: torch.Tensor) -> torch.Tensor:
    """logits (B, V) with <pad>, <unk> and <bos> set to -inf: what a decoder may choose."""
    out = logits.float().clone()
    out[..., list(NEVER_EMITTED)] = -math.inf
    return out


def default_max_len(src_len: int) -> int:
    return min(2 * src_len + 10, 160)


def _source(ids: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor([list(ids)], dtype=torch.long), torch.tensor([len(ids)])


@torch.inference_mode()
def greedy_decode(model: StepModel, src_ids: Sequence[int], max_len: int | None = None) -> list[int]:
    """Plain greedy decoding of one sentence: argmax each step, no trace."""
    memory = model.encode(*_source(src_ids))
    state = model.init_state(memory)
    prev = torch.tensor([model.bos_id])
    out_ids: list[int] = []
    for _ in range(max_len or default_max_len(len(src_ids))):
        out = model.step(memory, state, prev)
        state, prev = out.state, allowed_logits(out.logits).argmax(-1)
        token = int(prev)
        if token == model.eos_id:
            break
        out_ids.append(token)
    return out_ids


@torch.inference_mode()
def greedy_batch(model: StepModel, sources: Sequence[Sequence[int]], max_len: int | None = None,
                 pad_id: int = 0, confidences: list[float] | None = None) -> list[list[int]]:
    """Greedy decoding of many sentences at once (padding masked); same ids as one by one.
    `confidences`, if given, gets each row's exp(mean log p) of its chosen tokens and <eos>
    (lmcore.translation.confidence, the same number a one-by-one translation gives)."""
    lengths = torch.tensor([len(s) for s in sources])
    src = torch.full((len(sources), int(lengths.max())), pad_id, dtype=torch.long)
    for i, s in enumerate(sources):
        src[i, : len(s)] = torch.tensor(list(s))
    memory = model.encode(src, lengths)
    state = model.init_state(memory)
    prev = torch.full((len(sources),), model.bos_id, dtype=torch.long)
    done = torch.zeros(len(sources), dtype=torch.bool)
    rows: list[list[int]] = [[] for _ in sources]
    logp_sum, steps = torch.zeros(len(sources)), torch.zeros(len(sources))
    for _ in range(max_len or default_max_len(int(lengths.max()))):
        out = model.step(memory, state, prev)
        logits = allowed_logits(out.logits)
        state, prev = out.state, logits.argmax(-1)
        chosen = torch.log_softmax(logits.float(), dim=-1).gather(1, prev[:, None])[:, 0]  # (B,)
        logp_sum += torch.where(done, 0.0, chosen)
        steps += (~done).float()
        for i in torch.nonzero(~done & (prev != model.eos_id)).flatten().tolist():
            rows[i].append(int(prev[i]))
        done |= prev == model.eos_id
        if bool(done.all()):
            break
    if confidences is not None:
        confidences.extend((logp_sum / steps.clamp(min=1)).exp().tolist())
    return rows


def _vector(t: torch.Tensor | None, row: int) -> np.ndarray | None:
    return None if t is None else t[row].detach().float().numpy().copy()


def _trace(out, logp: torch.Tensor, row: int, token: int, top_k: int) -> StepTrace:
    probs, ids = logp[row].exp().topk(top_k)
    return StepTrace(token, float(logp[row, token].exp()), list(zip(ids.tolist(), probs.tolist())),
                     _vector(out.weights, row), _vector(out.scores, row), _vector(out.context, row),
                     _vector(out.query, row), _vector(getattr(out, "self_weights", None), row),
                     _vector(getattr(out, "cross_weights", None), row))


@torch.inference_mode()
def decode(model: StepModel, src_ids: Sequence[int], beam: int = 1, max_len: int | None = None,
           top_k: int = 5, length_penalty: float = 1.0) -> DecodeResult:
    """Decode one sentence with a full per-step trace (greedy when beam == 1)."""
    max_len = max_len or default_max_len(len(src_ids))
    if beam > 1:
        return beam_search(model, src_ids, beam, max_len, top_k, length_penalty)
    memory = model.encode(*_source(src_ids))
    state = model.init_state(memory)
    prev = torch.tensor([model.bos_id])
    tokens, steps, score = [], [], 0.0
    for _ in range(max_len):
        out = model.step(memory, state, prev)
        logp = torch.log_softmax(allowed_logits(out.logits), dim=-1)  # (1, V)
        token = int(logp[0].argmax())
        steps.append(_trace(out, logp, 0, token, top_k))
        score += float(logp[0, token])
        state, prev = out.state, torch.tensor([token])
        if token == model.eos_id:
            return DecodeResult(tokens, steps, score, True)
        tokens.append(token)
    return DecodeResult(tokens, steps, score, False)


@dataclass
class _Hyp:
    tokens: list[int]
    score: float
    steps: list[StepTrace]


def _normalized(h: _Hyp, alpha: float) -> float:
    return h.score / (max(len(h.tokens), 1) ** alpha)


@torch.inference_mode()
def beam_search(model: StepModel, src_ids: Sequence[int], k: int, max_len: int | None = None,
                top_k: int = 5, alpha: float = 1.0) -> DecodeResult:
    """Keep the k best prefixes; a prefix ends when <eos> is among the top k candidates.

    Finished hypotheses are ranked by score / length**alpha (alpha = length_penalty).
    """
    max_len = max_len or default_max_len(len(src_ids))
    memory = model.encode(*_source(src_ids))
    state = model.init_state(memory)
    alive = [_Hyp([], 0.0, [])]
    finished: list[_Hyp] = []
    history: list[list[Beam]] = []
    for _ in range(max_len):
        prev = torch.tensor([h.tokens[-1] if h.tokens else model.bos_id for h in alive])
        out = model.step(memory, state, prev)  # memory and state have one row per alive beam
        logp = torch.log_softmax(allowed_logits(out.logits), dim=-1)  # (K, V)
        total = torch.tensor([h.score for h in alive])[:, None] + logp  # (K, V)
        values, flat = total.flatten().topk(min(2 * k, total.numel()))
        keep_rows, new_alive = [], []
        for rank, (value, f) in enumerate(zip(values.tolist(), flat.tolist())):
            row, token = divmod(f, logp.size(1))
            parent = alive[row]
            hyp = _Hyp(parent.tokens + [token], value, parent.steps + [_trace(out, logp, row, token, top_k)])
            if token == model.eos_id:
                if rank < k:
                    finished.append(_Hyp(parent.tokens, value, hyp.steps))
                continue
            if len(new_alive) < k:
                new_alive.append(hyp)
                keep_rows.append(row)
        history.append([Beam(list(h.tokens), h.score) for h in new_alive] +
                       [Beam(list(h.tokens), h.score, True) for h in finished])
        if len(finished) >= k or not new_alive:
            break
        alive = new_alive
        index = torch.tensor(keep_rows)
        state = model.reorder_state(out.state, index)
        memory = model.reorder_memory(memory, index)
    done = bool(finished)
    best = max(finished or alive, key=lambda h: _normalized(h, alpha))
    return DecodeResult(best.tokens, best.steps, best.score, done, history)
