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

__all__ = ["read_yaml"]

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
        with open(path, encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_StrictLoader)
    except FileNotFoundError as exc:
        raise error("文件不存在", where=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise error("文件不是 UTF-8 编码，请另存为 UTF-8", where=str(path)) from exc
    except ValueError as exc:  # a value SafeConstructor cannot build, e.g. an integer of 4300+ digits
        raise error("YAML 中有无法读取的值（如超过 4300 位的数字）；请改为加引号的文本", where=str(path)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:第{mark.line + 1}行" if mark is not None else str(path)
        raise error(f"YAML 格式错误：{_problem(exc, path)}", where=where) from exc


def _problem(exc: yaml.YAMLError, path: Path) -> str:
    """The parser's words, with the usual cause in Chinese: a tab in the line's indentation."""
    problem = str(getattr(exc, "problem", None) or exc)
    mark = getattr(exc, "problem_mark", None)
    if mark is not None and "\t" in _line(path, mark.line):
        return f"{problem}（这一行有制表符 Tab：YAML 只能用空格缩进，请把 Tab 换成空格）"
    return problem


def _line(path: Path, index: int) -> str:
    with open(path, encoding="utf-8", errors="replace") as fh:
        return next((line for i, line in enumerate(fh) if i == index), "")
