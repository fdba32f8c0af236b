"""The validation engine (强制校验): every problem in a batch, column-wise, driven by the spec.

::

    report = hlwjr.check(records, "recipe")            # collect everything → Report
    for p in hlwjr.iter_problems(records, "recipe"):   # the lazy core: Problem records
        ...
    hlwjr.validate(records, "recipe")                  # raise RecordsInvalid(report=...) on errors
    hlwjr.is_valid(records, "recipe")                  # True / False

``records`` is a pandas DataFrame (one column per field key; an array field is a column of lists
of dicts; NaN/None/pd.NA mean "missing"), a list of dicts (a missing key is missing, ``None`` is
JSON null), or — to check references between data sets of one batch — a dict
``{dataset_code: records}`` (then ``dataset`` is omitted).

How it works: each data set is compiled once into a *plan* (cached per spec and data set code):
field rules from the :class:`~hlwjr.spec._model.Field` attributes, record rules from the data set's
``rules`` (the registry in ``hlwjr.validation._rules``), references and the business key. Every rule is a
vectorised mask over whole columns (Arrow compute / NumPy; regexes in RE2 with ECMA semantics);
Python only runs for the failing cells, to word their messages. Small batches of dicts (an
upload batch, ≤ ``SMALL_BATCH`` records) first go through ``hlwjr.validation._smallbatch``: a row-wise pass
that proves a batch clean without the column-wise set-up (~0.1 ms for one record instead of ~4 ms)
and otherwise hands it to the engine, so the report is the same either way. Array fields (处方明细
``orderList``) are exploded into a child table with the parent row and validated the same way;
their problems carry ``field="orderList.dosage"`` and ``path="orderList[2].dosage"``.

Decisions (see docs/rules.md):

* ``required`` counts missing, JSON null and empty/blank strings as empty (平台: 必填项非空).
  JSON null in an optional field is a ``type`` problem (omit the field instead).
* datetime64 columns (and ``datetime``/``date`` objects) in date/datetime fields are accepted and
  formatted as ``YYYY-MM-DD`` / ``YYYY-MM-DD HH:MM:SS`` (Beijing time, as given); numbers in a
  date field are reported, with the date an Excel serial number would stand for.
* Strings are never trimmed or converted: a leading/trailing space or full-width digits are
  reported (with a hint) by ``pattern``/``code_set``/``id_number``, or as a ``whitespace`` warning.
* Columns that are not fields of the data set get one ``unknown_field`` warning each.
* Numbers of any size: integers are compared with ``minimum``/``maximum`` exactly (a 20-digit age
  is a ``maximum`` problem showing its 20 digits); a number beyond the double range (``1e309``, a
  401-digit integer, ``inf``) is a ``type`` problem showing its text (``hlwjr.validation._numbers``).
* References need something to check against: the other data sets of the batch, ``accepted``
  (``{dataset: records or key tuples}``, e.g. the filed doctor roster) or ``lookup`` (the ledger
  or the sandbox: ``known(dataset_code, keys) -> set[tuple]``). Without any, one warning says the
  reference was not checked.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import difflib
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._exceptions import DataError, RecordsInvalid, SpecError
from .._privacy import mask_series, mask_text, mask_value
from ._columns import (
    MISSING,
    NULL,
    STR,
    _bool,
    _object_array,
)
from ._fields import field_problems
from ._keys import _keys_from
from ._numbers import number_text
from ._plan import _plan_for, mask_kind_for
from ._report import COLUMNS, Problem, Report
from ._rules import RULES, Hit, RuleContext
from ._smallbatch import SMALL_BATCH, certify_clean
from ._tables import _prepare, _Table

__all__ = ["ReferenceLookup", "check", "is_valid", "iter_problems", "mask_kind_for", "validate"]


class ReferenceLookup(Protocol):
    """What the ledger and the sandbox implement: which keys the platform already accepted."""

    def known(self, dataset_code: str, keys: list[tuple]) -> set[tuple]:  # pragma: no cover
        ...


# ------------------------------------------------------------------------------------ chunks
@dataclass
class _Chunk:
    """Problems of one rule on one field, as arrays (positions in ``table``)."""

    table: _Table
    idx: np.ndarray
    field: str | None
    rule: str
    severity: str
    message: Any
    value_field: str | None
    top: _Table


_PARALLEL_ROWS = 200_000


_WORKERS = min(4, os.cpu_count() or 1)


class _Run:
    """One validation run over one or more data sets of a batch."""

    def __init__(self, spec, tables: dict[str, _Table], *, lookup=None, accepted=None, skip=(), today=None) -> None:
        self.spec = spec
        self.tables = tables
        self.lookup = lookup
        self.accepted = accepted or {}
        self.skip = set(skip)
        self.today = today

    # -- the lazy core
    def chunks(self) -> Iterator[_Chunk]:
        for _code, table in self.tables.items():
            yield from self._table_chunks(table, table)

    def _table_chunks(self, table: _Table, top: _Table) -> Iterator[_Chunk]:
        plan = table.plan
        ds = plan.dataset
        sev_default = "error"
        # records that are not objects
        notobj = np.flatnonzero(~table.objmask)
        if len(notobj) and "not_object" not in self.skip:
            vals = table.records if table.records is not None else None
            msgs = np.array(
                [
                    f"记录应为对象（字典），实际为 {type(vals[i]).__name__}；请检查数据文件每行/每项是否为一个 "
                    "JSON 对象"
                    for i in notobj
                ],
                dtype=object,
            )
            yield _Chunk(table, notobj, None, "not_object", "error", msgs, None, top)
        # unknown columns: one warning each
        if "unknown_field" not in self.skip and table.parent is None:
            for c in table.columns:
                if c not in plan.fields:
                    close = (
                        (
                            difflib.get_close_matches(c, list(plan.fields), n=1, cutoff=0.6)
                            or [k for k in plan.fields if k.lower() == c.lower()]
                        )
                        if isinstance(c, str)
                        else []
                    )
                    hint = f"；是否应为 {plan.label(close[0])}？" if close else ""
                    yield _Chunk(
                        table,
                        np.array([-1]),
                        c,
                        "unknown_field",
                        "warning",
                        f"字段 {c} 不在数据集 {ds.name}（{ds.code}）的规范中，平台会忽略该字段{hint}",
                        None,
                        top,
                    )

        # field rules: one kernel per kind of check over the stacked cells (big tables: a stack
        # per field, on worker threads — NumPy/Arrow release the GIL; order is kept)
        stacks = table.field_stacks()
        if table.n >= _PARALLEL_ROWS and len(stacks) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="hlwjr-validate") as pool:
                results = [found for per_stack in pool.map(field_problems, stacks) for found in per_stack]
        else:  # lazily: is_valid stops at the first stack with an error
            results = (found for st in stacks for found in field_problems(st))
        for fp, found in results:
            for idx, rule, msgs, sev in found:
                if rule not in self.skip:
                    yield _Chunk(table, idx, fp.key, rule, sev or sev_default, msgs, fp.key, top)
        # record rules
        ctx = RuleContext(
            table, plan, batch=self.tables, accepted=self.accepted, lookup=self.lookup, spec=self.spec, today=self.today
        )
        for rp in plan.rules:
            if rp.rule.id in self.skip:
                continue
            try:
                hits = rp.rule.check(ctx, **rp.params)
            except SpecError as exc:
                raise SpecError(f"规则 {rp.rule.id} 配置有误：{exc.message}", where=ds.file or ds.code) from exc
            for h in hits:
                t = h.table or table
                keep = t.objmask[h.idx]  # rules see non-objects as empty rows: never blame them twice
                if not keep.all():
                    msg = h.message[keep] if isinstance(h.message, np.ndarray) else h.message
                    h = Hit(h.idx[keep], h.field, msg, h.value_field, h.severity, h.table)
                yield _Chunk(t, h.idx, h.field, rp.rule.id, h.severity or rp.severity, h.message, h.value_field, top)
        # cross-record rules
        if table.parent is None:
            yield from self._duplicates(table, top)
            yield from self._references(table, top)
            yield from self._accepted(table, top)
        else:
            yield from self._duplicates(table, top)
        # child tables
        for f in plan.children:
            child = table.children(f)
            if child is not None and child.n:
                yield from self._table_chunks(child, top)

    # -- keys
    def _key_text(self, table: _Table, fields) -> tuple[pa.Array, np.ndarray]:
        """Joined key text per row and whether every key part is present."""
        ctx = RuleContext(table, table.plan, spec=self.spec)
        parts, complete = [], np.ones(table.n, dtype=bool)
        for f in fields:
            complete &= ctx.present(f)
            parts.append(pc.fill_null(ctx.text(f), ""))
        if not parts:
            return pa.nulls(table.n, pa.string()), np.zeros(table.n, dtype=bool)
        joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "|")
        return joined, complete

    def _duplicates(self, table: _Table, top: _Table) -> Iterator[_Chunk]:
        if "duplicate_key" in self.skip:
            return
        key = [k for k in table.plan.dataset.key if table.has(k)]
        if table.parent is not None:  # child rows: unique within their parent, on their own key fields
            key = [k for k in key if k in table.plan.fields and k in table._colset]
        if not key or table.n < 2:
            return
        if table.parent is None:
            # the common case — some key field (e.g. bussID) is distinct on every row — decided in Arrow
            ctx = RuleContext(table, table.plan, spec=self.spec)
            for f in reversed(key):
                c = ctx.col(f)
                if (c.kind == STR).all() and len(pc.unique(c.strings())) == table.n:
                    return
        text, complete = self._key_text(table, key)
        if table.parent is None and len(pc.unique(text)) == table.n:
            return  # every key distinct
        import pandas as pd

        s = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
        if table.parent is not None:
            s = pd.Series(table.parent.astype(str), dtype=object) + "\x1f" + s
        s = s.where(complete, None)
        dup = s.duplicated(keep="first").to_numpy() & complete
        if not dup.any():
            return
        idx = np.flatnonzero(dup)
        first = s[complete].drop_duplicates(keep="first")
        first_row = dict(zip(first.to_numpy(), first.index.to_numpy()))
        rows = table.top_rows
        labels = "+".join(table.plan.label(k) for k in key)
        if table.parent is None:
            msgs = np.array(
                [
                    f"业务主键（{labels}）与第 {rows[first_row[s.iat[i]]] + 1} 行重复，同一业务只能上传一次；请去重"
                    "或核对编号"
                    for i in idx
                ],
                dtype=object,
            )
        else:
            msgs = np.array(
                [
                    f"明细主键（{labels}）与同一记录的 {table.prefix}[{table.pos[first_row[s.iat[i]]]}] 重复；请核"
                    "对明细序号"
                    for i in idx
                ],
                dtype=object,
            )
        yield _Chunk(table, idx, key[-1], "duplicate_key", "error", msgs, key[-1], top)

    def _known_keys(self, target: str, fields: tuple[str, ...], want: list[tuple], where: str) -> set[tuple]:
        found: set[tuple] = set()
        if where in ("batch", "any") and target in self.tables:
            t = self.tables[target]
            text, complete = self._key_text(t, fields)
            vals = text.to_pylist()
            found |= {tuple(v.split("|")) if len(fields) > 1 else (v,) for v, c in zip(vals, complete) if c}
        if where in ("accepted", "any"):
            acc = self.accepted.get(target)
            if acc is not None:
                found |= _keys_from(acc, fields)
            if self.lookup is not None:
                try:
                    found |= {tuple(str(x) for x in k) for k in self.lookup.known(target, want)}
                except Exception as exc:  # the lookup is someone else's code: say which
                    raise DataError(f"引用查询（lookup.known）失败：{mask_text(str(exc))}", where=target) from exc
        return found

    def _references(self, table: _Table, top: _Table) -> Iterator[_Chunk]:
        if "reference" in self.skip:
            return
        ds = table.plan.dataset
        for ref in ds.references:
            local = tuple(ref.fields)
            remote = tuple(ref.fields.values())
            if not all(table.has(f) for f in local):
                continue
            text, complete = self._key_text(table, local)
            if not complete.any():
                continue
            sources = [
                t
                for t in ref.datasets
                if (ref.where in ("batch", "any") and t in self.tables)
                or (ref.where in ("accepted", "any") and (t in self.accepted or self.lookup is not None))
            ]
            names = "、".join(f"{self.spec.dataset(t).name}（{t}）" for t in ref.datasets)
            if not sources:
                yield _Chunk(
                    table,
                    np.array([-1]),
                    local[-1],
                    "reference",
                    "warning",
                    f"未提供 {names} 的数据（同批、参考集或已接收查询），未检查 "
                    f"{'+'.join(table.plan.label(f) for f in local)} 的引用；"
                    f"请把被引用的数据集一并校验（命令行 --with {ref.datasets[0]}=文件），或提供已接收/已备案的记录"
                    f"（命令行 --accepted {ref.datasets[0]}=文件；函数 check(..., accepted=… 或 lookup=…)）",
                    None,
                    top,
                )
                continue
            vals = text.to_pylist()
            want_keys = sorted({tuple(v.split("|")) if len(local) > 1 else (v,) for v, c in zip(vals, complete) if c})
            known: set[tuple] = set()
            for t in sources:
                known |= self._known_keys(t, remote, want_keys, ref.where)
            known_text = pa.array(["|".join(k) for k in known], type=pa.string())
            bad = complete & ~_bool(pc.is_in(text, value_set=known_text))
            if not bad.any():
                continue
            idx = np.flatnonzero(bad)
            where_cn = {
                "batch": "同一批数据",
                "accepted": "平台已接收的数据（或参考集）",
                "any": "同一批数据或平台已接收的数据",
            }[ref.where]
            msgs = (
                f"{'+'.join(table.plan.label(f) for f in local)} 引用的记录在 {names} 的{where_cn}中找不到；"
                "请先上传被引用的记录，或核对编号"
            )
            yield _Chunk(table, idx, local[-1], "reference", ref.severity, msgs, local[-1], top)

    def _accepted(self, table: _Table, top: _Table) -> Iterator[_Chunk]:
        if "already_accepted" in self.skip or self.lookup is None:
            return
        key = table.plan.dataset.key
        if not key or not all(table.has(k) for k in key):
            return
        text, complete = self._key_text(table, key)
        vals = text.to_pylist()
        want = sorted({tuple(v.split("|")) if len(key) > 1 else (v,) for v, c in zip(vals, complete) if c})
        if not want:
            return
        try:
            known = {tuple(str(x) for x in k) for k in self.lookup.known(table.plan.dataset.code, want)}
        except Exception as exc:
            raise DataError(
                f"已接收查询（lookup.known）失败：{mask_text(str(exc))}", where=table.plan.dataset.code
            ) from exc
        if not known:
            return
        bad = complete & _bool(pc.is_in(text, value_set=pa.array(["|".join(k) for k in known], type=pa.string())))
        if bad.any():
            yield _Chunk(
                table,
                np.flatnonzero(bad),
                key[-1],
                "already_accepted",
                "error",
                "该业务主键已被平台接收过，重复上传会被判为重复数据；如需更正请按平台的更新方式上传",
                key[-1],
                top,
            )


# ------------------------------------------------------------------------------- assembling
def _chunk_frame(run: _Run, chunks: Iterable[_Chunk]):
    """Chunks → the flat problem DataFrame (keys and masked values computed for failing rows only)."""
    import pandas as pd

    parts = []
    for ch in chunks:
        k = len(ch.idx)
        if not k:
            continue
        t = ch.table
        ds_code = ch.top.plan.dataset.code
        batch_level = ch.idx[0] == -1
        if batch_level:
            rows = np.full(k, -1, dtype=np.int64)
        else:
            rows = t.top_rows[ch.idx]
        keys = _masked_keys(ch.top, rows) if not batch_level else np.full(k, None, dtype=object)
        # field and path
        if t.parent is not None and ch.field is not None:
            field = f"{t.prefix}.{ch.field}"
            path = np.array([f"{t.prefix}[{p}].{ch.field}" for p in t.pos[ch.idx]], dtype=object)
        elif t.parent is not None:
            field = t.prefix
            path = np.array([f"{t.prefix}[{p}]" for p in t.pos[ch.idx]], dtype=object)
        else:
            field = ch.field
            path = np.full(k, ch.field, dtype=object)
        # values, masked
        if ch.value_field is not None and not batch_level:
            values = _masked_values(t, ch.value_field, ch.idx)
        else:
            values = np.full(k, None, dtype=object)
        if isinstance(ch.message, np.ndarray):  # per-row messages may quote a value: mask ID/phone-like runs
            msg = _object_array([mask_text(m) if isinstance(m, str) else m for m in ch.message])
        else:
            msg = np.full(k, mask_text(ch.message), dtype=object)
        parts.append(
            (
                np.full(k, ds_code, dtype=object),
                rows,
                keys,
                np.full(k, field, dtype=object),
                np.full(k, ch.rule, dtype=object),
                np.full(k, ch.severity, dtype=object),
                values,
                msg,
                path,
            )
        )
    if not parts:
        return None
    cols = [np.concatenate(arrs) for arrs in zip(*parts)]
    rows = cols[1].astype(np.int64)
    order = {code: i for i, code in enumerate(run.tables)}
    ds_rank = np.array([order[d] for d in cols[0]], dtype=np.int64)
    perm = np.lexsort((np.where(rows < 0, -1, rows), ds_rank))  # by data set, then row (batch-level first)
    # one object block (no index to align, no string inference: None stays None), then the row
    others = [name for name in COLUMNS if name != "row"]
    block = np.empty((len(perm), len(others)), dtype=object)
    for j, name in enumerate(others):
        block[:, j] = cols[COLUMNS.index(name)][perm]
    frame = pd.DataFrame(block, columns=others, dtype=object, copy=False)
    r = rows[perm]
    row = pd.array(np.where(r < 0, 0, r), dtype="Int64")
    row[r < 0] = pd.NA
    frame.insert(COLUMNS.index("row"), "row", row)
    frame.attrs["hlwjr_normalised"] = True
    return frame


def _masked_values(t: _Table, f: str, idx: np.ndarray) -> np.ndarray:
    """Display text of column ``f`` at ``idx``, masked by the field's kind (ID, phone, name)."""
    import pandas as pd

    col = t.column(f)
    raw = col.at(idx)
    kinds = col.kind[idx]
    text = np.array(
        [None if kk == MISSING else ("null" if kk == NULL else _show(v)) for v, kk in zip(raw, kinds)], dtype=object
    )
    fp = t.plan.fields.get(f)
    mask = fp.mask if fp else mask_kind_for(f)
    if mask == "plain":
        return text
    if len(text) <= 2000:
        return _object_array(mask_value(v, mask) for v in text)
    return mask_series(pd.Series(text, dtype=object), mask).to_numpy(dtype=object)


