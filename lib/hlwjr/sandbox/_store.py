"""Persistent state of the sandbox platform: one SQLite database (WAL) under the data directory.

Tables: ``orgs`` (registered hospitals: appid, 统一社会信用代码, salted secret hash),
``gateway_keys`` (the appSecret the 国密 gateway decrypts with — SM4 is symmetric, so a gateway
must hold it — wrapped with AES-GCM under ``gateway.key``, a 0600 file beside the database: the
database alone holds no secret), ``sign_ins`` (daily sign-ins: an empty call of a data set's interface), ``tokens``
(only SHA-256 of each token), ``batches`` (every processed batch with its content hash and the
response, for replays), ``records`` (accepted records by business key 业务主键), ``upload_log``
(one row per uploaded record: the 验证日志), ``meta`` (clock offset, schema version).

Every upload is one transaction: a rejected request leaves nothing behind.  Restarting the
server loses nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import os
import re
import secrets
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .._exceptions import ConfigError

__all__ = ["KEY_SEP", "Org", "Store", "check_uscc", "hash_secret", "verify_secret"]

DB_NAME = "sandbox.sqlite"
GATEWAY_KEY_FILE = "gateway.key"
SCHEMA_VERSION = 1
#: Separator of business-key parts in the ``biz_key`` column (never appears in real data).
KEY_SEP = "\x1f"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orgs (
    appid TEXT PRIMARY KEY,
    org_code TEXT NOT NULL UNIQUE,
    org_name TEXT NOT NULL,
    salt BLOB NOT NULL,
    secret_hash BLOB NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    secret_set_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,
    appid TEXT NOT NULL,
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    appid TEXT NOT NULL,
    org_code TEXT NOT NULL,
    dataset TEXT NOT NULL,
    batch_no TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    received_at REAL NOT NULL,
    day TEXT NOT NULL,
    code INTEGER NOT NULL,
    response TEXT NOT NULL,
    UNIQUE (appid, dataset, batch_no)
);
CREATE TABLE IF NOT EXISTS records (
    org_code TEXT NOT NULL,
    dataset TEXT NOT NULL,
    biz_key TEXT NOT NULL,
    batch_id INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    received_at REAL NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (org_code, dataset, biz_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS upload_log (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL,
    org_code TEXT NOT NULL,
    dataset TEXT NOT NULL,
    day TEXT NOT NULL,
    received_at REAL NOT NULL,
    idx INTEGER NOT NULL,
    biz_key TEXT,
    status TEXT NOT NULL,
    errors TEXT
);
CREATE INDEX IF NOT EXISTS upload_log_org_day ON upload_log (org_code, day, dataset);
CREATE TABLE IF NOT EXISTS gateway_keys (
    appid TEXT PRIMARY KEY,
    wrapped BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS sign_ins (
    org_code TEXT NOT NULL,
    dataset TEXT NOT NULL,
    day TEXT NOT NULL,
    received_at REAL NOT NULL,
    PRIMARY KEY (org_code, dataset, day)
) WITHOUT ROWID;
"""

# 统一社会信用代码 (GB 32100-2015): 18 characters from this alphabet, last one a check character.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(rf"[{_USCC_CHARS}]{{18}}")


def check_uscc(code: str) -> str | None:
    """Why ``code`` is not a 统一社会信用代码 (GB 32100), in Chinese, or None if it is one."""
    if not isinstance(code, str) or not _USCC_RE.fullmatch(code):
        return "统一社会信用代码应为18位数字或大写字母（不含 I、O、Z、S、V）"
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(code[:17], _USCC_WEIGHTS))
    expected = _USCC_CHARS[(31 - total % 31) % 31]
    if code[17] != expected:
        return f"统一社会信用代码校验位错误（GB 32100）：第18位应为 {expected}"
    return None


# scrypt parameters (RFC 7914): ~16 MiB memory, a few tens of ms per check.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def hash_secret(secret: str, salt: bytes | None = None) -> tuple[bytes, bytes]:
    """Salted scrypt hash of an appid's secret → (salt, hash) for the token API."""
    salt = salt or secrets.token_bytes(16)
    return salt, hashlib.scrypt(secret.encode("utf-8"), salt=salt, **_SCRYPT)


