"""Benchmark: apply a ~25-field mapping (5 code maps, 2 date reformats) to 1,000,000 HIS rows.

Phases, each in a fresh subprocess so its peak memory (ru_maxrss) is its own:

The mapping: 26 fields of 在线复诊 (revisit) — 4 constants, 12 columns, 7 code-map rules over
5 code maps, 2 date reformats (yyyyMMddHHmmss → yyyy-MM-dd HH:mm:ss), an age derived from two dates.

* ``map``       — hlwjr.apply_mapping over the 1M-row table (a Parquet extract, read in batches
                  of 200,000 rows) streamed straight to a JSON-lines file (``out=``);
* ``pipeline``  — the whole local pipeline: read the 1M-row GBK CSV export in chunks → map →
                  validate (``hlwjr.check`` per chunk) → JSON lines (written on a writer thread
                  while the next chunk is read, mapped and validated);
* ``baseline``  — a straightforward row-by-row Python implementation of the same mapping
                  (csv.DictReader, dict per row, datetime.strptime, json.dumps), on
                  ``--baseline-rows`` rows and scaled linearly to the full row count.

Prints one line per phase and the ratio baseline / hlwjr.  Usage::

    .venv/bin/python benchmarks/bench_mapping.py [--rows 1000000] [--baseline-rows 200000]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

FIELDS = """\
kind: hlwjr/mapping-dataset
version: 1
dataset: revisit
source:
  table: visits
fields:
  unitID: {const: DEMO0000000000000001}
  organID: {const: 12110000MB0DEM001H}
  organName: {const: 演示互联网医院（测试数据）}
  updateTime: {column: GXSJ}
  bussID: {column: FZID}
  subjectCode: {column: KSDM, code_map: dept-subject}
  subjectName: {column: KSDM, code_map: dept-subject, take: name}
  doctorName: {column: YSXM}
  doctorCertID: {column: YSSFZH}
  patientCertType: {const: '01'}
  patientCertID: {column: SFZH}
  patientName: {column: BRXM}
  sex: {column: XB, code_map: sex, default: '0'}
  mobile: {column: LXDH}
  guardianCertID: {column: JHRSFZH}
  guardianName: {column: JHRXM}
  guardianMobile: {column: JHRDH}
  returnVisitType: {column: FZLX, code_map: revisit-type}
  referralFlag: {column: FZSM, code_map: yes-no}
  originalDiagnosis: {column: SCZD}
  thisDiagnosis: {column: ZDMC}
  applyDate: {column: SQSJ, format: '%Y%m%d%H%M%S'}
  endDate: {column: JSSJ, format: '%Y%m%d%H%M%S'}
  paymentChannel: {column: ZFQD, code_map: pay-channel}
  answerFlag: {column: HFBZ, code_map: yes-no}
  age: {derive: age_from_birth, args: [CSRQ, SQSJ]}
