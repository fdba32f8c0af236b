"""The sandbox platform as an ASGI app (FastAPI): the supervision platform's API under ``/hlwjr``.

Endpoints (envelope ``{"code": 0, "msg": "成功", "data": ...}``)::

    POST /hlwjr/api/token                    appid + secret → access_token (令牌)
    POST /hlwjr/api/upload/{dataset_code}    Bearer token; {"batchNo", "records": [...]}
    GET  /hlwjr/api/verify-log               验证日志 per day and data set + verdict
    GET  /hlwjr/api/verify-log/records       each uploaded record with its result and errors
    GET  /hlwjr/verify-log                   the human page (HTML)
    /hlwjr/sandbox/...                       rehearsal controls: health, clock, faults, register, orgs
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as _dt
import functools
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._exceptions import ConfigError, HlwjrError
from .._privacy import mask_key as _privacy_mask_key
from ._clock import Clock, beijing_day, format_beijing, parse_beijing_time
from ._faults import DROP_MARK, DropConnectionMiddleware, FaultInjector
from ._settings import Faults, SandboxSettings
from ._store import KEY_SEP, Org, Store
from ._verify import compute_verify_log

__all__ = ["ApiError", "SandboxService", "create_app", "install_log_redaction"]

log = logging.getLogger("hlwjr.sandbox")

PREFIX = "/hlwjr"
_OK_MSG = "成功"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The sandbox decides business-key duplicates itself (a status, not a failure): the engine's
# ``already_accepted`` is skipped and its top-level ``duplicate_key`` ignored (a repeated line
# number inside one record's orderList stays a failure).
_SKIP_RULES = ("already_accepted",)


class ApiError(Exception):
    """An answer with a non-zero code: HTTP status, platform code, Chinese message."""

    def __init__(self, status: int, code: int, msg: str, data: Any = None, headers: dict | None = None) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg, self.data, self.headers = status, code, msg, data, headers


try:  # orjson: 3-10x faster JSON; the standard library is the fallback
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is a dependency
    _orjson = None


def _reject_constant(name: str):
    raise ValueError(f"{name} 不是合法的JSON数值")


def json_loads(data: bytes) -> Any:
    """Parse a request body (UTF-8 JSON; NaN/Infinity refused, as by strict platforms)."""
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass  # the standard parser gives the precise message (or accepts huge integers)
    return json.loads(data, parse_constant=_reject_constant)


def json_dumps(obj: Any, *, sort_keys: bool = False) -> bytes:
    """Compact UTF-8 JSON (non-ASCII kept as is)."""
    if _orjson is not None:
        try:
            return _orjson.dumps(obj, option=_orjson.OPT_SORT_KEYS if sort_keys else 0)
        except TypeError:
            pass  # e.g. an integer beyond 64 bits
    return json.dumps(obj, ensure_ascii=False, sort_keys=sort_keys, separators=(",", ":")).encode("utf-8")


def _json(payload: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json_dumps(payload), status_code=status, media_type="application/json", headers=headers)


def _envelope(data: Any = None, code: int = 0, msg: str = _OK_MSG) -> dict:
    return {"code": code, "msg": msg, "data": data}


@functools.lru_cache(maxsize=8192)
def mask_key(biz_key: str | None) -> str | None:
    """A stored business key for display: parts joined by ``|``, ID/phone numbers masked."""
    return _privacy_mask_key(biz_key, KEY_SEP)


class _RedactFilter(logging.Filter):
    _pat = re.compile(r"((?:access_?token|token|secret|appsecret)=)[^&\s\"]+", re.I)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(self._pat.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = self._pat.sub(r"\1***", record.msg)
        return True


def install_log_redaction() -> None:
    """Make sure no token or secret appears in uvicorn's access log (query strings redacted)."""
    for name in ("uvicorn.access", "uvicorn.error", "hlwjr.sandbox"):
        lg = logging.getLogger(name)
        if not any(isinstance(f, _RedactFilter) for f in lg.filters):
            lg.addFilter(_RedactFilter())


class _OrgLookup:
    """``ReferenceLookup`` for the validation engine: keys one organisation already has on the platform.

    Keys normally come in the target data set's key order.  A reference that leaves out the
    organisation (``{bussID: bussID}`` against key ``[organID, bussID]``) is completed with the
    uploading organisation's code — the lookup only ever sees that organisation's records.
    """

    def __init__(self, store: Store, org_code: str, spec: Any = None) -> None:
        self.store, self.org_code, self.spec = store, org_code, spec

    def known(self, dataset_code: str, keys: list[tuple]) -> set[tuple]:
        key_fields: tuple = ()
        if self.spec is not None and dataset_code in self.spec.datasets:
            key_fields = tuple(self.spec.datasets[dataset_code].key)
        candidates: dict[str, list[tuple]] = defaultdict(list)
        for k in keys:
            parts = ["" if v is None else str(v) for v in k]
            forms = [parts]
            if key_fields and len(parts) == len(key_fields) - 1 and "organID" in key_fields:
                forms.append(
                    parts[: key_fields.index("organID")] + [self.org_code] + parts[key_fields.index("organID") :]
                )
            if len(parts) == 2:
                forms.append(parts[::-1])
            for f in forms:
                candidates[KEY_SEP.join(f)].append(k)
        found = self.store.existing_keys(self.org_code, dataset_code, candidates)
        return {k for j in found for k in candidates[j]}


