"""Sandbox upload throughput: batches of 100 valid records over keep-alive connections.

The sandbox runs as ``hlwjr sandbox serve`` in its own process on 127.0.0.1 (reference spec,
fresh data directory); this script is the second process that uploads.  Every batch goes
through the full path: token check, JSON parsing, the validation engine (``hlwjr.check``, with
references to records accepted earlier), duplicate detection, and one SQLite transaction.

Baseline, measured in the same run against the same server: the HTTP layer alone
(``POST /hlwjr/sandbox/echo`` with the same bodies: read and answer, nothing else).
Target (issue 4): ≥ 10,000 records/s accepted.

    .venv/bin/python benchmarks/bench_sandbox.py [--batches 300] [--connections 8]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

import hlwjr
from hlwjr.sandbox import Sandbox

ORG = "12110000MB0T12345N"
EXAMPLES = Path(hlwjr.__file__).parent / "specs" / "beijing-reference" / "examples"
TARGET = 10_000


def load(code: str) -> list[dict]:
    return [r for r in json.loads((EXAMPLES / f"{code}.json").read_text(encoding="utf-8")) if r.get("organID") == ORG]


def make_bodies(n_batches: int, size: int, tag: str) -> list[bytes]:
    template = load("revisit")
    bodies = []
    for b in range(n_batches):
        recs = []
        for i in range(size):
            r = copy.deepcopy(template[i % len(template)])
            r["bussID"] = f"{tag}{b:05d}{i:03d}"
            recs.append(r)
        bodies.append(json.dumps({"batchNo": f"{tag}-{b}", "records": recs}, ensure_ascii=False).encode())
    return bodies


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), or nan elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(url: str, path: str, bodies: list[bytes], headers: dict, connections: int) -> tuple[float, int]:
    """Send all bodies over ``connections`` keep-alive connections; (seconds, records accepted)."""
    lock = threading.Lock()
    queue = list(reversed(bodies))
    accepted = [0]
    errors: list[str] = []

    def worker():
        with httpx.Client(base_url=url, headers=headers, timeout=60) as c:
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                r = c.post(path, content=body)
                data = r.json()
                if r.status_code != 200 or data["code"] != 0:
                    errors.append(r.text[:300])
                    return
                with lock:
                    accepted[0] += (data["data"] or {}).get("success", 0)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise SystemExit(f"upload failed: {errors[0]}")
    return elapsed, accepted[0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=300, help="batches of 100 records per measurement")
    ap.add_argument("--connections", type=int, default=8, help="keep-alive connections (threads) in the client")
    ap.add_argument("--batch-size", type=int, default=100)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp, Sandbox(Path(tmp) / "sb", token_rate_per_minute=1000) as sb:
        appid, secret = sb.register(ORG, "北京市测试互联网医院")
        with httpx.Client(base_url=sb.url) as c:
            tok = c.post("/api/token", json={"appid": appid, "secret": secret}).json()["data"]["access_token"]
            headers = {"Authorization": f"Bearer {tok}", "Content-Type": "application/json"}
            doc = c.post(
                "/api/upload/doctor", content=json.dumps({"batchNo": "doc", "records": load("doctor")}), headers=headers
            ).json()
            assert doc["data"]["failed"] == 0, doc
        n = args.batches
        warm = make_bodies(20, args.batch_size, "W")
        full = make_bodies(n, args.batch_size, "F")
        records = n * args.batch_size
        print(
            f"sandbox {sb.url} (pid {sb.pid}); {n} batches × {args.batch_size} revisit records "
            f"({len(full[0]) / 1024:.1f} KiB per body), {args.connections} keep-alive connections"
        )
        run(sb.url, "/api/upload/revisit", warm, headers, args.connections)  # warm-up (plans, caches)
        c0 = cpu_seconds(sb.pid)
        t_http, _ = run(sb.url, "/sandbox/echo", full, headers, args.connections)
        c1 = cpu_seconds(sb.pid)
        t_full, accepted = run(sb.url, "/api/upload/revisit", full, headers, args.connections)
        c2 = cpu_seconds(sb.pid)
        if accepted != records:
            raise SystemExit(f"only {accepted} of {records} records accepted")
        stats = httpx.get(sb.url + "/sandbox/health").json()["data"]["uploads"]
    http_rate = records / t_http
    full_rate = accepted / t_full
    print(f"HTTP layer alone (baseline): {http_rate:10,.0f} records/s  ({n / t_http:,.0f} requests/s)")
    print(f"full upload path:            {full_rate:10,.0f} records/s  ({n / t_full:,.0f} requests/s)")
    print(
        f"server CPU per record:       HTTP-only {(c1 - c0) / records * 1e6:6.1f} µs, full path "
        f"{(c2 - c1) / records * 1e6:6.1f} µs  (= {records / (c2 - c1):,.0f} records per server CPU-second)"
    )
    print(
        f"server grouped {stats['batches']} batches into {stats['groups']} validation calls "
        f"(largest group {stats['largest_group']})"
    )
    print(f"ratio full / HTTP-only:      {full_rate / http_rate:10.2f}")
    print(
        f"ratio full / target {TARGET:,}: {full_rate / TARGET:10.2f}  "
        f"({'meets' if full_rate >= TARGET else 'BELOW'} the ≥ {TARGET:,} records/s target)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
