"""The result of applying a mapping: the records and every issue (rejections, defaults, unmapped
codes) as a table with Chinese labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .._files import atomic_write
from ._jsonl import iter_dicts, write_jsonl

# ------------------------------------------------------------------------------------------------
# applying a mapping


ISSUE_COLUMNS = ["dataset", "source", "row", "key", "field", "rule", "action", "value", "message"]


@dataclass
class MappingResult:
    """What :func:`apply_mapping` produced: spec records plus every issue (nothing dropped silently).

    * ``records`` — DataFrame, one column per mapped spec field key (array fields: lists of dicts);
    * ``source_rows`` — for each record, its 1-based row number in the source table/query;
    * ``issues`` — DataFrame (dataset, source, row, key, field, rule, action, value, message) where
      ``action`` is ``rejected`` (row not mapped), ``defaulted`` (code map default used) or ``kept``
      (value passed on unchanged for validation to report);
    * ``rejections`` / ``unmapped`` — the rejected rows and the local values missing from code maps.
    """

    dataset: str
    records: pd.DataFrame
    source_rows: pd.Series
    issues: pd.DataFrame
    n_source_rows: int
    date: str | None = None
    written: int = 0
    out: Path | None = None
    n_day_rows: int | None = None  # with ``date``: source rows of that business day (+ rows whose day is unknown)
    n_waiting: int = 0  # rows not yet in a final state (``source.final_when``): not mapped, wait for a later run

    @property
    def rejections(self) -> pd.DataFrame:
        return self.issues[self.issues["action"] == "rejected"].reset_index(drop=True)

    @property
    def rejected_rows(self) -> list[int]:
        return sorted(set(int(r) for r in self.rejections["row"].dropna()))

    @property
    def n_records(self) -> int:
        return self.written if self.out is not None else len(self.records)

    def unmapped(self) -> pd.DataFrame:
        """Local values not in a code map: field, value (masked), count, action (rejected/defaulted)."""
        u = self.issues[self.issues["rule"] == "code_map"]
        if u.empty:
            return pd.DataFrame(columns=["field", "value", "count", "action"])
        return (
            u.groupby(["field", "value", "action"], dropna=False)
            .size()
            .rename("count")
            .reset_index()
            .sort_values("count", ascending=False, kind="stable")
            .reset_index(drop=True)
        )

    def summary(self) -> str:
        """A few lines of Chinese: rows read, records, rejected rows, issues by kind."""
        scope = f"源数据 {self.n_source_rows} 行"
        if self.date and self.n_day_rows is not None:
            scope += f"，其中当日 {self.n_day_rows} 行"
        lines = [
            f"数据集 {self.dataset}"
            + (f"（业务日期 {self.date}）" if self.date else "")
            + f"：{scope} → 记录 {self.n_records} 条，拒收 {len(self.rejected_rows)} 行"
        ]
        if not self.issues.empty:
            for (rule, action), n in self.issues.groupby(["rule", "action"]).size().items():
                lines.append(f"  {_ACTION_ZH.get(action, action)} · {_RULE_ZH.get(rule, rule)}: {n}")
        return "\n".join(lines)

    def to_dicts(self) -> list[dict]:
        """The records as JSON-like dicts (missing values left out)."""
        return list(iter_dicts(self.records))

    def to_jsonl(self, path, *, append: bool = False) -> int:
        """Write the records as JSON lines (UTF-8), columnar and fast; returns the number written.

        A new file is written atomically (temporary file renamed into place); ``append=True`` adds
        to an existing file."""
        if append:
            with open(path, "ab") as fh:
                return write_jsonl(self.records, fh)

        written = []

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                written.append(write_jsonl(self.records, fh))

        atomic_write(path, write, private=True)
        return written[0]


_ACTION_ZH = {"rejected": "拒收", "defaulted": "取默认值", "kept": "原样保留（将在校验中报告）"}
_RULE_ZH = {
    "code_map": "值域未对照",
    "date": "日期无法解析",
    "type": "类型无法转换",
    "join": "关联表无匹配",
    "duplicate_row": "完全重复行",
    "business_time": "业务时间无法解析",
    "child": "明细行问题",
    "derive": "派生失败",
}