"""
CODE_MAPS = ("dept-subject", "sex", "revisit-type", "yes-no", "pay-channel")


def _setup(work: Path, rows: int) -> None:
    """The 1M-row source (CSV, GBK) and a mapping dir with the five code maps of mapping/demo."""
    import numpy as np
    import pandas as pd

    import hlwjr
    from hlwjr.demo._hospital import generate_demo_hospital

    h = generate_demo_hospital(work / "demo")
    visits = hlwjr.read_source(h.sqlite_url, table="visits")
    staff = hlwjr.read_source(h.sqlite_url, table="staff").set_index("YSGH")
    visits["YSXM"] = visits["YSGH"].map(staff["XM"])
    visits["YSSFZH"] = visits["YSGH"].map(staff["SFZH"])
    visits["GXSJ"] = pd.to_datetime(visits["JSSJ"], format="%Y%m%d%H%M%S", errors="coerce").dt.strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    take = np.arange(rows) % len(visits)
    big = visits.iloc[take].reset_index(drop=True)
    big["FZID"] = "FZ" + pd.Series(np.arange(rows), dtype="int64").astype("str").str.zfill(9)
    big.to_csv(work / "visits.csv", index=False, encoding="gbk")
    big.astype("str").to_parquet(work / "visits.parquet", row_group_size=200_000)
    m = work / "mapping"
    (m / "datasets").mkdir(parents=True)
    (m / "codes").mkdir()
    demo = ROOT / "mapping" / "demo"
    top = [
        "kind: hlwjr/mapping",
        "version: 1",
        "spec: {id: beijing-reference}",
        f"sources: {{his: {{path: {work}}}}}",
        "code_maps:",
    ]
    cs = {
        "dept-subject": "subject",
        "sex": "sex",
        "revisit-type": "return-visit-type",
        "yes-no": "yes-no",
        "pay-channel": "payment-channel",
    }
    for name in CODE_MAPS:
        (m / "codes" / f"{name}.csv").write_bytes((demo / "codes" / f"{name}.csv").read_bytes())
        top.append(f"  {name}: {{file: codes/{name}.csv, code_set: {cs[name]}}}")
    (m / "mapping.yaml").write_text("\n".join(top) + "\n", encoding="utf-8")
    (m / "datasets" / "revisit.yaml").write_text(FIELDS, encoding="utf-8")


def _phase_map(work: Path) -> dict:

    import hlwjr

    m = hlwjr.load_mapping(work / "mapping")
    hlwjr.load_spec()  # parsing the spec YAML is start-up, not mapping
    t, c = time.perf_counter(), _cpu()
    r = hlwjr.apply_mapping(
        m, "revisit", sources={"his": str(work / "visits.parquet")}, out=work / "map.jsonl", chunksize=200_000
    )
    return {"seconds": time.perf_counter() - t, "cpu": _cpu() - c, "records": r.n_records, "issues": len(r.issues)}


def _cpu() -> float:
    """CPU seconds of this process (user + system): less distorted than wall time on a busy machine."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _phase_pipeline(work: Path) -> dict:
    import hlwjr
    from hlwjr.mapping._context import _Context
    from hlwjr.mapping._jsonl import write_jsonl

    m = hlwjr.load_mapping(work / "mapping")
    hlwjr.load_spec()
    # start-up, not pipeline: importing the validation engine builds jsonschema's format checker
    # (its rfc3987 grammars take ~2 s to compile); a long-running process pays it once
    t_import = time.perf_counter()
    _ = hlwjr.check
    t_import = time.perf_counter() - t_import
    t, c = time.perf_counter(), _cpu()
    n = bad = 0
    t_map = t_val = t_write = 0.0
    src = _Context(m, None).open(m.dataset("revisit").source)  # the CSV export (GBK, detected)
    t_detect = time.perf_counter() - t

    def write(records, bad_rows, fh) -> tuple[int, float]:
        t0 = time.perf_counter()
        good = records.drop(index=list(bad_rows)) if bad_rows else records
        return write_jsonl(good, fh), time.perf_counter() - t0

    # as apply_mapping(out=...) does: chunk k is written on a writer thread while k+1 is read,
    # mapped and validated (Arrow and the file write release the GIL)
    with open(work / "pipeline.jsonl", "wb") as fh, ThreadPoolExecutor(max_workers=1) as writer:
        pending = None
        for chunk in src.iter_chunks(200_000):
            t0 = time.perf_counter()
            r = hlwjr.apply_mapping(m, "revisit", sources={"his": chunk}, chunksize=len(chunk) or 1)
            t1 = time.perf_counter()
            report = hlwjr.check(r.records, "revisit")
            bad_rows = report.bad_rows("revisit")
            t2 = time.perf_counter()
            if pending is not None:
                written, spent = pending.result()
                n, t_write = n + written, t_write + spent
            pending = writer.submit(write, r.records, bad_rows, fh)
            bad += len(bad_rows)
            t_map += t1 - t0
            t_val += t2 - t1
        if pending is not None:
            written, spent = pending.result()
            n, t_write = n + written, t_write + spent
    seconds = time.perf_counter() - t
    return {
        "seconds": seconds,
        "cpu": _cpu() - c,
        "records": n,
        "held_back": bad,
        "map_seconds": t_map,
        "validate_seconds": t_val,
        "write_seconds": t_write,
        "detect_seconds": t_detect,
        "encoding": src.info.encoding,
        "validator_import_seconds": t_import,
    }


