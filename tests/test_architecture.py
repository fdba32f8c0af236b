"""The package tree keeps its shape (issue 10): no module over 800 lines, no import cycle between
hlwjr's modules, and a function-level import of an hlwjr module only where it defers a heavy
dependency (pandas, FastAPI, openpyxl…) for start-up time — never to dodge a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

LIB = Path(__file__).resolve().parents[1] / "lib"
MAX_LINES = 800


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((LIB / "hlwjr").rglob("*.py")):
        parts = list(path.relative_to(LIB).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> list[str]:
    """The hlwjr modules a ``from … import …`` statement of ``module`` loads."""
    if node.level:
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        base = package.split(".")
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith("hlwjr"):
        return []
    found = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES]
    return found + ([target] if target in MODULES else [])


def _imports(module: str, path: Path, *, top_level: bool) -> list[tuple[str, int]]:
    """(imported hlwjr module, line) — module-level statements only, or only those in functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nested |= {id(n) for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))}
    guarded = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded |= {id(n) for n in ast.walk(node)}
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or id(node) in guarded:
            continue
        if (id(node) in nested) == top_level:
            continue
        if isinstance(node, ast.ImportFrom):
            out += [(m, node.lineno) for m in _resolve(module, path, node)]
        else:
            out += [(a.name, node.lineno) for a in node.names if a.name in MODULES]
    return out


def _package_parents(module: str) -> list[str]:
    """Importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in MODULES]


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_module_is_over_800_lines():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these at their seams: {long}"


def test_no_import_cycle_between_hlwjr_modules():
    graph = {}
    for module, path in MODULES.items():
        # the front door loads its names lazily (hlwjr._LAZY): its own edges do not count
        targets = {m for m, _ in _imports(module, path, top_level=True) if m != module}
        graph[module] = {t for t in targets if t != "hlwjr"} - set(_package_parents(module))
    assert _cycle(graph) is None, " → ".join(_cycle(graph))


# A function-level import of an hlwjr module, and why it is there. Each defers a heavy dependency
# (pandas, pyarrow, openpyxl, FastAPI, httpx, jsonschema) until the function runs, so that
# ``import hlwjr`` and ``hlwjr --help`` stay fast (tests/test_core_frontdoor.py).
DEFERRED_OK = "defers a heavy dependency"


def test_function_level_imports_only_defer_heavy_dependencies():
    """An import inside a function that could be at module level without a cycle is a smell the
    issue names (it hid cycles): every remaining one must be a module that would load a heavy
    third-party package at import time."""
    heavy = ("pandas", "pyarrow", "numpy", "openpyxl", "docx", "fastapi", "starlette", "httpx", "jsonschema")
    light = []
    for module, path in MODULES.items():
        for target, line in _imports(module, path, top_level=False):
            text = MODULES[target].read_text(encoding="utf-8")
            top = [n for n in ast.parse(text).body if isinstance(n, (ast.Import, ast.ImportFrom))]
            loads = {(n.module or "").split(".")[0] for n in top if isinstance(n, ast.ImportFrom)} | {
                a.name.split(".")[0] for n in top if isinstance(n, ast.Import) for a in n.names
            }
            relative = [n for n in top if isinstance(n, ast.ImportFrom) and n.level]
            lazy = "importlib" in loads  # a package front that loads its names on first use
            if not (loads & set(heavy)) and not relative and not lazy:
                light.append(f"{module}:{line} → {target}")
    assert not light, "function-level imports of light modules (move them to the top): " + "; ".join(light)


def _module_graph() -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        targets = {m for m, _ in _imports(module, path, top_level=True) if m != module}
        graph[module] = {t for t in targets if t != "hlwjr"} - set(_package_parents(module))
    return graph


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo += graph.get(node, ())
    return False


# Deferred imports that would close a cycle at module level, each a known seam (kept short).
CYCLE_DODGES_ALLOWED = {
    # Mapping.preview(...) is the notebooks' one-call convenience over the engine, which reads
    # the config: the method borrows the engine at call time, the engine owns the mapping run.
    "hlwjr.mapping._config → hlwjr.mapping._engine": "Mapping.preview is a convenience over the engine",
}


def test_no_function_level_import_hides_a_cycle():
    graph = _module_graph()
    hidden = []
    for module, path in MODULES.items():
        for target, line in _imports(module, path, top_level=False):
            if target != module and target != "hlwjr" and _reaches(graph, target, module):
                key = f"{module} → {target}"
                if key not in CYCLE_DODGES_ALLOWED:
                    hidden.append(f"{module}:{line} → {target}")
    assert not hidden, "these imports sit in functions because the modules import each other: " + "; ".join(hidden)
