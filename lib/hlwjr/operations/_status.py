"""Status and reconciliation (运行状态与对账): per business day × data set, HIS rows in the window
vs mapped vs sent vs accepted vs refused vs pending, the success rate and the last run; the
platform's own count from its verification log (验证日志) where the client can ask; every
mismatch with the (masked) keys that differ.

The ledger gives the current state of each record by business day; the run records give what
the source held (HIS rows, rows not yet final, mapped, held back) at the last run of that day."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from .._exceptions import HlwjrError
from .._privacy import mask_key
from ._ledger_view import open_view
from ._records import load_runs
from ._window import business_day, parse_day

__all__ = ["Status", "compute_status", "platform_mismatches"]

_SOURCE_COUNTS = ("his_rows", "waiting", "mapping_rejected", "mapped", "invalid")
_MAX_KEYS = 20  # keys listed per mismatch (masked)


@dataclass
class Status:
    """What ``hlwjr status`` shows: ``rows`` (one per day × data set), ``runs`` (the last runs),
    ``mismatches`` (reconciliation), ``platform`` (whether the verification log was read)."""

    first: str
    last: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    platform: str | None = None  # "ok" / an error message / None (not asked)

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.first,
            "to": self.last,
            "rows": self.rows,
            "runs": self.runs,
            "mismatches": self.mismatches,
            "platform": self.platform,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=1)

    def to_text(self) -> str:
        from ._text import status_text

        return status_text(self)


def compute_status(
    project, *, days: int = 30, today: str | date | None = None, platform: bool = False, client=None
) -> Status:
    """Status of the ``days`` business days ending with ``today`` (default: the last closed
    business day). ``platform``: also compare with the platform's verification log (``client``
    or the project's own)."""
    from ..upload._ledger import now_shanghai

    last = parse_day(today, "--today") if today is not None else business_day(now_shanghai(), project.run.cutoff_hour)
    first = last - timedelta(days=max(days, 1) - 1)
    st = Status(first.isoformat(), last.isoformat())
    runs = load_runs(project.runs_dir)
    source = _source_rows(runs, st.first, st.last)
    with open_view(project) as view:
        states = view.day_states(st.first, st.last)
    for key in sorted(set(states) | set(source), reverse=True):
        st.rows.append(_row(key, states.get(key, {}), source.get(key)))
    st.runs = [_run_brief(r) for r in runs[-10:]][::-1]
    st.mismatches = [m for r in st.rows for m in _row_mismatches(r)] + _run_mismatches(runs, st.first, st.last)
    if platform:
        _with_platform(project, client, st)
    return st


