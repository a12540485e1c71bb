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
    for path in list((ROOT / "pages").glob("*.py")) + list((ROOT / "ui").rglob("*.py")):
        assert "components.v1.html" not in path.read_text("utf-8"), path


def test_streamlit_config_is_private_and_protected():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text("utf-8"))
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["enableCORS"] is True
    assert config["client"]["showErrorDetails"] == "type"
    assert config["client"]["toolbarMode"] == "viewer"


# ---------------------------------------------------------------- the layout's rules (issue 13)
APP_SOURCES = sorted([p for d in ("lmcore", "ui", "pages") for p in (ROOT / d).rglob("*.py")]
                     + [ROOT / "app.py"])
MAX_MODULE_LINES = 300
# The Transformer reads top-down in one file, like nanoGPT's model.py: multi-head attention,
# the layers, the cache and the model are one idea, and splitting them to fit the cap spread
# it over five rooms (issue 31).
LONG_MODULES = {"lmcore/transformer.py"}


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_only_lmcore_pretrained_imports_transformers():
    """Hugging Face stays behind lmcore/pretrained/ (scripts/ and bench/ are exempt)."""
    home = ROOT / "lmcore" / "pretrained"
    offenders = [_rel(p) for p in APP_SOURCES if home not in p.parents and "transformers" in _imports(p)]
    assert offenders == [], f"import transformers outside lmcore/pretrained/: {offenders}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _lmcore_targets(node: ast.AST, module: str, is_package: bool, known: set[str]) -> list[str]:
    """The lmcore modules one import statement loads (`from a import b`: a.b when it is a module)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[:len(package) - (node.level - 1)]
            base = ".".join(package + ([base] if base else []))
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
    else:
        return []
    out = []
    for name in names:
        while name and name not in known:  # `import lmcore.a.b.c` for a name inside a module
            name = name.rpartition(".")[0]
        if name.startswith("lmcore") and name != module:
            out.append(name)
    return out


def lmcore_import_graph() -> dict[str, set[str]]:
    """module -> the lmcore modules it imports anywhere (top level or inside functions)."""
    paths = {_module_name(p): p for p in (ROOT / "lmcore").rglob("*.py")}
    known = set(paths)
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        graph[module] = {t for node in ast.walk(tree)
                         for t in _lmcore_targets(node, module, is_package, known)}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle path (a -> b -> ... -> a) for each group of modules that import each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_through(graph, set(group), group[0]) for group in groups]


def _cycle_through(graph: dict[str, set[str]], group: set[str], start: str) -> list[str]:
    """The shortest import path from `start` back to itself inside one group (breadth first)."""
    paths = {nxt: [start, nxt] for nxt in sorted(graph[start] & group)}
    queue = list(paths)
    while queue:
        node = queue.pop(0)
        if start in graph[node]:
            return paths[node] + [start]
        for nxt in sorted(graph[node] & group):
            if nxt not in paths:
                paths[nxt] = paths[node] + [nxt]
                queue.append(nxt)
    return [start, start]


def test_import_cycle_finder_sees_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c", "a"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_inside_lmcore():
    graph = lmcore_import_graph()
    assert "lmcore.record" in graph and graph["lmcore.cli"], "the graph sees lmcore's modules"
    cycles = [" -> ".join(c) for c in import_cycles(graph)]
    assert cycles == [], "import cycles in lmcore:\n" + "\n".join(cycles)


def _cache_decorators(path: Path) -> list[str]:
    """Every st.cache_* / streamlit.cache_* used in a module: 'path:line st.cache_x'."""
    return [f"{_rel(path)}:{node.lineno} {node.value.id}.{node.attr}"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Attribute) and node.attr.startswith("cache_")
            and isinstance(node.value, ast.Name) and node.value.id in {"st", "streamlit"}]


def test_no_streamlit_caches_outside_ui_loaders():
    """Every st.cache_* wrapper lives in ui/loaders/ (other ui modules, pages and app.py hold none)."""
    offenders = [hit for p in SOURCES if (ROOT / "ui" / "loaders") not in p.parents for hit in _cache_decorators(p)]
    assert offenders == [], "st.cache_* outside ui/loaders/:\n" + "\n".join(offenders)


def test_no_module_over_300_lines():
    sources = APP_SOURCES + sorted((ROOT / "bench").rglob("*.py"))
    counts = {_rel(p): len(p.read_text(encoding="utf-8").splitlines()) for p in sources}
    offenders = {name: n for name, n in counts.items() if n > MAX_MODULE_LINES and name not in LONG_MODULES}
    assert offenders == {}, f"modules over {MAX_MODULE_LINES} lines: {offenders}"


def _unnamed_exports(path: Path) -> list[str]:
    """chart()/table() calls in a page or ui module that name no export file (filename=/stem=)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{_rel(path)}:{node.lineno}" for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("chart", "table", "export_table")
            and not {"filename", "stem"} & {k.arg for k in node.keywords}]


