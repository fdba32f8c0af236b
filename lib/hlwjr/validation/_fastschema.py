"""Compiled, column-wise JSON Schema validation (快速校验) for a keyword subset.

``fast_validate(schema, records)`` validates a pandas DataFrame or a list of dicts against a JSON
Schema (Draft 2020-12 semantics) and returns one row per problem — *every* problem, not the
first. It works a column at a time: each property becomes a typed column view (a per-cell
"JSON kind" code, an Arrow string array, a float array), and each keyword becomes one vectorised
mask (Arrow compute / NumPy); Python only touches the failing cells. Per-record pure-Python
``jsonschema`` remains the oracle in the tests.

Supported keywords: ``type``, ``required``, ``properties``, ``maxLength``, ``minLength``, ``enum``,
``const``, ``pattern``, ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``,
``format`` (``date``, ``date-time``, ``date-time-cn``), ``items``, ``minItems``, ``maxItems``;
annotations (``title``, ``description``, ``$schema``, ``$id``, ``$comment``, ``examples``,
``default``, ``deprecated``, ``readOnly``, ``writeOnly`` and ``x-…`` extensions) are ignored as
JSON Schema says. Any other keyword raises :class:`hlwjr.SchemaUnsupported` naming the keyword and
its schema path — it is never silently ignored.

Semantics kept on purpose (the traps that make fast validators disagree):

* JSON null is not a missing property: ``{"a": null}`` satisfies ``required: ["a"]`` and fails
  ``type: string``. In a DataFrame there is no JSON null: NaN / None / pd.NA mean "missing".
* ``true`` is not an integer; ``1.0`` is an integer; ``enum: [1]`` accepts ``1.0`` but not ``true``.
* ``pattern`` is an ECMA-262 regex searched (not anchored) in the string: ``$`` matches only at the
  very end (not before a trailing ``"\\n"``), ``\\d`` is ``[0-9]`` (full-width digits do not
  match), ``.`` does not match line terminators. Features ECMA and Python/RE2 disagree on
  (lookaround, backreferences, ``\\Z``/``\\A``, possessive quantifiers, atomic groups, inline flags,
  ``\\p{…}``) raise :class:`SchemaUnsupported`.
* ``format`` is asserted (like ``jsonschema`` with :data:`FORMAT_CHECKER`): ``date`` is a real
  calendar date ``YYYY-MM-DD`` (no 2024-02-30), ``date-time`` is RFC 3339, ``date-time-cn`` is
  ``YYYY-MM-DD HH:MM:SS`` with a real date and time. Unknown formats raise SchemaUnsupported.
* ``maxLength``/``minLength`` count Unicode code points.
"""

from __future__ import annotations

import functools
import json
import operator
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._exceptions import DataError, SchemaUnsupported
from .._privacy import mask_value
from ._columns import (
    _MISSING,
    DICT,
    IS_NUMERIC,
    KIND_CN,
    KIND_NAMES,
    LIST,
    MISSING,
    OTHER,
    STR,
    TYPE_KINDS,
    Column,
    _check_date,
    _check_dtcn,
    _check_rfc3339,
    _object_array,
    column_of,
    format_masks,
    str_lengths,
)
from ._ecma import regex_search, translate_pattern
from ._members import member_mask
from ._numbers import is_out_of_range, number_text, out_of_range_text

__all__ = ["FORMAT_CHECKER", "SUPPORTED_KEYWORDS", "fast_validate", "translate_pattern"]  # noqa: F822 (lazy)


def _build_format_checker():
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    checker.checks("date")(_check_date)
    checker.checks("date-time")(_check_rfc3339)
    checker.checks("date-time-cn")(_check_dtcn)
    return checker


def __getattr__(name: str):
    # FORMAT_CHECKER: a ``jsonschema.FormatChecker`` for ``date``, ``date-time`` (RFC 3339) and
    # ``date-time-cn`` (``YYYY-MM-DD HH:MM:SS``, a real calendar date and time) with exactly the
    # semantics of :func:`fast_validate`, so plain ``jsonschema`` agrees with the fast path.
    # Built on first use: importing jsonschema's format module costs about a second.
    if name == "FORMAT_CHECKER":
        checker = _build_format_checker()
        globals()["FORMAT_CHECKER"] = checker
        return checker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