def _source_rows(runs: list[dict], first: str, last: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (day, data set) the figures of the last full run (run / backfill) that collected it."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for rec in runs:  # oldest first: later runs overwrite
        if rec.get("kind") not in ("run", "backfill"):
            continue
        for r in rec.get("datasets") or []:
            day = r.get("day")
            if day is None or not first <= day <= last:
                continue
            out[(day, r["dataset"])] = {
                **{k: int(r.get(k) or 0) for k in _SOURCE_COUNTS},
                "last_run": rec.get("started"),
                "last_status": rec.get("status"),
            }
    return out


def _row(key: tuple[str, str], states: dict[str, int], src: dict[str, Any] | None) -> dict[str, Any]:
    day, ds = key
    accepted, refused = states.get("accepted", 0), states.get("rejected", 0)
    duplicate, pending = states.get("duplicate", 0), states.get("pending", 0) + states.get("sent", 0)
    answered = accepted + refused + duplicate
    row: dict[str, Any] = {"day": day, "dataset": ds}
    row.update({k: (src or {}).get(k) for k in _SOURCE_COUNTS})
    row.update(
        {
            "sent": answered + states.get("sent", 0),
            "accepted": accepted,
            "refused": refused,
            "duplicate": duplicate,
            "pending": pending,
            "success_rate": round(accepted / answered, 4) if answered else None,
            "last_run": (src or {}).get("last_run"),
            "last_status": (src or {}).get("last_status"),
        }
    )
    return row


def _row_mismatches(row: dict[str, Any]) -> list[dict[str, Any]]:
    """Count-level checks of one row: the source rows all accounted for by the mapping, and the
    ledger holding every record the last run could send."""
    out = []
    if row["his_rows"] is None:
        return out
    split = row["waiting"] + row["mapping_rejected"] + row["mapped"]
    if row["his_rows"] != split:
        out.append(
            _mismatch(
                row,
                "his_rows",
                f"源数据 {row['his_rows']} 行 ≠ 未终态 {row['waiting']} + 映射拒绝 {row['mapping_rejected']} "
                f"+ 映射 {row['mapped']}",
            )
        )
    return out


def _run_mismatches(runs: list[dict], first: str, last: str) -> list[dict[str, Any]]:
    """Key-level findings of the last full run of each day: mapped but not in the ledger, in the
    ledger but no longer in the source."""
    latest: dict[str, dict] = {}
    for rec in runs:
        if rec.get("kind") in ("run", "backfill"):
            for day in rec.get("window") or []:
                if first <= day <= last:
                    latest[day] = rec
    out = []
    for day, rec in sorted(latest.items()):
        for field_, zh in (("unaccounted", "已映射但既未发送也未暂缓"), ("not_in_source", "已上报但源数据中已不存在")):
            by_ds: dict[str, list[str]] = {}
            for u in rec.get(field_) or []:
                if u.get("day") == day:
                    by_ds.setdefault(u["dataset"], []).append(u["key"])
            for ds, keys in by_ds.items():
                row = {"day": day, "dataset": ds}
                out.append(_mismatch(row, field_, f"{len(keys)} 条{zh}", keys))
    return out


def _mismatch(row, what: str, message: str, keys: list[str] | None = None) -> dict[str, Any]:
    return {
        "day": row["day"],
        "dataset": row["dataset"],
        "check": what,
        "message": f"{row['day']} {row['dataset']}: {message}",
        "keys": (keys or [])[:_MAX_KEYS],
    }


def _run_brief(rec: dict[str, Any]) -> dict[str, Any]:
    t = rec.get("totals") or {}
    return {
        "started": rec.get("started"),
        "kind": rec.get("kind"),
        "business_day": rec.get("business_day"),
        "status": rec.get("status"),
        "exit_code": rec.get("exit_code"),
        "accepted": t.get("accepted", 0),
        "refused": rec.get("n_refused", 0),
        "error": rec.get("error"),
        "file": rec.get("file"),
    }


# --------------------------------------------------------------------------- the platform's count


def _with_platform(project, client, st: Status) -> None:
    own = client is None
    try:
        if own:
            from ..upload._client import PlatformClient

            client = PlatformClient.from_project(project)
        found = platform_mismatches(project, client, st.first, _today_on_platform(client, st.last))
    except HlwjrError as exc:
        st.platform = f"未能读取平台验证日志: {exc.message}"
        return
    finally:
        if own and client is not None:
            client.close()
    if found is None:
        st.platform = "平台接口描述没有验证日志，无法核对平台的计数"
        return
    st.platform = "ok"
    st.mismatches.extend(found)


def _today_on_platform(client, last: str) -> str:
    """Answers count for the platform day they arrive on: up to the platform's today."""
    try:
        now = client.server_now()
    except HlwjrError:
        now = None
    if not now:
        from ..upload._ledger import now_shanghai

        now = now_shanghai().strftime("%Y-%m-%d")
    return max(last, now[:10])


def platform_mismatches(project, client, first: str, last: str) -> list[dict[str, Any]] | None:
    """Ledger accepted answers vs the platform's verification log per platform day × data set,
    ``first`` … ``last``; for each difference the masked keys one side has and the other has not
    (from the log's record list, where the platform offers one). ``None``: the platform has no log."""
    from ..readiness._readiness import platform_counts

    log = client.verify_log(**{"from": first, "to": last})
    if log is None:
        return None
    theirs, _ = platform_counts(log)
    with open_view(project) as view:
        ours = view.accepted_by_platform_day(first, last)
        out = []
        for day, ds in sorted(set(ours) | {k for k, v in theirs.items() if v["accepted"]}):
            if not first <= day <= last:
                continue
            a, b = ours.get((day, ds), 0), (theirs.get((day, ds)) or {}).get("accepted", 0)
            if a == b:
                continue
            row = {"day": day, "dataset": ds}
            keys = _key_difference(client, view, day, ds)
            out.append(_mismatch(row, "platform", f"台账成功 {a} 条，平台验证日志成功 {b} 条（平台日）", keys))
    return out


def _key_difference(client, view, day: str, ds: str) -> list[str]:
    """Masked keys accepted by one side only (``+`` ledger only, ``-`` platform only)."""
    mine = {mask_key(k) for k in view.accepted_keys_on(day, ds)}
    theirs: set[str] = set()
    offset = 0
    while True:
        page = client.verify_log_records(date=day, dataset=ds, status="ok", limit=1000, offset=offset)
        if not isinstance(page, dict):
            return []  # no record list: the counts are all we can say
        recs = page.get("records") or []
        theirs |= {str(r["key"]) for r in recs if isinstance(r, dict) and r.get("key")}
        offset += len(recs)
        if not recs or offset >= int(page.get("total") or 0):
            break
    return sorted(f"+{k}" for k in mine - theirs) + sorted(f"-{k}" for k in theirs - mine)