class PendingBatch:
    """An upload request that passed the shape checks and waits for validation and storage."""

    __slots__ = ("batch_no", "content_hash", "ds", "errors", "org", "payloads", "records", "warnings")

    def __init__(self, org: Org, ds, batch_no: str, records: list, payloads: list[bytes], content_hash: str) -> None:
        self.org, self.ds, self.batch_no, self.records = org, ds, batch_no, records
        self.payloads, self.content_hash = payloads, content_hash
        self.errors: list[list[dict]] = []
        self.warnings: list[list[dict]] = []


class _UploadQueue:
    """Collects upload requests that are ready at the same moment and processes them together
    (one validation-engine call per organisation and data set) — a group commit for throughput."""

    #: event-loop turns to wait before processing, so bodies still being read can join the group
    HOPS = 3

    def __init__(self, service: SandboxService) -> None:
        self.service = service
        self.pending: list[tuple[PendingBatch, asyncio.Future]] = []
        self.scheduled = False
        self.stats = {"batches": 0, "groups": 0, "largest_group": 0}

    async def submit(self, batch: PendingBatch) -> tuple[int, str, bool]:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self.pending.append((batch, fut))
        if not self.scheduled:
            self.scheduled = True
            loop.call_soon(self._hop, loop, self.HOPS)
        result = await fut
        if isinstance(result, BaseException):
            raise result
        return result

    def _hop(self, loop, left: int) -> None:
        if left > 0:
            loop.call_soon(self._hop, loop, left - 1)
        else:
            self._flush()

    def _flush(self) -> None:
        items, self.pending, self.scheduled = self.pending, [], False
        self.stats["batches"] += len(items)
        self.stats["groups"] += 1
        self.stats["largest_group"] = max(self.stats["largest_group"], len(items))
        try:
            results = self.service.process_group([b for b, _ in items])
        except BaseException as exc:
            results = [exc] * len(items)
        for (_, fut), res in zip(items, results):
            if not fut.done():
                fut.set_result(res)


