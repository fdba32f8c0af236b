"""The sender: batches out through the platform client, answers into the ledger, retries and
splits of oversized batches, progress.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any

from .._exceptions import (
    PlatformRejected,
)
from ._ledger import (
    ACCEPTED,
    DUPLICATE,
    Ledger,
    now_shanghai,
)
from ._summary import DatasetSummary

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
        self.log = None  # the run log (RunLog): every answered batch is written there as it comes

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
            self._log_batch(b.dataset, b.batch_no, b.n, result, None, replay=True)
            resolved += b.n
        return resolved, notes

    def _log_batch(self, dataset: str, batch_no: str, n: int, result, exc, *, replay: bool = False) -> None:
        if self.log is None:
            return
        if exc is not None:
            self.log.event("batch", dataset=dataset, batch_no=batch_no, records=n, refused=exc.message, replay=replay)
            return
        self.log.event(
            "batch",
            dataset=dataset,
            batch_no=batch_no,
            records=n,
            accepted=result.accepted,
            rejected=result.rejected,
            duplicate=result.duplicate,
            replay=replay,
        )

    def sign_in(self, dataset: str, summary: DatasetSummary, day: str) -> str | None:
        """The daily sign-in (每日签到) of a data set the profile marks ``sign_in: daily``: an empty
        array, so that the platform sees the interface called on a day without records. Once a
        day (the ledger keeps it as an answered batch of 0 records); returns a note, or None."""
        if self.ledger.signed_in(dataset, day):
            return None
        batch_no = self.new_batch_no(dataset)
        body = self.client.encode_batch(batch_no, [])
        replay_safe = self.client.profile.replay_safe
        self.ledger.open_batch(dataset, batch_no, [], body, sent=replay_safe)
        if not replay_safe:
            self.ledger.mark_sent(batch_no)
        try:
            result = self.client.send_batch(dataset, batch_no, body, 0)
        except PlatformRejected as exc:
            self.ledger.fail_batch(batch_no, dataset, exc.message, exc.code, platform_day=day)
            return f"{dataset}: 今天没有记录，签到（空数组）被平台拒绝：{exc.message}"
        self.ledger.record_answer(result, platform_day=result.platform_day or day, keys=[])
        summary.batches += 1
        summary.signed_in += 1
        return f"{dataset}: 今天没有记录，已向平台签到（发送空数组，平台应答 {result.code} {result.message}）"

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
            self._log_batch(dataset, batch_no, len(keys), result, exc)
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
