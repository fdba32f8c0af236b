"""Fingerprints of the engine's rule implementations that the small-batch proof
(``hlwjr.validation._smallrules``) mirrors row by row.

A fingerprint covers a function and every module-level function, class and constant of its module
that it reaches by name (transitively), read as a syntax tree without docstrings and decorators:
reformatting or rewording a rule's documentation keeps it, a change to what the code does breaks
it. ``tests/test_one_owner.py`` compares them with the ones recorded beside the mirrors.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
from pathlib import Path


def _definitions(tree: ast.Module) -> dict[str, ast.AST]:
    defs: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defs[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        defs[n.id] = node
    return defs


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
    }


def _bare(node: ast.AST) -> str:
    node = ast.parse(ast.unparse(node)).body[0]  # a copy
    for n in ast.walk(node):
        if isinstance(n, (ast.FunctionDef, ast.ClassDef)):
            n.decorator_list = []
            if n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant):
                n.body = n.body[1:] or [ast.Pass()]
    return ast.dump(node)


def fingerprint(path: Path, name: str) -> str:
    """The fingerprint of ``name`` in the module at ``path``."""
    defs = _definitions(ast.parse(path.read_text(encoding="utf-8")))
    seen: dict[int, ast.AST] = {}
    todo = [name]
    while todo:
        node = defs.get(todo.pop())
        if node is None or id(node) in seen:
            continue
        seen[id(node)] = node
        todo += sorted(_names(node))
    text = "\n".join(sorted(_bare(n) for n in seen.values()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def of_function(fn) -> str:
    return fingerprint(Path(inspect.getsourcefile(fn)), fn.__name__)
