"""The sentence classifier being fine-tuned: building a fresh copy, loading, predicting,
and what fine-tuning did to the attention.

    clf = build_classifier("all-MiniLM-L6-v2", ("affirmative", "negated"), seed=0)
    probs = predict(clf, ["I don't know"])                      # (1, classes)
    maps = encoding.attention(as_loaded(clf), "I don't know").maps   # same path as the BERT page
    change = head_change(base_encoder, clf, texts)              # HeadChange (layers, heads)

A fresh copy is read from the pretrained model's folder every time (the process-wide
cached model of `lmcore.pretrained.loading` is only ever read). Weights: safetensors only,
`trust_remote_code=False`, `attn_implementation="eager"` (so attention is returned).
"""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import transformers

from lmcore.catalog import ENCODER_KINDS
from lmcore.errors import UserFacingError
from lmcore.notices import Notice
from lmcore.pretrained import encoding
from lmcore.pretrained.loading import HasLayersAndHeads, LoadedModel, load_model
from lmcore.record import AttentionMaps


@dataclass(eq=False)
class Classifier(HasLayersAndHeads):
    """A *ForSequenceClassification model with its own tokenizer (never shared with the cache)."""
    model: torch.nn.Module
    tokenizer: object
    label_names: tuple[str, ...]
    base_name: str               # the pretrained encoder it started from
    seed: int = 0                # the head's initialisation seed
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def n_classes(self) -> int:
        return len(self.label_names)


@contextmanager
def _quiet_transformers():
    """transformers without its "newly initialized: classifier" warning (expected here)."""
    level = transformers.utils.logging.get_verbosity()
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    try:
        yield transformers
    finally:
        transformers.utils.logging.set_verbosity(level)


def encoder_source(name: str) -> str:
    """The folder (or hub id) the pretrained encoder `name` loads from."""
    lm = load_model(name)
    if lm.kind not in ENCODER_KINDS:
        raise UserFacingError("ft.err.not_encoder", name=name, kind=lm.kind)
    return str(lm.model.config._name_or_path or lm.model.name_or_path)


def build_classifier(name: str, label_names: tuple[str, ...], seed: int = 0) -> Classifier:
    """A fresh encoder from `name`'s folder plus a new classification head (seeded)."""
    source = encoder_source(name)
    torch.manual_seed(seed)
    try:
        with _quiet_transformers() as transformers:
            model = transformers.AutoModelForSequenceClassification.from_pretrained(
                source, num_labels=len(label_names), id2label=dict(enumerate(label_names)),
                label2id={n: i for i, n in enumerate(label_names)}, attn_implementation="eager",
                use_safetensors=True, dtype=torch.float32, local_files_only=True, trust_remote_code=False)
            tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=True, trust_remote_code=False)
    except (OSError, ValueError) as error:
        raise UserFacingError("lm.err.load_failed", name=name, reason=type(error).__name__) from error
    model.eval()
    return Classifier(model, tokenizer, tuple(label_names), name, seed)


def load_classifier(folder: str | Path) -> Classifier:
    """A classifier saved by `lmcore.pretrained.finetune.save_classifier`."""
    folder = Path(folder)
    if not (folder / "labels.json").is_file() or not (folder / "config.json").is_file():
        raise UserFacingError("ft.err.not_finetuned", name=str(folder))
    with _quiet_transformers() as transformers:
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            folder, attn_implementation="eager", use_safetensors=True, local_files_only=True,
            trust_remote_code=False)
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True, trust_remote_code=False)
    labels = tuple(json.loads((folder / "labels.json").read_text("utf-8")))
    info_path = folder / "finetune.json"
    info = json.loads(info_path.read_text("utf-8")) if info_path.is_file() else {}
    model.eval()
    return Classifier(model, tokenizer, labels, info.get("base_model", ""), info.get("config", {}).get("seed", 0))


def encode_batch(clf: Classifier, texts: list[str], max_length: int) -> dict[str, torch.Tensor]:
    """Token ids, attention mask (and segment ids) padded to the longest text: (B, T) each."""
    with clf.lock:  # a fast tokenizer is not re-entrant ("Already borrowed")
        enc = clf.tokenizer(list(texts), padding=True, truncation=True, max_length=max_length,
                            return_tensors="pt")
    return dict(enc)