def _masked_keys(top: _Table, rows: np.ndarray) -> np.ndarray:
    """Business keys (业务主键, parts joined with "|") of the given rows, each part masked."""
    key = [f for f in top.plan.dataset.key if top.has(f)]
    if not key:
        return np.full(len(rows), None, dtype=object)
    parts = [_masked_values(top, f, rows) for f in key]
    return np.array(
        [
            None if all(p is None for p in ps) else "|".join("" if p is None else str(p) for p in ps)
            for ps in zip(*parts)
        ],
        dtype=object,
    )


def _show(v) -> str:
    if isinstance(v, str):
        return v if len(v) <= 200 else v[:197] + "..."
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (int, decimal.Decimal)) and not isinstance(v, bool):
        return number_text(v)
    if isinstance(v, (list, dict)):
        import json

        text = json.dumps(v, ensure_ascii=False, default=str)
        return text if len(text) <= 200 else text[:197] + "..."
    return str(v)


def _run(records, dataset, spec, lookup, accepted, skip, today):
    spec, tables = _prepare(records, dataset, spec)
    unknown = [s for s in skip if s not in RULES]
    if unknown:
        near = [m for u in unknown for m in difflib.get_close_matches(u, list(RULES), n=1, cutoff=0.6)]
        raise SpecError(
            f"skip 中有未知规则 {', '.join(unknown)}"
            + (f"；是否想写 {', '.join(near)}？" if near else "")
            + f"；可用规则 id：{', '.join(sorted(RULES))}（说明见 docs/rules.md）"
        )
    return _Run(spec, tables, lookup=lookup, accepted=accepted, skip=skip, today=today)


