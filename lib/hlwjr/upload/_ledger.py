"""Upload ledger (上传台账): what was sent to the platform, when, in which batch, and what the
platform answered — the memory that makes re-sending impossible.

SQLite in WAL mode under the project's work directory (``.hlwjr/ledger.sqlite``):

* ``records`` — one row per record (data set + business key 业务主键): content hash, state
  ``pending → sent → accepted | rejected | duplicate``, batchNo, attempts, the platform's answer
  and the times;
* ``batches`` — one row per batch with the exact body sent, so that after a crash or an
  ambiguous failure the same batchNo is replayed with byte-identical content (no duplicates);
* ``events`` — the append-only acceptance log (one row per record per answer), with the platform
  day (Asia/Shanghai) the answer counts for; readiness and the evidence pack read it.

A record is written ``pending`` before it is sent; a record already accepted is never sent again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError, UploadError
from .._privacy import mask_value
from ._guard import LedgerIdentity, check_ledger, new_identity, read_identity, write_witness
from ._results import BatchResult, RecordResult

__all__ = ["Ledger", "LedgerBatch", "accepted_counts", "content_hash", "now_shanghai", "record_json", "record_key"]

PENDING, SENT, ACCEPTED, REJECTED, DUPLICATE = "pending", "sent", "accepted", "rejected", "duplicate"
REFUSED = "refused"  # acceptance-log status of a request the platform refused as a whole (not counted)
UNRESOLVED = (PENDING, SENT)
# a record waiting for its answer reads "sent" once its batch went out
_EFFECTIVE_STATE = "CASE WHEN r.state='pending' AND b.state='sent' THEN 'sent' ELSE r.state END"
_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
KEY_SEP = "|"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT);
CREATE TABLE IF NOT EXISTS records (
    dataset      TEXT NOT NULL,
    key          TEXT NOT NULL,          -- business key (业务主键) joined with "|"
    hash         TEXT NOT NULL,          -- content hash of the record as sent
    state        TEXT NOT NULL,          -- pending | sent | accepted | rejected | duplicate
    batch_no     TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    answer       TEXT,                   -- the platform's errors / note for this record (JSON)
    data_date    TEXT,                   -- business date (业务日期) of the record
    platform_day TEXT,                   -- the day (Asia/Shanghai) the answer counts for
    whole_batch  INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    sent_at      TEXT,
    answered_at  TEXT,
    PRIMARY KEY (dataset, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_batch ON records(batch_no);
CREATE TABLE IF NOT EXISTS batches (
    batch_no    TEXT PRIMARY KEY,
    dataset     TEXT NOT NULL,
    n           INTEGER NOT NULL,
    state       TEXT NOT NULL,           -- pending | sent | answered | failed
    body        BLOB NOT NULL,           -- exact bytes sent (replayed byte for byte)
    keys        TEXT,                    -- the records' keys in batch order (JSON)
    attempts    INTEGER NOT NULL DEFAULT 0,
    code        TEXT,
    message     TEXT,
    created_at  TEXT NOT NULL,
    sent_at     TEXT,
    answered_at TEXT,
    platform_day TEXT
);
CREATE TABLE IF NOT EXISTS events (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    platform_day TEXT NOT NULL,
    dataset      TEXT NOT NULL,
    key          TEXT NOT NULL,
    hash         TEXT NOT NULL,
    batch_no     TEXT NOT NULL,
    status       TEXT NOT NULL,          -- accepted | rejected | duplicate | refused (request refused)
    errors       TEXT
);
CREATE INDEX IF NOT EXISTS events_day ON events(platform_day, dataset);
"""


def _private_dir(path: Path) -> None:
    """The work directory owner-only (0700): created so, or tightened when it is ours and open to
    others (it holds the ledger, backups and the secret)."""
    if not path.exists():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return
    st = path.stat()
    if st.st_mode & 0o077 and hasattr(os, "getuid") and st.st_uid == os.getuid():
        with contextlib.suppress(OSError):
            path.chmod(0o700)


def now_shanghai() -> datetime:
    return datetime.now(_TZ).replace(tzinfo=None)


def _ts(dt: datetime | None = None) -> str:
    return (dt or now_shanghai()).strftime("%Y-%m-%d %H:%M:%S")


