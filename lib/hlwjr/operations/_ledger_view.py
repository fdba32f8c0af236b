"""Read-only views of the upload ledger (上传台账) for status, reconciliation and the refused
list: aggregates by business day (``data_date``) that the ledger's own API does not offer.

A separate read-only SQLite connection (the ledger is WAL: readers never block the writer), so a
``hlwjr status`` while a run is sending neither waits nor changes anything."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError
from ..upload._guard import _REBUILD
from ..upload._ledger import _EFFECTIVE_STATE

__all__ = ["LedgerView", "open_view"]

_JOIN = "FROM records r LEFT JOIN batches b ON b.batch_no = r.batch_no"


class LedgerView:
    def __init__(self, db: sqlite3.Connection | None, path: Path) -> None:
        self._db = db
        self.path = path

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        if self._db is None:  # no ledger yet: nothing was ever sent
            return []
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"读取上传台账失败: {exc}", where=str(self.path)) from exc

    def day_states(self, first: str, last: str) -> dict[tuple[str, str], dict[str, int]]:
        """``{(business day, dataset): {state: n}}`` for business days ``first`` … ``last``."""
        out: dict[tuple[str, str], dict[str, int]] = {}
        for day, ds, state, n in self._q(
            f"SELECT r.data_date, r.dataset, {_EFFECTIVE_STATE}, count(*) {_JOIN} "
            "WHERE r.data_date BETWEEN ? AND ? GROUP BY 1, 2, 3",
            (first, last),
        ):
            out.setdefault((day, ds), {})[state] = n
        return out

    def keys_of_day(self, dataset: str, day: str) -> set[str]:
        """Keys the ledger holds for ``dataset`` with business day ``day``."""
        return {r[0] for r in self._q("SELECT key FROM records WHERE dataset=? AND data_date=?", (dataset, day))}

    def accepted_by_platform_day(self, first: str, last: str) -> dict[tuple[str, str], int]:
        """``{(platform day, dataset): accepted answers}`` from the acceptance log."""
        rows = self._q(
            "SELECT platform_day, dataset, count(*) FROM events WHERE status='accepted' "
            "AND platform_day BETWEEN ? AND ? GROUP BY 1, 2",
            (first, last),
        )
        return {(d, ds): n for d, ds, n in rows}

    def accepted_keys_on(self, platform_day: str, dataset: str) -> set[str]:
        rows = self._q(
            "SELECT key FROM events WHERE status='accepted' AND platform_day=? AND dataset=?", (platform_day, dataset)
        )
        return {r[0] for r in rows}

    def refused(self, day: str | None = None) -> list[dict[str, Any]]:
        """Records whose current state is ``rejected`` (拒收), oldest first, with the platform's
        errors (a list of ``{field, rule, msg}``); ``day``: that business day only."""
        sql = (
            "SELECT r.dataset, r.key, r.data_date, r.batch_no, r.answer, r.answered_at, r.whole_batch "
            f"{_JOIN} WHERE r.state='rejected'"
        )
        params: list[Any] = []
        if day:
            sql += " AND r.data_date=?"
            params.append(day)
        out = []
        for ds, key, dday, batch, answer, at, whole in self._q(sql + " ORDER BY r.data_date, r.dataset, r.key", params):
            try:
                errors = json.loads(answer) if answer else []
            except ValueError:
                errors = [{"msg": str(answer)}]
            out.append(
                {
                    "dataset": ds,
                    "key": key,
                    "day": dday,
                    "batch_no": batch,
                    "errors": errors if isinstance(errors, list) else [errors],
                    "answered_at": at,
                    "whole_batch": bool(whole),
                }
            )
        return out

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


@contextmanager
def open_view(project) -> Iterator[LedgerView]:
    """The project's ledger, read-only; an empty view when no ledger exists yet."""
    path = Path(project.ledger_path)
    db = None
    if path.exists():
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
            db.execute("SELECT 1 FROM records LIMIT 1")
        except sqlite3.DatabaseError as exc:
            if db is not None:
                db.close()
            raise ConfigError(
                f"无法读取上传台账 {path}: {exc}；文件可能已损坏或不是 hlwjr 台账。{_REBUILD}",
                where=str(path),
            ) from exc
    view = LedgerView(db, path)
    try:
        yield view
    finally:
        view.close()