def _baseline_rows(work: Path, limit: int) -> dict:
    """Row by row: what a first script would do (dict per row, strptime, json.dumps)."""
    maps = {}
    import hlwjr

    names = dict(hlwjr.load_spec().code_set("subject").codes)
    for name in CODE_MAPS:
        with open(ROOT / "mapping" / "demo" / "codes" / f"{name}.csv", encoding="utf-8-sig", newline="") as fh:
            maps[name] = {r["local"]: r["code"] for r in csv.DictReader(fh)}

    def age(birth, at):
        try:
            b = dt.datetime.strptime(birth, "%Y%m%d")
            a = dt.datetime.strptime(at, "%Y%m%d%H%M%S")
        except (TypeError, ValueError):
            return None
        return a.year - b.year - ((a.month, a.day) < (b.month, b.day))

    def reformat(v):
        if not v:
            return None
        try:
            return dt.datetime.strptime(v, "%Y%m%d%H%M%S").strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            return v

    t, c = time.perf_counter(), _cpu()
    n = 0
    with (
        open(work / "visits.csv", encoding="gbk", newline="") as src,
        open(work / "baseline.jsonl", "w", encoding="utf-8") as out,
    ):
        for row in csv.DictReader(src):
            if n >= limit:
                break
            row = {k: (v.strip() or None) for k, v in row.items()}
            rec = {
                "unitID": "DEMO0000000000000001",
                "organID": "12110000MB0DEM001H",
                "organName": "演示互联网医院（测试数据）",
                "updateTime": row["GXSJ"],
                "bussID": row["FZID"],
            }
            if row["KSDM"] not in maps["dept-subject"]:
                continue  # rejected
            rec["subjectCode"] = maps["dept-subject"][row["KSDM"]]
            rec.update(
                subjectName=names[rec["subjectCode"]],
                doctorName=row["YSXM"],
                doctorCertID=row["YSSFZH"],
                patientCertType="01",
                patientCertID=row["SFZH"],
                patientName=row["BRXM"],
                sex=maps["sex"].get(row["XB"], "0"),
                mobile=row["LXDH"],
                guardianCertID=row["JHRSFZH"],
                guardianName=row["JHRXM"],
                guardianMobile=row["JHRDH"],
                returnVisitType=maps["revisit-type"].get(row["FZLX"]),
                referralFlag=maps["yes-no"].get(row["FZSM"]),
                originalDiagnosis=row["SCZD"],
                thisDiagnosis=row["ZDMC"],
                applyDate=reformat(row["SQSJ"]),
                endDate=reformat(row["JSSJ"]),
                paymentChannel=maps["pay-channel"].get(row["ZFQD"]),
                answerFlag=maps["yes-no"].get(row["HFBZ"]),
                age=age(row["CSRQ"], row["SQSJ"]),
            )
            out.write(
                json.dumps({k: v for k, v in rec.items() if v is not None}, ensure_ascii=False, separators=(",", ":"))
                + "\n"
            )
            n += 1
    return {"seconds": time.perf_counter() - t, "cpu": _cpu() - c, "records": n}


def _child(phase: str, work: Path, limit: int) -> None:
    fn = {
        "map": lambda: _phase_map(work),
        "pipeline": lambda: _phase_pipeline(work),
        "baseline": lambda: _baseline_rows(work, limit),
    }[phase]
    res = fn()
    res["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(res))


def _run(phase: str, work: Path, limit: int = 0) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", phase, "--work", str(work), "--limit", str(limit)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--baseline-rows", type=int, default=200_000)
    ap.add_argument("--child")
    ap.add_argument("--work")
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    if args.child:
        _child(args.child, Path(args.work), args.limit)
        return 0
    with tempfile.TemporaryDirectory(prefix="hlwjr-bench-map-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        _setup(work, args.rows)
        print(
            f"setup: {args.rows:,} rows ({(work / 'visits.csv').stat().st_size / 1e6:.0f} MB GBK CSV) "
            f"in {time.perf_counter() - t:.1f} s"
        )
        mp = _run("map", work)
        print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(
            f"hlwjr map+JSONL      {args.rows:>9,} rows: {mp['seconds']:6.2f} s (CPU {mp['cpu']:.2f} s)  "
            f"peak {mp['peak_mb']:6.0f} MB  (records {mp['records']:,})"
        )
        pl = _run("pipeline", work)
        print(
            f"hlwjr read→map→validate→JSONL: {pl['seconds']:6.2f} s (CPU {pl['cpu']:.2f} s)  "
            f"peak {pl['peak_mb']:6.0f} MB  "
            f"(encoding check {pl['detect_seconds']:.2f} s, map {pl['map_seconds']:.2f} s, "
            f"validate {pl['validate_seconds']:.2f} s, JSONL {pl['write_seconds']:.2f} s on the writer thread, "
            f"rest = CSV read; held back {pl['held_back']:,}, encoding {pl['encoding']}; "
            f"validator import before the clock {pl['validator_import_seconds']:.2f} s)"
        )
        bl = _run("baseline", work, args.baseline_rows)
        scaled = bl["seconds"] * args.rows / max(bl["records"], 1)
        scaled_cpu = bl["cpu"] * args.rows / max(bl["records"], 1)
        print(
            f"baseline row-by-row  {bl['records']:>9,} rows: {bl['seconds']:6.2f} s → {scaled:6.1f} s for "
            f"{args.rows:,} rows (linear; CPU {scaled_cpu:.1f} s)  peak {bl['peak_mb']:6.0f} MB"
        )
        print(
            f"ratio baseline / hlwjr map+JSONL: {scaled / mp['seconds']:.1f}× wall, {scaled_cpu / mp['cpu']:.1f}× CPU"
        )
        # same output on the first rows
        a = (work / "map.jsonl").open(encoding="utf-8").readline()
        b = (work / "baseline.jsonl").open(encoding="utf-8").readline()
        print("first record identical to baseline:", json.loads(a) == json.loads(b))
    return 0


if __name__ == "__main__":
    sys.exit(main())
