"""The mapping engine: ``apply_mapping`` turns source rows into spec records, vectorised and
chunk by chunk; every source row ends as a record or a reported rejection (see the package
docstring for the rule kinds)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._days import parse_day
from .._exceptions import MappingError
from .._files import open_private
from .._privacy import mask_kind, mask_series
from ..validation._numbers import number_from_text
from ._codemaps import CodeMap
from ._config import Mapping, load_mapping
from ._context import _Context, _expand
from ._conversions import (
    OUT_FORMATS,
    _distinct,
    _per_row,
    _repeat_text,
    as_text,
    format_times,
    guess_time_format,
    parse_times,
)
from ._derived import DERIVED
from ._jsonl import _missing, _py, write_jsonl
from ._model import (
    ChildRule,
    FieldRule,
    Join,
)
from ._result import ISSUE_COLUMNS, MappingResult

__all__ = ["apply_mapping"]

_CHUNK = 200_000


class _Issues:
    def __init__(self, dataset: str, source: str) -> None:
        self.dataset, self.source = dataset, source
        self.parts: list[pd.DataFrame] = []

    def add(
        self,
        rows: pd.Series,
        *,
        field: str | None,
        rule: str,
        action: str,
        values: pd.Series | None,
        message: str | pd.Series,
    ) -> None:
        if len(rows) == 0:
            return

        n = len(rows)
        if values is None:
            masked = [None] * n
        else:
            masked = mask_series(as_text(values.reset_index(drop=True)), mask_kind(field or "")).tolist()
        msgs = message.tolist() if isinstance(message, pd.Series) else [message] * n
        self.parts.append(
            pd.DataFrame(
                {
                    "dataset": self.dataset,
                    "source": self.source,
                    "row": pd.array(rows.tolist(), dtype="Int64"),
                    "key": [None] * n,
                    "field": field,
                    "rule": rule,
                    "action": action,
                    "value": masked,
                    "message": msgs,
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in ISSUE_COLUMNS})
        return pd.concat(self.parts, ignore_index=True)


class _Mapper:
    """Applies the field rules of one (child) data set to a DataFrame chunk, vectorised."""

    def __init__(
        self, mapping: Mapping, spec, ds, rules: dict[str, FieldRule], ctx: _Context, issues: _Issues, today=None
    ) -> None:
        self.mapping, self.spec, self.ds, self.rules, self.ctx, self.issues = mapping, spec, ds, rules, ctx, issues
        self.today = today
        self.lookups: dict[tuple[str, str], dict[str, str]] = {}
        for rule in rules.values():
            if rule.kind == "code" and (rule.code_map, rule.take) not in self.lookups:
                cm = mapping.code_map(rule.code_map)
                lookup = cm.lookup()
                if rule.take == "name":
                    names = self._code_names(cm, ds.fields.get(rule.field))
                    lookup = {k: names.get(v) for k, v in lookup.items() if names.get(v) is not None}
                self.lookups[(rule.code_map, rule.take)] = lookup

    def _code_names(self, cm: CodeMap, f) -> dict[str, str]:
        """standard code → standard name: from the spec's code set (authoritative), else the CSV."""
        names = {}
        e = cm.entries.dropna(subset=["code"])
        names.update({str(c): str(n) for c, n in zip(e["code"], e["name"]) if isinstance(n, str) and n})
        cs_id = cm.code_set
        if cs_id:
            try:
                names.update(dict(self.spec.code_set(cs_id).codes))
            except Exception:
                pass
        return names

    def column(self, df: pd.DataFrame, name: str, key: str) -> pd.Series:
        try:
            return df[name]
        except KeyError:
            raise MappingError(
                f"列 {name!r} 不在数据源中（字段 {key}）；可用列：{', '.join(map(str, df.columns[:40]))}",
                where=f"{self.ds.code}.{key}",
            ) from None

    def apply(self, df: pd.DataFrame, rows: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
        """→ (records for every row of df, boolean Series of rows to reject)."""
        out: dict[str, pd.Series] = {}
        reject = pd.Series(False, index=df.index)
        for key, rule in self.rules.items():
            f = self.ds.fields.get(key)
            if f is None:
                raise MappingError(f"数据集 {self.ds.code} 没有字段 {key!r}", where=f"{self.ds.code}.{key}")
            kind = rule.kind
            if kind in ("unavailable", "children"):
                continue
            if kind == "const":
                val = rule.const
                if isinstance(val, str) and "${" in val:
                    val = _expand(val, dict(os.environ), where=f"{self.ds.code}.{key}")
                if isinstance(val, str):
                    s = _repeat_text(val, len(df), df.index)
                else:
                    s = pd.Series([val] * len(df), index=df.index, dtype="object")
                if not isinstance(val, str) and val is not None:
                    s = as_text(s) if f.type in ("string", "date", "datetime") else s
            elif kind == "concat":
                parts = [
                    pd.Series(c[1:], index=df.index, dtype="str")
                    if c.startswith("=")
                    else as_text(self.column(df, c, key), trim=rule.trim).fillna("")
                    for c in rule.concat
                ]
                s = parts[0]
                for p in parts[1:]:
                    s = s + rule.sep + p
                s = s.mask(s.str.strip(rule.sep or None) == "")
            elif kind == "derive":
                d = DERIVED[rule.derive]
                params = dict(rule.params)
                if self.today is not None:
                    params.setdefault("today", self.today)
                argv = [self.column(df, a, key) for a in rule.args]
                s = d.func(argv, params)
                had = argv[0].notna()
                if rule.derive != "first_non_empty":
                    failed = had & s.isna()
                    if failed.any():
                        self.issues.add(
                            rows[failed],
                            field=key,
                            rule="derive",
                            action="kept",
                            values=argv[0][failed],
                            message=f"派生 {rule.derive} 无法从该值得出结果（格式不符或日期不存在），字段留空",
                        )
            else:
                s = as_text(self.column(df, rule.column, key), trim=rule.trim)
                if kind == "code":
                    raw = s
                    lookup = self.lookups[(rule.code_map, rule.take)]
                    s = _map_codes(raw, lookup)
                    miss = raw.notna() & s.isna()
                    if miss.any():
                        if rule.default is not None:
                            dflt = (
                                rule.default
                                if rule.take == "code"
                                else self._code_names(self.mapping.code_map(rule.code_map), f).get(rule.default)
                            )
                            s = s.mask(miss, dflt)
                            self.issues.add(
                                rows[miss],
                                field=key,
                                rule="code_map",
                                action="defaulted",
                                values=raw[miss],
                                message=f"本地值不在值域对照表 {rule.code_map} 中，已取默认代码 "
                                f"{rule.default}；请在 codes/ 中补充对照",
                            )
                        else:
                            reject |= miss
                            self.issues.add(
                                rows[miss],
                                field=key,
                                rule="code_map",
                                action="rejected",
                                values=raw[miss],
                                message=f"本地值不在值域对照表 {rule.code_map} 中，该行拒收；"
                                "请在对照表中补充该值或设置 default",
                            )
            out[key] = self._convert(s, f, rule, rows)
        return pd.DataFrame(out, index=df.index), reject

    def _convert(self, s: pd.Series, f, rule: FieldRule, rows: pd.Series) -> pd.Series:
        t = f.type
        if t in ("date", "datetime"):
            if s.dtype.kind == "M":
                return format_times(s, t)
            text = as_text(s, trim=rule.trim)
            fmt = rule.format
            # dates repeat (one business day, shared birth dates): work on the distinct values
            # when that pays, then gather the results back row by row
            enc = _distinct(text)
            values = text if enc is None else enc[1]

            def per_row(v: pd.Series) -> pd.Series:
                return v if enc is None else _per_row(v, enc[0], text.index)

            if fmt is None:
                already = (
                    values.str.match(
                        r"^\d{4}-\d{2}-\d{2}$" if t == "date" else r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
                    )
                    .fillna(False)
                    .astype(bool)
                )
                if bool(already[values.notna()].all()):
                    parsed = pd.to_datetime(values, format=OUT_FORMATS[t], errors="coerce")
                    bad = per_row(values.notna() & parsed.isna())
                    self._kept(bad, text, f, rule, rows, "date", f"不是有效的{'日期' if t == 'date' else '日期时间'}")
                    return text
                fmt = guess_time_format(text)  # chosen on the rows, as parse_times would
            parsed, used = parse_times(values, fmt, fallback=rule.format is None)
            bad_values = values.notna() & parsed.isna()
            out = format_times(parsed, t)
            if bad_values.any():
                out = out.mask(bad_values, values)
            out, bad = per_row(out), per_row(bad_values)
            if bad.any():
                self._kept(
                    bad,
                    text,
                    f,
                    rule,
                    rows,
                    "date",
                    f"无法按格式 {used} 解析为{'日期' if t == 'date' else '日期时间'}（不存在的日期或格式不符），原"
                    "值保留，校验时将报告",
                )
            return out
        if t == "integer":
            if str(s.dtype) == "Int64" or s.dtype.kind in "iu":
                return s.astype("Int64")
            text = as_text(s, trim=rule.trim)
            num = pd.to_numeric(text, errors="coerce")
            ok = num.notna() & (num % 1 == 0) & (num.abs() < 2**53)
            big = _exact_integers(text, text.notna() & ~ok)  # 20-digit ages: exact, never wrapped
            bad = text.notna() & ~ok & big.isna()
            if bad.any() or big.notna().any():
                self._kept(bad, text, f, rule, rows, "type", "不是整数，原值保留，校验时将报告")
                res = num.astype("object").where(ok, None)
                res = res.map(lambda v: int(v) if v is not None else None).astype("object")
                res = res.mask(big.notna(), big)
                return res.mask(bad, text[bad].astype("object"))
            return num.astype("Int64")
        if t == "decimal":
            if s.dtype.kind == "f":
                return s
            if s.dtype.kind in "iu" or str(s.dtype) in ("Int64", "Float64"):
                return s.astype("float64")
            text = as_text(s, trim=rule.trim)
            num = pd.to_numeric(text, errors="coerce")
            bad = text.notna() & num.isna()
            if bad.any():
                self._kept(bad, text, f, rule, rows, "type", "不是数值，原值保留，校验时将报告")
                return (
                    num.astype("object").where(~bad, text.astype("object")).mask(text.isna() | num.isna() & ~bad, None)
                )
            return num.astype("float64")
        if t == "array":
            return s
        return as_text(s, trim=rule.trim) if str(s.dtype) != "str" else s

    def _kept(self, bad, text, f, rule, rows, rule_id, message):
        if bad.any():
            self.issues.add(rows[bad], field=f.key, rule=rule_id, action="kept", values=text[bad], message=message)


def _join(
    df: pd.DataFrame, joins: list[Join], ctx: _Context, issues: _Issues, rows: pd.Series, where: str | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    reject = pd.Series(False, index=df.index)
    for j in joins:
        right = ctx.read(j)
        w = f"{where + ': ' if where else ''}source.joins {j.name}"
        missing = [c for c in j.keys.values() if c not in right.columns]
        if missing:
            table = j.name + (f"（{j.table}）" if j.table and j.table != j.name else " ")
            raise MappingError(
                f"关联键 {', '.join(missing)} 不在关联表 {table}中；该表的列："
                f"{', '.join(map(str, right.columns[:30]))}",
                where=w,
            )
        missing = [c for c in j.keys if c not in df.columns]
        if missing:
            raise MappingError(
                f"关联键 {', '.join(missing)} 不在主表 {issues.source} 中；请改 keys 的左侧为主表的列", where=w
            )
        keys_r = list(j.keys.values())
        dup = right.duplicated(keys_r, keep="first")
        if dup.any():
            right = right[~dup]
        renamed = right.rename(columns={c: f"{j.name}.{c}" for c in right.columns})
        left_keys = [as_text(df[c]) for c in j.keys]
        right_keys = [as_text(renamed[f"{j.name}.{c}"]) for c in keys_r]
        lk = pd.DataFrame({f"__k{i}": k for i, k in enumerate(left_keys)}, index=df.index)
        rk = pd.DataFrame({f"__k{i}": k for i, k in enumerate(right_keys)})
        rk["__pos"] = np.arange(len(rk))
        pos = lk.merge(rk, how="left", on=list(lk.columns))["__pos"].to_numpy()
        matched = ~np.isnan(pos)
        take = np.where(matched, pos, 0).astype("int64")
        joined = (
            renamed.iloc[take].reset_index(drop=True)
            if len(renamed)
            else pd.DataFrame(index=range(len(df)), columns=renamed.columns)
        )
        joined.index = df.index
        joined = joined.where(pd.Series(matched, index=df.index), axis=0) if not matched.all() else joined
        df = pd.concat([df, joined], axis=1)
        nomatch = pd.Series(~matched, index=df.index) & lk.notna().all(axis=1)
        if nomatch.any():
            what = "该行拒收" if j.required else "关联列为空"
            issues.add(
                rows[nomatch],
                field=None,
                rule="join",
                action="rejected" if j.required else "kept",
                values=left_keys[0][nomatch],
                message=f"关联表 {j.name} 中找不到 {'/'.join(j.keys.values())} 对应的行，{what}",
            )
            if j.required:
                reject |= nomatch
        if dup.any():
            issues.add(
                pd.Series([None]),
                field=None,
                rule="join",
                action="kept",
                values=None,
                message=f"关联表 {j.name} 中键 {'/'.join(keys_r)} 有 {int(dup.sum())} 个重复，已取第一行",
            )
    return df, reject


def apply_mapping(
    mapping: Mapping | str | os.PathLike,
    dataset: str,
    *,
    date: str | dt.date | None = None,
    sources: dict | None = None,
    chunksize: int = _CHUNK,
    out: str | os.PathLike | None = None,
    spec=None,
    today: str | None = None,
    check: bool = True,
    limit: int | None = None,
) -> MappingResult:
    """Map one data set's source rows to spec records (指标对照 → 规范记录).

    ``date`` keeps the rows whose business time (``source.business_time``) falls on that day
    (Asia/Shanghai, ``YYYY-MM-DD``).  ``sources`` overrides the mapping's named sources
    (name → URL, path or DataFrame).  The source is read and mapped in chunks of ``chunksize``
    rows; with ``out`` the records are streamed to that JSON-lines file and not kept in memory.
    ``today`` fixes "today" for age derivations without a business time (tests, reruns).
    ``limit`` reads only the first N source rows (previews in the mapping editor).
    """
    from ..spec._load import load_spec

    if not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping)
    spec = load_spec(spec if spec is not None else mapping.spec_id)
    dm = mapping.dataset(dataset)
    ds = spec.dataset(dm.dataset)
    if check:
        errors = [
            i
            for i in mapping._check_rules(spec, ds, dm.fields, dm.file or dm.dataset, top=True)
            if i.severity == "error"
        ]
        if errors:
            raise MappingError(errors[0].message, where=errors[0].where)
    day = None
    if date is not None:
        day = parse_day(date, None, what="业务日期", error=MappingError)
        if not dm.source.business_time:
            raise MappingError(
                f"数据集 {ds.code} 的 source 没有 business_time（业务时间列），无法按日期筛选", where=dm.file
            )
    ctx = _Context(mapping, sources)
    issues = _Issues(ds.code, dm.source.label)
    mapper = _Mapper(mapping, spec, ds, dm.fields, ctx, issues, today=today)
    children = {k: r for k, r in dm.fields.items() if r.kind == "children"}
    parts: list[pd.DataFrame] = []
    row_parts: list[pd.Series] = []
    n_rows = written = n_day_rows = n_waiting = 0
    final = dm.source.final_when
    part = None if out is None else Path(str(out) + ".part")
    if part is not None:  # like every file hlwjr writes (atomic_write): a missing folder is made
        part.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fh = open_private(part) if part is not None else None  # closed in the finally below
    writer = None
    pending = None
    if fh is not None:
        from concurrent.futures import ThreadPoolExecutor

        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hlwjr-jsonl")
    ok = False
    seen_hashes = np.array([], dtype="uint64")  # sorted hashes of the rows seen so far (exact duplicates)
    seen_rows = np.array([], dtype="int64")  # the source row of each, first occurrence
    dup_of: dict[int, int] = {}  # duplicate row → the row it repeats
    row_keys: dict[int, str] = {}
    bt = dm.source.business_time
    chunks = None
    try:
        src = ctx.open(dm.source)
        if limit is not None:
            chunksize = max(1, min(chunksize, limit))
        chunks = src.iter_chunks(chunksize)
        for chunk in chunks:
            if limit is not None and n_rows >= limit:
                break
            if limit is not None and n_rows + len(chunk) > limit:
                chunk = chunk.iloc[: limit - n_rows]  # exactly the first ``limit`` source rows
            rows = pd.Series(np.arange(n_rows + 1, n_rows + len(chunk) + 1), index=chunk.index)
            n_rows += len(chunk)
            early = day is not None and bt in chunk.columns
            if day is not None and early:
                chunk, rows, n_bad = _select_day(chunk, rows, bt, dm.source.business_time_format, day, issues)
                n_day_rows += len(chunk) + n_bad
            early_final = final is not None and final["column"] in chunk.columns
            if early_final:
                chunk, rows, waiting = _select_final(chunk, rows, final)
                n_waiting += waiting
            if dm.source.drop_exact_duplicates and len(chunk):
                hashes = pd.util.hash_pandas_object(chunk, index=False).to_numpy()
                dup_np, firsts, seen_hashes, seen_rows = _exact_duplicates(
                    hashes, rows.to_numpy(), seen_hashes, seen_rows
                )
                dup = pd.Series(dup_np, index=chunk.index)
                if dup.any():
                    first = pd.Series(firsts, index=rows[dup].index)
                    dup_of.update(zip(rows[dup].tolist(), firsts.tolist()))
                    issues.add(
                        rows[dup],
                        field=None,
                        rule="duplicate_row",
                        action="rejected",
                        values=None,
                        message="与第 " + first.astype(str) + " 行完全相同（重复导出），该行不再上传",
                    )
                    chunk, rows = chunk[~dup], rows[~dup]
            chunk, reject_join = (
                _join(chunk, dm.source.joins, ctx, issues, rows, dm.file)
                if dm.source.joins
                else (chunk, pd.Series(False, index=chunk.index))
            )
            if day is not None and not early:
                if bt not in chunk.columns:
                    raise MappingError(f"业务时间列 {bt!r} 不在数据源中（也不在关联表中）", where=dm.file)
                keep_idx = chunk.index
                chunk, rows, n_bad = _select_day(chunk, rows, bt, dm.source.business_time_format, day, issues)
                n_day_rows += len(chunk) + n_bad
                reject_join = reject_join.loc[chunk.index] if len(keep_idx) else reject_join
            if final is not None and not early_final:
                if final["column"] not in chunk.columns:
                    raise MappingError(
                        f"final_when 的状态列 {final['column']!r} 不在数据源中（也不在关联表中）", where=dm.file
                    )
                chunk, rows, waiting = _select_final(chunk, rows, final)
                n_waiting += waiting
                reject_join = reject_join.loc[chunk.index]
            recs, reject = mapper.apply(chunk, rows)
            reject |= reject_join
            for key, rule in children.items():
                col, rej_c = _children(mapping, spec, ds, key, rule.children, chunk, rows, ctx, issues, today)
                recs[key] = col
                reject |= rej_c
            if ds.key and all(k in recs.columns for k in ds.key) and bool(reject.any()):
                keys = _masked_key_text(recs.loc[reject, list(ds.key)], ds)
                row_keys.update(zip(rows[reject].tolist(), keys.tolist()))
            if reject.any():
                recs, rows = recs[~reject], rows[~reject]
            recs = recs.reset_index(drop=True)
            rows = rows.reset_index(drop=True)
            if fh is not None:
                # serialise and write this chunk on the writer thread while the next one is mapped
                # (Arrow, NumPy and the file write release the GIL); at most one chunk waits
                if pending is not None:
                    written += pending.result()
                pending = writer.submit(write_jsonl, recs, fh)
            else:
                parts.append(recs)
                row_parts.append(rows)
        if pending is not None:
            written += pending.result()
            pending = None
        ok = True
    finally:
        if chunks is not None:
            chunks.close()
        if writer is not None:
            writer.shutdown(wait=True)
        if fh is not None:
            fh.close()
            if ok:
                os.replace(part, out)  # never a half-written file under the real name
            else:
                part.unlink(missing_ok=True)
    issue_frame = issues.frame()
    if fh is None:
        records = (
            pd.concat(parts, ignore_index=True)
            if parts
            else pd.DataFrame(columns=[k for k, r in dm.fields.items() if r.kind != "unavailable"])
        )
        source_rows = pd.concat(row_parts, ignore_index=True) if row_parts else pd.Series([], dtype="int64")
    else:
        records, source_rows = pd.DataFrame(), pd.Series([], dtype="int64")
    issue_frame = _fill_keys(issue_frame, ds, records, source_rows, row_keys, dup_of)
    return MappingResult(
        dataset=ds.code,
        records=records,
        source_rows=source_rows,
        issues=issue_frame,
        n_source_rows=n_rows,
        date=None if day is None else day.isoformat(),
        written=written,
        out=None if out is None else Path(out),
        n_day_rows=None if day is None else n_day_rows,
        n_waiting=n_waiting,
    )


def _key_text(frame: pd.DataFrame) -> pd.Series:
    """Business key columns joined with "|" (missing parts empty), vectorised."""
    cols = [as_text(frame[c]).fillna("") for c in frame.columns]
    if not cols:
        return pd.Series("", index=frame.index, dtype="str")
    out = cols[0]
    for c in cols[1:]:
        out = out + "|" + c
    return out


def _masked_key_text(frame: pd.DataFrame, ds) -> pd.Series:
    """:func:`_key_text` for display in issues: each key part masked (脱敏) as the validator masks
    report keys, so a key holding an ID-card or phone number (doctorCertID) is never shown whole;
    机构代码 (organID) stays readable."""

    def part(c: str) -> pd.Series:
        kind = ds.mask_of(c)
        text = as_text(frame[c])
        return text if kind == "plain" else pd.Series(mask_series(text, kind).to_numpy(), index=frame.index)

    return _key_text(pd.DataFrame({c: part(c) for c in frame.columns}, index=frame.index))


def _map_codes(raw: pd.Series, lookup: dict[str, str]) -> pd.Series:
    """local value → standard code, vectorised: map the distinct values once, then gather."""
    if len(raw) == 0:
        return raw
    import pyarrow as pa

    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    mapped = pa.array([lookup.get(u) for u in uniques] + [None], type=pa.large_string())
    picks = np.where(codes < 0, len(uniques), codes)  # missing picks the trailing null
    return pd.Series(pd.array(mapped.take(pa.array(picks)), dtype="str"), index=raw.index)


def _select_day(
    chunk: pd.DataFrame, rows: pd.Series, column: str, fmt: str | None, day: dt.date, issues: _Issues
) -> tuple[pd.DataFrame, pd.Series, int]:
    """Rows whose business time falls on ``day`` (+ the number of rows whose business time is empty or
    unparseable: those are reported as rejected, since their day is unknown)."""
    text = as_text(chunk[column])
    parsed, used = parse_times(text, fmt)
    bad = parsed.isna()
    if bad.any():
        empty = text[bad].isna() | (text[bad].str.strip() == "")
        hint = f"按格式 {used} 无法解析；若该列还有别的格式，在 business_time_format 中用 | 分隔列出"
        issues.add(
            rows[bad],
            field=column,
            rule="business_time",
            action="rejected",
            values=text[bad],
            message=pd.Series(np.where(empty, "业务时间为空", hint))
            + "，无法确定业务日期，该行未映射；请修正源数据或对照配置",
        )
    keep = (parsed.dt.date == day).fillna(False).astype(bool) & ~bad
    return chunk[keep], rows[keep], int(bad.sum())


def _select_final(chunk: pd.DataFrame, rows: pd.Series, final: dict) -> tuple[pd.DataFrame, pd.Series, int]:
    """Rows in a final state (``final_when``) + the number of the others: not an issue, they are
    collected by a later run once final (问诊结束、处方审核后)."""
    keep = as_text(chunk[final["column"]]).str.strip().isin(final["in"]).fillna(False).astype(bool)
    return chunk[keep], rows[keep], int((~keep).sum())


def _exact_duplicates(hashes: np.ndarray, rows: np.ndarray, seen_hashes: np.ndarray, seen_rows: np.ndarray):
    """Exact duplicate rows of a chunk, by row hash, vectorised: (is-duplicate mask, the source row
    each duplicate repeats, updated sorted seen hashes, their first rows)."""
    uniq, first_idx = np.unique(hashes, return_index=True)  # first occurrence inside the chunk
    in_chunk_first = rows[first_idx[np.searchsorted(uniq, hashes)]]
    pos = np.searchsorted(seen_hashes, hashes)
    pos_ok = np.minimum(pos, max(len(seen_hashes) - 1, 0))
    earlier = (seen_hashes[pos_ok] == hashes) if len(seen_hashes) else np.zeros(len(hashes), dtype=bool)
    first = np.where(earlier, seen_rows[pos_ok] if len(seen_rows) else in_chunk_first, in_chunk_first)
    dup = earlier | (in_chunk_first != rows)
    new = ~np.isin(uniq, seen_hashes, assume_unique=True)
    all_h = np.concatenate([seen_hashes, uniq[new]])
    all_r = np.concatenate([seen_rows, rows[first_idx[new]]])
    order = np.argsort(all_h, kind="stable")
    return dup, first[dup], all_h[order], all_r[order]


def _fill_keys(
    issues: pd.DataFrame,
    ds,
    records: pd.DataFrame,
    source_rows: pd.Series,
    row_keys: dict[int, str],
    dup_of: dict[int, int] | None = None,
) -> pd.DataFrame:
    if issues.empty or not ds.key:
        return issues
    by_row = dict(row_keys)
    rows_with_issues = set(issues["row"].tolist()) | set((dup_of or {}).values())
    if not records.empty and all(k in records.columns for k in ds.key):
        pos = source_rows.isin(rows_with_issues).to_numpy()
        if pos.any():
            keys = _masked_key_text(records.loc[pos, list(ds.key)], ds)
            by_row.update(zip(source_rows[pos].tolist(), keys.tolist()))
    for dup, first in (dup_of or {}).items():  # an exact duplicate has the business key of the row it repeats
        if first in by_row:
            by_row[dup] = by_row[first]
    issues["key"] = issues["row"].map(by_row).astype("object")
    return issues


def _children(
    mapping,
    spec,
    ds,
    key: str,
    ch: ChildRule,
    parent: pd.DataFrame,
    rows: pd.Series,
    ctx: _Context,
    issues: _Issues,
    today,
) -> tuple[pd.Series, pd.Series]:
    """The list-of-dicts column of an array field, for the rows of ``parent`` only."""
    f = ds.fields[key]
    child_ds = spec.dataset(f.item)
    table = ctx.read(ch.source)
    child_cols, parent_cols = list(ch.keys), list(ch.keys.values())
    for c in child_cols:
        if c not in table.columns:
            raise MappingError(f"关联键 {c} 不在明细表 {ch.source.label} 中", where=f"{ds.code}.{key}")
    pkeys = pd.DataFrame({f"__k{i}": as_text(parent[c]) for i, c in enumerate(parent_cols)}, index=parent.index)
    ckeys = pd.DataFrame({f"__k{i}": as_text(table[c]) for i, c in enumerate(child_cols)}, index=table.index)
    if len(child_cols) == 1:
        sel = ckeys["__k0"].isin(pkeys["__k0"].dropna())
    else:
        sel = ckeys.merge(pkeys.drop_duplicates(), how="left", indicator=True)["_merge"].eq("both").to_numpy()
    sub = table[sel]
    if ch.order_by and ch.order_by in sub.columns:
        order = pd.to_numeric(sub[ch.order_by], errors="coerce")
        sub = sub.iloc[np.argsort(order.to_numpy(na_value=np.inf), kind="stable")]
    child_issues = _Issues(child_ds.code, ch.source.label)
    sub_rows = pd.Series(np.asarray(sub.index) + 1, index=sub.index)
    mapper = _Mapper(mapping, spec, child_ds, ch.fields, ctx, child_issues, today=today)
    recs, reject_c = mapper.apply(sub, sub_rows)
    skeys = _key_text(ckeys.loc[sub.index]) if len(child_cols) > 1 else ckeys.loc[sub.index, "__k0"].astype("str")
    pk = _key_text(pkeys) if len(parent_cols) > 1 else pkeys["__k0"].astype("str")
    # child problems → the parent row is rejected when a line is rejected, else reported as kept
    ci = child_issues.frame()
    reject = pd.Series(False, index=parent.index)
    if not ci.empty:
        child_key_by_row = dict(zip(sub_rows.tolist(), skeys.tolist()))
        parent_rows_by_key: dict[str, list[int]] = {}
        for pk_v, r in zip(pk.tolist(), rows.tolist()):
            parent_rows_by_key.setdefault(pk_v, []).append(r)
        bad_keys = set(skeys[reject_c].tolist())
        for rec in ci.itertuples(index=False):
            ck = child_key_by_row.get(rec.row)
            for prow in parent_rows_by_key.get(ck, []):
                issues.add(
                    pd.Series([prow]),
                    field=f"{key}.{rec.field}" if rec.field else key,
                    rule=rec.rule,
                    action=rec.action,
                    values=pd.Series([rec.value]),
                    message=f"明细（{ch.source.label} 第 {rec.row} 行）：{rec.message}",
                )
        reject = pk.isin(bad_keys) & pk.notna()
    # group child dicts by parent key (per-line dicts are inherent to an array of objects)
    cols = list(recs.columns)
    arrays = [recs[c].tolist() for c in cols]
    groups: dict[str, list[dict]] = {}
    for k, values in zip(skeys.tolist(), zip(*arrays)):
        groups.setdefault(k, []).append({c: _py(v) for c, v in zip(cols, values) if not _missing(v)})
    col = pd.Series([groups.get(k, []) for k in pk.tolist()], index=parent.index, dtype="object")
    return col, reject


def _exact_integers(text, candidates):
    """Python ints for the whole-number texts among ``candidates`` beyond 2^53 (within the double
    range), exactly as written; None elsewhere (other text stays text and is reported)."""
    import numpy as np
    import pandas as pd

    out = pd.Series(None, index=text.index, dtype=object)
    for i in np.flatnonzero(candidates.to_numpy(dtype=bool)):
        v = number_from_text(str(text.iat[i]))
        if type(v) is int:
            out.iat[i] = v
    return out
