"""Benchmark: the 国密 gateway protocol (profile ``tianjin``: SM4-CBC body, SM3 signature) against
the token protocol (profile ``sandbox``), same records, same sandbox process, same run; and the
SM4 + SM3 cost per record on the client.

    .venv/bin/python benchmarks/bench_protocol.py [--records 10000] [--repeat 200] [--rounds 3]

Target (issue 13): the 国密 path costs < 10 µs per record on top of the token path.
The sandbox runs ``hlwjr sandbox serve --protocol tianjin`` (it serves both protocols); records
are the small upload spec's 在线复诊 + 在线处方 (tests/data/upload_minispec). ``tianjin`` sends at
most 50 records a request, so the token path is measured at 100 (its limit) and at 50.
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
from hlwjr.upload._project import load_project, write_project  # noqa: E402
from hlwjr.upload._uploader import upload_records  # noqa: E402


def project_for(sandbox, tmp: Path, tag: int, profile: str, batch_size: int | None):
    org = uscc(930000 + tag)
    appid, secret = sandbox.register(org, f"协议基准医院{tag}")
    os.environ[f"HLWJR_PBENCH_{tag}"] = secret
    url = sandbox.gateway_url if profile == "tianjin" else sandbox.url
    platform = {"profile": profile, "url": url, "appid": appid, "secret_env": f"HLWJR_PBENCH_{tag}"}
    if batch_size:
        platform["batch_size"] = batch_size
    cfg = {"project": {"name": "基准", "org_code": org, "spec": str(MINISPEC), "phase": "production"}}
    cfg["platform"] = platform
    return load_project(write_project(tmp / f"p{tag}", cfg)), org


def end_to_end(sandbox, tmp: Path, n: int, tag: int, profile: str, batch_size: int | None) -> float:
    project, org = project_for(sandbox, tmp, tag, profile, batch_size)
    recs = make_records(org, n // 2, prefix=f"P{tag}-")
    t0 = time.perf_counter()
    s = upload_records(project, recs, validate=False)
    dt = time.perf_counter() - t0
    assert s.total("accepted") == n, s.to_text()
    return n / dt


def crypto_cost(repeat: int) -> tuple[float, float, float]:
    """µs per record of encode + sign for batches of 50 records: (tianjin, json/token, difference)."""
    from hlwjr.upload.profiles import Sm3GatewayAuth

    recs = [json.dumps(r, ensure_ascii=False) for r in make_records("12110000MB0T12345N", 50)["visit"]]
    gw = PlatformClient("tianjin", "http://bench.test", "k", "bbf1dd188b8b4629853f06f118d11e4a")
    plain = PlatformClient("sandbox", "http://bench.test", "k", "s")
    auth = Sm3GatewayAuth(gw.profile, "k", "bbf1dd188b8b4629853f06f118d11e4a")
    headers = {"X-Service-Id": "his.provinceDataUploadService", "X-Service-Method": "uploadFuzhenIndicators"}

    def best(fn) -> float:
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(repeat):
                fn()
            times.append(time.perf_counter() - t0)
        return min(times) / repeat / len(recs) * 1e6

    def tianjin():
        body = gw.encode_batch("B", recs)
        auth.sign(httpx.Request("POST", "http://bench.test/openapi/api", content=body, headers=headers))

    def token():
        body = plain.encode_batch("B", recs)
        httpx.Request("POST", "http://bench.test/api/upload/visit", content=body, headers=headers)

    t, j = best(tianjin), best(token)
    gw.close()
    plain.close()
    return t, j, t - j


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=200, help="batches per timing of the crypto cost")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved end-to-end rounds (best of each kept)")
    args = ap.parse_args(argv)
    from hlwjr.sandbox import Sandbox

    t, j, extra = crypto_cost(args.repeat)
    print(f"encode + sign, batches of 50: tianjin {t:.2f} µs/record, token {j:.2f} µs/record", end=" ")
    print(f"→ SM4+SM3 {extra:.2f} µs/record")
    configs = [("sandbox", None), ("sandbox", 50), ("tianjin", None)]
    best = [0.0] * len(configs)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        with Sandbox(tmp / "sandbox", spec=str(MINISPEC), protocol="tianjin") as sb:
            for tag, profile in ((91, "sandbox"), (92, "tianjin")):  # warm both paths up (imports, caches)
                end_to_end(sb, tmp, 1000, tag, profile, None)
            tag = 0
            for r in range(args.rounds):  # interleaved rounds, best of each: the machine is shared
                for i, (profile, size) in enumerate(configs):
                    tag += 1
                    rate = end_to_end(sb, tmp, args.records, tag, profile, size)
                    best[i] = max(best[i], rate)
                    print(
                        f"round {r + 1}: {profile}, batches of {size or (100 if profile == 'sandbox' else 50)}: "
                        f"{rate:,.0f} records/s"
                    )
    rows = [(f"{p}, batches of {s or (100 if p == 'sandbox' else 50)}", x) for (p, s), x in zip(configs, best)]
    for label, rate in rows:
        print(f"best {label}: {rate:,.0f} records/s")
    token50 = rows[1][1]
    tj = rows[2][1]
    per_record = (1 / tj - 1 / token50) * 1e6
    print(
        f"\nend to end: tianjin {tj:,.0f} rec/s vs token (same batch size 50) {token50:,.0f} rec/s "
        f"→ {per_record:+.1f} µs/record wall; client SM4+SM3 {extra:.2f} µs/record "
        f"(target < 10 µs: {'met' if extra < 10 else 'NOT met'})"
    )
    return 0 if extra < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
