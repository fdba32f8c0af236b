"""The platform's behaviour behind the HTTP layer: organisations and tokens, uploads with the
mandatory checks, duplicates and replays, grouped validation, the verification log.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as _dt
import hashlib
import json
import logging
import secrets
import time
import uuid
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError, HlwjrError
from .._privacy import key_digest
from ._clock import Clock, beijing_day, format_beijing
from ._faults import FaultInjector
from ._settings import SandboxSettings
from ._store import KEY_SEP, Org, Store
from ._verify import compute_verify_log
from ._wire import _DATE_RE, _OK_MSG, _SKIP_RULES, ApiError, _envelope, json_dumps, mask_key

log = logging.getLogger("hlwjr.sandbox")


def _content_hash(payloads: list[bytes]) -> str:
    digest = hashlib.sha256()
    for p in payloads:
        digest.update(p)
        digest.update(b"\n")
    return digest.hexdigest()


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

    __slots__ = ("batch_no", "content_hash", "ds", "errors", "org", "payloads", "records", "warnings", "whole_batch")

    def __init__(self, org: Org, ds, batch_no: str, records: list, payloads: list[bytes], content_hash: str) -> None:
        self.org, self.ds, self.batch_no, self.records = org, ds, batch_no, records
        self.payloads, self.content_hash = payloads, content_hash
        self.errors: list[list[dict]] = []
        self.warnings: list[list[dict]] = []
        self.whole_batch: bool | None = None  # None: the sandbox's setting; the gateway: always


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
        self._methods: dict[str, str] | None = None
        from ._gateway import NonceBook

        self.nonces = NonceBook()
        self.clock = self._stored_clock()
        if self.settings.clock:
            self.set_clock(self.settings.clock)

    # -- clock -----------------------------------------------------------------------------
    def _stored_clock(self) -> Clock:
        """The clock as last set; a stored offset that cannot be used (not a number, beyond ±10
        years) is reset to real time with a warning, so the sandbox always starts."""
        stored = self.store.get_meta("clock_offset", "0") or "0"
        try:
            return Clock(float(stored))
        except (ValueError, ConfigError):
            log.warning("沙箱时钟偏移 %r 不可用（不是数字或超出 ±10 年），已重置为真实时间", stored[:40])
            self.store.set_meta("clock_offset", "0.0")
            return Clock()

    def set_clock(self, when: str | float | None = None, *, advance: float = 0.0, reset: bool = False) -> dict:
        """Set and/or advance the clock — all or nothing: out of range leaves it unchanged."""
        clock = Clock(0.0 if reset else self.clock.offset)
        if when is not None:
            clock.set(when)
        if advance:
            clock.advance(advance)
        self.clock.offset = clock.offset
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
        pending = PendingBatch(org, ds, batch_no, records, payloads, _content_hash(payloads))
        replay = self._replay(pending)
        return replay if replay is not None else pending

    # -- the gateway (--protocol tianjin | gateway-hmac) --------------------------------------------
    def gateway_prepare(self, headers, body: bytes) -> PendingBatch | dict:
        """Check a gateway request (signature, digest, time, nonce, method, decryption): a
        :class:`PendingBatch` for the same validation and store as the token API, or the answer
        itself (an empty array: the daily sign-in, -98 数据为空)."""
        from ._gateway import GatewayError, gateway_answer

        check = self.gateway_check(headers, body)
        org = self.org(check.app_key)
        if org is None:
            raise GatewayError(40002, "appKey不存在：请核对 X-Ca-Key（沙箱用 hlwjr sandbox register 注册）")
        if not org.active:
            raise GatewayError(40003, "appKey冻结：该机构账号已停用")
        secret = self.store.gateway_key(org.appid)
        check.signature(secret or "")
        check.freshness(self.nonces)
        ds = self.dataset(check.dataset(self.gateway_methods))
        if secret is None:
            raise GatewayError(
                40004, "appKey与appSecret不匹配：该机构注册时尚无国密网关密钥，请重新注册以获得 32 位十六进制 appSecret"
            )
        records = check.records(secret)
        if not records:
            self.store.add_sign_in(org.org_code, ds.code, self.clock.today(), self.clock.now())
            log.info("gateway sign-in appid=%s dataset=%s", org.appid, ds.code)
            return gateway_answer(body={"msgCode": -98, "msg": "数据为空"})
        if len(records) > self.settings.max_batch:
            raise GatewayError(40001, f"参数错误：每次最多 {self.settings.max_batch} 条，本次 {len(records)} 条")
        try:
            payloads = [json_dumps(r, sort_keys=True) for r in records]
        except RecursionError:
            raise GatewayError(40001, "参数错误：记录嵌套层数过深") from None
        pending = PendingBatch(org, ds, "gw-" + uuid.uuid4().hex, records, payloads, _content_hash(payloads))
        pending.whole_batch = True  # the gateway stores all or nothing and answers the first bad record
        return pending

    def gateway_check(self, headers, body: bytes):
        """The request's check in this sandbox's gateway format (``--protocol``)."""
        from ._gateway import SUITES, RequestCheck

        return RequestCheck(headers, body, SUITES[self.settings.protocol])

    @property
    def gateway_methods(self) -> dict[str, str]:
        if self._methods is None:
            from ._gateway import method_table

            self._methods = method_table(self.spec)
        return self._methods

    @staticmethod
    def gateway_result(response: str) -> dict:
        """The gateway's answer for a processed batch (the token API's response JSON): 200, or the
        first bad record — -99 with its empty required fields joined by ``|``, else -1."""
        from ._gateway import gateway_answer

        data = json.loads(response)
        if data["code"] == 0:
            return gateway_answer(body={"msgCode": 200, "msg": "请求成功"})
        for item in data["data"]["results"]:
            own = [e for e in item["errors"] if e.get("rule") != "whole_batch"]
            if item["status"] != "fail" or not own:
                continue
            if all(e.get("rule") == "required" for e in own):
                fields = "|".join(dict.fromkeys(str(e.get("field")) for e in own))
                return gateway_answer(body={"msgCode": -99, "msg": fields})
            e = own[0]
            where = f"第 {item['index'] + 1} 条记录 {e.get('field') or ''}".strip()
            return gateway_answer(body={"msgCode": -1, "msg": f"{where}：{e.get('msg')}"})
        return gateway_answer(body={"msgCode": -1, "msg": data.get("msg") or "处理失败"})

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
        if n_fail and (self.settings.whole_batch if b.whole_batch is None else b.whole_batch):
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
        result["sign_ins"] = [  # daily sign-ins (每日签到) of the 国密 gateway: the interface was called
            {"day": day, "dataset": ds}
            for day, ds in self.store.sign_ins(org.org_code)
            if (date_from or "") <= day <= (date_to or "9999") and ds_code in (None, ds)
        ]
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
            biz_key = r.pop("biz_key", None)
            keyed = bool(biz_key) and not biz_key.startswith("#")
            r["key"] = mask_key(biz_key) if keyed else None
            r["key_digest"] = key_digest(biz_key.split(KEY_SEP)) if keyed else None
        return {"date": date, "dataset": ds_code, "total": total, "offset": offset, "limit": limit, "records": rows}
