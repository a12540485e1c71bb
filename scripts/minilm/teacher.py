"""A teacher for minilm-mlm's next-sentence head: the untouched all-MiniLM-L6-v2's similarity.

all-MiniLM-L6-v2 was trained on about a billion related sentence pairs, so the cosine of its
mean-pooled embeddings of A and of B says well whether the two belong together. The bundled
minilm-mlm keeps BERT's own next-sentence head (one pass over "[CLS] A [SEP] B [SEP]", so its
attention between A and B can be shown); this teacher only softens that head's training targets:

    target = (1 - w) * label + w * sigmoid(k * (cos(A, B) - c))

with c and k fitted by logistic regression on training pairs (never on development or test
pairs). Used by `python -m scripts.minilm nsp --distill w`.
"""
from __future__ import annotations

import torch
from transformers import AutoModel, AutoTokenizer

from scripts.minilm.budget import log
from scripts.minilm.models import minilm_dir


@torch.inference_mode()
def embed(tok, model, sentences: list[str], max_length: int) -> torch.Tensor:
    """all-MiniLM-L6-v2's sentence embeddings: mean-pooled last layer, unit length (n, 384)."""
    enc = tok(sentences, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    h = model(**enc).last_hidden_state
    m = enc["attention_mask"].unsqueeze(-1).float()
    return torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1)


def untouched_minilm():
    """(tokenizer, model) of the untouched all-MiniLM-L6-v2, in eval mode."""
    return AutoTokenizer.from_pretrained(minilm_dir()), AutoModel.from_pretrained(minilm_dir()).eval()


def embed_all(tok, model, sentences: list[str], max_length: int, chunk: int) -> torch.Tensor:
    """embed() over `chunk` sentences at a time (n, 384)."""
    return torch.cat([embed(tok, model, sentences[i:i + chunk], max_length) for i in range(0, len(sentences), chunk)])


class Teacher:
    def __init__(self):
        self.tok, self.model = untouched_minilm()
        self.c, self.k = 0.2, 10.0

    def cosine(self, a: list[str], b: list[str]) -> torch.Tensor:
        v = embed(self.tok, self.model, a + b, max_length=64)
        return (v[:len(a)] * v[len(a):]).sum(-1)

    def fit(self, rows: list[tuple[str, str, int]]) -> None:
        """Fit c and k (P(follows) = sigmoid(k (cos - c))) to labelled training pairs."""
        cos = torch.cat([self.cosine([a for a, _, _ in rows[i:i + 64]], [b for _, b, _ in rows[i:i + 64]])
                         for i in range(0, len(rows), 64)])
        y = torch.tensor([float(r[2]) for r in rows])
        c, k = torch.tensor(0.2, requires_grad=True), torch.tensor(10.0, requires_grad=True)
        opt = torch.optim.LBFGS([c, k], max_iter=200)

        def closure():
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(k * (cos - c), y)
            loss.backward()
            return loss
        opt.step(closure)
        self.c, self.k = float(c.detach()), float(k.detach())
        acc = ((cos > self.c).float() == y).float().mean().item()
        log(f"teacher: P(follows) = sigmoid({self.k:.2f} (cos - {self.c:.3f})), "
            f"{acc:.3f} on {len(rows)} training pairs")

    def follows(self, a: list[str], b: list[str]) -> torch.Tensor:
        return torch.sigmoid(self.k * (self.cosine(a, b) - self.c))