FORMATS = ("date", "date-time", "date-time-cn")


# ------------------------------------------------------------------------------- compilation
SUPPORTED_KEYWORDS = frozenset(
    {
        "type",
        "required",
        "properties",
        "maxLength",
        "minLength",
        "enum",
        "const",
        "pattern",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "format",
        "items",
        "minItems",
        "maxItems",
    }
)


#: ``$schema`` values whose keyword meanings fast_validate follows (any other metaschema may
#: switch vocabularies off or on: refused rather than guessed)
DIALECTS = frozenset(
    {
        "https://json-schema.org/draft/2020-12/schema",
        "http://json-schema.org/draft/2020-12/schema",
        "http://json-schema.org/draft-07/schema",
        "https://json-schema.org/draft-07/schema",
    }
)

ANNOTATIONS = frozenset(
    {"title", "description", "$schema", "$id", "$comment", "examples", "default", "deprecated", "readOnly", "writeOnly"}
)


@dataclass
class _Node:
    path: str
    always_false: bool = False
    types: tuple[str, ...] | None = None
    required: tuple[str, ...] = ()
    properties: dict[str, _Node] = field(default_factory=dict)
    max_length: int | None = None
    min_length: int | None = None
    enum: tuple | None = None
    const: tuple | None = None  # (value,) when present
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    format: str | None = None
    items: _Node | None = None
    min_items: int | None = None
    max_items: int | None = None


def _nonneg_int(value, kw, where) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != int(value):
        raise SchemaUnsupported(f"关键字 {kw} 的值应为非负整数，实际为 {value!r}", where=where)
    return int(value)


def _number(value, kw, where) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SchemaUnsupported(f"关键字 {kw} 的值应为数字，实际为 {value!r}", where=where)
    return value


def compile_schema(schema: Any, path: str = "#") -> _Node:
    """Check ``schema`` uses only the supported subset and turn it into a node tree."""
    if schema is True:
        return _Node(path)
    if schema is False:
        return _Node(path, always_false=True)
    if not isinstance(schema, dict):
        raise SchemaUnsupported(f"模式应为对象或布尔值，实际为 {type(schema).__name__}", where=path)
    node = _Node(path)
    dialect = schema.get("$schema")
    if dialect is not None and str(dialect).rstrip("#") not in DIALECTS:
        raise SchemaUnsupported(
            f"$schema {dialect!r} 不是 Draft 2020-12（或 07）：其他元模式的词汇表 fast_validate 不理解", where=path
        )
    for kw, value in schema.items():
        where = f"{path}/{kw}"
        if kw in ANNOTATIONS or kw.startswith("x-"):
            continue
        if kw not in SUPPORTED_KEYWORDS:
            raise SchemaUnsupported(
                f"不支持的 JSON Schema 关键字 {kw!r}（fast_validate 支持：{', '.join(sorted(SUPPORTED_KEYWORDS))}）"
                f" / unsupported keyword {kw!r}",
                where=where,
            )
        if kw == "type":
            types = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, list) else None
            if not types or any(t not in TYPE_KINDS for t in types):
                raise SchemaUnsupported(f"type 的值无效：{value!r}", where=where)
            node.types = types
        elif kw == "required":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise SchemaUnsupported("required 应为字符串数组", where=where)
            node.required = tuple(dict.fromkeys(value))
        elif kw == "properties":
            if not isinstance(value, dict):
                raise SchemaUnsupported("properties 应为对象", where=where)
            node.properties = {k: compile_schema(v, f"{where}/{k}") for k, v in value.items()}
        elif kw == "maxLength":
            node.max_length = _nonneg_int(value, kw, where)
        elif kw == "minLength":
            node.min_length = _nonneg_int(value, kw, where)
        elif kw == "minItems":
            node.min_items = _nonneg_int(value, kw, where)
        elif kw == "maxItems":
            node.max_items = _nonneg_int(value, kw, where)
        elif kw == "enum":
            if not isinstance(value, list):
                raise SchemaUnsupported("enum 应为数组", where=where)
            node.enum = tuple(value)
        elif kw == "const":
            node.const = (value,)
        elif kw == "pattern":
            if not isinstance(value, str):
                raise SchemaUnsupported("pattern 应为字符串", where=where)
            translate_pattern(value, where)
            node.pattern = value
        elif kw == "minimum":
            node.minimum = _number(value, kw, where)
        elif kw == "maximum":
            node.maximum = _number(value, kw, where)
        elif kw == "exclusiveMinimum":
            node.exclusive_minimum = _number(value, kw, where)
        elif kw == "exclusiveMaximum":
            node.exclusive_maximum = _number(value, kw, where)
        elif kw == "format":
            if value not in FORMATS:
                raise SchemaUnsupported(f"不支持的 format {value!r}（支持：{', '.join(FORMATS)}）", where=where)
            node.format = value
        elif kw == "items":
            if isinstance(value, list):
                raise SchemaUnsupported(
                    "items 为数组（元组校验）不受支持，请用 prefixItems 以外的单一模式", where=where
                )
            node.items = compile_schema(value, where)
    return node