def _small_batch_report(records, dataset, spec, lookup, accepted, skip, today) -> Report | None:
    """The empty report of a small clean batch (list of dicts), proven clean by the row-wise fast
    path (``hlwjr.validation._smallbatch``) without the column-wise set-up; None → run the full engine."""
    if dataset is None or type(records) is not list or not records or len(records) > SMALL_BATCH:
        return None
    from ..spec._load import load_spec

    spec = load_spec(spec)
    ds = spec.dataset(dataset) if not hasattr(dataset, "fields") else dataset
    plan = _plan_for(spec, ds)
    if not certify_clean(plan, records, spec=spec, lookup=lookup, accepted=accepted, skip=skip, today=today):
        return None
    return Report(datasets=[ds.code], counts={ds.code: len(records)}, spec=spec)


def check(
    records,
    dataset=None,
    *,
    spec=None,
    lookup: ReferenceLookup | None = None,
    accepted: Mapping[str, Any] | None = None,
    skip: Iterable[str] = (),
    today: _dt.date | None = None,
) -> Report:
    """Validate records of a data set (数据集) and collect every problem in a :class:`Report`.

    ``dataset``: code, alias or Chinese name (``"recipe"``, ``"DS07a"``, ``"在线处方"``);
    omit it when ``records`` is ``{dataset_code: records}``. ``spec``: a Spec, a name or a
    directory (default the reference spec). ``lookup``: keys the platform already accepted
    (``known(dataset_code, keys) -> set[tuple]``). ``accepted``: ``{dataset_code: records or key
    tuples}`` a reference set (e.g. the filed doctor roster). ``skip``: rule ids not to apply.
    ``today``: the date ID-card birth dates are checked against (default today).
    """
    from ..spec._load import load_spec

    skip = tuple(skip)
    spec = load_spec(spec)  # once: with a name or directory it stats every spec file (~0.5 ms)
    fast = _small_batch_report(records, dataset, spec, lookup, accepted, skip, today)
    if fast is not None:
        return fast
    run = _run(records, dataset, spec, lookup, accepted, skip, today)
    frame = _chunk_frame(run, run.chunks())
    counts = {code: t.n for code, t in run.tables.items()}
    return Report(frame=frame, datasets=list(run.tables), counts=counts, spec=run.spec)


