"""Text helpers of the importer: normalising cell text, CJK tests, pinyin initials, masking."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from ..._privacy import mask_value

# --------------------------------------------------------------------------------------------
# text helpers

_WS = re.compile(r"\s+")


def _norm(s: Any) -> str:
    """NFKC (full-width → half-width), collapse whitespace, strip."""
    if s is None:
        return ""
    s = unicodedata.normalize("NFKC", str(s))
    return _WS.sub(" ", s).strip()


def _clean(s: Any) -> str:
    """Collapse whitespace and strip, keeping the characters as written (for names and titles)."""
    if s is None:
        return ""
    return _WS.sub(" ", str(s).replace("\u3000", " ")).strip()


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _has_cjk(s: str) -> bool:
    return any(_is_cjk(c) for c in s)


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _masked(value: Any) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    if not s:
        return None
    s = s if len(s) <= 80 else s[:77] + "…"
    return str(mask_value(s))


def _pinyin_initials(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    letters = lazy_pinyin(text, style=Style.FIRST_LETTER, errors=lambda s: list(s))
    out = "".join(ch for ch in "".join(letters) if ch.isascii() and (ch.isalnum() or ch == "_"))
    return out.lower()
