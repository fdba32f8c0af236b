"""Benchmark: the daily production run and its status (issue 15).

    .venv/bin/python benchmarks/bench_ops.py [--records 100000] [--days 365] [--per-day 900]

1. ``hlwjr run`` for a large hospital's day: N records across the data sets (40 % 在线复诊 with a
   ``final_when``, 40 % 在线处方 with one 明细 line, 20 % 满意度评价) from CSV exports, mapped,
   validated and sent to the sandbox (a separate process on 127.0.0.1), run record and monitor
   page written — end to end, as cron runs it.
2. ``hlwjr status`` (and the monitor page) over ``--days`` business days of ledger
   (``--per-day`` records a day across three data sets, one run record a day).

Target: both "within seconds".
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import ops_helpers as oh  # noqa: E402

from hlwjr.operations._monitor import render_monitor  # noqa: E402
from hlwjr.operations._records import save_run  # noqa: E402
from hlwjr.operations._run import run_production  # noqa: E402
from hlwjr.operations._status import compute_status  # noqa: E402
from hlwjr.upload._ledger import Ledger  # noqa: E402


class _Env:
    def setenv(self, k: str, v: str) -> None:
        os.environ[k] = v


def big_day(n: int, day: str) -> dict[str, list[dict]]:
    """N records for one business day: 0.4 N visits, 0.4 N prescriptions (+ lines), 0.2 N evaluations."""
    return oh.hospital_rows([day], int(n * 0.4))  # a prescription each, an evaluation every second visit


def bench_run(tmp: Path, n: int) -> dict:
    from hlwjr.sandbox import Sandbox

    sb = Sandbox(tmp / "sb", spec=str(oh.MINISPEC))
    sb.start()
    try:
        tables = big_day(n, "2026-11-01")
        n_records = len(tables["visits"]) + len(tables["rx"]) + len(tables["evals"])
        project, _, _ = oh.new_hospital(tmp, sb, _Env(), tables=tables, platform={"concurrency": 2, "max_retries": 3})
        t0 = time.perf_counter()
        r = run_production(project, date="2026-11-01")
        dt = time.perf_counter() - t0
        assert r.exit_code == 0 and r.record["totals"]["accepted"] == n_records, r.to_text()
        t1 = time.perf_counter()
        again = run_production(project, date="2026-11-01")
        dt_again = time.perf_counter() - t1
        assert again.record["totals"]["sent"] == 0
        return {"records": n_records, "seconds": dt, "rate": n_records / dt, "second_run": dt_again}
    finally:
        sb.stop()


def fake_year(tmp: Path, days: int, per_day: int):
    """A project with ``days`` business days of ledger and run records (no platform needed)."""
    from hlwjr.upload._project import load_project, write_project

    cfg = {
        "datasets": ["visit", "recipe", "evaluation"],
        "project": {"name": "基准医院", "org_code": oh.uscc(7), "spec": str(oh.MINISPEC), "phase": "production"},
        "platform": {"profile": "sandbox", "url": "http://127.0.0.1:9/hlwjr", "appid": "A", "secret_env": "X"},
    }
    project = load_project(write_project(tmp / "year", cfg))
    Ledger.for_project(project).close()
    first = date(2025, 11, 1)
    share = {"visit": 0.4, "recipe": 0.4, "evaluation": 0.2}
    with sqlite3.connect(project.ledger_path) as db:
        for i in range(days):
            d = (first + timedelta(days=i)).isoformat()
            rows, events, ds_rows = [], [], []
            for ds, f in share.items():
                k = int(per_day * f)
                for j in range(k):
                    state = "rejected" if j % 97 == 0 else "accepted"
                    key = f"ORG|{ds[:2].upper()}{i:04d}{j:05d}"
                    rows.append((ds, key, "h", state, f"B{i}", d, d, f"{d} 01:30:00"))
                    events.append((f"{d} 01:31:00", d, ds, key, "h", f"B{i}", state))
                ds_rows.append(
                    {"day": d, "dataset": ds, "his_rows": k, "waiting": 0, "mapping_rejected": 0, "mapped": k}
                )
            db.executemany(
                "INSERT INTO records (dataset, key, hash, state, batch_no, data_date, platform_day, created_at) "
                "VALUES (?,?,?,?,?,?,?,?)",
                rows,
            )
            db.executemany(
                "INSERT INTO events (at, platform_day, dataset, key, hash, batch_no, status) VALUES (?,?,?,?,?,?,?)",
                events,
            )
            save_run(
                project.runs_dir,
                {
                    "kind": "run",
                    "business_day": d,
                    "window": [d],
                    "started": f"{d} 01:30:00",
                    "status": "ok",
                    "exit_code": 0,
                    "datasets": ds_rows,
                    "totals": {},
                    "unaccounted": [],
                    "not_in_source": [],
                },
            )
    return project, (first + timedelta(days=days - 1)).isoformat()


def bench_status(tmp: Path, days: int, per_day: int) -> dict:
    project, last = fake_year(tmp, days, per_day)
    t0 = time.perf_counter()
    st = compute_status(project, days=days, today=last)
    dt = time.perf_counter() - t0
    assert len(st.rows) == days * 3
    t1 = time.perf_counter()
    html = render_monitor(project)
    dt_page = time.perf_counter() - t1
    return {
        "days": days,
        "ledger_records": days * per_day,
        "status_seconds": dt,
        "monitor_seconds": dt_page,
        "page_kb": len(html.encode()) // 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--per-day", type=int, default=900)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        status = bench_status(tmp, args.days, args.per_day)
        print(json.dumps({"status": status}, ensure_ascii=False))
        run = bench_run(tmp, args.records)
        print(json.dumps({"run": run}, ensure_ascii=False))
    print(
        f"| `hlwjr run`, one business day of {run['records']:,} records (CSV → map → validate → sandbox) "
        f"| within seconds | {run['seconds']:.1f} s ({run['rate']:,.0f} rec/s); second run {run['second_run']:.1f} s |"
    )
    print(
        f"| `hlwjr status` over {status['days']} days ({status['ledger_records']:,} ledger records) "
        f"| within seconds | {status['status_seconds']:.2f} s; monitor page {status['monitor_seconds']:.2f} s |"
    )


if __name__ == "__main__":
    main()