class SandboxService:
    """The platform's behaviour, independent of HTTP: tokens, uploads, the verification log."""

    def __init__(self, data_dir: str | Path, spec: Any = None, settings: SandboxSettings | None = None) -> None:
        from ..spec._load import load_spec

        self.settings = (settings or SandboxSettings()).validate()
        self.spec = load_spec(spec)
        self.store = Store(data_dir)
        self.faults = FaultInjector(self.settings.faults)
        self.admin_token = self.settings.resolved_admin_token()
        self._token_cache: dict[str, tuple[str, float, float]] = {}  # token -> (appid, expires, cached_at)
        self._org_cache: dict[str, tuple[Org | None, float]] = {}
        self._token_requests: dict[str, deque] = defaultdict(deque)
        self._check = None
        self.clock = Clock(float(self.store.get_meta("clock_offset", "0") or 0))
        if self.settings.clock:
            self.set_clock(self.settings.clock)

    # -- clock -----------------------------------------------------------------------------
    def set_clock(self, when: str | float | None = None, *, advance: float = 0.0, reset: bool = False) -> dict:
        if reset:
            self.clock.reset()
        if when is not None:
            self.clock.set(when)
        if advance:
            self.clock.advance(advance)
        self.store.set_meta("clock_offset", repr(self.clock.offset))
        self._token_cache.clear()
        return self.clock.as_dict()

    # -- organisations and tokens ----------------------------------------------------------
    def org(self, appid: str) -> Org | None:
        hit = self._org_cache.get(appid)
        if hit and time.monotonic() - hit[1] < 2.0:
            return hit[0]
        org = self.store.org_by_appid(appid)
        self._org_cache[appid] = (org, time.monotonic())
        return org

    def forget_caches(self) -> None:
        self._token_cache.clear()
        self._org_cache.clear()

    def issue_token(self, appid: Any, secret: Any) -> dict:
        if not isinstance(appid, str) or not appid.strip() or not isinstance(secret, str) or not secret:
            raise ApiError(400, 2008, '缺少必填参数：请求体应为 {"appid": "...", "secret": "..."}（字符串）')
        org = self.store.org_by_appid(appid)
        if org is None:
            raise ApiError(
                401, 1001, "appid不存在：请核对平台“机构信息”页面上的appid（沙箱用 hlwjr sandbox register 注册）"
            )
        window = self._token_requests[appid]
        now_m = time.monotonic()
        while window and now_m - window[0] > 60:
            window.popleft()
        if len(window) >= self.settings.token_rate_per_minute:
            retry = int(60 - (now_m - window[0])) + 1
            raise ApiError(
                429,
                1005,
                f"令牌请求过于频繁：每分钟最多 {self.settings.token_rate_per_minute} 次，"
                f"请 {retry} 秒后再试，并缓存令牌直至过期",
                headers={"Retry-After": str(retry)},
            )
        window.append(now_m)
        if not self.store.check_secret(appid, secret):
            raise ApiError(401, 1002, "secret错误：请核对secret（secret只在注册时显示一次，遗失请重新生成）")
        if not org.active:
            raise ApiError(401, 1003, "账号停用：该appid已被停用，请联系平台管理员")
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        ttl = self.settings.token_ttl
        expires = now + self.faults.token_lifetime(ttl)
        self.store.add_token(token, appid, now, expires)
        log.info("token issued appid=%s expires=%s", appid, format_beijing(expires))
        return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}

    def authenticate(self, header: str | None) -> Org:
        if not header:
            raise ApiError(
                401,
                1102,
                "缺少Authorization请求头：请先调用 /hlwjr/api/token 获取令牌，"
                "并以 Authorization: Bearer <access_token> 发送",
                headers={"WWW-Authenticate": "Bearer"},
            )
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            raise ApiError(
                401, 1102, "Authorization格式错误：应为 Bearer <access_token>", headers={"WWW-Authenticate": "Bearer"}
            )
        now_m = time.monotonic()
        hit = self._token_cache.get(token)
        if hit is None or now_m - hit[2] > 2.0:
            row = self.store.token(token)
            if row is None or row[2]:
                self._token_cache.pop(token, None)
                raise ApiError(
                    401,
                    1101,
                    "token无效：令牌不存在或已作废，请重新获取令牌",
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            hit = (row[0], row[1], now_m)
            self._token_cache[token] = hit
        appid, expires, _ = hit
        if self.clock.now() >= expires:
            raise ApiError(
                401,
                1101,
                "token已过期：请重新获取令牌后重试",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        org = self.org(appid)
        if org is None or not org.active:
            raise ApiError(401, 1003, "账号停用：该appid已被停用，请联系平台管理员")
        return org

    # -- uploads ---------------------------------------------------------------------------
    def dataset(self, code: str):
        try:
            return self.spec.dataset(code)
        except HlwjrError:
            known = "、".join(self.spec.datasets)
            raise ApiError(404, 2004, f"未知数据集 {code!r}：可用的数据集编码为 {known}") from None

    def _validator(self):
        if self._check is None:
            from ..validation._engine import check

            self._check = check
        return self._check

    def upload(self, org: Org, dataset_code: str, body: dict) -> tuple[int, str, bool]:
        """Process one upload request → (HTTP status, response JSON, replayed?)."""
        pending = self.prepare_upload(org, dataset_code, body)
        if isinstance(pending, tuple):
            return pending
        return self.process_group([pending])[0]

    def prepare_upload(self, org: Org, dataset_code: str, body: dict) -> PendingBatch | tuple[int, str, bool]:
        """Check the request's shape; a replay is answered at once, anything else becomes a
        :class:`PendingBatch` for :meth:`process_group`."""
        ds = self.dataset(dataset_code)
        batch_no = body.get("batchNo")
        if batch_no is None or (isinstance(batch_no, str) and not batch_no.strip()):
            raise ApiError(400, 2006, "batchNo缺失：请求体需带非空的批次号 batchNo（同一批次重发时保持不变）")
        if not isinstance(batch_no, (str, int)) or isinstance(batch_no, bool) or len(str(batch_no)) > 64:
            raise ApiError(400, 2006, "batchNo格式错误：应为不超过64个字符的字符串")
        batch_no = str(batch_no)
        if "records" not in body:
            raise ApiError(400, 2003, '缺少records：请求体应为 {"batchNo": "...", "records": [ ... ]}')
        records = body["records"]
        if not isinstance(records, list):
            raise ApiError(400, 2003, f"records必须是数组（JSON array），收到的是 {type(records).__name__}")
        if not records:
            raise ApiError(400, 2003, "records不能为空数组：每批至少上传1条记录")
        if len(records) > self.settings.max_batch:
            raise ApiError(
                400, 2005, f"批量超过上限：每批最多 {self.settings.max_batch} 条，本批 {len(records)} 条，请拆分后上传"
            )
        # one canonical serialisation per record: the stored payload and (hashed) the batch's content
        try:
            payloads = [json_dumps(r, sort_keys=True) for r in records]
        except RecursionError:
            raise ApiError(400, 2001, "请求体不是合法JSON：记录嵌套层数过深") from None
        digest = hashlib.sha256()
        for p in payloads:
            digest.update(p)
            digest.update(b"\n")
        pending = PendingBatch(org, ds, batch_no, records, payloads, digest.hexdigest())
        replay = self._replay(pending)
        return replay if replay is not None else pending

    def _replay(self, b: PendingBatch) -> tuple[int, str, bool] | None:
        previous = self.store.batch(b.org.appid, b.ds.code, b.batch_no)
        if previous is None:
            return None
        if previous[0] == b.content_hash:
            return 200, previous[2], True
        raise ApiError(
            409, 2007, f"同一batchNo内容不同：批次 {b.batch_no} 已上传过且内容不同；修改后的数据请用新的batchNo上传"
        )

    def process_group(self, batches: list[PendingBatch]) -> list:
        """Validate and store several pending batches: one call of the validation engine per
        (organisation, data set) — its fixed cost dominates small batches — and one COMMIT for
        all, each batch in its own SAVEPOINT (all-or-nothing per batch).  Groups are handled in
        order of first arrival and each is validated after the earlier ones were stored, so
        references and duplicates see everything that arrived before.  Returns, per batch, its
        ``(status, response, replayed)`` or the exception it ended with."""
        groups: dict[tuple, list[int]] = defaultdict(list)
        for i, b in enumerate(batches):
            groups[(b.org.org_code, b.ds.code)].append(i)
        out: list = [None] * len(batches)
        with self.store.transaction():
            for idx in groups.values():
                members = [batches[i] for i in idx]
                try:
                    self._validate_group(members)
                except Exception as exc:
                    for i in idx:
                        out[i] = exc
                    continue
                for i, b in zip(idx, members):
                    try:
                        replay = self._replay(b)  # an identical batch earlier in this group
                        out[i] = replay if replay is not None else self._finish(b)
                    except Exception as exc:
                        out[i] = exc
        return out

    def _validate_group(self, members: list[PendingBatch]) -> None:
        first = members[0]
        records = [r for b in members for r in b.records]
        offsets, o = [], 0
        for b in members:
            offsets.append(o)
            o += len(b.records)
            b.errors = [[] for _ in b.records]
            b.warnings = [[] for _ in b.records]
        report = self._validator()(
            records,
            first.ds,
            spec=self.spec,
            lookup=_OrgLookup(self.store, first.org.org_code, self.spec),
            skip=_SKIP_RULES,
            today=_dt.date.fromisoformat(self.clock.today()),
        )
        for p in report.problems:
            if p.rule == "duplicate_key" and "[" not in (p.path or ""):
                continue
            item = {"field": p.path or p.field, "rule": p.rule, "msg": p.message}
            if p.row is not None and 0 <= p.row < len(records):
                k = bisect.bisect_right(offsets, p.row) - 1
                b = members[k]
                (b.errors if p.severity == "error" else b.warnings)[p.row - offsets[k]].append(item)
            else:
                for b in members:
                    for lst in b.errors if p.severity == "error" else b.warnings:
                        lst.append(item)

    def _finish(self, b: PendingBatch) -> tuple[int, str, bool]:
        org, ds, batch_no, records = b.org, b.ds, b.batch_no, b.records
        n = len(records)
        errors, warnings = b.errors, b.warnings
        has_organ = "organID" in ds.fields
        keys: list[str | None] = []
        for i, r in enumerate(records):
            if not isinstance(r, dict):
                keys.append(None)
                continue
            if has_organ and r.get("organID") is not None and str(r.get("organID")) != org.org_code:
                errors[i].append(
                    {
                        "field": "organID",
                        "rule": "organ_mismatch",
                        "msg": f"organID 与令牌所属机构不一致：本令牌只能上传本机构（{org.org_code}）的数据",
                    }
                )
            if ds.key:
                parts = [r.get(k) for k in ds.key]
                keys.append(None if any(v is None for v in parts) else KEY_SEP.join(str(v) for v in parts))
            else:
                keys.append("#" + hashlib.sha256(b.payloads[i]).hexdigest())
        existing = self.store.existing_keys(org.org_code, ds.code, [k for k in keys if k is not None])
        seen: set[str] = set()
        statuses: list[str] = []
        for i, k in enumerate(keys):
            if k is not None and (k in existing or k in seen):
                statuses.append("duplicate")
            elif errors[i]:
                statuses.append("fail")
            else:
                statuses.append("ok")
                if k is not None:
                    seen.add(k)
        code, msg = 0, _OK_MSG
        n_fail = statuses.count("fail")
        if n_fail and self.settings.whole_batch:
            code = 2010
            msg = f"整批拒收：本批 {n_fail} 条记录未通过校验，整批未入库；请修正后用新的batchNo重新上传"
            for i, s in enumerate(statuses):
                if s == "ok":
                    statuses[i] = "fail"
                    errors[i].append(
                        {
                            "field": None,
                            "rule": "whole_batch",
                            "msg": "同批次其他记录未通过校验，整批拒收（本条自身无误）",
                        }
                    )
        counts = {s: statuses.count(s) for s in ("ok", "fail", "duplicate")}
        if code == 0 and (counts["fail"] or counts["duplicate"]):
            msg = f"处理完成：成功 {counts['ok']} 条，失败 {counts['fail']} 条，重复 {counts['duplicate']} 条"
        now = self.clock.now()
        results = []
        for i in range(n):
            item = {
                "index": i,
                "key": mask_key(keys[i]) if keys[i] and not keys[i].startswith("#") else None,
                "status": statuses[i],
                "errors": errors[i],
            }
            if statuses[i] == "duplicate":
                item["errors"] = errors[i] + [
                    {
                        "field": ",".join(ds.key) or None,
                        "rule": "duplicate",
                        "msg": "业务主键重复：该记录已被平台接收（或本批中已出现），不重复入库",
                    }
                ]
            if warnings[i]:
                item["warnings"] = warnings[i]
            results.append(item)
        data = {
            "batchNo": batch_no,
            "dataset": ds.code,
            "total": n,
            "success": counts["ok"],
            "failed": counts["fail"],
            "duplicate": counts["duplicate"],
            "received_at": format_beijing(now),
            "results": results,
        }
        response = json_dumps(_envelope(data, code, msg)).decode("utf-8")
        accepted = [(keys[i], i, b.payloads[i].decode("utf-8")) for i in range(n) if statuses[i] == "ok"]
        log_rows = [
            (
                i,
                keys[i],
                statuses[i],
                json_dumps(results[i]["errors"]).decode("utf-8") if results[i]["errors"] else None,
            )
            for i in range(n)
        ]
        self.store.save_batch(
            appid=org.appid,
            org_code=org.org_code,
            dataset=ds.code,
            batch_no=batch_no,
            content_hash=b.content_hash,
            received_at=now,
            day=beijing_day(now),
            code=code,
            response=response,
            accepted=accepted,
            log=log_rows,
        )
        log.info(
            "upload appid=%s dataset=%s batch=%s total=%d ok=%d fail=%d duplicate=%d code=%d",
            org.appid,
            ds.code,
            batch_no,
            n,
            counts["ok"],
            counts["fail"],
            counts["duplicate"],
            code,
        )
        return 200, response, False

    # -- verification log -------------------------------------------------------------------
    def _dates(self, date_from: str | None, date_to: str | None) -> tuple[str | None, str | None]:
        for name, v in (("from", date_from), ("to", date_to)):
            if v and not _DATE_RE.match(v):
                raise ApiError(400, 2000, f"参数 {name} 格式错误：应为 YYYY-MM-DD，收到 {v!r}")
            if v:
                try:
                    _dt.date.fromisoformat(v)
                except ValueError:
                    raise ApiError(
                        400, 2000, f"参数 {name} 不是有效日期：{v!r}（应为真实的日历日期 YYYY-MM-DD）"
                    ) from None
        if date_from and date_to and date_from > date_to:
            raise ApiError(400, 2000, f"参数 from（{date_from}）晚于 to（{date_to}）：请交换或更正日期范围")
        return date_from or None, date_to or None

    def verify_log(
        self, org: Org, date_from: str | None = None, date_to: str | None = None, dataset: str | None = None
    ) -> dict:
        date_from, date_to = self._dates(date_from, date_to)
        ds_code = self.dataset(dataset).code if dataset else None
        rows = self.store.day_counts(org.org_code, date_from, date_to, ds_code)
        names = {c: d.name for c, d in self.spec.datasets.items()}
        result = compute_verify_log(rows, self.settings.rule, today=self.clock.today(), dataset_names=names)
        result["org"] = {"org_code": org.org_code, "org_name": org.org_name, "appid": org.appid}
        result["spec"] = {"id": self.spec.id, "version": self.spec.version, "official": self.spec.official}
        return result

    def verify_records(
        self,
        org: Org,
        *,
        date: str | None,
        dataset: str | None,
        status: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> dict:
        self._dates(date, None)
        ds_code = self.dataset(dataset).code if dataset else None
        statuses = None
        if status:
            statuses = tuple(s.strip() for s in status.split(","))
            bad = [s for s in statuses if s not in ("ok", "fail", "duplicate")]
            if bad:
                raise ApiError(
                    400, 2000, f"参数 status 只能是 ok、fail、duplicate（可用逗号分隔），收到 {', '.join(bad)}"
                )
        rows = self.store.log_rows(
            org.org_code, day=date, dataset=ds_code, statuses=statuses, limit=limit, offset=offset
        )
        total = self.store.count_log_rows(org.org_code, day=date, dataset=ds_code, statuses=statuses)
        for r in rows:
            r["received_at"] = format_beijing(r["received_at"])
            r["key"] = mask_key(r.pop("biz_key")) if r.get("biz_key") and not r["biz_key"].startswith("#") else None
            r.pop("biz_key", None)
        return {"date": date, "dataset": ds_code, "total": total, "offset": offset, "limit": limit, "records": rows}


async def _read_json(request: Request, limit: int) -> Any:
    """The request body as JSON, refusing bodies over ``limit`` bytes (Content-Length and streamed)."""
    cl = request.headers.get("content-length")
    too_big = ApiError(413, 4130, f"请求体过大：上限 {limit} 字节，请减少每批记录数")
    if cl is not None:
        try:
            if int(cl) > limit:
                raise too_big
        except ValueError:
            raise ApiError(400, 2001, "Content-Length 请求头不是整数") from None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_big
    if not body.strip():
        raise ApiError(400, 2001, "请求体不是合法JSON：请求体为空")
    try:
        return json_loads(bytes(body))
    except UnicodeDecodeError as exc:
        raise ApiError(400, 2001, f"请求体不是合法JSON：不是UTF-8编码（第 {exc.start} 字节）") from None
    except json.JSONDecodeError as exc:
        raise ApiError(400, 2001, f"请求体不是合法JSON：第 {exc.lineno} 行第 {exc.colno} 列 {exc.msg}") from None
    except ValueError as exc:  # NaN / Infinity
        raise ApiError(400, 2001, f"请求体不是合法JSON：{exc}") from None
    except RecursionError:
        raise ApiError(400, 2001, "请求体不是合法JSON：嵌套层数过深") from None


async def _read_object(request: Request, limit: int) -> dict:
    obj = await _read_json(request, limit)
    if not isinstance(obj, dict):
        raise ApiError(400, 2002, f"请求体必须是对象（JSON object），收到的是 {type(obj).__name__}")
    return obj


def create_app(data_dir: str | Path, *, spec: Any = None, settings: SandboxSettings | None = None) -> FastAPI:
    """The sandbox platform (沙箱平台) as a FastAPI app, its state in SQLite under ``data_dir``.

    ``spec`` is a :class:`hlwjr.Spec`, a spec name or directory (default: the reference spec);
    ``settings`` a :class:`SandboxSettings`.  ``app.state.sandbox`` is the :class:`SandboxService`.
    """
    service = SandboxService(data_dir, spec, settings)
    install_log_redaction()
    app = SandboxApp(
        title="hlwjr 沙箱平台（互联网医院接入平台模拟）",
        docs_url=f"{PREFIX}/docs",
        openapi_url=f"{PREFIX}/openapi.json",
        redoc_url=None,
    )
    app.state.sandbox = service
    queue = _UploadQueue(service)
    app.state.upload_queue = queue
    limit = service.settings.max_body_bytes

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return _json(_envelope(exc.data, exc.code, exc.msg), exc.status, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return _json(_envelope(None, 4040, f"接口不存在：{request.url.path}（接口均在 {PREFIX}/api/ 下）"), 404)
        if exc.status_code == 405:
            return _json(_envelope(None, 4050, f"请求方法 {request.method} 不被 {request.url.path} 支持"), 405)
        return _json(_envelope(None, exc.status_code * 10, str(exc.detail)), exc.status_code)

    @app.exception_handler(ConfigError)
    async def _config_error(request: Request, exc: ConfigError):
        return _json(_envelope(None, 2000, f"参数错误：{exc}"), 400)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception):
        log.exception("sandbox internal error on %s", request.url.path)
        return _json(_envelope(None, 5000, f"沙箱内部错误：{type(exc).__name__}（详见服务器日志）"), 500)

    async def _api_faults() -> None:
        await service.faults.delay()
        kind = service.faults.error_now()
        if kind == "busy":
            raise ApiError(200, 5001, "系统繁忙，请稍后重试")
        if kind == "http503":
            raise ApiError(503, 5001, "系统繁忙，请稍后重试", headers={"Retry-After": "1"})
        if kind == "http500":
            raise ApiError(500, 5000, "服务器内部错误（沙箱故障注入）")

    # -- platform API ----------------------------------------------------------------------
    @app.post(f"{PREFIX}/api/token")
    async def token(request: Request):
        """获取令牌: ``{"appid", "secret"}`` → ``{"access_token", "token_type", "expires_in"}``."""
        await _api_faults()
        body = await _read_object(request, 64 * 1024)
        return _json(_envelope(service.issue_token(body.get("appid"), body.get("secret"))))

    @app.post(PREFIX + "/api/upload/{dataset_code}")
    async def upload(dataset_code: str, request: Request):
        """数据上传: one batch of records of one data set (at most ``max_batch``)."""
        await _api_faults()
        org = service.authenticate(request.headers.get("authorization"))
        service.dataset(dataset_code)
        body = await _read_object(request, limit)
        pending = service.prepare_upload(org, dataset_code, body)
        if isinstance(pending, tuple):
            status, payload, replayed = pending
        else:
            try:
                status, payload, replayed = await queue.submit(pending)
            except RecursionError:
                raise ApiError(400, 2001, "请求体不是合法JSON：记录嵌套层数过深") from None
        if not replayed and service.faults.drop_now():
            mark = request.scope.get(DROP_MARK)
            if mark is not None:
                mark["drop"] = True
                log.info("fault: dropping connection after commit (appid=%s)", org.appid)
        headers = {"X-Hlwjr-Replay": "1"} if replayed else None
        return Response(payload.encode("utf-8"), status_code=status, media_type="application/json", headers=headers)

    @app.get(f"{PREFIX}/api/verify-log")
    async def verify_log(request: Request):
        """验证日志: ``?from=YYYY-MM-DD&to=YYYY-MM-DD&dataset=CODE``."""
        await _api_faults()
        org = service.authenticate(request.headers.get("authorization"))
        q = request.query_params
        return _json(_envelope(service.verify_log(org, q.get("from"), q.get("to"), q.get("dataset"))))

    @app.get(f"{PREFIX}/api/verify-log/records")
    async def verify_records(request: Request):
        """验证日志明细: ``?date=YYYY-MM-DD&dataset=CODE&status=fail,duplicate&limit=&offset=``."""
        await _api_faults()
        org = service.authenticate(request.headers.get("authorization"))
        q = request.query_params
        limit_, offset = _int_param(q, "limit", 1000, 1, 10000), _int_param(q, "offset", 0, 0, None)
        return _json(
            _envelope(
                service.verify_records(
                    org,
                    date=q.get("date"),
                    dataset=q.get("dataset"),
                    status=q.get("status"),
                    limit=limit_,
                    offset=offset,
                )
            )
        )

    # -- human page ----------------------------------------------------------------------
    @app.get(PREFIX, include_in_schema=False)
    @app.get(f"{PREFIX}/", include_in_schema=False)
    async def index():
        return RedirectResponse(f"{PREFIX}/verify-log")

    @app.get(f"{PREFIX}/verify-log", response_class=HTMLResponse)
    async def verify_log_page(request: Request):
        """验证日志页面 (HTML): ``?org=统一社会信用代码&from=&to=&dataset=``."""
        from ._page import render_verify_log_page

        return HTMLResponse(render_verify_log_page(service, request.query_params))

    # -- rehearsal controls ----------------------------------------------------------------
    def _admin(request: Request, *, required: bool) -> None:
        expected = service.admin_token
        if expected is None:
            if required:
                raise ApiError(
                    403,
                    1201,
                    "管理接口未启用：请在启动沙箱前设置环境变量 HLWJR_SANDBOX_ADMIN_TOKEN，"
                    "或用命令 hlwjr sandbox register 注册",
                )
            return
        given = request.headers.get("x-admin-token") or ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise ApiError(403, 1202, "管理令牌错误：请求头 X-Admin-Token 应为环境变量 HLWJR_SANDBOX_ADMIN_TOKEN 的值")

    @app.get(f"{PREFIX}/sandbox/health")
    async def health():
        return _json(
            _envelope(
                {
                    "status": "ok",
                    "spec": service.spec.id,
                    "spec_version": service.spec.version,
                    "clock": service.clock.as_dict(),
                    "uploads": dict(queue.stats),
                }
            )
        )

    @app.post(f"{PREFIX}/sandbox/echo")
    async def echo(request: Request):
        """联通性测试: reads the body (same size limit as uploads) and answers its size — no auth,
        no validation, no storage; the HTTP-only baseline of ``benchmarks/bench_sandbox.py``."""
        n = 0
        async for chunk in request.stream():
            n += len(chunk)
            if n > limit:
                raise ApiError(413, 4130, f"请求体过大：上限 {limit} 字节")
        return _json(_envelope({"bytes": n}))

    @app.get(f"{PREFIX}/sandbox/settings")
    async def get_settings(request: Request):
        _admin(request, required=False)
        s = service.settings
        return _json(
            _envelope(
                {
                    "token_ttl": s.token_ttl,
                    "token_rate_per_minute": s.token_rate_per_minute,
                    "max_batch": s.max_batch,
                    "max_body_bytes": s.max_body_bytes,
                    "whole_batch": s.whole_batch,
                    "rule": s.rule.as_dict(),
                    "faults": s.faults.as_dict(),
                    "admin": service.admin_token is not None,
                }
            )
        )

    @app.get(f"{PREFIX}/sandbox/clock")
    async def get_clock(request: Request):
        _admin(request, required=False)
        return _json(_envelope(service.clock.as_dict()))

    @app.post(f"{PREFIX}/sandbox/clock")
    async def set_clock(request: Request):
        """设置沙箱时钟: ``{"now": "2026-11-01 09:00:00"}``, ``{"advance_days": 1, "advance_hours": 0,
        "advance_seconds": 0}`` or ``{"reset": true}``."""
        _admin(request, required=False)
        body = await _read_object(request, 64 * 1024)
        unknown = set(body) - {"now", "advance_days", "advance_hours", "advance_seconds", "reset"}
        if unknown:
            raise ApiError(
                400,
                2000,
                f"未知参数 {', '.join(sorted(unknown))}；可用 now、advance_days、advance_hours、advance_seconds、reset",
            )
        try:
            advance = (
                float(body.get("advance_days") or 0) * 86400
                + float(body.get("advance_hours") or 0) * 3600
                + float(body.get("advance_seconds") or 0)
            )
        except (TypeError, ValueError):
            raise ApiError(400, 2000, "advance_days/advance_hours/advance_seconds 应为数字") from None
        now = body.get("now")
        if now is not None:
            if not isinstance(now, str):
                raise ApiError(400, 2000, "now 应为北京时间字符串 YYYY-MM-DD HH:MM:SS")
            parse_beijing_time(now)
        return _json(_envelope(service.set_clock(now, advance=advance, reset=bool(body.get("reset")))))

    @app.get(f"{PREFIX}/sandbox/faults")
    async def get_faults(request: Request):
        _admin(request, required=False)
        return _json(_envelope({**service.faults.faults.as_dict(), "injected": dict(service.faults.injected)}))

    @app.post(f"{PREFIX}/sandbox/faults")
    async def set_faults(request: Request):
        """故障注入: any of ``latency_ms, error_rate, error_kind, error_next, drop_rate, drop_next,
        token_expire_after, seed``; ``{"reset": true}`` clears them all first."""
        _admin(request, required=False)
        body = await _read_object(request, 64 * 1024)
        faults = service.faults.faults
        if body.pop("reset", False):
            fresh = Faults()
            for k, v in fresh.as_dict().items():
                setattr(faults, k, v)
        faults.update(body)
        if "seed" in body:
            service.faults.reseed()
        return _json(_envelope({**faults.as_dict(), "injected": dict(service.faults.injected)}))

    @app.post(f"{PREFIX}/sandbox/tokens/expire")
    async def expire_tokens(request: Request):
        """让所有已发令牌立即过期 (rehearse "token expired → get a new one")."""
        _admin(request, required=False)
        n = service.store.expire_tokens(service.clock.now())
        service.forget_caches()
        return _json(_envelope({"expired": n}))

    @app.post(f"{PREFIX}/sandbox/register")
    async def register(request: Request):
        """注册机构: ``{"org_code": 统一社会信用代码, "org_name": 机构名称}`` → appid + secret (shown once)."""
        _admin(request, required=True)
        body = await _read_object(request, 64 * 1024)
        code, name = body.get("org_code"), body.get("org_name")
        if not isinstance(code, str) or not isinstance(name, str):
            raise ApiError(400, 2008, "缺少必填参数：org_code（统一社会信用代码）和 org_name（机构名称）")
        appid, secret, reset = service.store.register(code, name)
        service.forget_caches()
        log.info("registered org appid=%s reset=%s", appid, reset)
        return _json(_envelope({"appid": appid, "secret": secret, "org_code": code.strip(), "reset": reset}))

    @app.get(f"{PREFIX}/sandbox/orgs")
    async def orgs(request: Request):
        _admin(request, required=True)
        return _json(_envelope([o.as_dict() for o in service.store.orgs()]))

    @app.post(PREFIX + "/sandbox/orgs/{appid}/{action}")
    async def org_action(appid: str, action: str, request: Request):
        """停用/启用账号: ``/sandbox/orgs/{appid}/disable`` or ``/enable``."""
        _admin(request, required=True)
        if action not in ("disable", "enable"):
            raise ApiError(404, 4040, f"未知操作 {action!r}：可用 disable、enable")
        if not service.store.set_active(appid, action == "enable"):
            raise ApiError(404, 1001, f"appid不存在：{appid}")
        service.forget_caches()
        return _json(_envelope({"appid": appid, "active": action == "enable"}))

    return app


class SandboxApp(FastAPI):
    """FastAPI whose outermost layer can drop a connection after commit (fault injection)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._drop_layer = DropConnectionMiddleware(super().__call__)

    async def __call__(self, scope, receive, send) -> None:
        await self._drop_layer(scope, receive, send)


def _int_param(q, name: str, default: int, lo: int, hi: int | None) -> int:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    try:
        v = int(raw)
    except ValueError:
        raise ApiError(400, 2000, f"参数 {name} 应为整数，收到 {raw!r}") from None
    if v < lo or (hi is not None and v > hi):
        raise ApiError(400, 2000, f"参数 {name} 应在 {lo} 到 {hi if hi is not None else '∞'} 之间")
    return v
