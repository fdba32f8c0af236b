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

import fcntl
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date as _date
from pathlib import Path
from typing import Any

from .._exceptions import (
    ConfigError,
    DataError,
    HlwjrError,
    PlatformRejected,
    TransportError,
    UploadError,
)
from .._privacy import mask_value
from .._text import display_width, pad
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

__all__ = [
    "DatasetSummary",
    "UploadLock",
    "UploadSummary",
    "Uploader",
    "plan_test_phase",
    "run_upload",
    "upload_records",
]


# --------------------------------------------------------------------------- summaries


@dataclass
class DatasetSummary:
    """What happened to one data set in one run (数据集上传小结)."""

    dataset: str
    name: str = ""
    mapped: int = 0  # records produced by the mapping (指标对照)
    mapping_rejected: int = 0  # rows the mapping could not turn into records
    invalid: int = 0  # held back: failed pre-flight validation (强制校验)
    already_accepted: int = 0  # skipped: accepted earlier, unchanged
    changed: int = 0  # accepted earlier but content changed: reported, not re-sent
    updated: int = 0  # … sent again as a correction (``update=True``, platform allows it)
    previously_rejected: int = 0  # rejected earlier with the same content: fix the data first
    not_planned: int = 0  # valid, beyond today's quota + margin (test phase)
    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicate: int = 0
    batches: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class UploadSummary:
    """The result of :func:`run_upload` (上传小结): per data set counts, the records held back with
    their problems, the platform's rejections with reasons, and notes."""

    date: str | None
    platform_day: str
    dry_run: bool
    datasets: dict[str, DatasetSummary] = field(default_factory=dict)
    recovered: int = 0  # records resolved by replaying unanswered batches
    problems: Any = None  # DataFrame of pre-flight problems of held-back records
    rejections: list[dict[str, Any]] = field(default_factory=list)  # platform rejections
    changed: list[dict[str, Any]] = field(default_factory=list)  # accepted, changed since
    notes: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    mapping_rejections: Any = None  # DataFrame of source rows the mapping could not map

    def total(self, attr: str) -> int:
        return sum(getattr(d, attr) for d in self.datasets.values())

    @property
    def ok(self) -> bool:
        """Nothing rejected or duplicated by the platform in this run."""
        return self.total("rejected") == 0 and self.total("duplicate") == 0

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([d.as_dict() for d in self.datasets.values()])

    def _repr_html_(self) -> str:  # notebooks
        import html

        parts = [
            f"<p><b>{'预演（未发送）' if self.dry_run else '上传'}</b>：业务日期 "
            f"{html.escape(str(self.date or '全部'))}，"
            f"平台日 {html.escape(self.platform_day)}，用时 {self.elapsed:.1f} 秒</p>",
            self.to_frame().to_html(index=False),
        ]
        if self.problems is not None and len(self.problems):
            parts.append(
                f"<p>暂缓 {self.total('invalid')} 条（问题 {len(self.problems)} 个，见 <code>.problems</code>）</p>"
            )
        if self.rejections:
            parts.append(f"<p>平台拒收 {len(self.rejections)} 条（见 <code>.rejections</code>）</p>")
        parts += [f"<p>注意: {html.escape(n)}</p>" for n in self.notes]
        return "\n".join(parts)

    def to_text(self) -> str:
        head = "预演（dry run，未发送）" if self.dry_run else "上传"
        lines = [f"{head}：业务日期 {self.date or '全部'}，平台日 {self.platform_day}"]
        if self.recovered:
            lines.append(f"  已重放上次未确认的批次，解决 {self.recovered} 条记录（同一批次号，未产生重复）")
        cols = [
            ("mapped", "映射"),
            ("mapping_rejected", "映射拒绝"),
            ("invalid", "暂缓"),
            ("already_accepted", "已接收跳过"),
            ("not_planned", "未排入"),
            ("sent", "发送"),
            ("accepted", "成功"),
            ("rejected", "拒收"),
            ("duplicate", "重复"),
        ]
        widths = [max(display_width(zh), 6) + 2 for _, zh in cols]
        name_w = (
            max([display_width("数据集")] + [display_width(f"{d.dataset} {d.name}") for d in self.datasets.values()])
            + 2
        )
        lines.append("  " + pad("数据集", name_w) + "".join(pad(zh, w, right=True) for (_, zh), w in zip(cols, widths)))
        for d in self.datasets.values():
            lines.append(
                "  "
                + pad(f"{d.dataset} {d.name}", name_w)
                + "".join(pad(str(getattr(d, a)), w, right=True) for (a, _), w in zip(cols, widths))
            )
        lines.append(
            "  "
            + pad("合计", name_w)
            + "".join(pad(str(self.total(a)), w, right=True) for (a, _), w in zip(cols, widths))
        )
        lines.append(
            "  （暂缓 = 未通过强制校验，未发送；未排入 = 合格但超出今天的计划量，留待以后；已接收跳过 = 平台已接收"
            "，不重发）"
        )
        if self.problems is not None and len(self.problems):
            lines.append(
                f"  暂缓 {self.total('invalid')} 条校验未通过的记录（问题 {len(self.problems)} 个），按数据集/字段"
                "/规则汇总："
            )
            g = (
                self.problems.groupby(["dataset", "field", "rule"], dropna=False, sort=False)
                .agg(n=("message", "size"), key=("key", "first"), message=("message", "first"))
                .sort_values("n", ascending=False, kind="stable")
                .reset_index()
            )
            for r in g.head(12).itertuples(index=False):
                field_ = "" if r.field is None or r.field != r.field else r.field
                lines.append(f"    - [{r.dataset}] {field_} {r.rule}: {r.n} 个，例如 {r.key}: {r.message}")
            if len(g) > 12:
                lines.append(f"    …… 共 {len(g)} 类问题；完整清单见 UploadSummary.problems 或 `hlwjr validate`")
        for r in self.rejections[:8]:  # keys may hold an ID-card number (医师 doctorCertID): masked
            lines.append(
                f"  平台拒收 [{r['dataset']}] {_masked(r['key'])} 批次 {r['batch_no']}: {_masked(r['reason'])}"
            )
        if len(self.rejections) > 8:
            lines.append(f"  …… 共 {len(self.rejections)} 条拒收，详见 `hlwjr readiness --format html`")
        for c in self.changed[:5]:
            lines.append(
                f"  注意 [{c['dataset']}] {_masked(c['key'])} 已被平台接收，但内容已变化：未重发"
                f"（确需更正且平台允许时，用 --update 重发）"
            )
        if len(self.changed) > 5:
            lines.append(f"  …… 共 {len(self.changed)} 条已接收记录内容有变化")
        if self.total("updated"):
            lines.append(f"  已作为更正重发 {self.total('updated')} 条已接收的记录")
        for n in self.notes:
            lines.append(f"  注意: {n}")
        lines.append(f"  用时 {self.elapsed:.1f} 秒")
        return "\n".join(lines)


