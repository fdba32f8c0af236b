"""Benchmark: upload N valid records to the sandbox on loopback, end to end with batching
(client ledger writes, server validation and storage included), the client's own overhead per
record, and the baseline of one record per request with a kept-alive httpx client.

    .venv/bin/python benchmarks/bench_upload.py [--records 100000] [--baseline 3000] [--concurrency 1 2]

Target (issue 6): ≥ 5,000 records/s end to end; client overhead < 20 µs per record.
Uses the small upload spec of the tests (visit + recipe with a child line) so that the records are
known to be valid; prints one line per measurement and a summary table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_upload_sandbox import MINISPEC, make_records, uscc  # noqa: E402

from hlwjr.upload._client import PlatformClient  # noqa: E402
from hlwjr.upload._ledger import Ledger  # noqa: E402
from hlwjr.upload._project import load_project, write_project  # noqa: E402
from hlwjr.upload._uploader import upload_records  # noqa: E402


def project_for(sandbox, tmp: Path, n: int, concurrency: int):
    org = uscc(900000 + n)
    appid, secret = sandbox.register(org, f"基准测试医院{n}")
    os.environ[f"HLWJR_BENCH_{n}"] = secret
    cfg = {
        "project": {"name": "基准", "org_code": org, "spec": str(MINISPEC), "phase": "production"},
        "platform": {
            "profile": "sandbox",
            "url": sandbox.url,
            "appid": appid,
            "secret_env": f"HLWJR_BENCH_{n}",
            "concurrency": concurrency,
        },
    }
    return load_project(write_project(tmp / f"p{n}", cfg)), org


def end_to_end(sandbox, tmp: Path, n_records: int, concurrency: int, tag: int, validate: bool) -> float:
    project, org = project_for(sandbox, tmp, tag, concurrency)
    recs = make_records(org, n_records // 2, prefix=f"B{tag}-")
    t0 = time.perf_counter()
    s = upload_records(project, recs, validate=validate)
    dt = time.perf_counter() - t0
    assert s.total("accepted") == n_records, s.to_text()
    return n_records / dt


def client_overhead(n_records: int) -> float:
    """µs per record spent in hlwjr for the upload path (batching, JSON, hashing, ledger writes
    pending→sent→answered, answer parsing) with an instant in-memory platform answer."""
    ok_cache: dict[int, bytes] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"code": 0, "data": {"access_token": "t", "expires_in": 7200}})
        n = request.content.count(b'"organID"')
        if n not in ok_cache:
            ok_cache[n] = json.dumps(
                {
                    "code": 0,
                    "msg": "成功",
                    "data": {"results": [{"index": i, "status": "ok", "errors": []} for i in range(n)]},
                }
            ).encode()
        return httpx.Response(200, content=ok_cache[n], headers={"content-type": "application/json"})

    from hlwjr.upload._ledger import content_hash, record_json, record_key
    from hlwjr.upload._mapped import _as_dicts
    from hlwjr.upload._sender import Uploader
    from hlwjr.upload._summary import DatasetSummary

    recs = make_records("ORG", n_records)["visit"]
    with tempfile.TemporaryDirectory() as d, Ledger(Path(d) / "l.sqlite") as led:
        client = PlatformClient("sandbox", "http://bench.test", "A", "s", transport=httpx.MockTransport(handler))
        up = Uploader(client, led, org_code="ORG")
        t0 = time.process_time()  # CPU time of this process: the overhead, not the machine's load
        items = []
        for r in _as_dicts(recs):
            j = record_json(r)
            items.append(("|".join(record_key(r, ("organID", "bussID"))), content_hash(j), j))
        led.states("visit", [k for k, _, _ in items])
        up.send("visit", items, DatasetSummary("visit"), [])
        dt = time.process_time() - t0
        client.close()
    # subtract the in-memory transport's own cost (httpx request/response objects)
    t1 = time.process_time()
    with httpx.Client(transport=httpx.MockTransport(handler)) as raw:
        body = b'{"records":[' + b",".join(b'{"organID":1}' for _ in range(100)) + b"]}"
        for _ in range(n_records // 100):
            raw.post("http://bench.test/u", content=body)
    transport = time.process_time() - t1
    return (dt - transport) / n_records * 1e6


def one_per_request(sandbox, tmp: Path, n: int) -> float:
    project, org = project_for(sandbox, tmp, 999, 1)
    recs = make_records(org, n, prefix="S-")["visit"]
    with httpx.Client(base_url=sandbox.url, timeout=30) as c:
        tok = c.post("/api/token", json={"appid": project.platform.appid, "secret": project.secret()}).json()
        h = {"Authorization": "Bearer " + tok["data"]["access_token"]}
        t0 = time.perf_counter()
        for i, r in enumerate(recs):
            a = c.post("/api/upload/visit", json={"batchNo": f"S{i}", "records": [r]}, headers=h).json()
            assert a["code"] == 0 and a["data"]["success"] == 1, a
        dt = time.perf_counter() - t0
    return n / dt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--baseline", type=int, default=3_000, help="records for the one-per-request baseline")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args(argv)
    from hlwjr.sandbox import Sandbox

    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        with Sandbox(tmp / "sandbox", spec=str(MINISPEC)) as sb:
            base = one_per_request(sb, tmp, args.baseline)
            print(f"baseline: one record per request, kept-alive httpx client: {base:,.0f} records/s")
            for i, c in enumerate(args.concurrency):
                rate = end_to_end(sb, tmp, args.records, c, i + 1, validate=False)
                print(
                    f"hlwjr upload, batches of 100, concurrency {c}: {rate:,.0f} records/s "
                    f"({rate / base:.1f}× baseline)"
                )
                rows.append((f"batched, concurrency {c}", rate))
            rate = end_to_end(sb, tmp, min(args.records, 20_000), args.concurrency[-1], 50, validate=True)
            print(f"hlwjr upload incl. client pre-flight validation (20k): {rate:,.0f} records/s")
            rows.append(("batched + client pre-flight validation", rate))
    client_overhead(5_000)  # warm up (imports, first-call costs)
    over = min(client_overhead(min(args.records, 50_000)) for _ in range(3))
    print(f"client overhead (ledger + JSON + hashing + parsing, no network): {over:.1f} µs/record")
    print("\n| measurement | records/s | × baseline |\n|---|---:|---:|")
    print(f"| one record per request (kept-alive httpx) | {base:,.0f} | 1.0 |")
    for name, rate in rows:
        print(f"| {name} | {rate:,.0f} | {rate / base:.1f} |")
    print(f"\nclient overhead: {over:.1f} µs/record (target < 20)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
