"""Where things are, and the settings of each kind of run as a dataclass: its values and its
command line are written into the model's metrics.json ("config", "command"), as minGPT records
its CfgNode, so a run can be replayed from what it wrote."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "datasets"   # read only; never committed
PAIRS = ROOT / "scripts" / "data"            # the project's own written sentence pairs
ASSETS = ROOT / "lmcore" / "assets"
RUNS = ROOT / "runs"
SEED = 1234
COMMAND = "python -m scripts.minilm"


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


class Recorded:
    """A config whose command line lists the fields that differ from their defaults."""
    _always: tuple[str, ...] = ()   # fields always on the command line, in this order
    _skip: tuple[str, ...] = ()     # fields never on it

    def command(self) -> str:
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        parts = [COMMAND, self.subcommand()]
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in self._skip or (f.name not in self._always and value == defaults[f.name]):
                continue
            if isinstance(value, bool):
                parts.append(_flag(f.name))
            elif isinstance(value, (tuple, list)):  # file names a word each, numbers comma-separated
                sep = " " if all(isinstance(v, str) for v in value) else ","
                parts += [_flag(f.name), sep.join(map(str, value))]
            else:
                parts += [_flag(f.name), str(value)]
        return " ".join(parts)

    def to_dict(self) -> dict:
        return {k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
                for k, v in dataclasses.asdict(self).items()}

    def subcommand(self) -> str:
        raise NotImplementedError


@dataclass
class LMConfig(Recorded):
    """`lms`: the MiniLM masked LM (mlm) or causal LM (causal), or a further stage of one."""
    kind: str                      # "mlm" (BertForPreTraining) | "causal" (BertLMHeadModel, is_decoder)
    cpu_minutes: float = 60.0      # budget: CPU time of the training process
    batch: int = 32
    lr: float = 1e-4               # peak: warm-up 200 steps, then a cosine of the budget spent
    start: str | None = None       # continue a bundled model (catalog name or folder)
    shakespeare: float = 0.25      # causal: share of Shakespeare texts
    bucket: bool = False           # causal: batch texts of similar length
    wordnet: float = 0.0           # mlm: share of single WordNet 3.0 texts
    nsp_pairs: str = "stage1"      # mlm: "stage1" pairs, or the second stage's "same-source" negatives
    eval_every: int = 1000         # steps between validation figures in the log
    threads: int = 1
    out: Path | None = None        # default: lmcore/assets/minilm-mlm or minilm-gpt
    _always = ("cpu_minutes", "batch", "lr")
    _skip = ("kind", "out")

    def subcommand(self) -> str:
        return f"lms {self.kind}"

    @property
    def folder(self) -> Path:
        return self.out or ASSETS / ("minilm-mlm" if self.kind == "mlm" else "minilm-gpt")

    @property
    def checkpoint(self) -> Path:
        """runs/<out>/ckpt.pt; a continued run's own, not the first run's."""
        name = self.folder.name if self.start is None else f"{self.folder.name}-from-{Path(self.start).name}"
        return RUNS / name / "ckpt.pt"


@dataclass
class NSPConfig(Recorded):
    """`nsp`: the second stage of minilm-mlm, next-sentence pairs with same-source negatives."""
    cpu_minutes: float = 30.0
    batch: int = 32
    lr: float = 5e-5
    distill: float = 0.0           # weight of the teacher's P(follows) in the targets (0: labels only)
    written: tuple[str, ...] = ("everyday_pairs_train.tsv",)  # scripts/data files of written pairs
    weights: tuple[float, ...] = (0.2, 0.15, 0.45, 0.2)  # Shakespeare, Tatoeba two-part, related, written
    start: str = "minilm-mlm"      # the stage-1 model: catalog name or folder
    eval_every: int = 150          # steps between development evaluations
    threads: int = 1
    out: Path = field(default_factory=lambda: ASSETS / "minilm-mlm")  # default: in place
    run: Path = field(default_factory=lambda: RUNS / "minilm-nsp")    # checkpoints, related-pairs cache
    _always = ("cpu_minutes", "batch", "lr")
    _skip = ("start", "eval_every", "threads", "out", "run")

    def subcommand(self) -> str:
        return "nsp"


@dataclass
class ScratchConfig(Recorded):
    """`gpt2-scratch`: a GPT2LMHeadModel from random weights on the causal LM's data."""
    cpu_minutes: float = 50.0
    width: int = 256
    layers: int = 4
    heads: int = 4
    lr: float = 8e-4
    batch: int = 32
    test: bool = False             # also measure the test split (once, for a model to keep)
    out: Path = field(default_factory=lambda: RUNS / "gpt2-scratch" / "model")
    _always = ("cpu_minutes", "width", "layers", "heads", "lr", "batch")
    _skip = ("out",)

    def subcommand(self) -> str:
        return "gpt2-scratch"
