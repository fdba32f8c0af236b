"""Benchmark: ``hlwjr profile`` (数据源探查) on wide and long exports, *before and after*, in one run.

Each git ref given (default: ``--before 62a5292``, the profile that ran 13 ``.str.match`` passes
per column, and the working tree) is exported to a temporary directory (``git archive``, only
``lib/``) and measured in fresh processes, interleaved over ``--rounds`` (best kept), on:

* ``wide``: 3,000 columns × 200 rows of random 2-character codes (a HIS export of every field);
* ``long``: 300 columns × 100,000 rows of the same (each column guessed on its 20,000-row sample);
* ``export``: 100,000 rows × 12 realistic columns — ID-card numbers, mobiles, dates in three
  formats, amounts, names, leading-zero codes, free text — the many-distinct-values case.

The time is ``profile_source(path)``: reading the CSV and profiling it (what ``hlwjr profile``
does before printing); the read alone is shown too. Every ref's profile must be the same
(``Profile.to_dict()``, compared by digest).

    .venv/bin/python benchmarks/bench_profile.py [--before REF ...] [--rounds 2] [--cases wide,long,export]
"""

from __future__ import annotations

import argparse
import json
import random
import string
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

MEASURE = r"""
import hashlib, json, sys, time
sys.path.insert(0, sys.argv[1])
from hlwjr.sources._profile import profile_frame
from hlwjr.sources._read import Source

path = sys.argv[2]
t0 = time.perf_counter()
src = Source(path)
df = src.read()
t1 = time.perf_counter()
prof = profile_frame(df, source=src.info.label, read_as=src.info.describe())
t2 = time.perf_counter()
digest = hashlib.sha256(json.dumps(prof.to_dict(), ensure_ascii=False, sort_keys=True).encode()).hexdigest()
print(json.dumps({"read": t1 - t0, "total": t2 - t0, "digest": digest[:12]}))
"""


def export(ref: str, into: Path) -> Path:
    """``lib/`` of ``ref`` in ``into`` (the working tree's own ``lib/`` for ``.``)."""
    if ref == ".":
        return ROOT / "lib"
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "lib"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "lib"


def write_codes(path: Path, columns: int, rows: int, seed: int = 1) -> Path:
    """Random 2-character codes (A–Z, 0–9) in every cell."""
    rnd = random.Random(seed)
    alphabet = string.ascii_uppercase + string.digits
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(",".join(f"c{i}" for i in range(columns)) + "\n")
        for _ in range(rows):
            fh.write(",".join(rnd.choice(alphabet) + rnd.choice(alphabet) for _ in range(columns)) + "\n")
    return path


def write_export(path: Path, rows: int = 100_000, seed: int = 2) -> Path:
    """A realistic export: many distinct IDs, mobiles, dates, amounts and names."""
    sys.path.insert(0, str(ROOT / "lib"))
    from hlwjr._privacy import id_check_char

    rnd = random.Random(seed)
    surnames, given = "张李王赵刘陈杨黄吴周徐孙马朱胡郭何林", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
    header = "SFZH,LXDH,BRXM,JZRQ,SQSJ,CYRQ,JE,DJ,KSDM,XB,ZD,BZ"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(header + "\n")
        for i in range(rows):
            body = f"{rnd.randint(110000, 659999)}{rnd.randint(1940, 2020)}{rnd.randint(1, 12):02d}"
            body += f"{rnd.randint(1, 28):02d}{rnd.randint(0, 999):03d}"
            day = f"2026-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
            cells = [
                body + id_check_char(body),
                f"1{rnd.choice('3456789')}{rnd.randint(0, 10**9 - 1):09d}",
                rnd.choice(surnames) + "".join(rnd.choice(given) for _ in range(rnd.randint(1, 2))),
                day,
                f"{day} {rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}",
                day.replace("-", "") if i % 10 else day.replace("-", "/"),
                f"{rnd.randint(0, 99999)}.{rnd.randint(0, 99):02d}",
                f"{rnd.random() * 100:.4f}",
                f"0{rnd.randint(1, 60):02d}",
                rnd.choice("MF"),
                f"J{rnd.randint(0, 99):02d}.{rnd.randint(0, 9)}",
                "" if i % 3 else f"备注{rnd.randint(0, 10**6)}",
            ]
            fh.write(",".join(cells) + "\n")
    return path


def measure(lib: Path, path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(lib), str(path)], check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", action="append", help="git ref(s) to compare with the working tree")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cases", default="wide,long,export")
    args = ap.parse_args()
    refs = [*(args.before or ["62a5292"]), "."]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        libs = {}
        for i, ref in enumerate(refs):
            (tmp / f"ref{i}").mkdir()
            libs[ref] = export(ref, tmp / f"ref{i}")
        makers = {
            "wide": lambda p: write_codes(p, 3000, 200),
            "long": lambda p: write_codes(p, 300, 100_000),
            "export": write_export,
        }
        cases = {name: makers[name](tmp / f"{name}.csv") for name in args.cases.split(",")}
        best: dict[tuple[str, str], dict] = {}
        for _round in range(args.rounds):
            for case, path in cases.items():
                for ref in refs:
                    got = measure(libs[ref], path)
                    old = best.get((case, ref))
                    if old is not None and old["digest"] != got["digest"]:
                        raise SystemExit(f"{case}: {ref} gave two different profiles")
                    if old is None or got["total"] < old["total"]:
                        best[case, ref] = got
    names = ["working tree" if r == "." else r for r in refs]
    print("| case | " + " | ".join(f"{n} (s)" for n in names) + " | read (s) | speed-up | same profile |")
    print("|---|" + "---:|" * (len(refs) + 2) + "---|")
    for case in cases:
        row = [best[case, r] for r in refs]
        same = len({r["digest"] for r in row}) == 1
        ratio = row[0]["total"] / row[-1]["total"]
        cells = " | ".join(f"{r['total']:.2f}" for r in row)
        print(f"| {case} | {cells} | {row[-1]['read']:.2f} | {ratio:.1f}× | {'yes' if same else 'NO'} |")


if __name__ == "__main__":
    main()
