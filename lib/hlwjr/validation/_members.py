"""Membership: which cells are among given values — a code set's codes (:class:`TextSet`, by
dict or by Arrow as the sizes make cheaper), or JSON values under JSON equality (enum, const).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._memo import derived
from ._columns import BOOL, DICT, IS_NUMERIC, LIST, MISSING, NULL, STR, Column, _bool


def json_equal(a, b) -> bool:
    """JSON equality: ``1 == 1.0``, ``True != 1``, arrays/objects compared deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if a is None or b is None:
        return a is None and b is None
    return type(a) is type(b) and a == b


class TextSet:
    """Text values (codes, keys) for membership tests. Arrow builds a hash table of the value set
    on every call (~0.75 ms for the 33,000 codes of an ICD-10 edition), so a column much shorter
    than the set looks its values up in a Python dict instead: the same answer, the cheaper way
    for the sizes. ``labels`` (optional, same order): what :meth:`labels_at` returns."""

    __slots__ = ("_arrow", "_labels", "index", "labels", "values")

    def __init__(self, values: Iterable[str], labels: Iterable[str] | None = None) -> None:
        self.values = list(values)
        self.labels = None if labels is None else list(labels)
        self.index: dict[str, int] = {}
        for i, v in enumerate(self.values):
            self.index.setdefault(v, i)
        self._arrow = self._labels = None

    @property
    def arrow(self) -> pa.Array:
        if self._arrow is None:
            self._arrow = pa.array(self.values, type=pa.string())
        return self._arrow

    def _short(self, strings: pa.Array) -> bool:
        return len(strings) <= len(self.values) // 6 + 32

    def contains(self, strings: pa.Array) -> np.ndarray:
        """Which strings are in the set (False for nulls)."""
        if self._short(strings):
            index = self.index
            return np.fromiter((v in index for v in strings.to_pylist()), dtype=bool, count=len(strings))
        return _bool(pc.is_in(strings, value_set=self.arrow))

    def labels_at(self, strings: pa.Array) -> pa.Array:
        """The label of each string's value (null where the value is not in the set)."""
        if self._short(strings):
            get, labels = self.index.get, self.labels
            return pa.array([None if (i := get(v)) is None else labels[i] for v in strings.to_pylist()], pa.string())
        if self._labels is None:
            self._labels = pa.array(self.labels, type=pa.string())
        return pc.take(self._labels, pc.index_in(strings, value_set=self.arrow))


def code_texts(code_set) -> TextSet:
    """A code set's codes (labelled with their names) as a :class:`TextSet`, built once per code set."""
    return derived(code_set, _code_texts)


def _code_texts(code_set) -> TextSet:
    return TextSet(code_set.codes, code_set.codes.values())


def member_mask(col: Column, members: tuple) -> np.ndarray:
    """Which cells equal one of ``members`` under JSON equality (missing cells: True)."""
    kind = col.kind
    ok = kind == MISSING
    strs = [m for m in members if isinstance(m, str)]
    nums = [m for m in members if isinstance(m, (int, float)) and not isinstance(m, bool)]
    bools = {m for m in members if isinstance(m, bool)}
    is_str = kind == STR
    if strs and is_str.any():
        ok |= is_str & _bool(pc.is_in(col.strings(), value_set=pa.array(strs, type=pa.string())))
    is_num = IS_NUMERIC[kind]
    if nums and is_num.any():
        ok |= is_num & np.isin(col.numbers(), np.array(nums, dtype=np.float64))
    if bools:
        idx = np.flatnonzero(kind == BOOL)
        if len(idx):
            ok[idx] = [bool(v) in bools for v in col.obj[idx]]
    if any(m is None for m in members):
        ok |= kind == NULL
    complex_members = [m for m in members if isinstance(m, (list, dict))]
    if complex_members:
        idx = np.flatnonzero((kind == LIST) | (kind == DICT))
        for i in idx:
            v = col.obj[i]
            ok[i] = any(json_equal(v, m) for m in complex_members)
    return ok
