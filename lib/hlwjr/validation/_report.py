"""Problems (校验问题) and the validation report (校验报告).

A :class:`Problem` is one broken mandatory check (强制校验) or warning on one value: which data set,
which record (row number and 业务主键), which field, which rule (a stable id from
``hlwjr.validation._rules``), the value (already masked: ID card, phone, name) and a Chinese message that
says what is wrong and how to fix it.

A :class:`Report` holds every problem of a run. It is columnar inside (a pandas DataFrame), so a
million-record run with many problems stays cheap; ``report.problems`` materialises
:class:`Problem` objects on demand. Exports: ``to_frame()`` / ``flatten()``, ``by_rule()``,
``by_field()``, ``to_excel(path)`` and ``to_html(path)`` — both written to a temporary file and
renamed, so a half-written report never exists.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .._exceptions import ConfigError
from .._files import atomic_write
from .._sheets import excel_writer

__all__ = ["COLUMNS", "SEVERITY_CN", "Problem", "Report"]

#: Columns of the flat problem table, in order.
COLUMNS = ("dataset", "row", "key", "field", "rule", "severity", "value", "message", "path")
SEVERITY_CN = {"error": "错误（强制校验，平台会拒收）", "warning": "警告（建议修正）"}
_COLUMN_CN = {
    "dataset": "数据集",
    "row": "行号",
    "key": "业务主键",
    "field": "字段",
    "rule": "规则",
    "severity": "级别",
    "value": "值（已脱敏）",
    "message": "问题说明",
    "path": "位置",
}
_EXCEL_MAX_ROWS = 1_048_575  # one header row
_HTML_MAX_ROWS = 5000


@dataclass(frozen=True)
class Problem:
    """One problem found by the validator (校验问题).

    ``row`` is the 0-based position of the record in what was validated (None for a problem of
    the whole batch); ``key`` the business key (业务主键) joined with ``|``; ``field`` the field key
    (``orderList.dosage`` for a field of a child record; None for a record-level problem);
    ``severity`` is ``"error"`` (强制校验: the platform would reject the record) or ``"warning"``;
    ``value`` is already masked; ``path`` locates the cell in nested records
    (``orderList[2].dosage``).
    """

    dataset: str
    row: int | None
    key: str | None
    field: str | None
    rule: str
    severity: str
    value: str | None
    message: str
    path: str | None = None

    def __str__(self) -> str:
        where = f"{self.dataset} 第{self.row + 1}行" if self.row is not None else self.dataset
        if self.key:
            where += f"（主键 {self.key}）"
        if self.path or self.field:
            where += f" {self.path or self.field}"
        return f"[{self.severity}] {where} [{self.rule}] {self.message}"


def _empty_frame():
    import pandas as pd

    return pd.DataFrame(
        {
            "dataset": pd.Series([], dtype=object),
            "row": pd.Series([], dtype="Int64"),
            **{c: pd.Series([], dtype=object) for c in COLUMNS[2:]},
        }
    )


def _normalise(frame):
    import pandas as pd

    if frame is None or len(frame) == 0:
        return _empty_frame()
    if frame.attrs.get("hlwjr_normalised") and tuple(frame.columns) == COLUMNS:
        return frame  # built by the engine in exactly this shape
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"problem frame lacks columns {missing}")
    out = frame.loc[:, list(COLUMNS)].reset_index(drop=True)
    out["row"] = pd.array(out["row"], dtype="Int64")
    for c in COLUMNS:
        if c != "row":
            col = out[c].astype(object)
            out[c] = col.where(col.notna(), None)
    return out


class Report:
    """Every problem of a validation run (校验报告), with summaries and exports.

    ``datasets``: the data set codes validated; ``counts``: records validated per data set;
    ``n_records``: their total. ``ok`` is True when there is no *error* (warnings allowed).
    """

    def __init__(
        self,
        problems: Iterable[Problem] | None = None,
        *,
        frame=None,
        datasets: Iterable[str] = (),
        counts: dict[str, int] | None = None,
        n_records: int | None = None,
        spec=None,
    ) -> None:
        import pandas as pd

        if problems is not None and frame is not None:
            raise ValueError("give problems or frame, not both")
        if problems is not None:
            problems = list(problems)
            frame = pd.DataFrame([[getattr(p, c) for c in COLUMNS] for p in problems], columns=list(COLUMNS))
        self.counts: dict[str, int] = dict(counts or {})
        if frame is None and not problems:
            # a clean run (the common case for upload batches): the empty frame is built only
            # when someone looks at it — it costs more than validating a small clean batch
            self._frame_data = None
            self._problems: list[Problem] | None = []
            names = list(dict.fromkeys([*datasets, *self.counts]))
        else:
            self._frame_data = _normalise(frame)
            self._problems = problems if problems is not None else None
            named = self._frame["dataset"].to_numpy(dtype=object)
            names = list(dict.fromkeys([*datasets, *self.counts, *(d for d in dict.fromkeys(named) if d is not None)]))
        self.datasets: tuple[str, ...] = tuple(names)
        self.n_records = int(n_records if n_records is not None else sum(self.counts.values()))
        self.spec = spec

    @property
    def _frame(self):
        """The problem table (built on first use for a clean run)."""
        f = self._frame_data
        if f is None:
            f = self._frame_data = _empty_frame()
        return f

    # ------------------------------------------------------------------ basic views
    @property
    def problems(self) -> list[Problem]:
        """Every problem as a :class:`Problem` (materialised once, on demand)."""
        if self._problems is None:
            f = self._frame
            rows = [None if r is pd_na() else int(r) for r in f["row"].tolist()]
            cols = [f[c].tolist() for c in COLUMNS]
            cols[1] = rows
            self._problems = [Problem(*vals) for vals in zip(*cols)]
        return self._problems

    def __len__(self) -> int:
        return 0 if self._frame_data is None else len(self._frame)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.problems)

    @property
    def n_errors(self) -> int:
        if self._frame_data is None:
            return 0
        return self._count("error")

    @property
    def n_warnings(self) -> int:
        if self._frame_data is None:
            return 0
        return self._count("warning")

    def _count(self, severity: str) -> int:
        return int((self._frame["severity"].to_numpy(dtype=object) == severity).sum())

    @property
    def ok(self) -> bool:
        """True when no problem is an error (强制校验 passed); warnings do not count."""
        return self.n_errors == 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def to_frame(self):
        """The flat problem table: dataset,row,key,field,rule,severity,value,message,path."""
        return self._frame.copy()

    flatten = to_frame

    def bad_rows(self, dataset: str | None = None, *, severity: str = "error") -> set[int]:
        """Row numbers with at least one problem of ``severity`` ("error" by default; None = any).

        With ``dataset`` only that data set's rows (child-record problems count for their parent).
        """
        if self._frame_data is None:
            return set()
        f = self._frame
        mask = f["row"].notna()
        if dataset is not None:
            mask &= f["dataset"] == dataset
        if severity is not None:
            mask &= f["severity"] == severity
        return {int(r) for r in f.loc[mask, "row"].unique()}

    def for_dataset(self, dataset: str) -> Report:
        f = self._frame[self._frame["dataset"] == dataset]
        return Report(frame=f, datasets=(dataset,), counts={dataset: self.counts.get(dataset, 0)}, spec=self.spec)

    @classmethod
    def combine(cls, reports: Iterable[Report]) -> Report:
        """One report from several (e.g. one per data set)."""
        import pandas as pd

        reports = list(reports)
        frames = [r._frame for r in reports if len(r._frame)]
        counts: dict[str, int] = {}
        names: list[str] = []
        for r in reports:
            names.extend(r.datasets)
            for k, v in r.counts.items():
                counts[k] = counts.get(k, 0) + v
        frame = pd.concat(frames, ignore_index=True) if frames else None
        spec = next((r.spec for r in reports if r.spec is not None), None)
        return cls(frame=frame, datasets=names, counts=counts, spec=spec)

    # ------------------------------------------------------------------ summaries
    def by_rule(self):
        """Problems per rule: rule, 规则说明, severity, problems, records (distinct rows), example."""
        import pandas as pd

        from ._rules import rule_title

        f = self._frame
        if f.empty:
            return pd.DataFrame(columns=["rule", "title", "severity", "problems", "records", "example"])
        g = f.groupby(["rule", "severity"], sort=False, dropna=False)
        out = g.agg(
            problems=("message", "size"), records=("row", lambda s: s.dropna().nunique()), example=("message", "first")
        ).reset_index()
        out.insert(1, "title", [rule_title(r) for r in out["rule"]])
        return out.sort_values(["problems"], ascending=False, kind="stable").reset_index(drop=True)

    def by_field(self):
        """Problems per (data set, field): counts and the rules involved."""
        import pandas as pd

        f = self._frame
        if f.empty:
            return pd.DataFrame(columns=["dataset", "field", "name", "problems", "errors", "rules"])
        f = f.assign(field=f["field"].fillna("（整条记录）"), is_error=f["severity"] == "error")
        g = f.groupby(["dataset", "field"], sort=False)
        out = g.agg(
            problems=("rule", "size"), errors=("is_error", "sum"), rules=("rule", lambda s: ", ".join(dict.fromkeys(s)))
        ).reset_index()
        out.insert(2, "name", [self._field_name(d, k) for d, k in zip(out["dataset"], out["field"])])
        out["errors"] = out["errors"].astype(int)
        return out.sort_values(["problems"], ascending=False, kind="stable").reset_index(drop=True)

    def _field_name(self, dataset: str, field: str) -> str:
        if self.spec is None or not field:
            return ""
        try:
            ds = self.spec.dataset(dataset)
            head, _, tail = field.partition(".")
            if tail and head in ds.fields and ds.fields[head].item:
                child = self.spec.dataset(ds.fields[head].item)
                return f"{ds.fields[head].name}.{child.field(tail).name}"
            return ds.field(field).name
        except Exception:  # an unknown column: no Chinese name
            return ""

    def summary(self) -> str:
        """A few Chinese lines: records checked, errors, warnings, the top rules."""
        lines = [
            f"校验 {self.n_records} 条记录（{', '.join(self.datasets) or '无数据集'}）："
            f"{self.n_errors} 个错误，{self.n_warnings} 个警告，"
            f"{len(self.bad_rows())} 条记录会被平台拒收。"
            if self.n_records
            else f"{self.n_errors} 个错误，{self.n_warnings} 个警告。"
        ]
        if len(self):
            for _, r in self.by_rule().head(10).iterrows():
                lines.append(f"  {r['rule']:<20} {r['problems']:>8} 个  {r['title']}")
        else:
            lines.append("  全部通过强制校验。")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Report {self.n_records} records, {self.n_errors} errors, {self.n_warnings} warnings"
            f" in {', '.join(self.datasets) or '-'}>"
        )

    def _repr_html_(self) -> str:
        head = html.escape(self.summary()).replace("\n", "<br>")
        table = self._frame.head(200).rename(columns=_COLUMN_CN).to_html(index=False, escape=True, na_rep="")
        more = f"<p>仅显示前 200 条，共 {len(self)} 条。</p>" if len(self) > 200 else ""
        return f"<div><p>{head}</p>{table}{more}</div>"

    def to_records(self) -> list[dict]:
        """Problems as JSON-ready dicts (for ``--format json`` and APIs)."""
        return [{c: getattr(p, c) for c in COLUMNS} for p in self.problems]

    # ------------------------------------------------------------------ exports
    def to_excel(self, path: str | os.PathLike) -> Path:
        """Write the report as an Excel workbook (汇总 / 问题明细 / 按规则 / 按字段).

        Written to a temporary file next to ``path`` and renamed: never a half-written file.
        More problems than an Excel sheet holds continue on 问题明细2, 问题明细3, …
        """

        target = Path(path)
        if target.suffix.lower() not in {".xlsx", ".xlsm"}:
            raise ConfigError(f"Excel 报告文件名应以 .xlsx 结尾：{target.name}")

        def write(tmp: Path) -> None:
            with excel_writer(tmp) as xw:
                self._summary_frame().to_excel(xw, sheet_name="汇总", index=False)
                detail = self._frame.rename(columns=_COLUMN_CN)
                if detail.empty:
                    detail.to_excel(xw, sheet_name="问题明细", index=False)
                for i, start in enumerate(range(0, len(detail), _EXCEL_MAX_ROWS)):
                    name = "问题明细" if i == 0 else f"问题明细{i + 1}"
                    part = detail.iloc[start : start + _EXCEL_MAX_ROWS].copy()
                    part["行号"] = part["行号"].astype("Int64") + 1  # 1-based in the workbook
                    part.to_excel(xw, sheet_name=name, index=False)
                self.by_rule().rename(columns=_BY_RULE_CN).to_excel(xw, sheet_name="按规则", index=False)
                self.by_field().rename(columns=_BY_FIELD_CN).to_excel(xw, sheet_name="按字段", index=False)
                for ws in xw.book.worksheets:
                    ws.freeze_panes = "A2"
                    for col in ws.columns:
                        width = max((len(str(c.value)) for c in list(col)[:200] if c.value is not None), default=8)
                        ws.column_dimensions[col[0].column_letter].width = min(max(10, width * 1.6), 80)

        return _atomic_write(target, write)

    def _summary_frame(self):
        import pandas as pd

        rows = [
            ("规范", f"{self.spec.id} {self.spec.version}" if self.spec is not None else ""),
            ("数据集", ", ".join(self.datasets)),
            ("记录数", self.n_records),
            ("错误数（强制校验）", self.n_errors),
            ("警告数", self.n_warnings),
            ("有错误的记录数", len(self.bad_rows())),
            ("结论", "通过" if self.ok else "未通过：请按问题明细修正源数据后重新校验"),
        ]
        for ds, n in self.counts.items():
            rows.append((f"{ds} 记录数 / 有错误记录", f"{n} / {len(self.bad_rows(ds))}"))
        return pd.DataFrame(rows, columns=["项目", "值"])

    def to_html(self, path: str | os.PathLike, *, title: str = "数据校验报告") -> Path:
        """Write a standalone HTML page (UTF-8, no external resources, every value escaped)."""
        target = Path(path)
        esc = html.escape
        by_rule = self.by_rule()
        by_field = self.by_field()
        shown = self._frame.head(_HTML_MAX_ROWS).copy()
        shown["row"] = shown["row"].astype("Int64") + 1
        detail = shown.rename(columns=_COLUMN_CN).to_html(
            index=False, escape=True, na_rep="", classes="problems", border=0
        )
        note = (
            f"<p class='note'>仅显示前 {_HTML_MAX_ROWS} 条问题，共 {len(self)} 条；"
            f"完整明细请导出 Excel（--report out.xlsx）。</p>"
            if len(self) > _HTML_MAX_ROWS
            else ""
        )
        verdict = (
            "<p class='ok'>全部通过强制校验。</p>"
            if self.ok
            else f"<p class='bad'>未通过：{self.n_errors} 个错误，{len(self.bad_rows())} 条记录会被平台拒收。"
            "请按下表修正源数据后重新校验。</p>"
        )
        summary = self._summary_frame().to_html(index=False, escape=True, border=0)
        page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>
body {{ font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 14px; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }}
.ok {{ color: #1a7f37; font-weight: bold; }} .bad {{ color: #b42318; font-weight: bold; }}
.note {{ color: #8a6d3b; }}
</style></head><body>
<h1>{esc(title)}</h1>
{verdict}
<h2>汇总</h2>{summary}
<h2>按规则</h2>{by_rule.rename(columns=_BY_RULE_CN).to_html(index=False, escape=True, border=0)}
<h2>按字段</h2>{by_field.rename(columns=_BY_FIELD_CN).to_html(index=False, escape=True, border=0)}
<h2>问题明细</h2>{note}{detail}
<p class="note">值已脱敏（身份证号、电话、姓名）。行号从 1 开始。</p>
</body></html>
"""

        def write(tmp: Path) -> None:
            tmp.write_text(page, encoding="utf-8")

        return _atomic_write(target, write)


# Chinese column headers of the by_rule() / by_field() tables in the Excel and HTML reports
_BY_RULE_CN = {
    "rule": "规则",
    "title": "规则说明",
    "severity": "级别",
    "problems": "问题数",
    "records": "涉及记录数",
    "example": "示例",
}
_BY_FIELD_CN = {
    "dataset": "数据集",
    "field": "字段",
    "name": "字段名称",
    "problems": "问题数",
    "errors": "错误数",
    "rules": "规则",
}


def pd_na():
    import pandas as pd

    return pd.NA


def _atomic_write(target: Path, write) -> Path:
    target = Path(target).expanduser()
    if not target.parent.exists():
        raise ConfigError(f"报告目录不存在：{target.parent}")

    return atomic_write(target, write, make_parents=False)
