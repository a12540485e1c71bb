"""The logit lens (nostalgebraist 2020): what each layer would predict at each position.

Each layer's hidden state goes through the model's own final normalisation and output head:
    GPT-2:                   logits_l = lm_head(ln_f(h_l))         (h_L is already ln_f(h_L))
    BERT (masked or causal): logits_l = cls.predictions(h_l)       (transform, then decoder)
with h_0 the embeddings and h_L the last layer, so the last entry is the model's own output.
For a GPT, position i predicts token i + 1; for a masked LM, position i predicts token i.

    lens = logit_lens("tiny-gpt2", "ROMEO: But soft", top_k=5)
    lens.layers[-1][3][0]       # the model's own top prediction after the 4th token
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from lmcore.errors import UserFacingError
from lmcore.notices import Notice
from lmcore.pretrained.encoding import Encoded, encode, model_inputs
from lmcore.pretrained.loading import LoadedModel, as_loaded
from lmcore.pretrained.predict import _USER_MASK_RE, Prediction, _prediction

LENS_KINDS = ("causal-lm", "masked-lm")


@dataclass(frozen=True)
class LogitLens:
    """Top-k per layer and position. layers[l][i]: the top-k at position i read from layer l
    (l = 0: the embeddings; l = L: the model's output)."""
    layers: tuple[tuple[tuple[Prediction, ...], ...], ...]   # (L + 1, n, k)
    top_probability: np.ndarray     # (L + 1, n) float32: the top-1's probability
    encoded: Encoded
    kind: str                       # "causal-lm" | "masked-lm"
    notices: tuple[Notice, ...]
    focus: int = -1                 # the position to ask about: the last (GPT), the first [MASK] (masked LM)

    @property
    def tokens(self) -> tuple[str, ...]:
        return self.encoded.tokens

    def to_dict(self) -> dict:
        """The CLI's JSON: {"tokens", "layers": [{"layer", "top": per position [{token, probability}]}]}."""
        return {"tokens": list(self.tokens),
                "layers": [{"layer": layer, "top": [[{"token": p.token, "display": p.display,
                                                      "probability": round(p.probability, 6)} for p in top]
                                                    for top in positions]}
                           for layer, positions in enumerate(self.layers)]}


def lens_head(lm: LoadedModel) -> Callable[[torch.Tensor], torch.Tensor]:
    """head(h (L + 1, n, d)) -> logits (L + 1, n, vocab): final normalisation + output head,
    all layers in one call."""
    model = lm.model
    if hasattr(model, "cls") and hasattr(model.cls, "predictions"):  # BertForPreTraining / LMHead / MaskedLM
        return model.cls.predictions
    body = getattr(model, "transformer", None)
    if body is not None and hasattr(body, "ln_f") and hasattr(model, "lm_head"):  # GPT-2
        return lambda h: model.lm_head(torch.cat([body.ln_f(h[:-1]), h[-1:]]))
    raise UserFacingError("inside.err.lens_unsupported", name=lm.name)


def hidden_states(lm: LoadedModel, enc: Encoded) -> tuple[torch.Tensor, ...]:
    """The L + 1 hidden states (1, n, d) of one forward pass: embeddings, then every layer."""
    with torch.inference_mode():
        out = lm.model.base_model(**model_inputs(enc), output_hidden_states=True)
    states = out.hidden_states
    if not states or len(states) != lm.n_layers + 1:
        raise UserFacingError("inside.err.lens_unsupported", name=lm.name)
    return tuple(states)


def layer_logits(lm: LoadedModel, enc: Encoded) -> torch.Tensor:
    """The lens's logits of every layer: (L + 1, n, vocab), float32."""
    head = lens_head(lm)
    states = torch.cat(hidden_states(lm, enc))  # (L + 1, n, d)
    with torch.inference_mode():
        return head(states).float()


def logit_lens(model: LoadedModel | str, text: str, top_k: int = 5,
               max_tokens: int | None = None) -> LogitLens:
    """Top-k of softmax(logits_l) over the whole vocabulary, per layer l and position.

    A masked LM reads blanks written as [MASK]; max_tokens truncates (with a notice).
    """
    lm = as_loaded(model)
    if lm.kind not in LENS_KINDS:
        raise UserFacingError("inside.err.lens_kind", name=lm.name)
    if int(top_k) < 1:
        raise UserFacingError("inside.err.top_k")
    if lm.kind == "masked-lm":  # the user's "[MASK]" / "[mask]": the model's own mask token
        text = _USER_MASK_RE.sub(lambda _: lm.tokenizer.mask_token, text)
    enc = encode(lm, text, max_tokens=max_tokens)
    layers, top1 = [], []
    probs_all = torch.softmax(layer_logits(lm, enc), dim=-1)          # (L + 1, n, vocab)
    top_p, top_ids = torch.topk(probs_all, min(int(top_k), probs_all.shape[-1]), dim=-1)  # (L + 1, n, k)
    for p, ids in zip(top_p, top_ids):
        rows = []
        for i in range(p.shape[0]):
            previous = enc.raw_tokens[i] if lm.kind == "causal-lm" else None
            rows.append(tuple(_prediction(lm, int(t), float(q), previous) for t, q in zip(ids[i], p[i])))
        layers.append(tuple(rows))
        top1.append(p[:, 0].numpy())
    return LogitLens(tuple(layers), np.stack(top1).astype(np.float32), enc, lm.kind, enc.notices,
                     _focus(lm, enc))


def _focus(lm: LoadedModel, enc: Encoded) -> int:
    """The last position for a GPT; for a masked LM the first [MASK], else the last non-special token."""
    if lm.kind != "masked-lm":
        return len(enc.input_ids) - 1
    masks = [i for i, t in enumerate(enc.input_ids) if t == lm.tokenizer.mask_token_id]
    plain = [i for i, special in enumerate(enc.special) if not special]
    return (masks or plain or [len(enc.input_ids) - 1])[-1 if not masks else 0]


def first_layer_agreeing(lens: LogitLens, position: int | None = None) -> int:
    """The first layer whose top-1 at `position` (default: lens.focus) is the model's own top-1."""
    position = lens.focus if position is None else position
    final = lens.layers[-1][position][0].token_id
    return next(layer for layer, rows in enumerate(lens.layers) if rows[position][0].token_id == final)
