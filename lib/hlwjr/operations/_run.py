"""The production run (日常运行, ``hlwjr run``): collect the last closed business day's window
(Beijing time), only records in a final state, send them in dependency order through the
uploader, and write a run record; alerts and the monitor page follow.

Exit codes: 0 everything accepted; 1 something refused or unconfirmed, the source empty or a
record unaccounted for; 2 the run could not run (configuration, source or platform down, lock)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError, HlwjrError, UploadError
from .._privacy import mask_key, mask_value
from ._alerts import alert_text, send_alerts
from ._collect import Collected, collect_window
from ._ledger_view import open_view
from ._records import load_runs, save_run, write_private
from ._window import business_day, parse_day, window_days

__all__ = ["RunResult", "run_production"]

_COUNTS = (
    "his_rows",
    "waiting",
    "mapped",
    "mapping_rejected",
    "invalid",
    "already_accepted",
    "changed",
    "previously_rejected",
    "not_planned",
    "sent",
    "accepted",
    "rejected",
    "duplicate",
)
_MAX_LISTED = 500  # keys listed in a run record per list (the counts are always complete)


@dataclass
class RunResult:
    """What one run did (``record`` is what went to ``path``) and its exit code."""

    record: dict[str, Any]
    path: Path | None = None
    summaries: list[Any] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return int(self.record["exit_code"])

    def to_text(self) -> str:
        from ._text import run_text

        return run_text(self.record, self.path)


def run_production(
    project,
    *,
    date: str | date | None = None,
    now: datetime | None = None,
    window: int | None = None,
    client=None,
    kind: str = "run",
    update: bool = False,
    datasets: list[str] | None = None,
    only_keys: dict[str, set[str]] | None = None,
    again: dict[str, set[str]] | None = None,
    monitor: bool = True,
) -> RunResult:
    """One production run. ``date``: the business day (default: the last closed one at ``now``,
    Beijing time); ``window``: days collected (default ``[run] window_days``); ``client``: a
    :class:`~hlwjr.PlatformClient` (tests); ``update``: send changed accepted records as
    corrections; ``only_keys``: ``{dataset: keys}`` to send (resend of refused records);
    ``again``: of those, the keys that may go again unchanged (refused for a reference only);
    ``monitor``: regenerate the monitor page (a backfill does it once, at the end)."""
    from ..upload._ledger import now_shanghai
    from ..upload._lock import UploadLock
    from ..upload._project import load_project

    if not hasattr(project, "platform"):
        project = load_project(project)
    now = now or now_shanghai()  # read once: a clock jump during the run moves nothing
    day = parse_day(date) if date is not None else business_day(now, project.run.cutoff_hour)
    days = window_days(day, window or project.run.window_days)
    missed = _missed_days(project, days) if kind == "run" and date is None else []
    days = sorted(set(missed) | set(days))
    record = _new_record(project, kind, day, days)
    if missed:
        record["notes"].append(
            f"上次运行未能完成：本次窗口向前延伸，补采 {missed[0]} ~ {missed[-1]}（{len(missed)} 天）"
        )
    lock = UploadLock(project.work_dir / "run.lock")
    try:
        lock.acquire()
    except UploadError as exc:  # a run is going on: it writes its own record
        raise UploadError(f"另一个 hlwjr run 正在运行（{exc.message}）；本次未运行", where=exc.where) from None
    t0 = time.perf_counter()
    result = RunResult(record)
    try:
        _run(
            project,
            record,
            result,
            days,
            client=client,
            update=update,
            datasets=datasets,
            only_keys=only_keys,
            again=again,
        )
    except HlwjrError as exc:
        record["error"] = exc.message + (f"（{exc.where}）" if exc.where else "")
        record["error_kind"] = type(exc).__name__
    except OSError as exc:  # a file that cannot be read or written: the run did not run (exit 2)
        where = f"{exc.filename}: " if exc.filename else ""
        record["error"] = f"{where}文件读写失败（{exc.strerror or exc}）"
        record["error_kind"] = "OSError"
    finally:
        lock.release()
    record["ended"] = now_shanghai().strftime("%Y-%m-%d %H:%M:%S")
    record["elapsed"] = round(time.perf_counter() - t0, 3)
    _finish(project, record, result, monitor=monitor)
    return result


def finished_run(project, day: date) -> dict[str, Any] | None:
    """The nightly run that already finished business day ``day`` with everything accepted (exit
    0), or None: a retry scheduled later the same night (``hlwjr run --unless-done``) then runs."""
    for rec in reversed(load_runs(project.runs_dir)):
        if rec.get("kind") == "run" and rec.get("business_day") == day.isoformat() and rec.get("exit_code") == 0:
            return rec
    return None


def _failed_streak(project) -> list[dict[str, Any]]:
    """The nightly runs that failed (exit 2) in a row since the last one that ran, newest first."""

    out = []
    for rec in reversed(load_runs(project.runs_dir)):
        if rec.get("kind") != "run":
            continue
        if rec.get("exit_code") != 2:
            break
        out.append(rec)
    return out


def _missed_days(project, days: list[date]) -> list[date]:
    """Days of the windows of the failed nightly runs (see :func:`_failed_streak`) not in
    ``days``: the next night collects them too, so a night the platform or the source was down
    loses nothing (at most 31 days back; further back is a ``hlwjr backfill``)."""
    failed = {parse_day(d) for rec in _failed_streak(project) for d in rec.get("window") or []}
    oldest = days[-1] - timedelta(days=30)
    return sorted(d for d in failed if oldest <= d < days[0])


def _new_record(project, kind: str, day: date, days: list[date]) -> dict[str, Any]:
    from ..upload._ledger import now_shanghai

    return {
        "kind": kind,
        "project": project.name,
        "phase": project.phase,
        "business_day": day.isoformat(),
        "window": [d.isoformat() for d in days],
        "started": now_shanghai().strftime("%Y-%m-%d %H:%M:%S"),
        "ended": None,
        "error": None,
        "datasets": [],
        "totals": {},
        "retries": 0,
        "refused": [],
        "n_refused": 0,
        "unconfirmed": [],
        "changed": [],
        "unaccounted": [],
        "not_in_source": [],
        "platform_check": None,
        "notes": [],
        "source_empty": False,
        "unconfirmed_stale": [],
        "sign_in_missing": [],
        "alerts": [],
    }


def _run(project, record, result, days, *, client, update, datasets, only_keys, again=None) -> None:
    from ..spec._load import load_spec
    from ..upload._ledger import Ledger

    spec = load_spec(project.spec)
    scope = datasets or list(project.datasets) or [d.code for d in spec.top_level()]
    codes = [spec.dataset(c).code for c in scope]
    collected = collect_window(project, spec, codes, days)
    record["notes"].extend(collected.notes)
    if only_keys is not None:
        _keep_only(collected, spec, only_keys)
    record["source_empty"] = collected.source_empty and only_keys is None
    own_client = client is None
    retries_before = int(client.stats.get("retries", 0)) if client is not None else 0  # a backfill shares one client
    with Ledger.for_project(project) as ledger:
        try:
            if own_client:
                from ..upload._client import PlatformClient

                client = PlatformClient.from_project(project, spec=spec)
            with open_view(project) as view:
                _send(project, spec, ledger, view, client, collected, record, result, update=update, again=again)
            record["platform_check"] = _platform_check(project, client, record)
        finally:
            if client is not None:
                record["retries"] = int(client.stats.get("retries", 0)) - retries_before
                if own_client:
                    client.close()
        record["unconfirmed"] = [
            {"batch_no": b.batch_no, "dataset": b.dataset, "n": b.n} for b in ledger.unresolved_batches()
        ]
        record["unconfirmed_stale"] = _stale_batches(ledger, project.alerts.unconfirmed_hours)
        record["sign_in_missing"] = _missing_sign_ins(project, ledger, client, record)


def _stale_batches(ledger, hours: float) -> list[dict[str, Any]]:
    """Unanswered batches written more than ``hours`` ago (an analyst has to settle them)."""
    from ..upload._ledger import now_shanghai

    cutoff = (now_shanghai() - timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S")
    rows = ledger._query(
        "SELECT batch_no, dataset, n, created_at FROM batches WHERE state IN ('pending','sent') AND created_at < ?",
        (cutoff,),
    )
    return [{"batch_no": b, "dataset": d, "n": n, "since": t} for b, d, n, t in rows]


def _missing_sign_ins(project, ledger, client, record) -> list[str]:
    """Data sets the profile wants called daily (``sign_in: daily``) that were neither signed in
    nor sent a record on the platform day, once the deadline hour has passed."""
    from ..upload._ledger import now_shanghai

    deadline = project.alerts.sign_in_deadline
    day = record.get("platform_day")
    if deadline is None or client is None or day is None or now_shanghai().hour < deadline:
        return []
    sent = {r["dataset"] for r in record["datasets"] if int(r.get("accepted") or 0)}
    wanted = [code for code in client.profile.datasets if client.profile.dataset_option(code, "sign_in") == "daily"]
    return [code for code in wanted if code not in sent and not ledger.signed_in(code, day)]


def _keep_only(collected: Collected, spec, only_keys: dict[str, set[str]]) -> None:
    """Resend: keep the records whose key is in ``only_keys`` (other data sets: nothing)."""
    from ..upload._ledger import KEY_SEP

    for p in collected.parts:
        wanted = only_keys.get(p.dataset)
        ds = spec.dataset(p.dataset)
        if not wanted or not len(p.records) or not all(k in p.records.columns for k in ds.key):
            p.records = p.records.iloc[0:0]
            continue
        keys = _keys(p.records, ds.key, KEY_SEP)
        p.records = p.records[keys.isin(wanted).to_numpy()].reset_index(drop=True)


def _keys(frame, key_fields, sep: str):
    from ..mapping._conversions import as_text

    out = None
    for k in key_fields:
        col = as_text(frame[k]).fillna("")
        out = col if out is None else out + sep + col
    return out.reset_index(drop=True)


def _send(
    project, spec, ledger, view, client, collected: Collected, record, result, *, update: bool, again=None
) -> None:
    from ..upload._uploader import upload_records

    for i, day in enumerate(collected.days):
        records = collected.for_day(day, with_master=i == 0)
        if not records:
            continue
        summary = upload_records(
            project,
            records,
            date=day,
            client=client,
            ledger=ledger,
            spec=spec,
            master=collected.master,
            update=update,
            resend=again,
        )
        result.summaries.append(summary)
        record["platform_day"] = summary.platform_day
        record["notes"].extend(summary.notes)
        for code, s in summary.datasets.items():
            part_day = None if code in collected.master else day
            part = collected.part(code, part_day)
            row = {"day": part_day, "dataset": code, "name": s.name}
            row.update({k: getattr(s, k, 0) for k in _COUNTS if hasattr(s, k)})
            row["updated"] = s.updated
            row["mapping_rejected"] = part.mapping_rejected if part else 0
            row["his_rows"] = part.his_rows if part else 0
            row["waiting"] = part.waiting if part else 0
            lost, gone = _reconcile(spec, ledger, view, code, part, summary)
            if project.phase != "production":  # the test phase sends a sample: not a loss
                lost = []
            if record["kind"] == "resend":  # only the refused keys were collected
                gone = []
            row["unaccounted"], row["not_in_source"] = len(lost), len(gone)
            record["unaccounted"].extend({"day": part_day, "dataset": code, "key": k} for k in lost[:_MAX_LISTED])
            record["not_in_source"].extend({"day": part_day, "dataset": code, "key": k} for k in gone[:_MAX_LISTED])
            record["datasets"].append(row)
        for r in summary.rejections:
            record["n_refused"] += 1
            if len(record["refused"]) < _MAX_LISTED:
                record["refused"].append(
                    {
                        "day": day,
                        "dataset": r["dataset"],
                        "key": mask_key(r["key"]),
                        "batch_no": r["batch_no"],
                        "reason": mask_value(r["reason"]) or "",
                    }
                )
        record["changed"].extend({"dataset": c["dataset"], "key": mask_key(c["key"])} for c in summary.changed)
    record["changed"] = record["changed"][:_MAX_LISTED]


def _reconcile(spec, ledger, view, code: str, part, summary) -> tuple[list[str], list[str]]:
    """Key-level reconciliation of one data set on one business day (masked keys):
    mapped records that are neither held back (invalid) nor in the ledger after the send (lost
    between HIS and platform: should never happen), and keys the ledger holds for that day that
    the source no longer has (deleted or moved in HIS after they were sent)."""
    from ..upload._ledger import KEY_SEP

    if part is None:
        return [], []
    ds = spec.dataset(code)
    mapped: list[str] = []
    if len(part.records) and all(k in part.records.columns for k in ds.key):
        mapped = _keys(part.records, ds.key, KEY_SEP).tolist()
    held = set()
    if summary.problems is not None and len(summary.problems):
        pr = summary.problems
        held = {int(r) for r in pr.loc[pr["dataset"] == code, "row"].tolist()}
    wanted = [k for i, k in enumerate(mapped) if i not in held]
    known = ledger.states(code, wanted) if wanted else {}
    lost = [k for k in dict.fromkeys(wanted) if k not in known]
    gone = sorted(view.keys_of_day(code, part.day) - set(mapped)) if part.day is not None else []
    return [mask_key(k) for k in lost], [mask_key(k) for k in gone]


def _totals(record) -> dict[str, int]:
    return {k: sum(int(r.get(k) or 0) for r in record["datasets"]) for k in (*_COUNTS, "unaccounted", "not_in_source")}


def _platform_check(project, client, record) -> dict[str, Any] | None:
    """The platform's own count for the platform day of this run (验证日志), where it can be asked."""
    from ._status import platform_mismatches

    day = record.get("platform_day")
    if day is None or client is None:
        return None
    try:
        found = platform_mismatches(project, client, day, day)
    except HlwjrError as exc:  # the log is a check, not the upload: noted, the result stands
        record["notes"].append(f"未能读取平台验证日志核对: {exc.message}")
        return None
    return None if found is None else {"day": day, "mismatches": found}


