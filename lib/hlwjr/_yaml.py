"""Reading the YAML files people write by hand (spec, mapping config): one loader, one translation.

A key written twice in one mapping is refused (PyYAML keeps the last one and silently drops the
first — a field mapped twice would lose a rule); merge keys (``<<: *anchor``) may still be
overridden, as YAML means them to be.  Tabs in the indentation, undecodable bytes and syntax
errors become the caller's error class (``SpecError``, ``MappingError``) with file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ._exceptions import HlwjrError

__all__ = ["parse_yaml", "read_yaml"]

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class _StrictLoader(_BASE):  # type: ignore[misc, valid-type]
    """SafeLoader that refuses a key given twice in one mapping."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node.start_mark)
                except TypeError:  # an unhashable key: SafeConstructor words it
                    continue
                if first is not key_node.start_mark:
                    raise _DuplicateKey(
                        problem=f"键 {key!r} 重复（第 {first.line + 1} 行已写过），后写的会覆盖先写的；"
                        "请删除或合并其中一个",
                        problem_mark=key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path, error: type[HlwjrError]) -> Any:
    """The YAML document in ``path``; problems raise ``error`` naming the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error("文件不存在", where=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise error("文件不是 UTF-8 编码，请另存为 UTF-8", where=str(path)) from exc
    return parse_yaml(text, error, str(path))


def parse_yaml(text: str, error: type[HlwjrError], source: str) -> Any:
    """The YAML document ``text`` read from ``source`` (a file name shown in messages)."""
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except ValueError as exc:  # a value SafeConstructor cannot build, e.g. an integer of 4300+ digits
        raise error("YAML 中有无法读取的值（如超过 4300 位的数字）；请改为加引号的文本", where=source) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:第{mark.line + 1}行" if mark is not None else source
        raise error(f"YAML 格式错误：{_problem(exc, text)}", where=where) from exc


def _problem(exc: yaml.YAMLError, text: str) -> str:
    """The parser's words, with the usual cause in Chinese: a tab in the line's indentation."""
    problem = str(getattr(exc, "problem", None) or exc)
    mark = getattr(exc, "problem_mark", None)
    lines = text.splitlines()
    if mark is not None and mark.line < len(lines) and "\t" in lines[mark.line]:
        return f"{problem}（这一行有制表符 Tab：YAML 只能用空格缩进，请把 Tab 换成空格）"
    return problem
