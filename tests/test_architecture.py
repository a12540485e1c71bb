"""House rules that keep the layers apart and the weights safe."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [p for p in ROOT.rglob("*.py") if ".venv" not in p.parts and "tests" not in p.parts]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_lmcore_never_imports_streamlit_or_ui():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "lmcore").rglob("*.py")
                 if _imports(p) & {"streamlit", "ui", "pages"}]
    assert offenders == []


def test_importing_lmcore_loads_no_streamlit():
    code = ("import sys, importlib, pkgutil, lmcore\n"
            "for m in pkgutil.walk_packages(lmcore.__path__, 'lmcore.'):\n"
            "    if m.name != 'lmcore.__main__': importlib.import_module(m.name)\n"
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_no_unsafe_loading_anywhere():
    pattern = re.compile(r"trust_remote_code\s*=\s*True|weights_only\s*=\s*False|pickle\.load")
    offenders = [str(p.relative_to(ROOT)) for p in SOURCES if pattern.search(p.read_text("utf-8"))]
    assert offenders == []


def test_torch_load_always_weights_only():
    for path in SOURCES:
        for line in path.read_text("utf-8").splitlines():
            if "torch.load(" in line:
                assert "weights_only=True" in line, f"{path}: {line.strip()}"


def test_no_internet_assets_referenced():
    pattern = re.compile(r"https?://(cdn|cdnjs|unpkg|fonts\.googleapis|www\.googletagmanager)")
    files = [p for p in ROOT.rglob("*") if p.suffix in {".py", ".html", ".js", ".toml"}
             and ".venv" not in p.parts and "tests" not in p.parts]
    offenders = [str(p.relative_to(ROOT)) for p in files
                 if pattern.search(p.read_text("utf-8", errors="replace"))]
    assert offenders == []


def test_pages_do_not_use_deprecated_components_html():
    for path in list((ROOT / "pages").glob("*.py")) + list((ROOT / "ui").glob("*.py")):
        assert "components.v1.html" not in path.read_text("utf-8"), path


def test_streamlit_config_is_private_and_protected():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text("utf-8"))
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["enableCORS"] is True
    assert config["client"]["showErrorDetails"] == "type"
    assert config["client"]["toolbarMode"] == "viewer"