def _alert_events(record, settings=None, history: list[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """What this run has to tell (kind, message); ``history``: the earlier nightly run records,
    oldest first, for the alerts that count runs in a row."""
    events = []
    n = record.get("consecutive_failures") or 1
    if record["error"] and n >= getattr(settings, "after_failures", 1):
        events.append(
            {"kind": "run_failed", "message": (f"连续第 {n} 次运行失败：" if n > 1 else "") + record["error"]}
        )
    events.extend(_threshold_events(record, settings, history))
    if record["n_refused"]:
        events.append({"kind": "refused", "message": f"{record['n_refused']} 条记录被平台拒收（hlwjr refused 查看）"})
    if record["unconfirmed"]:
        n = sum(b["n"] for b in record["unconfirmed"])
        events.append(
            {"kind": "unconfirmed", "message": f"{len(record['unconfirmed'])} 个批次（{n} 条）发送后未收到平台应答"}
        )
    if record["source_empty"]:
        events.append({"kind": "source_empty", "message": f"窗口 {'、'.join(record['window'])} 的源数据为空"})
    if record["totals"].get("unaccounted"):
        events.append(
            {"kind": "reconciliation", "message": f"{record['totals']['unaccounted']} 条已映射的记录既未发送也未暂缓"}
        )
    if record["totals"].get("not_in_source"):
        n = record["totals"]["not_in_source"]
        events.append({"kind": "reconciliation", "message": f"{n} 条已上报的记录在源数据中已不存在（删除或改期）"})
    for m in _platform_mismatch_list(record):
        events.append({"kind": "reconciliation", "message": m["message"]})
    return events


def _threshold_events(record, settings, history) -> list[dict[str, Any]]:
    events = []
    for code, runs in _refused_streaks(record, history).items():
        if settings is not None and runs >= settings.interface_failures:
            events.append({"kind": "interface_failing", "message": f"数据集 {code} 已连续 {runs} 次运行有记录被拒收"})
    for b in record.get("unconfirmed_stale") or []:
        events.append(
            {
                "kind": "unconfirmed_stale",
                "message": f"批次 {b['batch_no']}（{b['dataset']}，{b['n']} 条）自 {b['since']} 起未收到平台应答，"
                "请在平台验证日志中核对后用 hlwjr upload --resolve 处理",
            }
        )
    if record.get("sign_in_missing"):
        days = "、".join(record["sign_in_missing"])
        events.append({"kind": "sign_in_missing", "message": f"平台日 {record.get('platform_day')} 仍未签到: {days}"})
    return events


def _refused_streaks(record, history) -> dict[str, int]:
    """Data set → how many runs in a row, this one included, had records refused in it."""
    runs = [r for r in history if r.get("kind") == "run"] + [record]
    out: dict[str, int] = {}
    for code in {d["dataset"] for d in record["datasets"] if int(d.get("rejected") or 0)}:
        n = 0
        for rec in reversed(runs):
            if not any(d["dataset"] == code and int(d.get("rejected") or 0) for d in rec.get("datasets") or []):
                break
            n += 1
        out[code] = n
    return out


def _platform_mismatch_list(record) -> list[dict[str, Any]]:
    check = record.get("platform_check") or {}
    return check.get("mismatches") or []


def _exit_code(record) -> int:
    if record["error"]:
        return 2
    t = record["totals"]
    problems = (
        record["n_refused"]
        or record["unconfirmed"]
        or record["source_empty"]
        or t.get("unaccounted")
        or t.get("not_in_source")
        or _platform_mismatch_list(record)
    )
    return 1 if problems else 0


def _finish(project, record, result: RunResult, *, monitor: bool = True) -> None:

    record["totals"] = _totals(record)
    record["exit_code"] = _exit_code(record)
    record["status"] = {0: "ok", 1: "problems", 2: "failed"}[record["exit_code"]]
    if record["exit_code"] == 2 and record["kind"] == "run":
        record["consecutive_failures"] = len(_failed_streak(project)) + 1

    events = _alert_events(record, project.alerts, load_runs(project.runs_dir)[-31:])
    record["alert_events"] = events
    if events and record["kind"] != "resend":  # a resend is run by a person, who reads its answer
        text = alert_text(project.name, record["business_day"], events)
        record["alerts"] = send_alerts(project.alerts, text, events)
    result.path = save_run(project.runs_dir, record)
    note = update_monitor(project) if monitor else None
    if note:
        record["notes"].append(note)
        write_private(result.path, json.dumps(record, ensure_ascii=False, indent=1))


def update_monitor(project) -> str | None:
    """Regenerate the monitor page; a note when it could not be (the run's result stands)."""
    from ._monitor import write_monitor

    try:
        write_monitor(project)
    except (HlwjrError, OSError) as exc:
        return f"运行监控页面未能更新: {exc}"
    return None


def require_project(project):
    from ..upload._project import load_project

    if isinstance(project, (str, Path)):
        return load_project(project)
    if not hasattr(project, "platform"):
        raise ConfigError("需要一个项目（hlwjr.toml 所在目录）")
    return project
