"""Run records (运行记录): one JSON file per run under ``<work_dir>/runs/``, readable only by the
owner (0600), written whole or not at all."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["load_runs", "write_private"]


def write_private(target: Path, text: str) -> Path:
    """Write ``text`` to ``target`` atomically with mode 0600 from the first byte."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(name, 0o600)
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return target


def save_run(runs_dir: Path, record: dict[str, Any]) -> Path:
    """``<runs_dir>/<YYYYmmddTHHMMSS.ffffff>-<kind>-<business day>.json``: names sort in the order
    the runs ended (the microseconds keep the runs of one backfill apart)."""
    from ..upload._ledger import now_shanghai

    stamp = now_shanghai().strftime("%Y%m%dT%H%M%S.%f")
    name = f"{stamp}-{record['kind']}-{record['business_day']}"
    target = runs_dir / f"{name}.json"
    n = 1
    while target.exists():  # never overwrite a record
        n += 1
        target = runs_dir / f"{name}-{n:03d}.json"
    return write_private(target, json.dumps(record, ensure_ascii=False, indent=1))


def load_runs(runs_dir: Path) -> list[dict[str, Any]]:
    """Every run record, oldest first; unreadable files are skipped (a record is never half-written)."""
    out = []
    for p in sorted(runs_dir.glob("*.json")) if runs_dir.is_dir() else []:
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(rec, dict) and "business_day" in rec:
            rec["file"] = p.name
            out.append(rec)
    return out
