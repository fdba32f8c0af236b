"""The rule registry's building blocks: :class:`Rule` entries by stable id, :func:`record_rule`
(the decorator that registers a record rule's one implementation), and what a record rule sees
and returns (:class:`RuleContext` over whole columns, :class:`Hit`). The registry is complete
once ``hlwjr.validation._rules`` is imported.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._privacy import ID_CHECK_CHARS, ID_WEIGHTS
from ._columns import IS_INTEGER, MISSING, NULL, STR, Column, _bool, fixed_width


@dataclass(frozen=True)
class Rule:
    """A registered rule: id, Chinese title, kind, params (name → meaning), default severity,
    the Chinese message template and an example of a failing value."""

    id: str
    title: str
    kind: str  # "field" | "record" | "cross" | "input"
    params: Mapping[str, str] = field(default_factory=dict)
    required_params: tuple[str, ...] = ()
    severity: str = "error"
    message: str = ""
    example: str = ""
    check: Callable | None = None


RULES: dict[str, Rule] = {}


def _register(rule: Rule) -> Rule:
    if rule.id in RULES:  # pragma: no cover - a programming error
        raise ValueError(f"rule {rule.id!r} registered twice")
    RULES[rule.id] = rule
    return rule


def record_rule(
    id: str,
    *,
    title: str,
    params: Mapping[str, str],
    required: Iterable[str] = (),
    severity: str = "error",
    message: str,
    example: str,
    kind: str = "record",
):
    """Register a record rule implemented by the decorated ``fn(ctx, **params) -> list[Hit]``."""

    def deco(fn):
        _register(Rule(id, title, kind, dict(params), tuple(required), severity, message, example, fn))
        return fn

    return deco


# ----------------------------------------------------------------------------------- contexts
@dataclass
class Hit:
    """Failing rows of a rule: positions ``idx`` in the table, the field to blame (its value is
    shown), and a message (one string, or one per row)."""

    idx: np.ndarray
    field: str | None
    message: str | np.ndarray
    value_field: str | None = None
    severity: str | None = None
    table: Any = None  # the (child) table ``idx`` refers to; None = the rule's own table


class RuleContext:
    """What a record rule sees: the columns of one data set (or child rows) of a batch."""

    def __init__(
        self, table, plan, *, batch=None, accepted=None, lookup=None, spec=None, today: _dt.date | None = None
    ) -> None:
        self.table = table
        self.plan = plan
        self.dataset = plan.dataset
        self.spec = spec
        self.n = table.n
        self.batch = batch or {}
        self.accepted = accepted or {}
        self.lookup = lookup
        self.today = today or _dt.date.today()

    # -- columns
    def has(self, f: str) -> bool:
        return self.table.has(f)

    def col(self, f: str) -> Column:
        return self.table.column(f)

    def label(self, f: str) -> str:
        return self.plan.label(f)

    def present(self, f: str) -> np.ndarray:
        """Has a value: not missing, not null, not an empty (or blank) string (read-only, cached)."""
        return self.col(f).cached("present", _present)

    def strings(self, f: str) -> pa.Array:
        return self.col(f).strings()

    def text(self, f: str) -> pa.Array:
        """Values as text: strings as they are, integers as digits (null elsewhere)."""
        return self.col(f).cached("text", _text)

    def numbers(self, f: str) -> np.ndarray:
        """Numeric values; numeric strings (e.g. "12.50") count too; NaN elsewhere (read-only)."""
        return self.col(f).cached("numeric", _numeric)

    def times(self, f: str) -> pa.Array:
        """Valid date / date-time values as sortable text (null where absent or malformed)."""
        return self.col(f).cached("times", _times)

    @property
    def parent(self) -> np.ndarray | None:
        """For child rows: the position of each row's parent record."""
        return self.table.parent

    def children(self, f: str) -> RuleContext | None:
        """A context over the child rows of array field ``f`` (``.parent`` maps them back)."""
        child = self.table.children(f)
        if child is None:
            return None
        return RuleContext(
            child,
            child.plan,
            batch=self.batch,
            accepted=self.accepted,
            lookup=self.lookup,
            spec=self.spec,
            today=self.today,
        )

    def valid_ids(self, f: str) -> np.ndarray:
        """GB 11643 validity of column ``f`` (cached on the column)."""
        today = self.today
        return self.col(f).cached(("valid_id", today), lambda c: valid_id_mask(c.strings(), today) & (c.kind == STR))

    def code_set(self, cid: str):
        return self.spec.code_set(cid)

    def hit(
        self, mask_or_idx, field: str | None, message, *, value_field: str | None = "", severity: str | None = None
    ) -> Hit:
        idx = np.flatnonzero(mask_or_idx) if mask_or_idx.dtype == bool else mask_or_idx
        if isinstance(message, np.ndarray) and mask_or_idx.dtype == bool and len(message) == self.n:
            message = message[idx]
        return Hit(idx, field, message, field if value_field == "" else value_field, severity)


