"""Planning a test-phase upload: which records go today (parents with their children, the day's
quota), and the reference lookup over the ledger plus what this run plans to send.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .._exceptions import (
    HlwjrError,
)
from ._ledger import (
    KEY_SEP,
    Ledger,
    record_json,
)
from ._summary import UploadSummary, _masked

# --------------------------------------------------------------------------- planning


def _ref_keys(ref, record: dict[str, Any], spec) -> list[tuple[str, tuple[str, ...]]]:
    """(target data set, target key) pairs of one reference of a record (any of them will do)."""
    out = []
    for target in ref.datasets:
        try:
            tds = spec.dataset(target)
        except HlwjrError:
            continue
        inverse = {v: k for k, v in ref.fields.items()}
        key = []
        for kf in tds.key:
            local = inverse.get(kf, kf)
            v = record.get(local)
            key.append("" if v is None else str(v))
        out.append((tds.code, tuple(key)))
    return out


def _ref_targets(ds, record: dict[str, Any], spec) -> list[tuple[str, tuple[str, ...]]]:
    """(target data set, target key) pairs a record references, per the data set's references."""
    return [pair for ref in getattr(ds, "references", ()) or () for pair in _ref_keys(ref, record, spec)]


def _apply_limit(spec, order, prepared: dict[str, list], limit: int, summary: UploadSummary) -> None:
    """``--limit N``: at most N records per data set, parents first; a record goes only together
    with the records of this run it references (a 处方 whose 复诊 was cut by the limit waits for a
    later run — sent alone it would be rejected and break the day's 100 % success rate)."""
    in_run = {code: {k for k, *_ in items} for code, items in prepared.items()}
    chosen: dict[str, set[str]] = {}
    for ds in order:  # dependency order: parents are decided before their children
        items = prepared.get(ds.code)
        if items is None:
            continue
        keep = []
        for it in items:
            if len(keep) >= limit:
                break
            if _parents_go_too(ds, it[3], spec, in_run, chosen):
                keep.append(it)
        summary.datasets[ds.code].not_planned += len(items) - len(keep)
        prepared[ds.code] = keep
        chosen[ds.code] = {k for k, *_ in keep}


def _parents_go_too(ds, record: dict[str, Any], spec, in_run: dict[str, set[str]], chosen: dict[str, set[str]]) -> bool:
    """Whether every reference of ``record`` is met by a record sent in this run or by one that is
    not part of this run (accepted earlier: pre-flight validation found it)."""
    for ref in getattr(ds, "references", ()) or ():
        pairs = [(t, KEY_SEP.join(k)) for t, k in _ref_keys(ref, record, spec)]
        if any(k in chosen.get(t, ()) for t, k in pairs):
            continue
        if any(k in in_run.get(t, ()) for t, k in pairs):
            return False
    return True


def plan_test_phase(
    spec,
    candidates: dict[str, list[tuple[str, dict]]],
    target: int | Callable[[str], int],
    accepted_today: dict[str, int],
    uncapped: Iterable[str] = (),
) -> dict[str, set[str]]:
    """The test-phase planner (测试阶段计划): for each data set choose ``target`` minus what was
    already accepted today of the valid ``candidates`` ((joined key, record) in order), plus
    every parent record the chosen children reference (dependency closure, leaves first).
    Data sets in ``uncapped`` (master data: 机构、科室、人员) are sent whole. ``target``: one number
    for all data sets, or the data set's own (``Thresholds.target``).
    Returns ``{dataset: set of joined keys to send}``."""
    uncapped = set(uncapped)
    order = [d.code for d in spec.top_level() if d.code in candidates]
    chosen: dict[str, set[str]] = {c: set() for c in order}
    required: dict[str, set[str]] = {c: set() for c in order}
    for code in reversed(order):
        ds = spec.dataset(code)
        avail = candidates[code]
        goal = target(code) if callable(target) else target
        need = len(candidates[code]) if code in uncapped else max(0, goal - accepted_today.get(code, 0))
        picked = {k for k, _ in avail if k in required[code]}
        for k, _ in avail:
            if len(picked) >= need:
                break
            picked.add(k)
        chosen[code] = picked
        for k, rec in avail:
            if k not in picked:
                continue
            for tcode, tkey in _ref_targets(ds, rec, spec):
                if tcode in required:
                    required[tcode].add(KEY_SEP.join(tkey))
    return chosen


class _Lookup:
    """Reference lookup for pre-flight validation: accepted in the ledger, or planned in this run."""

    def __init__(self, ledger: Ledger, planned: dict[str, set[tuple]]) -> None:
        self.ledger = ledger
        self.planned = planned

    def known(self, dataset_code: str, keys: Iterable[tuple]) -> set[tuple]:
        from ._ledger import match_partial

        keys = [tuple("" if x is None else str(x) for x in k) for k in keys]
        have = self.planned.get(dataset_code, set())
        out = {k for k in keys if k in have}
        rest = [k for k in keys if k not in out]
        if rest and have:  # a reference naming the trailing key fields only
            out |= match_partial(rest, have)
            rest = [k for k in rest if k not in out]
        return out | (self.ledger.known(dataset_code, rest) if rest else set())


def _pair_json(name: str, value) -> str:
    """``"name":value`` as the canonical JSON writes it (plain text identifiers without encoding)."""
    if type(value) is str and value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{name}":"{value}"'
    return record_json({name: value})[1:-1]


def content_twins_note(ds, items) -> str | None:
    """A warning when records of ``items`` (``(key, hash, json, record)``) are the same in every field
    but the record's own identifier (the last key field): one business exported twice under two
    numbers — a regenerated 就诊号, a cycling 门诊号 — which the platform counts as a duplicate."""
    own = ds.key[-1] if ds.key else None
    seen: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for key, _h, text, record in items:  # the canonical JSON without the identifier's "key":value
        content = text.replace(_pair_json(own, record[own]), "") if own in record else text
        first = seen.setdefault(content, key)
        if first != key:
            pairs.append((first, key))
    if not pairs:
        return None
    a, b = pairs[0]
    return (
        f"{ds.code}（{ds.name}）有 {len(pairs)} 条记录与另一条除 {own} 外完全相同（如 {_masked(a)} 与 "
        f"{_masked(b)}）：多半是同一笔业务被重复导出、换了编号，平台会把它们算作重复数据。请核对 HIS 导出；"
        "确是不同的业务（如同一天两次相同的复诊）可以照常上传"
    )