def verify_secret(secret: str, salt: bytes, expected: bytes) -> bool:
    return hmac.compare_digest(hash_secret(secret, salt)[1], expected)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Org:
    """A registered hospital (接入机构): appid, 统一社会信用代码 (org_code), name, active flag."""

    __slots__ = ("active", "appid", "created_at", "org_code", "org_name")

    def __init__(self, appid: str, org_code: str, org_name: str, active: bool, created_at: float) -> None:
        self.appid, self.org_code, self.org_name = appid, org_code, org_name
        self.active, self.created_at = bool(active), created_at

    def as_dict(self) -> dict:
        return {"appid": self.appid, "org_code": self.org_code, "org_name": self.org_name, "active": self.active}


class Store:
    """The sandbox database under ``data_dir`` (created if missing)."""

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self._savepoints = itertools.count(1)
        conn = None
        try:
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.path = self.data_dir / DB_NAME
            if not self.path.exists():  # the platform's copy of patients' records: owner-only (0600)
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            self.conn = conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.executescript(_SCHEMA)
            self.conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        except (OSError, sqlite3.Error) as exc:
            if conn is not None:  # a damaged database file: leave no open handle on it
                conn.close()
            raise ConfigError(f"无法打开沙箱数据目录: {exc}", where=str(data_dir)) from exc

    def close(self) -> None:
        self.conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE … COMMIT); rolled back on any exception.

        Inside an open transaction it is a SAVEPOINT: the inner work is undone alone on an
        exception (group commit: several uploads, each all-or-nothing, one COMMIT)."""
        if self.conn.in_transaction:
            name = f"sp{next(self._savepoints)}"
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
                raise
            else:
                self.conn.execute(f"RELEASE {name}")
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    # -- meta ---------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- organisations ----------------------------------------------------------------------
    def register(self, org_code: str, org_name: str) -> tuple[str, str, bool]:
        """Register a hospital, or issue a new secret to one already registered.

        Returns ``(appid, secret, reset)``; the secret is shown once (its salted hash serves the
        token API; the 国密 gateway keeps the secret itself — SM4 is symmetric),
        ``reset`` is True when the organisation existed and its old secret is no longer valid.
        """
        org_code = (org_code or "").strip()
        org_name = (org_name or "").strip()
        problem = check_uscc(org_code)
        if problem:
            raise ConfigError(f"{problem}（收到 {org_code!r}）", where="--org-code")
        if not org_name:
            raise ConfigError("机构名称不能为空", where="--org-name")
        secret = secrets.token_hex(16)  # 32 hex characters: also the 国密 gateway's SM4 key
        salt, digest = hash_secret(secret)
        now = time.time()
        with self.transaction() as c:
            row = c.execute("SELECT appid FROM orgs WHERE org_code = ?", (org_code,)).fetchone()
            if row:
                appid = row[0]
                c.execute(
                    "UPDATE orgs SET salt = ?, secret_hash = ?, org_name = ?, secret_set_at = ? WHERE appid = ?",
                    (salt, digest, org_name, now, appid),
                )
                c.execute("UPDATE tokens SET revoked = 1 WHERE appid = ?", (appid,))
                self._set_gateway_key(c, appid, secret)
                return appid, secret, True
            appid = "hlw" + secrets.token_hex(8)
            c.execute(
                "INSERT INTO orgs (appid, org_code, org_name, salt, secret_hash, active, created_at, secret_set_at)"
                " VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
                (appid, org_code, org_name, salt, digest, now, now),
            )
            self._set_gateway_key(c, appid, secret)
        return appid, secret, False

    def _master_key(self) -> bytes:
        """The key that wraps the gateway secrets (``gateway.key``, 0600, created once, whole)."""
        path = self.data_dir / GATEWAY_KEY_FILE
        if not path.exists():
            fd, tmp = tempfile.mkstemp(prefix=".gateway.", dir=self.data_dir)  # 0600
            try:
                with os.fdopen(fd, "w", encoding="ascii") as f:
                    f.write(secrets.token_hex(32))
                with contextlib.suppress(FileExistsError):  # another process made it first
                    os.link(tmp, path)
            finally:
                os.unlink(tmp)
        return bytes.fromhex(path.read_text(encoding="ascii").strip())

    def _set_gateway_key(self, c: sqlite3.Connection, appid: str, secret: str) -> None:
        nonce = secrets.token_bytes(12)
        wrapped = nonce + AESGCM(self._master_key()).encrypt(nonce, secret.encode("ascii"), appid.encode())
        c.execute(
            "INSERT INTO gateway_keys (appid, wrapped) VALUES (?, ?)"
            " ON CONFLICT(appid) DO UPDATE SET wrapped = excluded.wrapped",
            (appid, wrapped),
        )

    def gateway_key(self, appid: str) -> str | None:
        """The appSecret of ``appid`` for the 国密 gateway (None: registered before it existed, or
        ``gateway.key`` was replaced)."""
        row = self.conn.execute("SELECT wrapped FROM gateway_keys WHERE appid = ?", (appid,)).fetchone()
        if not row:
            return None
        try:
            return AESGCM(self._master_key()).decrypt(row[0][:12], row[0][12:], appid.encode()).decode("ascii")
        except (InvalidTag, ValueError, OSError):
            return None

    def add_sign_in(self, org_code: str, dataset: str, day: str, received_at: float) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT OR IGNORE INTO sign_ins (org_code, dataset, day, received_at) VALUES (?, ?, ?, ?)",
                (org_code, dataset, day, received_at),
            )

    def sign_ins(self, org_code: str) -> list[tuple[str, str]]:
        """(day, dataset) of every daily sign-in of an organisation."""
        rows = self.conn.execute(
            "SELECT day, dataset FROM sign_ins WHERE org_code = ? ORDER BY day, dataset", (org_code,)
        ).fetchall()
        return [tuple(r) for r in rows]

    def org_by_appid(self, appid: str) -> Org | None:
        row = self.conn.execute(
            "SELECT appid, org_code, org_name, active, created_at FROM orgs WHERE appid = ?", (appid,)
        ).fetchone()
        return Org(*row) if row else None

    def orgs(self) -> list[Org]:
        rows = self.conn.execute(
            "SELECT appid, org_code, org_name, active, created_at FROM orgs ORDER BY created_at"
        ).fetchall()
        return [Org(*r) for r in rows]

    def check_secret(self, appid: str, secret: str) -> bool:
        row = self.conn.execute("SELECT salt, secret_hash FROM orgs WHERE appid = ?", (appid,)).fetchone()
        return bool(row) and verify_secret(secret, row[0], row[1])

    def set_active(self, appid: str, active: bool) -> bool:
        with self.transaction() as c:
            cur = c.execute("UPDATE orgs SET active = ? WHERE appid = ?", (1 if active else 0, appid))
            if not active:
                c.execute("UPDATE tokens SET revoked = 1 WHERE appid = ?", (appid,))
        return cur.rowcount > 0

    # -- tokens -----------------------------------------------------------------------------
    def add_token(self, token: str, appid: str, issued_at: float, expires_at: float) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM tokens WHERE expires_at < ?", (issued_at - 86400,))
            c.execute(
                "INSERT INTO tokens (token_hash, appid, issued_at, expires_at) VALUES (?, ?, ?, ?)",
                (token_digest(token), appid, issued_at, expires_at),
            )

    def token(self, token: str) -> tuple[str, float, bool] | None:
        """(appid, expires_at, revoked) of a token, or None if it was never issued."""
        row = self.conn.execute(
            "SELECT appid, expires_at, revoked FROM tokens WHERE token_hash = ?", (token_digest(token),)
        ).fetchone()
        return (row[0], row[1], bool(row[2])) if row else None

    def expire_tokens(self, now: float) -> int:
        with self.transaction() as c:
            return c.execute("UPDATE tokens SET expires_at = ? WHERE expires_at > ?", (now, now)).rowcount

    # -- uploads ----------------------------------------------------------------------------
    def batch(self, appid: str, dataset: str, batch_no: str) -> tuple[str, int, str] | None:
        """(content_hash, code, response JSON) of a batch processed before, or None."""
        row = self.conn.execute(
            "SELECT content_hash, code, response FROM batches WHERE appid = ? AND dataset = ? AND batch_no = ?",
            (appid, dataset, batch_no),
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def existing_keys(self, org_code: str, dataset: str, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` (``KEY_SEP``-joined business keys) are already accepted."""
        keys = list(dict.fromkeys(keys))
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in self.conn.execute(
                    f"SELECT biz_key FROM records WHERE org_code = ? AND dataset = ? AND biz_key IN ({marks})",
                    (org_code, dataset, *chunk),
                )
            )
        return found

    def save_batch(
        self,
        *,
        appid: str,
        org_code: str,
        dataset: str,
        batch_no: str,
        content_hash: str,
        received_at: float,
        day: str,
        code: int,
        response: str,
        accepted: list[tuple[str, int, str]],
        log: list[tuple[int, str | None, str, str | None]],
    ) -> None:
        """Store one processed batch atomically: the batch, its accepted records
        ``(biz_key, index, payload JSON)`` and its log rows ``(index, biz_key, status, errors JSON)``."""
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO batches (appid, org_code, dataset, batch_no, content_hash, received_at, day, code, "
                "response)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (appid, org_code, dataset, batch_no, content_hash, received_at, day, code, response),
            )
            batch_id = cur.lastrowid
            if accepted:
                c.executemany(
                    "INSERT INTO records (org_code, dataset, biz_key, batch_id, idx, received_at, payload)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(org_code, dataset, k, batch_id, i, received_at, p) for k, i, p in accepted],
                )
            c.executemany(
                "INSERT INTO upload_log (batch_id, org_code, dataset, day, received_at, idx, biz_key, status, errors)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(batch_id, org_code, dataset, day, received_at, i, k, s, e) for i, k, s, e in log],
            )

    # -- verification log ---------------------------------------------------------------------
    def day_counts(
        self, org_code: str, date_from: str | None, date_to: str | None, dataset: str | None
    ) -> list[tuple[str, str, str, int]]:
        """(day, dataset, status, count) rows of the upload log."""
        where, args = _log_filter(org_code, date_from=date_from, date_to=date_to, dataset=dataset)
        sql = f"SELECT day, dataset, status, COUNT(*) FROM upload_log WHERE {where}"
        sql += " GROUP BY day, dataset, status ORDER BY day, dataset"
        return self.conn.execute(sql, args).fetchall()

    def log_rows(
        self,
        org_code: str,
        *,
        day: str | None = None,
        dataset: str | None = None,
        statuses: tuple[str, ...] | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[dict]:
        where, args = _log_filter(org_code, day=day, dataset=dataset, statuses=statuses, alias="l.")
        sql = (
            "SELECT l.received_at, l.day, l.dataset, b.batch_no, l.idx, l.biz_key, l.status, l.errors"
            f" FROM upload_log l JOIN batches b ON b.id = l.batch_id WHERE {where}"
        )
        sql += " ORDER BY l.id LIMIT ? OFFSET ?"
        args += [limit, offset]
        out = []
        for received_at, d, ds, batch_no, idx, key, status, errors in self.conn.execute(sql, args):
            out.append(
                {
                    "received_at": received_at,
                    "date": d,
                    "dataset": ds,
                    "batchNo": batch_no,
                    "index": idx,
                    "biz_key": key,
                    "status": status,
                    "errors": json.loads(errors) if errors else [],
                }
            )
        return out

    def count_log_rows(
        self,
        org_code: str,
        *,
        day: str | None = None,
        dataset: str | None = None,
        statuses: tuple[str, ...] | None = None,
    ) -> int:
        where, args = _log_filter(org_code, day=day, dataset=dataset, statuses=statuses)
        return self.conn.execute(f"SELECT COUNT(*) FROM upload_log WHERE {where}", args).fetchone()[0]


def _log_filter(
    org_code: str,
    *,
    day: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    dataset: str | None = None,
    statuses: tuple[str, ...] | None = None,
    alias: str = "",
) -> tuple[str, list]:
    """The WHERE clause (and its parameters) selecting one organisation's upload-log rows."""
    conds, args = [f"{alias}org_code = ?"], [org_code]
    for op, column, value in (
        ("=", "day", day),
        (">=", "day", date_from),
        ("<=", "day", date_to),
        ("=", "dataset", dataset),
    ):
        if value:
            conds.append(f"{alias}{column} {op} ?")
            args.append(value)
    if statuses:
        conds.append(f"{alias}status IN ({','.join('?' * len(statuses))})")
        args.extend(statuses)
    return " AND ".join(conds), args