def _jsonable(v: Any) -> Any:
    if hasattr(v, "item") and callable(v.item):  # numpy scalar
        return v.item()
    if hasattr(v, "isoformat"):
        return v.isoformat(sep=" ") if isinstance(v, datetime) else v.isoformat()
    raise TypeError(f"不能序列化为 JSON 的值类型 {type(v).__name__}")


_ENCODER = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_jsonable, allow_nan=False
)


def record_json(record: dict[str, Any]) -> str:
    """A record as canonical JSON (keys sorted, no spaces, UTF-8) — what is sent and hashed."""
    return _ENCODER.encode(record)


def content_hash(record_or_json: dict[str, Any] | str) -> str:
    s = record_or_json if isinstance(record_or_json, str) else record_json(record_or_json)
    return hashlib.blake2b(s.encode("utf-8"), digest_size=16).hexdigest()


def record_key(record: dict[str, Any], key_fields: Sequence[str]) -> tuple[str, ...]:
    """The business key (业务主键) of a record as a tuple of strings."""
    out = []
    for f in key_fields:
        v = record.get(f)
        out.append(v if type(v) is str else "" if v is None else str(v))
    return tuple(out)


def match_partial(wanted: Sequence[tuple], full_keys: Iterable[tuple]) -> set[tuple]:
    """Which ``wanted`` keys match the end of one of ``full_keys``: a reference may name only the
    trailing fields of the target's business key (the organisation, ``organID``, is implied)."""
    lengths = {len(k) for k in wanted}
    suffixes: dict[int, set[tuple]] = {n: set() for n in lengths}
    for fk in full_keys:
        for n in lengths:
            if n < len(fk):
                suffixes[n].add(fk[-n:])
    return {k for k in wanted if k in suffixes[len(k)]}


@dataclass
class LedgerBatch:
    """A batch not yet answered (未确认批次), to be replayed with the same batchNo and body."""

    batch_no: str
    dataset: str
    n: int
    state: str
    body: bytes
    attempts: int