# ------------------------------------------------------------- what rules read of a column
def _present(c: Column) -> np.ndarray:
    p = (c.kind != MISSING) & (c.kind != NULL) & ~c.blank()
    p.flags.writeable = False
    return p


def _text(c: Column) -> pa.Array:
    s = c.strings()
    num = IS_INTEGER[c.kind]
    return pc.if_else(pa.array(num), int_text(c, num), s) if num.any() else s


def _numeric(c: Column) -> np.ndarray:
    x = c.numbers().copy()
    if (c.kind == STR).any():
        s = c.strings()
        numeric = _bool(pc.match_substring_regex(s, r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\z"))
        if numeric.any():
            vals = pc.cast(pc.if_else(pa.array(numeric), s, pa.scalar("0")), pa.float64())
            x = np.where(numeric, vals.to_numpy(zero_copy_only=False), x)
    x.flags.writeable = False
    return x


def _times(c: Column) -> pa.Array:
    s = c.strings()
    _, ok_d = c.formats("date")
    _, ok_t = c.formats("date-time-cn")
    valid = (ok_d | ok_t) & (c.kind == STR)
    return s if valid.all() else pc.if_else(pa.array(valid), s, pa.scalar(None, pa.string()))


def int_text(c: Column, num: np.ndarray) -> pa.Array:
    """Digits of the integer cells ``num`` of column ``c`` (other cells "0"); integers beyond
    int64 (e.g. a 20-digit number read from Excel) are written out by Python, not wrapped."""
    x = np.where(num, c.numbers(), 0)
    big = np.abs(x) >= 2.0**63
    if not big.any():
        return pa.array(x.astype(np.int64)).cast(pa.string())
    small = np.where(big, 0, x).astype(np.int64).astype(object)
    vals = c.obj
    for i in np.flatnonzero(big):
        small[i] = int(vals[i])
    return pa.array([str(v) for v in small], type=pa.string())


# ------------------------------------------------------------------------------- record rules
_WEIGHTS = np.array(ID_WEIGHTS, dtype=np.int64)  # GB 11643, vectorised from _privacy's definition


_CHECK = np.frombuffer(ID_CHECK_CHARS.encode(), dtype=np.uint8)


def id_digits(strings: pa.Array, shape_ok: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(positions, k×18 uint8 matrix) of the 18-byte strings (optionally only where ``shape_ok``)."""
    return fixed_width(strings, 18, shape_ok)


def valid_id_mask(strings: pa.Array, today: _dt.date) -> np.ndarray:
    """Vectorised GB 11643 check: format, real birth date (1890 … today), check digit."""
    from ._columns import _real_date

    idx, m = fixed_width(strings, 18)
    ok = np.zeros(len(strings), dtype=bool)
    if len(idx):
        body = m[:, :17]
        last = m[:, 17]
        shape = ((body - np.uint8(48)) < 10).all(axis=1) & (((last - np.uint8(48)) < 10) | (last == 88))
        d = body.astype(np.float32)
        d -= 48.0
        w = np.zeros((17, 4), dtype=np.float32)
        w[:, 0] = _WEIGHTS
        w[6:10, 1] = (1000, 100, 10, 1)
        w[10:12, 2] = (10, 1)
        w[12:14, 3] = (10, 1)
        prod = (d @ w).round().astype(np.int64)  # exact: every sum < 2**24
        check = _CHECK[np.where(shape, prod[:, 0] % 11, 0)]
        y, mo, dd = prod[:, 1], prod[:, 2], prod[:, 3]
        ymd = y * 10000 + mo * 100 + dd
        t = today.year * 10000 + today.month * 100 + today.day
        ok[idx] = shape & (check == m[:, 17]) & _real_date(y, mo, dd) & (y >= 1890) & (ymd <= t)
    return ok