@torch.inference_mode()
def predict(clf: Classifier, texts: list[str], max_length: int = 64) -> np.ndarray:
    """p(y | x) for each text: (n, classes) float32, rows sum to 1."""
    texts = [encoding.check_text(t) for t in texts]
    clf.model.eval()
    logits = clf.model(**encode_batch(clf, texts, max_length)).logits  # (n, C)
    return torch.softmax(logits.float(), -1).numpy()


def as_loaded(clf: Classifier, name: str | None = None) -> LoadedModel:
    """A LoadedModel view of the classifier, for `encoding.attention` (the BERT page's path)."""
    config = clf.model.config
    return LoadedModel(name or f"{clf.base_name} (fine-tuned)", "encoder", clf.model,
                                  clf.tokenizer, int(config.max_position_embeddings), False, False,
                                  clf.lock)


# ---------------------------------------------------------------- what changed
@dataclass(frozen=True)
class BeforeAfter:
    """One text through the classifier before and after fine-tuning."""
    labels: tuple[str, ...]
    before: tuple[float, ...]        # P(label) per label, the untrained head on the base encoder
    after: tuple[float, ...]         # ... the fine-tuned classifier
    before_maps: AttentionMaps       # (layers, heads, n, n) self-attention before
    after_maps: AttentionMaps        # ... and after
    notices: tuple[Notice, ...]      # truncation and similar (the text is the same for both)

    def probabilities(self, which: str) -> tuple[float, ...]:
        """`before` or `after` by name."""
        return self.before if which == "before" else self.after


def before_after(before: Classifier, after: Classifier, text: str, max_tokens: int = 64) -> BeforeAfter:
    """Predictions and attention of `text` under both classifiers (same path as the BERT page)."""
    probs, maps, notices = [], [], ()
    for clf in (before, after):
        res = encoding.attention(as_loaded(clf), text, max_tokens=max_tokens)
        probs.append(tuple(predict(clf, [text])[0].tolist()))
        maps.append(res.maps)
        notices = res.notices
    return BeforeAfter(tuple(after.label_names), probs[0], probs[1], maps[0], maps[1], notices)


@dataclass(frozen=True)
class HeadChange:
    """Jensen-Shannon distance (base 2, in [0, 1]) between a head's attention rows before and
    after fine-tuning, averaged over the real query tokens and the sentences."""
    all_rows: np.ndarray   # (layers, heads): every query row
    cls_row: np.ndarray    # (layers, heads): the [CLS] row only
    sentences: int

    def top(self, k: int = 5, cls: bool = False) -> list[tuple[int, int, float]]:
        """The k heads that changed most: (layer, head, distance), 0-based."""
        values = self.cls_row if cls else self.all_rows
        order = np.argsort(values, axis=None)[::-1][:k]
        return [(int(i // values.shape[1]), int(i % values.shape[1]), float(values.flat[i])) for i in order]


def js_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """sqrt(JS(p || q)), JS = 1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q) / 2, log base 2.

    p, q: (..., keys) distributions; returns (...). 0 log 0 = 0.
    """
    m = (p + q) / 2

    def kl(a: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(a > 0, a * np.log2(np.where(a > 0, a, 1) / np.where(m > 0, m, 1)), 0).sum(-1)
    return np.sqrt(np.clip(0.5 * kl(p) + 0.5 * kl(q), 0, 1))


@torch.inference_mode()
def _attentions(body: torch.nn.Module, inputs: dict) -> np.ndarray:
    out = body(**inputs, output_attentions=True)
    return torch.stack(out.attentions, 1).float().numpy()  # (B, L, H, T, T)


def head_change(base: LoadedModel, clf: Classifier, texts: list[str],
                max_length: int = 32, batch_size: int = 32) -> HeadChange:
    """How much each head's attention moved from the pretrained encoder `base` to `clf`."""
    sums = np.zeros((2, clf.n_layers, clf.n_heads))
    clf.model.eval()
    for i in range(0, len(texts), batch_size):
        inputs = encode_batch(clf, texts[i:i + batch_size], max_length)
        with base.lock:
            before = _attentions(base.model.base_model, inputs)
        after = _attentions(clf.model.base_model, inputs)
        mask = inputs["attention_mask"].numpy().astype(bool)           # (B, T)
        d = js_distance(before, after)                                  # (B, L, H, T)
        rows = mask[:, None, None, :]
        sums[0] += ((d * rows).sum(-1) / mask.sum(-1)[:, None, None]).sum(0)
        sums[1] += d[..., 0].sum(0)
    n = max(len(texts), 1)
    return HeadChange(sums[0] / n, sums[1] / n, len(texts))