def iter_problems(
    records,
    dataset=None,
    *,
    spec=None,
    lookup: ReferenceLookup | None = None,
    accepted: Mapping[str, Any] | None = None,
    skip: Iterable[str] = (),
    today: _dt.date | None = None,
) -> Iterator[Problem]:
    """The lazy core: yield every :class:`Problem`, one rule/field at a time (same args as check)."""
    run = _run(records, dataset, spec, lookup, accepted, tuple(skip), today)
    for chunk in run.chunks():
        frame = _chunk_frame(run, [chunk])
        if frame is not None:
            yield from Report(frame=frame).problems


def validate(records, dataset=None, **kwargs) -> Report:
    """Raise :class:`hlwjr.RecordsInvalid` (with ``.report``) when any record breaks a mandatory
    check; return the report (warnings only) otherwise."""
    report = check(records, dataset, **kwargs)
    if not report.ok:
        first = report.errors[0]
        raise RecordsInvalid(
            f"{report.n_errors} 个强制校验错误，{len(report.bad_rows())} 条记录会被平台拒收；首个问题：{first}",
            report=report,
            where=", ".join(report.datasets),
        )
    return report


def is_valid(
    records,
    dataset=None,
    *,
    spec=None,
    lookup: ReferenceLookup | None = None,
    accepted: Mapping[str, Any] | None = None,
    skip: Iterable[str] = (),
    today: _dt.date | None = None,
) -> bool:
    """True when no record breaks a mandatory check (warnings allowed). It stops at the first
    error: the rules after it are not run and no report is built."""
    from ..spec._load import load_spec

    skip, spec = tuple(skip), load_spec(spec)
    if _small_batch_report(records, dataset, spec, lookup, accepted, skip, today) is not None:
        return True
    run = _run(records, dataset, spec, lookup, accepted, skip, today)
    return not any(c.severity == "error" and len(c.idx) for c in run.chunks())