class Ledger:
    """The upload ledger (上传台账) on SQLite (WAL). Safe for one writer process at a time (the
    upload lock file ensures that) and any number of readers; thread-safe within a process."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.identity: LedgerIdentity | None = None  # set by for_project (the guarded open)
        db = None
        try:
            _private_dir(self.path.parent)
            if not self.path.exists():  # records of patients: readable by the owner only (0600)
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            self._db = db = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, never corrupt
            self._db.execute("PRAGMA temp_store=MEMORY")
            self._db.execute("PRAGMA cache_size=-16000")
            self._db.executescript(_SCHEMA)
            cols = {r[1] for r in self._db.execute("PRAGMA table_info(batches)")}
            if "keys" not in cols:  # a ledger from before the column existed
                self._db.execute("ALTER TABLE batches ADD COLUMN keys TEXT")
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', '1')")
        except sqlite3.DatabaseError as exc:
            if db is not None:  # not a ledger (or damaged): leave no open handle on it
                db.close()
            raise ConfigError(
                f"无法打开上传台账 {self.path}: {exc}；文件可能已损坏或不是 hlwjr 台账", where=str(self.path)
            ) from exc
        except OSError as exc:
            raise ConfigError(f"无法创建工作目录 {self.path.parent}: {exc.strerror}", where=str(self.path)) from exc
        self._lock = threading.RLock()
        self._deferred: list[tuple] = []
        self._closed = False

    @classmethod
    def for_project(cls, project) -> Ledger:
        """The project's ledger, opened only after :func:`check_ledger` found it to be the one the
        last run left behind (missing, emptied, replaced, older or damaged → ``LedgerError``)."""
        check_ledger(project.ledger_path)
        ledger = cls(project.ledger_path)
        with ledger._lock:
            ledger.identity = read_identity(ledger._db) or new_identity(ledger._db)
        ledger._note_progress(count_accepted=True)
        return ledger

    def _note_progress(self, *, count_accepted: bool = False) -> None:
        """Bring ``ledger.id`` up to the sequence of the last commit (guarded ledgers only)."""
        if self.identity is None:
            return
        seq = int(self._db.execute("SELECT v FROM meta WHERE k='seq'").fetchone()[0])
        accepted = self.identity.accepted
        if count_accepted:
            accepted = self._db.execute("SELECT count(*) FROM records WHERE state='accepted'").fetchone()[0]
        self.identity = LedgerIdentity(self.identity.ledger_id, seq, accepted)
        write_witness(self.path, self.identity)

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    def flush(self) -> None:
        """Write answers kept back by ``record_answer(..., defer=True)``."""
        with self._lock:
            if self._deferred:
                with self._tx():
                    pass

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self.flush()
                self._note_progress(count_accepted=True)
            finally:  # the connection is closed even when the last write fails
                self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    deferred, self._deferred = self._deferred, []
                    for result, day, keys, at in deferred:
                        self._write_answer(self._db, result, day, keys, at)
                    yield self._db
                    self._db.execute("UPDATE meta SET v = CAST(v AS INTEGER) + 1 WHERE k = 'seq'")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
                self._note_progress()
            except sqlite3.OperationalError as exc:
                raise UploadError(f"上传台账写入失败: {exc}（另一个进程正占用台账？）", where=str(self.path)) from exc

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            if self._deferred:
                self.flush()
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise UploadError(f"读取上传台账失败: {exc}", where=str(self.path)) from exc

    # ------------------------------------------------------------------ lookups

    def states(self, dataset: str, keys: Iterable[tuple[str, ...] | str]) -> dict[str, tuple[str, str, int]]:
        """``{joined key: (state, hash, whole_batch)}`` for those of ``keys`` the ledger knows."""
        joined = [k if isinstance(k, str) else KEY_SEP.join(k) for k in keys]
        out: dict[str, tuple[str, str, int]] = {}
        for i in range(0, len(joined), 500):
            chunk = joined[i : i + 500]
            q = ",".join("?" * len(chunk))
            for key, state, h, wb in self._query(
                f"SELECT r.key, {_EFFECTIVE_STATE}, r.hash, r.whole_batch FROM records r LEFT JOIN batches b "
                f"ON b.batch_no = r.batch_no WHERE r.dataset=? AND r.key IN ({q})",
                [dataset, *chunk],
            ):
                out[key] = (state, h, wb)
        return out

    def known(self, dataset_code: str, keys: Iterable[tuple]) -> set[tuple]:
        """Keys of ``dataset_code`` already accepted by the platform — the validation engine's
        reference lookup (``ReferenceLookup``): is the revisit of this prescription on the platform?"""
        keys = [tuple("" if x is None else str(x) for x in k) for k in keys]
        st = self.states(dataset_code, keys)
        found = {k for k in keys if st.get(KEY_SEP.join(k), ("",))[0] in (ACCEPTED, DUPLICATE)}
        rest = [k for k in keys if k not in found]
        if rest:  # a reference naming only the last key fields (bussID of key organID+bussID)
            rows = self._query(
                "SELECT key FROM records WHERE dataset=? AND state IN ('accepted','duplicate')", (dataset_code,)
            )
            found |= match_partial(rest, (tuple(r[0].split(KEY_SEP)) for r in rows))
        return found

    def accepted_keys(self, dataset: str) -> set[str]:
        return {r[0] for r in self._query("SELECT key FROM records WHERE dataset=? AND state=?", (dataset, ACCEPTED))}

    def unresolved_batches(self) -> list[LedgerBatch]:
        """Batches written but not answered (crash, ambiguous failure), oldest first."""
        rows = self._query(
            "SELECT batch_no, dataset, n, state, body, attempts FROM batches "
            "WHERE state IN ('pending','sent') ORDER BY created_at, rowid"
        )
        return [LedgerBatch(r[0], r[1], r[2], r[3], bytes(r[4]), r[5]) for r in rows]

    def counts(self) -> dict[str, dict[str, int]]:
        """``{dataset: {state: n}}`` over the whole ledger."""
        out: dict[str, dict[str, int]] = {}
        for ds, state, n in self._query(
            f"SELECT r.dataset, {_EFFECTIVE_STATE}, count(*) FROM records r "
            "LEFT JOIN batches b ON b.batch_no = r.batch_no GROUP BY 1, 2"
        ):
            out.setdefault(ds, {})[state] = n
        return out

    def accepted_on(self, day: str, dataset: str | None = None) -> dict[str, int]:
        """Accepted records per data set whose answer counts for platform ``day``."""
        sql = "SELECT dataset, count(*) FROM events WHERE platform_day=? AND status='accepted'"
        params: list[Any] = [day]
        if dataset:
            sql += " AND dataset=?"
            params.append(dataset)
        return dict(self._query(sql + " GROUP BY dataset", params))

    def events(
        self, *, since: str | None = None, until: str | None = None, dataset: str | None = None
    ) -> list[dict[str, Any]]:
        """The acceptance log (上传日志): one dict per record answer, oldest first."""
        sql = "SELECT at, platform_day, dataset, key, hash, batch_no, status, errors FROM events WHERE 1=1"
        params: list[Any] = []
        if since:
            sql += " AND platform_day>=?"
            params.append(since)
        if until:
            sql += " AND platform_day<=?"
            params.append(until)
        if dataset:
            sql += " AND dataset=?"
            params.append(dataset)
        cols = ("at", "platform_day", "dataset", "key", "hash", "batch_no", "status", "errors")
        return [dict(zip(cols, r)) for r in self._query(sql + " ORDER BY id", params)]

    def signed_in(self, dataset: str, day: str) -> bool:
        """True when the data set's daily sign-in (每日签到: an empty call) was answered on ``day``."""
        rows = self._query(
            "SELECT 1 FROM batches WHERE dataset=? AND n=0 AND state='answered' AND platform_day=? LIMIT 1",
            (dataset, day),
        )
        return bool(rows)

    def sign_ins(self) -> dict[str, list[str]]:
        """Every answered daily sign-in: day → data sets."""
        out: dict[str, list[str]] = {}
        rows = self._query(
            "SELECT platform_day, dataset FROM batches WHERE n=0 AND state='answered' ORDER BY platform_day, dataset"
        )
        for day, dataset in rows:
            out.setdefault(day, []).append(dataset)
        return out

    def prune_bodies(self, before: str) -> tuple[int, int]:
        """Empty the stored bodies of batches answered before ``before`` (``YYYY-MM-DD``) — the
        exact bytes are kept only to replay an unanswered batch; over years they would hold every
        record sent. Records, states, batch numbers, keys and answers stay. Returns (batches, bytes
        freed on disk)."""
        size = self.path.stat().st_size
        with self._tx() as db:
            n = db.execute(
                "UPDATE batches SET body = x'' WHERE state IN ('answered','failed') AND length(body) > 0 "
                "AND answered_at < ?",
                (before,),
            ).rowcount
        if n:
            with self._lock:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._db.execute("VACUUM")
        return n, max(0, size - self.path.stat().st_size)

    def stored_bodies(self) -> tuple[int, int]:
        """(batches, bytes) of batch bodies still kept (what ``prune_bodies`` can empty)."""
        n, size = self._query("SELECT count(*), coalesce(sum(length(body)), 0) FROM batches WHERE length(body) > 0")[0]
        return int(n), int(size)

    def meta(self, key: str) -> str | None:
        """A value of the ledger's own ``meta`` table (e.g. the platform it speaks for)."""
        rows = self._query("SELECT v FROM meta WHERE k = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def record_count(self) -> int:
        """Records the ledger knows in any state (0: it has never sent anything)."""
        return self._query("SELECT count(*) FROM records")[0][0]

    def batch_body(self, batch_no: str) -> bytes | None:
        rows = self._query("SELECT body FROM batches WHERE batch_no=?", (batch_no,))
        return bytes(rows[0][0]) if rows else None

    def record_rows(self, dataset: str | None = None) -> list[dict[str, Any]]:
        cols = (
            "dataset",
            "key",
            "hash",
            "state",
            "batch_no",
            "attempts",
            "answer",
            "data_date",
            "platform_day",
            "created_at",
            "sent_at",
            "answered_at",
        )
        sel = [f"r.{c}" for c in cols]
        sel[3] = _EFFECTIVE_STATE
        sel[10] = "COALESCE(r.sent_at, b.sent_at)"
        sql = f"SELECT {', '.join(sel)} FROM records r LEFT JOIN batches b ON b.batch_no = r.batch_no"
        params: list[Any] = []
        if dataset:
            sql += " WHERE r.dataset=?"
            params.append(dataset)
        return [dict(zip(cols, r)) for r in self._query(sql + " ORDER BY r.created_at", params)]

    # ------------------------------------------------------------------ writes

    def adopt_accepted(self, rows: Iterable[tuple[str, str, str, str, str | None]]) -> int:
        """Record keys the platform already accepted (rebuilding a lost ledger): each row is
        ``(dataset, joined key, content hash, platform day, received at)``; state ``accepted``,
        one acceptance event each, batch ``rebuild``. Returns how many were new."""
        now = _ts()
        rows = list(rows)
        with self._tx() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO records (dataset, key, hash, state, batch_no, attempts, platform_day, "
                "created_at, sent_at, answered_at) VALUES (?,?,?,?,'rebuild',1,?,?,?,?)",
                [(ds, k, h, ACCEPTED, day, now, at or now, at or now) for ds, k, h, day, at in rows],
            )
            added = db.total_changes - before
            db.executemany(
                "INSERT INTO events (at, platform_day, dataset, key, hash, batch_no, status) "
                "VALUES (?,?,?,?,?,'rebuild',?)",
                [(at or now, day, ds, k, h, ACCEPTED) for ds, k, h, day, at in rows],
            )
        return added

    def open_batch(
        self,
        dataset: str,
        batch_no: str,
        items: Sequence[tuple[str, str]],
        body: bytes,
        *,
        data_date: str | None = None,
        sent: bool = False,
        update: bool = False,
    ) -> None:
        """Write a batch and its records as ``pending`` in one transaction, before sending.

        ``items`` are ``(joined key, content hash)`` in batch order. A record already accepted
        or in flight must not be in a new batch (``UploadError``: that would be a duplicate).
        ``sent=True`` also marks the batch as going out, in the same transaction — for platforms
        that answer a replayed batchNo, where "written" and "sent" recover the same way.
        ``update=True``: the records are corrections (更正) of accepted ones and may be re-batched.
        """
        now = _ts()
        with self._tx() as db:
            db.execute(
                "INSERT INTO batches (batch_no, dataset, n, state, body, keys, created_at, sent_at, attempts) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    batch_no,
                    dataset,
                    len(items),
                    SENT if sent else PENDING,
                    body,
                    json.dumps([k for k, _ in items], ensure_ascii=False),
                    now,
                    now if sent else None,
                    1 if sent else 0,
                ),
            )
            before = db.total_changes
            # a record that is accepted, duplicate or in flight is never re-batched: the upsert
            # skips it, and the count below turns that into an error (the transaction rolls back)
            db.executemany(
                "INSERT INTO records (dataset, key, hash, state, batch_no, attempts, data_date, created_at) "
                "VALUES (?,?,?,?,?,0,?,?) ON CONFLICT(dataset, key) DO UPDATE SET hash=excluded.hash, "
                "state=excluded.state, batch_no=excluded.batch_no, answer=NULL, whole_batch=0, "
                "data_date=excluded.data_date WHERE records.state IN "
                + ("('rejected','accepted')" if update else "('rejected')"),
                [(dataset, k, h, PENDING, batch_no, data_date, now) for k, h in items],
            )
            if db.total_changes - before != len(items):
                keys = [k for k, _ in items]
                bad = db.execute(
                    f"SELECT key, state FROM records WHERE dataset=? AND key IN ({','.join('?' * len(keys))}) "
                    "AND batch_no<>?",
                    [dataset, *keys, batch_no],
                ).fetchall()
                k, st = bad[0] if bad else ("?", "?")
                # a key may hold an ID-card number (医师 doctorCertID): masked (脱敏) in the message
                raise UploadError(
                    f"记录 {mask_value(k)} 在台账中的状态是 {st}，不能再放进新批次（会造成重复上报）",
                    where=f"{dataset} {batch_no}",
                )

    def mark_sent(self, batch_no: str) -> None:
        """The batch is about to go out (after this, a crash makes it ambiguous: replay it).

        The batch row carries the state; its records read as ``sent`` until the answer comes."""
        now = _ts()
        with self._tx() as db:
            # one row: the batch's records read as "sent" through it (see _EFFECTIVE_STATE)
            db.execute(
                "UPDATE batches SET state=?, sent_at=?, attempts=attempts+1 WHERE batch_no=?", (SENT, now, batch_no)
            )

    def record_answer(
        self, result, *, platform_day: str, keys: Sequence[str] | None = None, defer: bool = False
    ) -> None:
        """Store the platform's answer to a batch (a ``BatchResult``): one state per record and
        one acceptance-log event each, in one transaction. ``keys`` are the batch's keys in the
        order sent (recovered from the stored body when omitted, e.g. after a crash).

        ``defer=True`` writes the answer with the next write (or :meth:`flush`) instead of its own
        transaction: if the process dies first, the batch is still unanswered and the next run
        replays it — the platform answers a replay without counting it again, so nothing is lost."""
        if defer:
            with self._lock:
                self._deferred.append((result, platform_day, keys, _ts()))
            return
        with self._tx() as db:
            self._write_answer(db, result, platform_day, keys, _ts())

    def _write_answer(self, db, result, platform_day: str, keys, now: str) -> None:
        whole = 1 if result.whole_batch else 0
        others = [r for r in result.results if r.status != ACCEPTED or r.errors]
        if others and keys is None:  # after a crash: the order stored with the batch
            row = db.execute("SELECT keys, body FROM batches WHERE batch_no=?", (result.batch_no,)).fetchone()
            if row and row[0]:
                keys = json.loads(row[0])
            else:
                rows = db.execute(
                    "SELECT key, hash FROM records WHERE batch_no=? AND dataset=?", (result.batch_no, result.dataset)
                ).fetchall()
                keys = _keys_in_body_order(rows, row[1] if row else b"")
        # the common case in one statement: everything accepted …
        db.execute(
            "UPDATE records SET state=?, answer=NULL, platform_day=?, whole_batch=?, answered_at=?, "
            "attempts=attempts+1, sent_at=(SELECT sent_at FROM batches WHERE batch_no=?) "
            "WHERE batch_no=? AND dataset=? AND state IN ('pending','sent')",
            (ACCEPTED, platform_day, whole, now, result.batch_no, result.batch_no, result.dataset),
        )
        # … then the exceptions with their reasons
        if others:
            # whole_batch marks an innocent record of a batch refused as a whole: it may go again
            db.executemany(
                "UPDATE records SET state=?, answer=?, whole_batch=? WHERE dataset=? AND key=?",
                [
                    (
                        r.status,
                        json.dumps(r.errors, ensure_ascii=False) if r.errors else None,
                        1 if whole and r.errors and all(e.get("rule") == "whole_batch" for e in r.errors) else 0,
                        result.dataset,
                        keys[r.index],
                    )
                    for r in others
                ],
            )
        db.execute(
            "INSERT INTO events (at, platform_day, dataset, key, hash, batch_no, status, errors) "
            "SELECT answered_at, platform_day, dataset, key, hash, batch_no, state, answer FROM records "
            "WHERE batch_no=? AND dataset=? AND answered_at=?",
            (result.batch_no, result.dataset, now),
        )
        db.execute(
            "UPDATE batches SET state='answered', code=?, message=?, answered_at=?, platform_day=? WHERE batch_no=?",
            (str(result.code), result.message[:500], now, platform_day, result.batch_no),
        )

    def fail_batch(self, batch_no: str, dataset: str, message: str, code: Any, *, platform_day: str) -> None:
        """The platform refused the whole request before looking at the records (batch too
        large, body refused…): every record of the batch becomes ``rejected`` with that reason
        and is marked innocent (``whole_batch``), so the next run may send it again once the
        cause is fixed; never retried automatically. The acceptance log records it as
        ``refused`` — the platform did not count it as uploaded."""
        now = _ts()
        err = json.dumps([{"rule": f"platform:{code}", "msg": message}], ensure_ascii=False)
        with self._tx() as db:
            rows = db.execute(
                "SELECT key, hash FROM records WHERE batch_no=? AND dataset=?", (batch_no, dataset)
            ).fetchall()
            db.execute(
                "UPDATE records SET state=?, answer=?, platform_day=?, answered_at=?, attempts=attempts+1, "
                "whole_batch=1, sent_at=(SELECT sent_at FROM batches WHERE batch_no=?) WHERE batch_no=? "
                "AND dataset=? AND state IN ('pending','sent')",
                (REJECTED, err, platform_day, now, batch_no, batch_no, dataset),
            )
            db.executemany(
                "INSERT INTO events (at, platform_day, dataset, key, hash, batch_no, status, errors) "
                "VALUES (?,?,?,?,?,?,?,?)",
                [(now, platform_day, dataset, k, h, batch_no, REFUSED, err) for k, h in rows],
            )
            db.execute(
                "UPDATE batches SET state='failed', code=?, message=?, answered_at=? WHERE batch_no=?",
                (str(code), message[:500], now, batch_no),
            )

    def resolve_batch(self, batch_no: str, outcome: str, *, platform_day: str | None = None) -> int:
        """Settle by hand (人工核对) a batch that went out but was never answered, on a platform
        that cannot answer a replayed batchNo: the analyst looked it up in the platform's
        verification log (验证日志) and says what happened.

        * ``"accepted"`` — the platform has the batch: its records become accepted on
          ``platform_day`` (default: the day it was sent) and are never sent again;
        * ``"missing"`` — the platform never stored it: its records may go again, in a new batch,
          on the next run.

        Returns the number of records settled. ``ConfigError`` for an unknown batch or one that
        already has an answer."""
        if outcome not in ("accepted", "missing"):
            raise ConfigError(
                f"人工核对结果应为 accepted（平台已接收）或 missing（平台未收到），收到 {outcome!r}", where="--resolve"
            )
        rows = self._query("SELECT dataset, n, state, sent_at, created_at FROM batches WHERE batch_no=?", (batch_no,))
        if not rows:
            raise ConfigError(
                f"台账中没有批次 {batch_no}：请从上传小结的“发送后未收到应答”提示中复制批次号", where="--resolve"
            )
        dataset, n, state, sent_at, created_at = rows[0]
        if state not in UNRESOLVED:
            raise ConfigError(f"批次 {batch_no} 已有结果（{state}），不需要人工核对", where="--resolve")
        day = platform_day or (sent_at or created_at)[:10]
        if outcome == "missing":
            self.fail_batch(
                batch_no, dataset, "人工核对：平台未收到该批次，记录将在下次运行时重新发送", "manual", platform_day=day
            )
            return int(n)

        result = BatchResult(
            dataset,
            batch_no,
            int(n),
            "manual",
            "人工核对：平台验证日志显示该批次已接收",
            [RecordResult(i, ACCEPTED) for i in range(int(n))],
        )
        with self._tx() as db:
            self._write_answer(db, result, day, None, _ts())
        return int(n)