def test_every_chart_and_table_names_its_export_files():
    """Issue 12: exports are named by what they hold (page, model, layer, head, step), never by
    an internal widget key ("attention-lab-pos_sin.csv")."""
    pages = [p for p in APP_SOURCES if p.parent.name in ("pages", "ui")]
    offenders = [hit for p in pages for hit in _unnamed_exports(p)]
    assert pages and offenders == [], "no filename=/stem=:\n" + "\n".join(offenders)


# ---------------------------------------------------------------- lmcore's floors (issue 31)
# Each floor may import its own floor and the floors below it, never one above. The chain:
# models <- shared <- translation / pretrained <- demos <- views <- inference <- commands.
FLOORS: list[tuple[str, set[str]]] = [
    ("base", {"lmcore.i18n", "lmcore.errors"}),   # standard library and the locale table only
    ("models", {"lmcore.record", "lmcore.special_ids", "lmcore.attention", "lmcore.positional",
                "lmcore.seq2seq", "lmcore.transformer"}),
    ("shared", {"lmcore", "lmcore.notices", "lmcore.catalog", "lmcore.files", "lmcore.heads_off",
                "lmcore.timing"}),
    ("families", {"lmcore.translation", "lmcore.pretrained"}),   # peers: neither imports the other
    ("demos", {"lmcore.demos"}),
    ("views", {"lmcore.views"}),
    ("inference", {"lmcore.inference"}),
    ("commands", {"lmcore.commands", "lmcore.cli", "lmcore.__main__"}),
]
MODEL_FILES = FLOORS[1][1]


def _floor(module: str) -> int:
    """The floor of a module: listed by name, or by its package (lmcore.translation.text)."""
    for number, (_, names) in enumerate(FLOORS):
        if module in names or (module != "lmcore" and ".".join(module.split(".")[:2]) in names):
            return number
    raise AssertionError(f"{module} is on no floor: add it to FLOORS")


def _family(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_floor_finder_places_modules():
    assert _floor("lmcore.translation.text") == _floor("lmcore.pretrained.loading") == 3
    assert _floor("lmcore") == 2 and _floor("lmcore.transformer") == 1 and _floor("lmcore.cli") == 7


def test_no_import_climbs_a_floor_inside_lmcore():
    graph = lmcore_import_graph()
    climbs = [f"{m} -> {t}" for m, targets in sorted(graph.items()) for t in sorted(targets)
              if _floor(t) > _floor(m)]
    assert climbs == [], "imports from a lower floor to a higher one:\n" + "\n".join(climbs)


def test_translation_and_pretrained_do_not_import_each_other():
    graph = lmcore_import_graph()
    families = {"lmcore.translation", "lmcore.pretrained"}
    crossings = [f"{m} -> {t}" for m, targets in sorted(graph.items()) for t in sorted(targets)
                 if _family(m) in families and _family(t) in families and _family(m) != _family(t)]
    assert crossings == []


def test_model_files_import_only_torch_numpy_the_standard_library_and_each_other():
    """The chapter's networks stand alone: errors (a translated message for bad input) is the
    one lmcore module below them."""
    allowed = set(sys.stdlib_module_names) | {"torch", "numpy", "lmcore"}
    graph = lmcore_import_graph()
    for module in MODEL_FILES:
        path = ROOT / (module.replace(".", "/") + ".py")
        assert _imports(path) <= allowed, f"{module}: {_imports(path) - allowed}"
        assert graph[module] <= MODEL_FILES | {"lmcore.errors"}, f"{module}: {graph[module]}"


def _inner_imports(path: Path) -> list[int]:
    """Line numbers of import statements inside functions (each hides an edge of the graph)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return sorted({node.lineno for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                   for node in ast.walk(f) if isinstance(node, (ast.Import, ast.ImportFrom))})


def test_imports_inside_functions_are_few_and_say_why():
    """At most 25 in lmcore, each heavy and optional, with a comment on the line or just above
    the first import of its group saying why."""
    hits = [(p, n) for p in sorted((ROOT / "lmcore").rglob("*.py")) for n in _inner_imports(p)]
    assert len(hits) <= 25, f"{len(hits)} imports inside functions"
    for path, line in hits:
        lines = path.read_text(encoding="utf-8").splitlines()
        above = lines[max(0, line - 4):line]
        assert any("#" in text for text in above), f"{_rel(path)}:{line} imports inside a function without saying why"
