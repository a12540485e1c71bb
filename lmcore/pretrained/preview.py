"""What a classifier does before any fine-tuning: the Fine-tuning page's opening view (issue 12).

    clf = build_classifier("all-MiniLM-L6-v2", data.label_names, seed=0)   # untrained head
    view = before_training(clf, data.validation, rows=12)
    view.probabilities   # (rows, classes): the untrained head's p(y | x), near chance
    view.maps            # (layers, heads, T, T) self-attention of view.example ([CLS] row 0)

The same classifier and seed as the "before" side of a finished run (ui.loaders.finetune.initial),
so the page shows, before training, exactly what the comparison after training starts from.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmcore.notices import Notice
from lmcore.pretrained import encoding
from lmcore.pretrained.classifier import Classifier, as_loaded, predict
from lmcore.pretrained.tasks import Split
from lmcore.record import AttentionMaps


@dataclass(frozen=True)
class BeforeTraining:
    """The untrained classifier on the first `rows` validation sentences and one example."""
    label_names: tuple[str, ...]
    texts: tuple[str, ...]
    gold: tuple[int, ...]             # index into label_names
    probabilities: np.ndarray         # (rows, classes) float32, rows sum to 1
    example: str                      # the sentence whose attention is shown
    maps: AttentionMaps               # (layers, heads, T, T) self-attention of `example`
    notices: tuple[Notice, ...]       # truncation of the example and similar

    @property
    def predictions(self) -> tuple[int, ...]:
        return tuple(int(k) for k in self.probabilities.argmax(-1))

    @property
    def accuracy(self) -> float:
        """Share of the shown rows the untrained head gets right."""
        if not self.gold:
            return 0.0
        return float(np.mean([p == y for p, y in zip(self.predictions, self.gold)]))


def before_training(clf: Classifier, split: Split, rows: int = 12, example: int = 0,
                    max_length: int = 32) -> BeforeTraining:
    """Predictions of `clf` on split's first `rows` sentences and the attention of sentence `example`."""
    texts = tuple(split.texts[:rows])
    if not texts:
        raise ValueError("the split has no sentences")
    chosen = texts[min(max(example, 0), len(texts) - 1)]
    probabilities = predict(clf, list(texts), max_length)                     # (rows, C)
    result = encoding.attention(as_loaded(clf), chosen, max_tokens=max_length)
    return BeforeTraining(tuple(clf.label_names), texts, tuple(split.labels[:rows]),
                          probabilities.astype(np.float32), chosen, result.maps, tuple(result.notices))