def _keys_in_body_order(rows: Sequence[tuple[str, str]], body: bytes) -> list[str]:
    """Keys of a batch in the order they were sent, recovered from the stored body by hash."""
    by_hash = {h: k for k, h in rows}
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return [k for k, _ in rows]
    recs = data if isinstance(data, list) else next((v for v in data.values() if isinstance(v, list)), [])
    out = []
    for rec in recs:
        out.append(by_hash.get(content_hash(record_json(rec)), ""))
    return out


def accepted_counts(spec, records_by_dataset: dict, ledger) -> dict[str, int]:
    """Per data set, how many of these records (DataFrames or lists of dicts) the platform already
    accepted, by business key — what ``upload`` skips, shown by ``validate --config`` and notebook 05."""
    if ledger is None:
        return {}
    out = {}
    for code, records in records_by_dataset.items():
        key = spec.dataset(code).key
        keys = _key_tuples(records, key)
        n = len(ledger.known(code, keys)) if key and keys else 0
        if n:
            out[code] = n
    return out


def _key_tuples(records, key) -> list[tuple]:
    """Business keys of mapped records (a DataFrame or a list of dicts); missing parts as ""."""

    def text(v) -> str:
        return "" if v is None or v != v else str(v)  # None / NaN

    if hasattr(records, "columns"):
        if not all(k in records.columns for k in key):
            return []
        return [tuple(text(v) for v in row) for row in records[list(key)].itertuples(index=False)]
    return [tuple(text(r.get(k)) for k in key) for r in records if isinstance(r, dict)]
