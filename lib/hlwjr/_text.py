"""Plain-text tables for the terminal, where CJK characters take two columns."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

__all__ = ["display_width", "pad", "text_table"]


def display_width(text: str) -> int:
    """Terminal columns taken by ``text`` (East Asian wide/full-width characters count double)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int, *, right: bool = False, ellipsis: str = "") -> str:
    """``text`` cut to ``width`` columns (ending in ``ellipsis`` when cut) and padded to it."""
    w = display_width(text)
    if w > width:
        budget = width - display_width(ellipsis)
        while text and display_width(text) > budget:
            text = text[:-1]
        text += ellipsis
        w = display_width(text)
    fill = " " * max(width - w, 0)
    return fill + text if right else text + fill


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], *, max_width: int = 48) -> str:
    """An aligned table with a dashed rule under the header; long cells end in "…"."""
    widths = [display_width(h) for h in header]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = min(max(widths[i], display_width(c)), max_width)

    def fmt(r: Sequence[str]) -> str:
        return "  ".join(pad(c, widths[i], ellipsis="…") for i, c in enumerate(r)).rstrip()

    lines = [fmt(header), "  ".join("-" * w for w in widths)]
    lines += [fmt(r) for r in rows]
    return "\n".join(lines)
