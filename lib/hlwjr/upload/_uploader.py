"""Daily upload (每日上传 / 测试数据上传): map the day's records, validate them, send the valid
ones in dependency order, skip what was already accepted, hold back the invalid ones with their
problems, and keep every step in the ledger (上传台账).

Safe to run twice and from cron: a lock file keeps a second run out, the ledger keeps an accepted
record from being sent again, and unanswered batches from a crash are replayed with their own
batchNo and byte-identical content before anything new is sent.

In the test phase (测试阶段) the planner sends, per day and data set, the quota plus a margin
(``ceil(30 × 1.2) = 36`` by default) of records that pass pre-flight, together with the records
they reference, so one late rejection does not break the day.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date as _date
from pathlib import Path
from typing import Any

from .._days import parse_day
from .._exceptions import (
    ConfigError,
    DataError,
    HlwjrError,
    TransportError,
)
from ._binding import check_binding
from ._guard import check_ledger, witness_path
from ._ledger import (
    ACCEPTED,
    DUPLICATE,
    KEY_SEP,
    REJECTED,
    Ledger,
    content_hash,
    now_shanghai,
    record_json,
    record_key,
)
from ._lock import UploadLock
from ._mapped import _as_dicts, _map_records
from ._planner import _apply_limit, _Lookup, content_twins_note, plan_test_phase
from ._recovery import backup_ledger, refuse_if_platform_has_data
from ._runlog import RunLog, last_unfinished_run
from ._sender import Uploader, _Progress
from ._summary import DatasetSummary, UploadSummary, _masked

__all__ = ["run_upload", "upload_records"]


def upload_records(
    project_or_parts,
    records_by_dataset: dict[str, Any],
    *,
    date: str | None = None,
    dry_run: bool = False,
    validate: bool = True,
    progress: Any = None,
    limit: int | None = None,
    client=None,
    ledger: Ledger | None = None,
    spec=None,
    problems_out: list | None = None,
    phase: str | None = None,
    master: Iterable[str] = (),
    update: bool = False,
    resend: dict[str, set[str]] | None = None,
) -> UploadSummary:
    """Validate and send records that are already in the spec's shape (``{dataset: records}``),
    in dependency order, with the ledger. :func:`run_upload` calls this after mapping; tests,
    benchmarks and notebooks call it directly. ``master``: data sets of master data (not tied
    to a business day) that the test-phase planner sends whole. ``update``: send accepted records
    whose content changed as corrections (更正), marked as the platform profile's ``upload.update``
    says; refused when the profile declares no correction. ``resend``: ``{dataset: keys}`` of
    refused records that may go again unchanged (refused only for a reference now resolved)."""
    from ..spec._load import load_spec

    t0 = time.perf_counter()
    project = project_or_parts
    date = None if date is None else parse_day(date).isoformat()
    spec = spec or load_spec(project.spec)
    own_ledger = ledger is None
    fresh = own_ledger and not project.ledger_path.exists() and not witness_path(project.ledger_path).exists()
    ledger = ledger or Ledger.for_project(project)
    lock = UploadLock(Path(ledger.path).parent / "upload.lock")
    own_client = False
    runlog: RunLog | None = None
    try:
        lock.acquire()
        if client is None and not dry_run:
            client = _client_for(project, spec)
            own_client = True
        offline_note = None
        if client is None and dry_run:
            day_fn, offline_note = _dry_run_day_fn(project, spec)
        else:
            day_fn = _day_fn(client)
        summary = UploadSummary(date=date, platform_day=day_fn(), dry_run=dry_run)
        if offline_note:
            summary.notes.append(offline_note)
        uploader = None
        if client is not None:
            uploader = Uploader(
                client,
                ledger,
                org_code=project.org_code,
                batch_size=project.platform.batch_size,
                concurrency=project.platform.concurrency,
                day=day_fn,
            )
        if not dry_run:
            runlog = _start_run_log(ledger, client, uploader, summary, date=date, update=update)
            client.check_auth()  # a wrong appid/secret/URL fails here, before anything is written
            refuse_if_platform_has_data(client, ledger, fresh=fresh)
            check_binding(ledger, project)  # another platform than the ledger's: stop before sending
            resolved, notes = uploader.recover()
            summary.recovered = resolved
            summary.notes.extend(notes)
        _send_all(
            project,
            spec,
            ledger,
            uploader,
            records_by_dataset,
            summary,
            date=date,
            dry_run=dry_run,
            validate=validate,
            progress=progress,
            limit=limit,
            problems_out=problems_out,
            phase=phase or project.phase,
            master=set(master),
            update=update,
            resend=resend or {},
        )
        summary.elapsed = time.perf_counter() - t0
        _end_run_log(runlog, summary)
        return summary
    except BaseException as exc:
        if runlog is not None:
            runlog.close("abort", error=getattr(exc, "message", None) or type(exc).__name__)
        raise
    finally:
        if own_client and client is not None:
            client.close()
        if own_ledger:
            ledger.close()
            if not dry_run and ledger.path.exists() and ledger.identity is not None:
                backup_ledger(ledger.path)  # the ledger is never the only memory
        lock.release()


def _start_run_log(ledger, client, uploader, summary, **start) -> RunLog:
    """Open this run's log (after noting a previous run that never finished) and let the client
    and the uploader write to it."""
    work_dir = Path(ledger.path).parent
    unfinished = last_unfinished_run(work_dir)
    if unfinished is not None:
        summary.notes.append(unfinished.to_text())
    runlog = RunLog(work_dir, **start)
    client.observer = uploader.log = runlog
    summary.run_log = runlog.path
    return runlog


def _end_run_log(runlog: RunLog | None, summary: UploadSummary) -> None:
    if runlog is None:
        return
    summary.retries, summary.gave_up = runlog.retries, list(runlog.gave_up)
    totals = {a: summary.total(a) for a in ("sent", "accepted", "rejected", "duplicate", "invalid")}
    runlog.close("end", recovered=summary.recovered, retries=runlog.retries, **totals)


def _client_for(project, spec):
    from ._client import PlatformClient

    return PlatformClient.from_project(project, spec=spec)


def _day_fn(client) -> Callable[[], str]:
    """The platform day (Asia/Shanghai) answers count for: the platform's clock when the profile
    knows one (the sandbox's rehearsal clock), else local Beijing time."""
    offset = 0.0
    if client is not None:
        try:
            now = client.server_now()
        except TransportError:
            raise  # the platform is down: say so once, before anything is written
        except HlwjrError:
            now = None  # no usable clock endpoint: Beijing time here
        if now:
            from datetime import datetime

            try:
                offset = (datetime.strptime(now[:19], "%Y-%m-%d %H:%M:%S") - now_shanghai()).total_seconds()
            except ValueError:
                offset = 0.0  # a clock answer that is not YYYY-MM-DD HH:MM:SS: Beijing time here
    from datetime import timedelta

    return lambda: (now_shanghai() + timedelta(seconds=offset)).strftime("%Y-%m-%d")


def _dry_run_day_fn(project, spec) -> tuple[Callable[[], str], str | None]:
    """The platform day for a dry run (预演): it sends nothing, but the test-phase plan counts
    what was already accepted on the platform's day (the sandbox's rehearsal clock may differ from
    the wall clock), so ask the clock once, without retries; offline → Beijing time, with a note."""
    try:
        client = _client_for(project, spec)
    except HlwjrError as exc:
        return _day_fn(None), f"预演未连接平台（{exc.message}），平台日按本机北京时间计算"
    try:
        client.max_retries = 0
        return _day_fn(client), None
    except HlwjrError as exc:  # what failed, without the retry/replay advice meant for real runs
        return _day_fn(None), f"预演未连接平台（{exc.message.split('；')[0]}），平台日按本机北京时间计算"
    finally:
        client.close()


def _send_all(
    project,
    spec,
    ledger,
    uploader,
    records_by_dataset,
    summary,
    *,
    date,
    dry_run,
    validate,
    progress,
    limit,
    problems_out,
    phase,
    master=frozenset(),
    update=False,
    resend=None,
) -> None:
    import pandas as pd

    records_by_dataset = dict(records_by_dataset)  # aliases are resolved here, not in the caller's dict
    order = [d for d in spec.top_level() if d.code in records_by_dataset]
    given = {d.code: d.code for d in order}  # spec code -> the name the caller used
    for code in [c for c in records_by_dataset if c not in given]:  # a child or an alias: resolve it
        ds = spec.dataset(code)
        if ds.parent is not None:
            raise ConfigError(f"{ds.code}（{ds.name}）是 {ds.parent} 的明细，随 {ds.parent} 一起上传，不能单独上传")
        if ds.code in given:  # two names for one data set: one of the two record sets would be lost
            raise ConfigError(
                f"数据集 {ds.code}（{ds.name}）的记录给了两份（{given[ds.code]!r} 和 {code!r}）：请合并成一份再上传",
                where=ds.code,
            )
        given[ds.code] = code
        records_by_dataset[ds.code] = records_by_dataset.pop(code)
    order = [d for d in spec.top_level() if d.code in records_by_dataset]

    thresholds = project.readiness
    update_rule = None
    updates: dict[str, list] = {}  # corrections of accepted records (更正), sent outside the plan
    if update:
        update_rule = (uploader.client.profile.upload.get("update") if uploader is not None else None) or None
        if uploader is not None and not (isinstance(update_rule, dict) and update_rule.get("field")):
            raise ConfigError(
                f"平台接口描述 {uploader.client.profile.id} 没有声明更正方式（upload.update: {{field: …, value: …}}），"
                "不能重发平台已接收的记录；请按平台的更正流程处理",
                where="--update",
            )
        update_rule = update_rule or {"field": "updateOrSave", "value": "1"}
    planned: dict[str, set[tuple]] = {}
    lookup = _Lookup(ledger, planned)
    frames = []
    # pre-flight: validate each data set (parents first, so references resolve against the plan)
    prepared: dict[str, list[tuple[str, str, str, dict]]] = {}
    for ds in order:
        original = records_by_dataset[ds.code]
        if isinstance(original, pd.DataFrame):
            original = original.reset_index(drop=True)  # problem rows are positions
        recs = _as_dicts(original)
        s = summary.datasets.setdefault(ds.code, DatasetSummary(ds.code, ds.name))
        s.mapped += len(recs)
        bad: set[int] = set()
        if validate and recs:
            from ..validation._engine import check

            # the ledger decides what was already accepted (skipped, not an error); a DataFrame
            # is checked column-wise as it is
            report = check(original, ds.code, spec=spec, lookup=lookup, skip=("already_accepted",))
            bad = set(report.bad_rows(ds.code))
            if bad:
                f = report.to_frame()
                f = f[(f["severity"] == "error") & f["row"].isin(bad)]
                frames.append(f)
        s.invalid += len(bad)
        items = []
        for i, r in enumerate(recs):
            if i in bad:
                continue
            k = KEY_SEP.join(record_key(r, ds.key))
            try:
                j = record_json(r)
            except ValueError as exc:  # NaN / Infinity: not JSON, the platform would refuse the batch
                raise DataError(
                    f"第 {i + 1} 条记录（{_masked(k)}）含 NaN 或 Infinity，不是合法的 JSON 数值：{exc}；"
                    "请在对照中把缺失值留空",
                    where=ds.code,
                ) from exc
            items.append((k, content_hash(j), j, r))
        note = content_twins_note(ds, items)
        if note:
            summary.notes.append(note)
        states = ledger.states(ds.code, [k for k, *_ in items])
        keep = []
        seen: set[str] = set()
        for k, h, j, r in items:
            if k in seen:
                continue  # the validator reports in-batch duplicates; never send a key twice
            seen.add(k)
            st = states.get(k)
            if st is None:
                keep.append((k, h, j, r))
            elif st[0] in (ACCEPTED, DUPLICATE):
                if st[1] == h:
                    s.already_accepted += 1
                elif update_rule is not None and st[0] == ACCEPTED:
                    flagged = dict(r)
                    flagged[update_rule["field"]] = update_rule.get("value", "1")
                    updates.setdefault(ds.code, []).append((k, h, record_json(flagged), r))
                else:
                    s.changed += 1
                    summary.changed.append({"dataset": ds.code, "key": k})
            elif st[0] == REJECTED:
                if st[1] != h or st[2] or k in (resend or {}).get(ds.code, ()):  # fixed, innocent, or asked
                    keep.append((k, h, j, r))
                else:
                    s.previously_rejected += 1
            else:  # pending/sent left after recover(): not resendable now
                summary.notes.append(f"{ds.code} {_masked(k)} 仍在未确认批次中，未重发")
        prepared[ds.code] = keep
        planned[ds.code] = {tuple(k.split(KEY_SEP)) for k, *_ in keep}

    if phase == "test":
        accepted_today = ledger.accepted_on(summary.platform_day)
        chosen = plan_test_phase(
            spec,
            {c: [(k, r) for k, _, _, r in v] for c, v in prepared.items()},
            thresholds.target,
            accepted_today,
            uncapped=master,
        )
        for code, items in prepared.items():
            pick = chosen.get(code, set())
            summary.datasets[code].not_planned += sum(1 for k, *_ in items if k not in pick)
            prepared[code] = [it for it in items if it[0] in pick]
        today = {c: len(v) + accepted_today.get(c, 0) for c, v in prepared.items()}
        need = thresholds.min_records_per_day
        if thresholds.per_dataset:
            scope = thresholds.required_datasets or project.datasets or tuple(prepared)
            for code in scope:
                quota = thresholds.quota(code)
                if code in prepared and code not in master and today.get(code, 0) < quota:
                    summary.notes.append(
                        f"{code} 今天只有 {today.get(code, 0)} 条可上报的合格记录，不足每日 {quota} 条："
                        f"请补充数据或修正暂缓的记录"
                    )
        elif sum(today.values()) < need:
            summary.notes.append(
                f"今天合计只有 {sum(today.values())} 条可上报的合格记录，不足每日 {need} 条：请补充数据或修正暂缓的记录"
            )
    if limit is not None:
        _apply_limit(spec, order, prepared, limit, summary)

    if frames:
        summary.problems = pd.concat(frames, ignore_index=True)
        hint = _master_data_hint(spec, summary.problems)
        if hint:
            summary.notes.append(hint)
        if problems_out is not None:
            problems_out.append(summary.problems)
    else:
        summary.problems = pd.DataFrame(
            columns=["dataset", "row", "key", "field", "rule", "severity", "value", "message", "path"]
        )
    for code, items in updates.items():
        summary.datasets[code].updated += len(items)
    if dry_run:
        for code, items in updates.items():
            summary.notes.append(f"{code}: 将更正 {len(items)} 条已接收的记录（预演，未发送）")
        for code, items in prepared.items():
            summary.datasets[code].sent = 0
            if items:
                summary.notes.append(f"{code}: 将发送 {len(items)} 条（预演，未发送）")
        return
    total = sum(len(v) for v in prepared.values())
    bar = _Progress(progress, total, "上传")
    splits_before = uploader.splits
    try:
        for ds in order:
            items = prepared.get(ds.code) or []
            if items:
                uploader.send(
                    ds.code,
                    [(k, h, j) for k, h, j, _ in items],
                    summary.datasets[ds.code],
                    summary.rejections,
                    data_date=date,
                    progress=bar,
                )
            fixes = updates.get(ds.code) or []
            if not items and not fixes and uploader.client.profile.dataset_option(ds.code, "sign_in") == "daily":
                if not ledger.accepted_on(summary.platform_day, ds.code):
                    note = uploader.sign_in(ds.code, summary.datasets[ds.code], summary.platform_day)
                    if note:
                        summary.notes.append(note)
            if fixes:
                uploader.send(
                    ds.code,
                    [(k, h, j) for k, h, j, _ in fixes],
                    summary.datasets[ds.code],
                    summary.rejections,
                    data_date=date,
                    progress=bar,
                    update=True,
                )
    finally:
        bar.close()
        if uploader.splits > splits_before:
            summary.notes.append(
                f"{uploader.splits - splits_before} 个批次超过平台的请求体上限（HTTP 413），已自动拆成小批次重发（"
                "未重复、未丢失）；"
                f"可在 hlwjr.toml 的 [platform] batch_size 中把每批条数（现为 {uploader.batch_size}）调小"
            )


def _count(records: Any) -> int:
    try:
        return len(records)
    except TypeError:
        return 0


def run_upload(
    project,
    *,
    datasets: Sequence[str] | None = None,
    date: str | _date | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    progress: Any = None,
    client=None,
    update: bool = False,
) -> UploadSummary:
    """The daily run (每日上传): map that day's records with the project's mapping, validate them,
    send the valid ones in dependency order (staff and departments before visits, visits before
    prescriptions, business records before evaluations), skip what was already accepted and hold
    back invalid ones with their problems. Safe to run twice and from cron.

    ``project`` is a :class:`~hlwjr.Project` or a path to one; ``date`` the business day
    (``YYYY-MM-DD``); ``limit`` caps records per data set; ``dry_run`` maps and validates but
    sends nothing; ``progress`` True for a terminal bar or a callable ``(desc, done, total)``;
    ``update`` sends changed accepted records as corrections where the platform profile allows it.
    """
    from ..spec._load import load_spec
    from ._project import load_project

    if not hasattr(project, "platform"):
        project = load_project(project)
    spec = load_spec(project.spec)
    if date is not None:
        date = parse_day(date).isoformat()
    scope = list(datasets) if datasets else (list(project.datasets) or [d.code for d in spec.top_level()])
    codes = [spec.dataset(c).code for c in scope]
    check_ledger(project.ledger_path)  # a lost or damaged ledger stops the run before any mapping work
    t0 = time.perf_counter()
    notes: list[str] = []
    master: set[str] = set()
    records, rejected, rejections = _map_records(project, spec, codes, date, notes, master)
    summary = upload_records(
        project,
        records,
        date=date,
        dry_run=dry_run,
        progress=progress,
        limit=limit,
        client=client,
        spec=spec,
        master=master,
        update=update,
    )
    for code, n in rejected.items():
        if code in summary.datasets:
            summary.datasets[code].mapping_rejected += n
    summary.mapping_rejections = rejections
    if date is not None:
        dated = [c for c in records if c not in master]  # data sets with a business time
        if dated and not any(_count(records[c]) + rejected.get(c, 0) for c in dated):
            notes.append(
                f"业务日期 {date} 在数据源中没有任何业务记录（{'、'.join(dated)} 均为 0 条）："
                f"请核对 --date 是否正确、数据源是否已更新到这一天"
            )
    summary.notes[:0] = notes
    summary.elapsed = time.perf_counter() - t0
    return summary


def _master_data_hint(spec, problems) -> str | None:
    """缺少 N 条基础数据…: records held back because master data they refer to is not on the platform."""
    from ..mapping._template import master_data_hint

    return master_data_hint(spec, problems)