@functools.lru_cache(maxsize=256)
def _compile_cached(schema_json: str) -> _Node:
    return compile_schema(json.loads(schema_json))


def _compiled(schema) -> _Node:
    try:
        key = json.dumps(schema, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        return compile_schema(schema)
    return _compile_cached(key)


# -------------------------------------------------------------------------------- evaluation
class _Sink:
    """Collects problems as column chunks (arrays), concatenated once at the end."""

    def __init__(self) -> None:
        self.chunks: list[tuple] = []

    def add(self, rows: np.ndarray, paths, field, keyword: str, message: str, values) -> None:
        if len(rows):
            self.chunks.append((rows, paths, field, keyword, message, values))

    def frame(self, top_fields: bool = True):
        import pandas as pd

        cols = {"row": [], "field": [], "path": [], "keyword": [], "message": [], "value": []}
        for rows, paths, fld, kw, msg, values in self.chunks:
            k = len(rows)
            cols["row"].append(rows)
            cols["field"].append(np.full(k, fld, dtype=object) if not isinstance(fld, np.ndarray) else fld)
            cols["path"].append(np.full(k, paths, dtype=object) if not isinstance(paths, np.ndarray) else paths)
            cols["keyword"].append(np.full(k, kw, dtype=object))
            cols["message"].append(np.full(k, msg, dtype=object) if not isinstance(msg, np.ndarray) else msg)
            cols["value"].append(values)
        if not cols["row"]:
            return pd.DataFrame(
                {
                    "row": pd.Series([], dtype="int64"),
                    **{c: pd.Series([], dtype=object) for c in ("field", "path", "keyword", "message", "value")},
                }
            )
        out = pd.DataFrame(
            {
                c: np.concatenate(v).astype(np.int64) if c == "row" else pd.Series(np.concatenate(v), dtype=object)
                for c, v in cols.items()
            }
        )
        out = out.sort_values(["row"], kind="stable").reset_index(drop=True)
        return out


def _display(values: np.ndarray) -> np.ndarray:
    """Failing values as masked display strings (JSON text for non-strings)."""

    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        if v is _MISSING:
            out[i] = None
        elif isinstance(v, str):
            out[i] = mask_value(v)
        elif is_out_of_range(v) or (isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 64):
            out[i] = number_text(v)
        else:
            try:
                text = json.dumps(v, ensure_ascii=False, default=str)
            except (TypeError, ValueError):
                text = str(v)
            out[i] = mask_value(text if len(text) <= 200 else text[:197] + "...")
    return out


def _fmt_num(x) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def _evaluate(
    node: _Node, col: Column, rows: np.ndarray, paths: np.ndarray | str, field: np.ndarray | str, sink: _Sink
) -> None:
    """Apply ``node`` to every present cell of ``col``.

    ``rows``: top-level record number of each cell; ``paths``: the JSON path of each cell
    (``a[2].b`` style); ``field``: the top-level property each cell belongs to.
    """
    kind = col.kind
    present = kind != MISSING
    if not present.any():
        return

    def pick(mask):
        idx = np.flatnonzero(mask)
        return idx

    def emit(idx, keyword, message):
        if len(idx):
            sink.add(
                rows[idx],
                paths if isinstance(paths, str) else paths[idx],
                field if isinstance(field, str) else field[idx],
                keyword,
                message,
                _display(col.at(idx)),
            )

    if node.always_false:
        emit(pick(present), "false", "任何值都不允许（模式为 false）")
        return
    if node.types is not None:
        allowed = np.isin(kind, [k for t in node.types for k in TYPE_KINDS[t]])
        bad = present & ~allowed
        if bad.any():
            idx = pick(bad)
            want = " 或 ".join(node.types)
            got = np.array(
                [
                    f"类型应为 {want}，实际为{out_of_range_text(v)}"
                    if k == OTHER and is_out_of_range(v)
                    else f"类型应为 {want}，实际为 {KIND_NAMES[k]}（{KIND_CN.get(k, '')}）"
                    for k, v in zip(kind[idx], col.at(idx))
                ],
                dtype=object,
            )
            sink.add(
                rows[idx],
                paths if isinstance(paths, str) else paths[idx],
                field if isinstance(field, str) else field[idx],
                "type",
                got,
                _display(col.at(idx)),
            )
    is_str = kind == STR
    if is_str.any() and (
        node.max_length is not None
        or node.min_length is not None
        or node.pattern is not None
        or node.format is not None
    ):
        strings = col.strings()
        if node.max_length is not None or node.min_length is not None:
            lengths = str_lengths(strings)
            if node.max_length is not None:
                emit(pick(is_str & (lengths > node.max_length)), "maxLength", f"长度超过 maxLength {node.max_length}")
            if node.min_length is not None:
                emit(pick(is_str & (lengths < node.min_length)), "minLength", f"长度不足 minLength {node.min_length}")
        if node.pattern is not None:
            ok = regex_search(strings, node.pattern, node.path + "/pattern")
            emit(pick(is_str & ~ok), "pattern", f"不匹配正则 pattern {node.pattern}")
        if node.format is not None:
            _, value_ok = format_masks(strings, node.format)
            emit(pick(is_str & ~value_ok), "format", f"不是有效的 {node.format} 格式/日期")
    if node.enum is not None:
        emit(pick(present & ~member_mask(col, node.enum)), "enum", "不在枚举值 enum 范围内")
    if node.const is not None:
        emit(
            pick(present & ~member_mask(col, node.const)),
            "const",
            f"应等于常量 const {json.dumps(node.const[0], ensure_ascii=False)}",
        )
    if (
        node.minimum is not None
        or node.maximum is not None
        or node.exclusive_minimum is not None
        or node.exclusive_maximum is not None
    ):
        is_num = IS_NUMERIC[kind]
        if is_num.any():
            for kw, bound, op in (
                ("minimum", node.minimum, operator.lt),
                ("maximum", node.maximum, operator.gt),
                ("exclusiveMinimum", node.exclusive_minimum, operator.le),
                ("exclusiveMaximum", node.exclusive_maximum, operator.ge),
            ):
                if bound is not None:
                    emit(pick(col.compare(is_num, op, bound)), kw, f"超出范围：{kw} {_fmt_num(bound)}")
    is_list = kind == LIST
    is_dict = kind == DICT
    if is_list.any() and (node.min_items is not None or node.max_items is not None or node.items is not None):
        lidx = np.flatnonzero(is_list)
        lists = col.obj[lidx]
        lens = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        if node.min_items is not None:
            emit(lidx[lens < node.min_items], "minItems", f"数组元素个数少于 minItems {node.min_items}")
        if node.max_items is not None:
            emit(lidx[lens > node.max_items], "maxItems", f"数组元素个数多于 maxItems {node.max_items}")
        if node.items is not None and lens.sum():
            parent = np.repeat(lidx, lens)
            pos = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
            flat = [v for lst in lists for v in lst]
            child = Column.from_objects(flat)
            base = np.full(len(parent), paths, dtype=object) if isinstance(paths, str) else paths[parent]
            child_paths = _join_index(base, pos)
            _evaluate(
                node.items, child, rows[parent], child_paths, field if isinstance(field, str) else field[parent], sink
            )
    if is_dict.any() and (node.required or node.properties):
        didx = np.flatnonzero(is_dict)
        dicts = col.obj[didx]
        base = np.full(len(didx), paths, dtype=object) if isinstance(paths, str) else paths[didx]
        sub_rows = rows[didx]
        sub_field = field if isinstance(field, str) else field[didx]
        for name in node.required:
            has = np.fromiter((name in d for d in dicts), dtype=bool, count=len(dicts))
            miss = np.flatnonzero(~has)
            if len(miss):
                sink.add(
                    sub_rows[miss],
                    _join_key(base[miss], name),
                    sub_field if isinstance(sub_field, str) else sub_field[miss],
                    "required",
                    f"缺少必填属性 {name}",
                    np.full(len(miss), None, dtype=object),
                )
        for name, sub in node.properties.items():
            vals = column_of(list(dicts), name)
            sub_col = Column.from_objects(vals)
            if (sub_col.kind != MISSING).any():
                _evaluate(sub, sub_col, sub_rows, _join_key(base, name), sub_field, sink)


def _join_index(base: np.ndarray, pos: np.ndarray) -> np.ndarray:
    return np.array([f"{b}[{p}]" for b, p in zip(base, pos)], dtype=object)


def _join_key(base: np.ndarray, name: str) -> np.ndarray:
    return np.array([f"{b}.{name}" if b else name for b in base], dtype=object)


def fast_validate(schema: dict, records) -> pd.DataFrame:  # noqa: F821
    """Validate ``records`` against a JSON Schema of the supported subset; every problem, one row each.

    ``records``: a pandas DataFrame (one column per property; NaN/None/NA = missing) or a list of
    dicts (a missing key is missing, ``None`` is JSON null). Returns a DataFrame with columns
    ``row`` (0-based record number), ``field`` (top-level property, None for the record itself),
    ``path`` (``orderList[2].dosage`` style, None for the record itself), ``keyword``,
    ``message`` (Chinese) and ``value`` (the offending value, ID/phone masked), sorted by row.

    Raises :class:`hlwjr.SchemaUnsupported` for keywords/regex features outside the subset.
    """
    import pandas as pd

    node = _compiled(schema)
    sink = _Sink()
    if isinstance(records, pd.DataFrame):
        n = len(records)
        rows = np.arange(n)
        if node.always_false:
            sink.add(rows, None, None, "false", "任何记录都不允许（模式为 false）", np.full(n, None, dtype=object))
            return sink.frame()
        if node.types is not None and "object" not in node.types:
            sink.add(
                rows,
                None,
                None,
                "type",
                f"类型应为 {' 或 '.join(node.types)}，实际为 object",
                np.full(n, None, dtype=object),
            )
        columns = set(records.columns)
        for name in node.required:
            if name not in columns:
                sink.add(rows, name, name, "required", f"缺少必填属性 {name}", np.full(n, None, dtype=object))
            else:
                miss = np.flatnonzero(records[name].isna().to_numpy(dtype=bool))
                sink.add(miss, name, name, "required", f"缺少必填属性 {name}", np.full(len(miss), None, dtype=object))
        for name, sub in node.properties.items():
            if name in columns:
                col = records[name]
                if isinstance(col, pd.DataFrame):
                    raise DataError(f"列名 {name!r} 重复，请去掉重复的列", where=name)
                _evaluate(sub, Column.from_series(col), rows, name, name, sink)
        return sink.frame()
    if isinstance(records, dict):
        records = [records]
    try:
        records = list(records)
    except TypeError as exc:
        raise DataError(f"records 应为 DataFrame 或字典列表，实际为 {type(records).__name__}") from exc
    top = Column.from_objects(_object_array(records))
    _evaluate(
        node,
        top,
        np.arange(len(records)),
        np.full(len(records), "", dtype=object),
        np.full(len(records), None, dtype=object),
        _TopSink(sink),
    )
    frame = sink.frame()
    if len(frame):
        frame["path"] = frame["path"].where(frame["path"] != "", None)
    return frame


class _TopSink(_Sink):
    """At the top level, a problem's ``field`` is the first segment of its path."""

    def __init__(self, inner: _Sink) -> None:
        self.inner = inner

    def add(self, rows, paths, field, keyword, message, values) -> None:
        if isinstance(paths, np.ndarray):
            fields = np.array([_first_segment(p) for p in paths], dtype=object)
        else:
            fields = _first_segment(paths)
        self.inner.add(rows, paths, fields, keyword, message, values)


def _first_segment(path) -> str | None:
    if not path:
        return None
    return re.split(r"[.\[]", path, maxsplit=1)[0]
