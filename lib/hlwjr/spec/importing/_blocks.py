"""What a document is read into: paragraphs and tables (rows of cell texts, their spans, row numbers,
the title and rows above the header, which cells were written indented).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field

# --------------------------------------------------------------------------------------------
# document model: a sequence of paragraphs and tables


@dataclass
class _Para:
    text: str
    heading: int | None = None  # heading level (Word heading style); 0 for an Excel sheet name
    sheet: bool = False
    cells: int = 1  # Excel: how many non-empty cells the row had
    row: int | None = None  # Excel row number


@dataclass
class _Table:
    rows: list[list[str | None]]  # None: continuation of a horizontally merged cell
    label: str  # "表格3" or "工作表「在线处方」"
    row_numbers: list[int]
    sheet: str | None = None
    title: str | None = None
    paras: list[_Para] = dc_field(default_factory=list)
    sheet_title: str | None = None
    continuation: bool = False  # nothing but blank paragraphs between this and the previous table
    strong_title: bool = False  # the title is a numbered/heading paragraph, not a guess
    pre_header: dict = dc_field(default_factory=dict)  # 操作名称 / 说明 rows above the header
    indented: set = dc_field(default_factory=set)  # (row index, column) of cells written indented

    def is_indented(self, row: int, column: int | None) -> bool:
        """Whether a cell was written indented (leading spaces/tab, or paragraph indentation in Word)."""
        return column is not None and (row, column) in self.indented


_LEADING_SPACE = re.compile(r"^[ \t\u3000\u00a0]+\S")


def _starts_indented(raw: object) -> bool:
    """A cell's raw text begins with spaces, full-width spaces or a tab before its first character."""
    return isinstance(raw, str) and _LEADING_SPACE.match(raw) is not None
