"""ECMA-262 regular expressions (the JSON Schema ``pattern`` dialect) translated to RE2 with the
same semantics, and searched over Arrow string columns; features the two disagree on raise
:class:`hlwjr.SchemaUnsupported`.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._exceptions import SchemaUnsupported

# --------------------------------------------------------------------------- ECMA-262 regexes
_ECMA_SPACE = "\\t\\n\\x0b\\f\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"


_CLASS_ESC = {
    # escape: (re2 inside class, python inside class, re2 negated class, python negated class)
    "d": ("0-9", "0-9"),
    "w": ("A-Za-z0-9_", "A-Za-z0-9_"),
    "s": (None, _ECMA_SPACE),
}


def _re2_codepoints(py_class: str) -> str:
    """``\\uXXXX`` / ``\\xHH`` escapes in a Python class body → RE2 ``\\x{…}``."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", r"\\x{\1}", py_class)


@functools.lru_cache(maxsize=4096)
def translate_pattern(pattern: str, where: str = "pattern") -> tuple[str, str]:
    """Translate an ECMA-262 ``pattern`` into (RE2 for Arrow, Python ``re``) with ECMA semantics.

    Raises :class:`SchemaUnsupported` for features the two engines would read differently.
    """

    def unsupported(what: str) -> SchemaUnsupported:
        return SchemaUnsupported(
            f"正则表达式 {pattern!r} 使用了不支持的特性：{what}（fast_validate 只支持 ECMA-262 与 "
            f"Python/RE2 语义一致的子集）/ unsupported regex feature: {what}",
            where=where,
        )

    re2: list[str] = []
    py: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    class_start = 0
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise unsupported("末尾孤立的反斜杠 (trailing backslash)")
            e = pattern[i + 1]
            i += 2
            if e in "dws":
                body = _CLASS_ESC[e][1]
                body2 = _re2_codepoints(body)
                if in_class:
                    re2.append(body2)
                    py.append(body)
                else:
                    re2.append(f"[{body2}]")
                    py.append(f"[{body}]")
            elif e in "DWS":
                body = _CLASS_ESC[e.lower()][1]
                if in_class:
                    raise unsupported(f"字符类中的 \\{e}")
                re2.append(f"[^{_re2_codepoints(body)}]")
                py.append(f"[^{body}]")
            elif e in "bB":
                if in_class:
                    raise unsupported("字符类中的 \\b")
                re2.append("\\" + e)
                py.append(
                    "(?:(?<![A-Za-z0-9_])(?=[A-Za-z0-9_])|(?<=[A-Za-z0-9_])(?![A-Za-z0-9_]))"
                    if e == "b"
                    else "(?:(?<![A-Za-z0-9_])(?![A-Za-z0-9_])|(?<=[A-Za-z0-9_])(?=[A-Za-z0-9_]))"
                )
            elif e in "nrtf":
                re2.append("\\" + e)
                py.append("\\" + e)
            elif e == "v":
                re2.append("\\x0b")
                py.append("\\x0b")
            elif e == "0":
                if i < n and pattern[i].isdigit():
                    raise unsupported("八进制转义 (octal escape)")
                re2.append("\\x00")
                py.append("\\x00")
            elif e == "x":
                hexd = pattern[i : i + 2]
                if not re.fullmatch(r"[0-9a-fA-F]{2}", hexd):
                    raise unsupported("不完整的 \\x 转义")
                re2.append("\\x" + hexd)
                py.append("\\x" + hexd)
                i += 2
            elif e == "u":
                hexd = pattern[i : i + 4]
                if not re.fullmatch(r"[0-9a-fA-F]{4}", hexd):
                    raise unsupported("\\u{…} 或不完整的 \\u 转义")
                if 0xD800 <= int(hexd, 16) <= 0xDFFF:
                    raise unsupported("代理项 \\u 转义 (surrogate escape)")
                re2.append("\\x{" + hexd + "}")
                py.append("\\u" + hexd)
                i += 4
            elif e.isdigit():
                raise unsupported("反向引用 (backreference)")
            elif e == "k":
                raise unsupported("命名反向引用 \\k<…>")
            elif e in "pP":
                raise unsupported("Unicode 属性转义 \\p{…}")
            elif e in "AZzGc":
                raise unsupported(f"\\{e}（非 ECMA-262 语法）")
            elif e.isalnum() or e == "_":
                raise unsupported(f"未知转义 \\{e}")
            else:  # escaped punctuation: the character itself
                re2.append("\\" + e)
                py.append(re.escape(e))
            continue
        if in_class:
            if c == "]" and i > class_start:
                in_class = False
            elif c == "[":
                if pattern.startswith("[:", i):
                    raise unsupported("POSIX 字符类 [:…:]")
                re2.append("\\[")
                py.append("\\[")
                i += 1
                continue
            re2.append(c)
            py.append(c)
            i += 1
            continue
        if c == "[":
            if pattern.startswith("[]", i):
                raise unsupported("空字符类 []")
            if pattern.startswith("[^]", i):
                re2.append("(?s:.)")
                py.append("(?s:.)")
                i += 3
                continue
            in_class = True
            re2.append(c)
            py.append(c)
            i += 1
            class_start = i + (1 if pattern.startswith("^", i) else 0)
            if pattern.startswith("^", i):
                re2.append("^")
                py.append("^")
                i += 1
            continue
        if c == "(":
            if pattern.startswith("(?", i):
                rest = pattern[i + 2 : i + 4]
                if rest.startswith(":"):
                    re2.append("(?:")
                    py.append("(?:")
                    i += 3
                    continue
                if rest.startswith("<") and not rest.startswith(("<=", "<!")):
                    m = re.match(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>", pattern[i:])
                    if not m:
                        raise unsupported("命名分组名称")
                    re2.append(f"(?P<{m.group(1)}>")
                    py.append(f"(?P<{m.group(1)}>")
                    i += m.end()
                    continue
                what = {
                    "=": "先行断言 (lookahead)",
                    "!": "否定先行断言 (negative lookahead)",
                    "<": "后行断言 (lookbehind)",
                    ">": "原子分组 (atomic group)",
                    "P": "Python 命名分组 (?P…)",
                }.get(rest[:1], "内联标志 (inline flags)")
                raise unsupported(what)
            re2.append(c)
            py.append(c)
            i += 1
            continue
        if c in "*+?}":
            nxt = pattern[i + 1] if i + 1 < n else ""
            if nxt == "+":
                raise unsupported("占有量词 (possessive quantifier)")
            if c == "}" or c in "*+?":
                re2.append(c)
                py.append(c)
                i += 1
                continue
        if c == "{":
            m = re.match(r"\{(\d*)(,?)(\d*)\}", pattern[i:])
            if m and not m.group(1):
                raise unsupported("量词 {,n}（ECMA 视为字面量）")
            if not m:
                raise unsupported("字面量 {（请写作 \\{）")
            re2.append(m.group(0))
            py.append(m.group(0))
            i += m.end()
            continue
        if c == ".":
            re2.append("[^\\n\\r\\x{2028}\\x{2029}]")
            py.append("[^\\n\\r\\u2028\\u2029]")
        elif c == "$":
            re2.append("\\z")
            py.append("\\Z")
        elif c == "^":
            re2.append("^")
            py.append("^")
        else:
            re2.append(c)
            py.append(c)
        i += 1
    if in_class:
        raise unsupported("未闭合的字符类 [")
    re2_s, py_s = "".join(re2), "".join(py)
    try:
        re.compile(py_s)
    except re.error as exc:
        raise SchemaUnsupported(f"正则表达式 {pattern!r} 无法编译：{exc}", where=where) from exc
    try:
        pc.match_substring_regex(pa.array([""], type=pa.string()), re2_s)
    except pa.ArrowException as exc:
        raise SchemaUnsupported(f"正则表达式 {pattern!r} 无法编译：{exc}", where=where) from exc
    return re2_s, py_s


def regex_search(strings: pa.Array, pattern: str, where: str = "pattern") -> np.ndarray:
    """Where the ECMA ``pattern`` matches somewhere in the string (False for nulls)."""
    re2, _ = translate_pattern(pattern, where)
    out = pc.match_substring_regex(strings, re2)
    return (
        out.to_numpy(zero_copy_only=False).astype(bool, copy=False)
        if out.null_count == 0
        else pc.fill_null(out, False).to_numpy(zero_copy_only=False)
    )
