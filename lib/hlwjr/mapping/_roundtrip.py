"""Round-trip YAML for the mapping files (ruamel.yaml): a save changes only what changed.

``render_yaml(template, new, same)`` returns the text a YAML file should have so that it holds
``new`` — starting from the file's current text (``template``) so that comments, key order, quoting
and flow/block styles of everything unchanged stay as the analyst wrote them.  A node whose old
value *means* the new one (``same(path, old, new)``: e.g. the shorthand ``patientName: BRXM`` for
``{column: BRXM}``) is kept as written; keys starting with ``x-`` (notes the loader ignores) are
never removed; a changed mapping that drew keys from an anchor (``<<: *ok``) is written out in
full.  ``None`` means nothing changed: the file is not rewritten.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["plain", "render_yaml", "unified_diff"]

Same = Callable[[tuple, Any, Any], bool]


def _yaml():
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 120
    y.allow_unicode = True
    return y


def plain(node: Any) -> Any:
    """A ruamel node as plain Python (dict, list, str, int, float, bool, None)."""
    import datetime as dt

    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return bool(node) if node is not None else None
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, (dt.date, dt.datetime)):
        return node
    return node


def _fresh(value: Any) -> Any:
    """A new value as ruamel block-style nodes."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = _fresh(v)
        return m
    if isinstance(value, list):
        return CommentedSeq([_fresh(v) for v in value])
    return value


def _merge(node: Any, new: Any, same: Same, path: tuple, changed: list) -> Any:
    """``new`` written over ``node`` in place where both are mappings (or equal-length sequences)."""
    if same(path, plain(node), new):
        return node
    if isinstance(node, dict) and isinstance(new, dict) and getattr(node, "merge", None):
        # a mapping drawing keys from an anchor (<<: *ok): written out in full, same style
        changed.append(path)
        fresh = _fresh(new)
        if node.fa.flow_style():
            fresh.fa.set_flow_style()
        return fresh
    if isinstance(node, dict) and isinstance(new, dict):
        for k in [k for k in node if k not in new and not str(k).startswith("x-")]:
            del node[k]
            changed.append(path + (k,))
        for k, v in new.items():
            if k in node:
                node[k] = _merge(node[k], v, same, path + (k,), changed)
            else:
                node[k] = _fresh(v)
                changed.append(path + (k,))
        return node
    if isinstance(node, list) and isinstance(new, list) and len(node) == len(new):
        for i, v in enumerate(new):
            node[i] = _merge(node[i], v, same, path + (i,), changed)
        return node
    changed.append(path)
    return _fresh(new)


def _equal(_path: tuple, old: Any, new: Any) -> bool:
    return old == new


def render_yaml(template: str | Path | None, new: dict, same: Same = _equal) -> str | None:
    """The YAML text holding ``new``, written over ``template`` (a file path or text; None: a new
    file).  None when ``template`` already holds it."""
    import yaml

    if template is None or (isinstance(template, Path) and not template.exists()):
        return yaml.safe_dump(new, allow_unicode=True, sort_keys=False, width=120)
    text = template.read_text(encoding="utf-8") if isinstance(template, Path) else template
    y = _yaml()
    doc = y.load(text)
    if not isinstance(doc, dict):
        return yaml.safe_dump(new, allow_unicode=True, sort_keys=False, width=120)
    changed: list = []
    doc = _merge(doc, new, same, (), changed)
    if not changed:
        return None
    buf = io.StringIO()
    y.dump(doc, buf)
    return buf.getvalue()


def unified_diff(old: str, new: str, name: str) -> str:
    import difflib

    lines = difflib.unified_diff(
        old.splitlines(True), new.splitlines(True), fromfile=f"{name}（现在）", tofile=f"{name}（保存后）"
    )
    return "".join(lines)