def _masked(text: Any) -> str:
    """A business key or platform message for display: ID-card and phone numbers in it masked (脱敏)."""
    return mask_value(text) or ""


# --------------------------------------------------------------------------- lock


class UploadLock:
    """A lock file (``<work_dir>/upload.lock``) so that two runs (e.g. cron + a person) never
    upload at the same time. The OS releases it when the process dies, even on SIGKILL."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.read(fd, 64).decode(errors="replace").strip()
            finally:
                os.close(fd)
            raise UploadError(
                f"另一个上传正在进行（进程 {holder or '?'}）；请等它结束后再运行", where=str(self.path)
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> UploadLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


# --------------------------------------------------------------------------- progress


class _Progress:
    """A terminal progress bar (tqdm) for long runs; silent when not wanted."""

    def __init__(self, progress: Any, total: int, desc: str) -> None:
        self._cb = progress if callable(progress) else None
        self._bar = None
        self._done = 0
        self._total = total
        self._desc = desc
        if progress is True or (progress is None and total >= 2000 and sys.stderr.isatty()):
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="条", file=sys.stderr, leave=False)

    def update(self, n: int) -> None:
        self._done += n
        if self._bar is not None:
            self._bar.update(n)
        if self._cb is not None:
            self._cb(self._desc, self._done, self._total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


# --------------------------------------------------------------------------- the sender


class Uploader:
    """Sends records of one data set through a :class:`PlatformClient`, writing the ledger around
    every batch: pending before, sent as it goes, the answer after. Reusable across data sets."""

    def __init__(
        self,
        client,
        ledger: Ledger,
        *,
        org_code: str = "",
        batch_size: int | None = None,
        concurrency: int = 1,
        day: Callable[[], str] | None = None,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.org_code = org_code
        limit = client.profile.max_batch if client is not None else 100
        self.batch_size = min(batch_size or limit, limit)
        self.concurrency = max(1, int(concurrency))
        self._day = day or (lambda: now_shanghai().strftime("%Y-%m-%d"))
        self.splits = 0  # batches the platform refused as too large (HTTP 413), re-sent in halves

    def new_batch_no(self, dataset: str) -> str:
        stamp = now_shanghai().strftime("%Y%m%d%H%M%S")
        return f"{self.org_code or 'HLWJR'}-{dataset}-{stamp}-{uuid.uuid4().hex[:8]}"

    def recover(self) -> tuple[int, list[str]]:
        """Resolve batches left unanswered by a crash or an ambiguous failure: replay each with
        the same batchNo and the same bytes (the platform answers a replay without counting it
        again). Returns (records resolved, notes)."""
        notes: list[str] = []
        resolved = 0
        for b in self.ledger.unresolved_batches():
            if b.state == "sent" and not self.client.profile.replay_safe:
                notes.append(
                    f"批次 {b.batch_no}（{b.dataset}，{b.n} 条）发送后未收到应答，平台不支持按批次号重放："
                    f"请在平台验证日志中核对，然后运行 hlwjr upload --config <项目> --resolve {b.batch_no}=accepted"
                    "（平台已接收）或 …=missing（平台未收到，下次重发）；在此之前这些记录不会被自动重发"
                )
                continue
            self.ledger.mark_sent(b.batch_no)
            try:
                result = self.client.send_batch(b.dataset, b.batch_no, b.body, b.n)
            except PlatformRejected as exc:
                self.ledger.fail_batch(b.batch_no, b.dataset, exc.message, exc.code, platform_day=self._day())
                notes.append(f"重放批次 {b.batch_no} 被平台拒收：{exc.message}")
                continue
            self.ledger.record_answer(result, platform_day=result.platform_day or self._day())
            resolved += b.n
        return resolved, notes

    def send(
        self,
        dataset: str,
        items: Sequence[tuple[str, str, str]],
        summary: DatasetSummary,
        rejections: list[dict[str, Any]],
        *,
        data_date: str | None = None,
        progress: _Progress | None = None,
        update: bool = False,
    ) -> None:
        """Send ``items`` = (joined key, content hash, record JSON) in batches; ``update``: they
        are corrections of accepted records (the ledger lets them into a new batch)."""
        batches = [items[i : i + self.batch_size] for i in range(0, len(items), self.batch_size)]

        def one(batch: Sequence[tuple[str, str, str]]):
            batch_no = self.new_batch_no(dataset)
            body = self.client.encode_batch(batch_no, [j for _, _, j in batch])
            keys = [k for k, _, _ in batch]
            replay_safe = self.client.profile.replay_safe
            self.ledger.open_batch(
                dataset,
                batch_no,
                [(k, h) for k, h, _ in batch],
                body,
                data_date=data_date,
                sent=replay_safe,
                update=update,
            )
            if not replay_safe:  # the pending → sent step must be on disk before an unrepeatable request
                self.ledger.mark_sent(batch_no)
            try:
                result = self.client.send_batch(dataset, batch_no, body, len(batch))
            except PlatformRejected as exc:
                self.ledger.fail_batch(batch_no, dataset, exc.message, exc.code, platform_day=self._day())
                if getattr(exc, "status", None) == 413 and len(batch) > 1:
                    # body over the platform's size limit (请求体过大): nothing was stored or
                    # counted; send the records again in two halves, each under a new batchNo
                    half = len(batch) // 2
                    self.splits += 1
                    return [*one(batch[:half]), *one(batch[half:])]
                return [(batch_no, keys, None, exc)]
            # the answer rides with the next batch's write: one commit per batch (a crash in between
            # leaves the batch unanswered, and the next run replays it — never a duplicate)
            self.ledger.record_answer(
                result, platform_day=result.platform_day or self._day(), keys=keys, defer=replay_safe
            )
            return [(batch_no, keys, result, None)]

        def account(batch_no, keys, result, exc) -> None:
            summary.batches += 1
            summary.sent += len(keys)
            if exc is not None:
                summary.rejected += len(keys)
                rejections.extend(
                    {"dataset": dataset, "key": k, "batch_no": batch_no, "reason": exc.message} for k in keys
                )
            else:
                summary.accepted += result.accepted
                summary.rejected += result.rejected
                summary.duplicate += result.duplicate
                for r in result.results:
                    if r.status != ACCEPTED:
                        reason = "；".join(
                            f"{e.get('field') or ''} {e.get('msg') or e.get('message') or e.get('rule')}".strip()
                            for e in r.errors
                        ) or ("重复上报" if r.status == DUPLICATE else "平台未说明原因")
                        rejections.append(
                            {
                                "dataset": dataset,
                                "key": keys[r.index],
                                "batch_no": batch_no,
                                "status": r.status,
                                "reason": reason,
                            }
                        )
            if progress is not None:
                progress.update(len(keys))

        try:
            self._send_batches(batches, one, account)
        finally:
            self.ledger.flush()

    def _send_batches(self, batches, one, account) -> None:
        # ``one`` returns the answered batches: one, or more when a batch too large was split
        if self.concurrency == 1 or len(batches) < 2:
            for b in batches:
                for answered in one(b):
                    account(*answered)
            return
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="hlwjr-upload") as pool:
            pending = set()
            it = iter(batches)
            failure: BaseException | None = None
            for b in it:
                pending.add(pool.submit(one, b))
                if len(pending) >= self.concurrency:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in done:
                        try:
                            for answered in f.result():
                                account(*answered)
                        except BaseException as exc:
                            failure = failure or exc
                    if failure:
                        break
            for f in pending:
                try:
                    for answered in f.result():
                        account(*answered)
                except BaseException as exc:
                    failure = failure or exc
            if failure:
                raise failure


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
    target: int,
    accepted_today: dict[str, int],
    uncapped: Iterable[str] = (),
) -> dict[str, set[str]]:
    """The test-phase planner (测试阶段计划): for each data set choose ``target`` minus what was
    already accepted today of the valid ``candidates`` ((joined key, record) in order), plus
    every parent record the chosen children reference (dependency closure, leaves first).
    Data sets in ``uncapped`` (master data: 机构、科室、人员) are sent whole.
    Returns ``{dataset: set of joined keys to send}``."""
    uncapped = set(uncapped)
    order = [d.code for d in spec.top_level() if d.code in candidates]
    chosen: dict[str, set[str]] = {c: set() for c in order}
    required: dict[str, set[str]] = {c: set() for c in order}
    for code in reversed(order):
        ds = spec.dataset(code)
        avail = candidates[code]
        need = len(candidates[code]) if code in uncapped else max(0, target - accepted_today.get(code, 0))
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


# --------------------------------------------------------------------------- records in


def _clean_child(x: Any) -> Any:
    if not isinstance(x, dict):
        return x
    out = {}
    for k, v in x.items():
        if v is None or (isinstance(v, float) and v != v):
            continue  # missing in a child row (NaN from a DataFrame join)
        out[k] = v.item() if hasattr(v, "item") and not isinstance(v, (str, bytes)) else v
    return out


def _as_dicts(records: Any) -> list[dict[str, Any]]:
    """Records as a list of dicts with missing values dropped (DataFrame NaN/None/NA → absent)."""
    if records is None:
        return []
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(records, pd.DataFrame):
        cols = list(records.columns)
        out = []
        for row in records.itertuples(index=False, name=None):
            d = {}
            for c, v in zip(cols, row):
                if isinstance(v, list):  # array field (明细): children without missing values
                    d[c] = [_clean_child(x) for x in v]
                elif isinstance(v, dict):
                    d[c] = _clean_child(v)
                elif v is None or (not isinstance(v, str) and pd.isna(v)):
                    continue
                else:
                    d[c] = v.item() if hasattr(v, "item") else v
            out.append(d)
        return out
    return records if isinstance(records, list) else list(records)  # dicts are read, never changed


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
) -> UploadSummary:
    """Validate and send records that are already in the spec's shape (``{dataset: records}``),
    in dependency order, with the ledger. :func:`run_upload` calls this after mapping; tests,
    benchmarks and notebooks call it directly. ``master``: data sets of master data (not tied
    to a business day) that the test-phase planner sends whole. ``update``: send accepted records
    whose content changed as corrections (更正), marked as the platform profile's ``upload.update``
    says; refused when the profile declares no correction."""
    from ..spec._load import load_spec

    t0 = time.perf_counter()
    project = project_or_parts
    spec = spec or load_spec(project.spec)
    own_ledger = ledger is None
    ledger = ledger or Ledger.for_project(project)
    lock = UploadLock(Path(ledger.path).parent / "upload.lock")
    own_client = False
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
            client.check_auth()  # a wrong appid/secret/URL fails here, before anything is written
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
        )
        summary.elapsed = time.perf_counter() - t0
        return summary
    finally:
        if own_client and client is not None:
            client.close()
        if own_ledger:
            ledger.close()
        lock.release()


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
    except HlwjrError as exc:
        return _day_fn(None), f"预演未连接平台（{exc.message}），平台日按本机北京时间计算"
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
                if st[1] != h or st[2]:  # fixed since, or innocent victim of a whole-batch rejection
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
            thresholds.daily_target,
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
                if code in prepared and code not in master and today.get(code, 0) < need:
                    summary.notes.append(
                        f"{code} 今天只有 {today.get(code, 0)} 条可上报的合格记录，不足每日 {need} 条："
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


# --------------------------------------------------------------------------- the daily run


def _project_sources(project) -> dict[str, Any] | None:
    """The project's ``[sources]`` (name → path or URL) resolved against the project directory,
    overriding the mapping's named sources."""
    out: dict[str, Any] = {}
    for name, v in (project.sources or {}).items():
        if isinstance(v, dict):
            v = v.get("url") or v.get("path")
        if v is None:
            continue
        v = str(v)
        out[name] = v if "://" in v else str(project.resolve(v))
    return out or None


