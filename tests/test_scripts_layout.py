"""scripts/ stands on lmcore (issue 31 item 3): the training code is one package run with
`python -m`, no sys.path edits and no `global` anywhere in scripts/, no module over 300 lines, a
config dataclass whose command line replays the run, and the old script files still replay the
commands recorded in metrics.json."""
from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.minilm import gpt2_scratch, lms, nsp
from scripts.minilm.config import LMConfig, NSPConfig, ScratchConfig

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "scripts").rglob("*.py"))


def test_no_sys_path_edits_and_no_global_in_scripts():
    offenders = []
    for path in SCRIPTS:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} global")
            if isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", "") == "sys":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} sys.path")
    assert offenders == []


def test_no_script_module_over_300_lines():
    counts = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in SCRIPTS}
    assert {k: n for k, n in counts.items() if n > 300} == {}


@pytest.mark.parametrize("argv", [
    ["mlm", "--cpu-minutes", "85.0", "--batch", "32", "--lr", "0.00015"],
    ["causal", "--cpu-minutes", "150.0", "--batch", "32", "--lr", "0.00015", "--start", "minilm-gpt",
     "--shakespeare", "0.15", "--bucket", "--threads", "2"],
    ["mlm", "--cpu-minutes", "100.0", "--batch", "32", "--lr", "5e-05", "--start", "minilm-mlm", "--wordnet",
     "0.35", "--nsp-pairs", "same-source", "--eval-every", "500"],
])
def test_an_lms_command_line_is_its_config_and_back(argv):
    cfg = lms.parse(argv)
    assert cfg.command() == "python -m scripts.minilm lms " + " ".join(argv)
    assert lms.parse(cfg.command().split()[4:]) == cfg


def test_the_checkpoint_of_a_continued_run_is_its_own():
    assert LMConfig("mlm").checkpoint == ROOT / "runs" / "minilm-mlm" / "ckpt.pt"
    cfg = LMConfig("mlm", start="minilm-mlm", out=Path("runs/minilm-mlm-wordnet"))
    assert cfg.checkpoint == ROOT / "runs" / "minilm-mlm-wordnet-from-minilm-mlm" / "ckpt.pt"


def test_nsp_and_gpt2_scratch_commands_list_what_differs_from_the_defaults():
    cfg, only_remeasure = nsp.parse(["--cpu-minutes", "35", "--written", "a.tsv", "b.tsv",
                                     "--weights", "0.15,0.15,0.3,0.4"])
    assert not only_remeasure and cfg.written == ("a.tsv", "b.tsv") and cfg.weights == (0.15, 0.15, 0.3, 0.4)
    assert cfg.command() == ("python -m scripts.minilm nsp --cpu-minutes 35.0 --batch 32 --lr 5e-05 "
                             "--written a.tsv b.tsv --weights 0.15,0.15,0.3,0.4")
    assert NSPConfig().to_dict()["written"] == ["everyday_pairs_train.tsv"]  # JSON-ready
    assert nsp.parse(["--remeasure"])[1]
    assert gpt2_scratch.parse([]).command() == ("python -m scripts.minilm gpt2-scratch --cpu-minutes 50.0 --width 256 "
                                                "--layers 4 --heads 4 --lr 0.0008 --batch 32")
    assert isinstance(ScratchConfig().to_dict()["out"], str)


SHIMS = {"train_minilm_lms.py": ("scripts.minilm", "lms"), "train_minilm_nsp.py": ("scripts.minilm", "nsp"),
         "train_gpt2_scratch.py": ("scripts.minilm", "gpt2-scratch"), "train_tiny_lms.py": ("scripts.tiny_lms",)}


def _replayed(script: str) -> tuple[str, ...]:
    """The arguments of the replay(...) call in a script file."""
    tree = ast.parse((ROOT / "scripts" / script).read_text(encoding="utf-8"))
    return next(tuple(a.value for a in node.args) for node in ast.walk(tree)
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "replay")


@pytest.mark.parametrize("script", sorted(SHIMS))
def test_each_recorded_script_file_replays_its_package_command(script):
    module, *command = _replayed(script)
    assert (module, *command) == SHIMS[script] and importlib.util.find_spec(module) is not None
    if module == "scripts.minilm":
        from scripts.minilm.__main__ import COMMANDS
        assert command[0] in COMMANDS


def test_a_recorded_script_file_runs_the_package_from_any_folder(tmp_path):
    """`python scripts/train_minilm_lms.py --help` from another folder reaches the package's parser."""
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_minilm_lms.py"), "--help"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "usage: python -m scripts.minilm lms" in out.stdout
