"""Records as typed columns: a batch (DataFrame, list of dicts, or {data set: records}) prepared
into one table per data set, array fields exploded into child tables with their parent rows.
"""

from __future__ import annotations

import datetime as _dt
import operator
from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from .._exceptions import DataError
from ._columns import (
    _MISSING,
    LIST,
    MISSING,
    OTHER,
    STR,
    Column,
    _object_array,
    column_of,
)
from ._fields import FieldStack, _vectors
from ._plan import _Plan, _plan_for

#: a table of dict records with up to this many cells (rows × fields) checks all its fields in one
#: stack; a DataFrame (whose columns are typed already: stacking costs it a conversion) up to
#: an eighth of it (measured: stacking wins below ~800 dict records or ~100 DataFrame rows of 41 fields)
STACK_CELLS = 32_768


# ------------------------------------------------------------------------------------ tables
class _Table:
    """One data set's records as typed columns (or the child records of an array field)."""

    def __init__(
        self,
        plan: _Plan,
        n: int,
        *,
        frame=None,
        records=None,
        objmask=None,
        parent: np.ndarray | None = None,
        pos: np.ndarray | None = None,
        prefix: str | None = None,
        top_rows: np.ndarray | None = None,
    ) -> None:
        self.plan = plan
        self.n = n
        self.frame = frame
        self.records = records
        self.objmask = objmask if objmask is not None else np.ones(n, dtype=bool)
        self.parent = parent  # position in the parent table (children only)
        self.pos = pos  # index inside the parent's array (children only)
        self.prefix = prefix  # array field name (children only)
        self.top_rows = top_rows if top_rows is not None else np.arange(n)
        self._cols: dict[str, Column] = {}
        self._stack: Column | bool | None = None  # the plan fields' cells, in plan order (False: not stacked)
        self._children: dict[str, _Table | None] = {}
        if frame is not None:
            if not all(isinstance(c, str) for c in frame.columns):
                self.frame = frame = frame.rename(columns=str)
            self.columns = list(frame.columns)
        else:
            present = set().union(*(r for r in records if type(r) is dict)) if len(records) else set()
            ordered = [k for k in plan.fields if k in present]
            self.columns = ordered + sorted((str(k) for k in present if k not in plan.fields), key=str)
        self._colset = set(self.columns)

    def _dicts(self) -> list:
        """The records with every non-object replaced by {} (those are reported as not_object)."""
        d = getattr(self, "_dict_list", None)
        if d is None:
            d = self.records if self.objmask.all() else [r if ok else {} for r, ok in zip(self.records, self.objmask)]
            self._dict_list = d
        return d

    def _values(self, f: str) -> np.ndarray:
        """Column ``f`` of dict records as objects (missing key → <missing>, None stays None)."""
        if self.n < 5000:
            return column_of(self._dicts(), f)
        obj = getattr(self, "_obj_frame", None)
        if obj is None:
            import pandas as pd

            # one C-level pass over all dicts; dtype=object keeps None (JSON null) apart from an
            # absent key (NaN), and NaN/pd.NA/NaT values count as missing anyway
            obj = self._obj_frame = pd.DataFrame(self._dicts(), dtype=object)
        if f not in obj.columns:
            return np.full(self.n, _MISSING, dtype=object)
        return obj[f].to_numpy(dtype=object)

    def has(self, f: str) -> bool:
        return f in self._colset or f in self.plan.fields

    def field_stacks(self) -> list[FieldStack]:
        """The plan's fields as stacks for the field kernel: all in one when the table is small
        (see :data:`STACK_CELLS`), else one stack per field."""
        keys = list(self.plan.fields)
        stack = self._stack_of()
        if stack is not None:
            return [FieldStack(self.plan, keys, stack, self.n, self.objmask)]
        if self.frame is not None and len(keys) > 1 and 0 < self.n * len(keys) <= STACK_CELLS // 8:
            return [FieldStack(self.plan, keys, Column.concat([self.column(k) for k in keys]), self.n, self.objmask)]
        return [FieldStack(self.plan, [k], self.column(k), self.n, self.objmask) for k in keys]

    def _stack_of(self) -> Column | None:
        """A small table of dict records: its plan fields' cells in one column (read once, on
        first use — by the field kernel or by a rule that reads a field first)."""
        if self._stack is None:
            keys = list(self.plan.fields)
            small = self.frame is None and len(keys) > 1 and 0 < self.n * len(keys) <= STACK_CELLS
            self._stack = self._stacked(keys) if small else False
        return self._stack or None

    def _stacked(self, keys: list[str]) -> Column:
        """Dict records: the cells of fields ``keys`` read into one column, in one pass."""
        dicts, values = self._dicts(), []
        for k in keys:
            values += map(operator.methodcaller("get", k, _MISSING), dicts)
        col = Column.from_objects(_object_array(values), nan_is_missing=True, none_is_missing=False)
        other = np.flatnonzero(col.kind == OTHER)
        if len(other):  # date/datetime objects in date fields → their text (as column() does)
            n, types = self.n, [self.plan.fields[k].type for k in keys]
            dated = [i for i in other if types[i // n] in ("date", "datetime")]
            for i in dated:
                text = _date_text(col.obj[i], types[i // n])
                if text is not None:
                    col.obj[i], col.kind[i] = text, STR
        return col

    def column(self, f: str) -> Column:
        col = self._cols.get(f)
        stack = self._stack_of() if col is None and f in self.plan.fields else None
        if stack is not None:  # field f's cells are the stack's block at its position in the plan
            start = _vectors(self.plan).index[f] * self.n
            col = self._cols[f] = stack.slice(start, start + self.n)
        if col is None:
            if f not in self._colset:
                col = Column(np.zeros(self.n, dtype=np.int8))
            elif self.frame is not None:
                s = self.frame[f]
                if getattr(s, "ndim", 1) != 1:
                    raise DataError(f"列名 {f!r} 重复，请去掉重复的列", where=f"{self.plan.dataset.code}.{f}")
                col = Column.from_series(s)
            else:
                # dict records: None is JSON null; NaN / pd.NA / NaT (from pandas) mean missing
                col = Column.from_objects(self._values(f), nan_is_missing=True, none_is_missing=False)
            fp = self.plan.fields.get(f)
            if fp is not None and fp.type in ("date", "datetime"):
                col = _coerce_datetimes(
                    col, fp.type, self.frame[f] if self.frame is not None and f in self._colset else None
                )
            self._cols[f] = col
        return col

    def children(self, f: str) -> _Table | None:
        if f in self._children:
            return self._children[f]
        child_plan = self.plan.children.get(f)
        result = None
        if child_plan is not None and f in self._colset:
            col = self.column(f)
            lidx = np.flatnonzero(col.kind == LIST)
            lists = col.obj[lidx]
            lens = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
            total = int(lens.sum())
            parent = np.repeat(lidx, lens)
            pos = np.arange(total) - np.repeat(np.cumsum(lens) - lens, lens)
            items = [v for lst in lists for v in lst]
            objmask = np.fromiter((type(v) is dict for v in items), dtype=bool, count=total)
            result = _Table(
                child_plan,
                total,
                records=items,
                objmask=objmask,
                parent=parent,
                pos=pos,
                prefix=f,
                top_rows=self.top_rows[parent],
            )
        self._children[f] = result
        return result


_BEIJING = _dt.timezone(_dt.timedelta(hours=8), "Asia/Shanghai")  # 北京时间 (no DST since 1991)


def _coerce_datetimes(col: Column, ftype: str, series) -> Column:
    """datetime64 columns and date/datetime objects → canonical text (a documented decision)."""
    fmt = "%Y-%m-%d" if ftype == "date" else "%Y-%m-%d %H:%M:%S"
    if series is not None:
        import pandas as pd

        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            if getattr(series.dt, "tz", None) is not None:
                series = series.dt.tz_convert(_BEIJING)  # the platform's times are Beijing time
            text = series.dt.strftime(fmt)
            kind = np.where(series.isna().to_numpy(dtype=bool), MISSING, STR).astype(np.int8)
            return Column(
                kind,
                obj=text.to_numpy(dtype=object, na_value=None),
                strings=pa.array(text.to_numpy(dtype=object, na_value=None), type=pa.string()),
            )
    other = np.flatnonzero(col.kind == OTHER)
    if not len(other):
        return col
    obj = col.obj.copy()
    kind = col.kind.copy()
    changed = False
    for i in other:
        text = _date_text(obj[i], ftype)
        if text is not None:
            obj[i], kind[i] = text, STR
            changed = True
    return Column(kind, obj=obj) if changed else col


def _date_text(v, ftype: str) -> str | None:
    """A ``date``/``datetime`` object as the field's canonical text (Beijing time); None otherwise."""
    if not isinstance(v, (_dt.datetime, _dt.date)):
        return None
    if isinstance(v, _dt.datetime) and v.tzinfo is not None:
        v = v.astimezone(_BEIJING)
    return v.strftime("%Y-%m-%d" if ftype == "date" else "%Y-%m-%d %H:%M:%S")


# ------------------------------------------------------------------------------- entry points
def _prepare(records, dataset, spec):
    """Resolve the spec and build one table per data set."""
    import pandas as pd

    from ..spec._load import load_spec

    spec = load_spec(spec)
    if isinstance(records, Mapping) and dataset is None:
        batch = dict(records)
    else:
        if dataset is None:
            raise DataError(
                '请指定数据集（dataset），例如 check(records, "recipe")；'
                "或传入 {数据集代码: 记录} 字典一次校验多个数据集"
            )
        batch = {dataset: records}
    tables: dict[str, _Table] = {}
    for name, recs in batch.items():
        ds = spec.dataset(name) if not hasattr(name, "fields") else name
        if ds.code in tables:  # "recipe" and "在线处方" in one batch: never let one silently replace the other
            raise DataError(
                f"数据集 {ds.code}（{ds.name}）在同一批中给出了两次（{name!r} 与另一个代码/别名/名称）；"
                "请把同一数据集的记录合并后再校验"
            )
        plan = _plan_for(spec, ds)
        if isinstance(recs, pd.DataFrame):
            if isinstance(recs.columns, pd.MultiIndex):
                raise DataError(
                    f"数据集 {ds.code} 的 DataFrame 是多级表头（MultiIndex）；请先把列名展平为字段名，"
                    "如 df.columns = [c[0] for c in df.columns]"
                )
            if not all(isinstance(c, str) for c in recs.columns):
                recs = recs.rename(columns=lambda c: c if isinstance(c, str) else str(c))
            tables[ds.code] = _Table(
                plan,
                len(recs),
                frame=recs.reset_index(drop=True)
                if not isinstance(recs.index, pd.RangeIndex) or recs.index.start != 0
                else recs,
            )
        else:
            if isinstance(recs, Mapping):
                recs = [recs]
            if isinstance(recs, (str, bytes)):
                raise DataError(f"数据集 {ds.code} 的记录应为 DataFrame 或字典列表，实际为文本")
            try:
                recs = list(recs)
            except TypeError as exc:
                raise DataError(
                    f"数据集 {ds.code} 的记录应为 DataFrame 或字典列表，实际为 {type(recs).__name__}"
                ) from exc
            objmask = np.fromiter((type(r) is dict for r in recs), dtype=bool, count=len(recs))
            if not objmask.all():  # dict subclasses (OrderedDict…) count as objects too
                for i in np.flatnonzero(~objmask):
                    if isinstance(recs[i], Mapping):
                        recs[i] = dict(recs[i])
                        objmask[i] = True
            tables[ds.code] = _Table(plan, len(recs), records=recs, objmask=objmask)
    return spec, tables