def _map_records(
    project, spec, datasets: Sequence[str], date: str | None, notes: list[str], master: set[str]
) -> tuple[dict[str, Any], dict[str, int], Any]:
    """Run the project's mapping (指标对照) for the data sets and day: ``({dataset: records},
    {dataset: rows rejected by the mapping}, DataFrame of mapping rejections)``."""
    import pandas as pd

    from ..mapping._config import load_mapping
    from ..mapping._engine import apply_mapping

    if project.mapping_dir is None:
        raise ConfigError("项目没有配置映射目录 (mapping_dir)；请在 hlwjr.toml 中设置", where=str(project.config_file))
    mapping = load_mapping(project.mapping_dir)
    sources = _project_sources(project)
    out: dict[str, Any] = {}
    rejected: dict[str, int] = {}
    frames = []
    for code in datasets:
        try:
            dm = mapping.dataset(code)
        except HlwjrError:
            notes.append(
                f"{code}: 对照配置中没有这个数据集，跳过（在 {project.mapping_dir} 中补充 datasets/{code}.yaml）"
            )
            continue
        # master data (机构、科室、人员) has no business time: all of it, every day; the ledger skips
        # what the platform already accepted
        day = date if getattr(getattr(dm, "source", None), "business_time", None) else None
        if date is not None and day is None:
            master.add(code)
        res = apply_mapping(mapping, code, date=day, sources=sources, spec=spec)
        out[code] = res.records
        rej = res.rejections
        rejected[code] = len(rej)
        if len(rej):
            frames.append(rej)
    return out, rejected, (pd.concat(frames, ignore_index=True) if frames else None)


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
    if isinstance(date, _date):
        date = date.isoformat()
    if date is not None:
        try:
            _date.fromisoformat(str(date))
        except ValueError:
            raise ConfigError(f"日期 {date!r} 格式不对，应为 YYYY-MM-DD，例如 2026-11-01", where="--date") from None
    scope = list(datasets) if datasets else (list(project.datasets) or [d.code for d in spec.top_level()])
    codes = [spec.dataset(c).code for c in scope]
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
