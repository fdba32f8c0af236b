"""Benchmark: code suggestions (值域对照建议) against a full ICD-10 edition.

A hospital maps its local diagnoses (hundreds to thousands of distinct names and codes) to the
platform's ICD-10 code set, which in a real edition (国家临床版 2.0) holds ~33,000 codes: the
reference spec's 190 plus synthetic ones here. ``suggest_codes`` looks codes up in an index built
once per code set; the baseline is the row-by-row version it replaced (every local value compared
with every code in Python, kept in ``tests/suggest_codes_oracle.py``), measured in the same run on
a sample of the same values, and both must give the same suggestions.

    .venv/bin/python benchmarks/bench_suggest_codes.py [--values 500] [--baseline 20]

Our own target: ≤ 20 ms a local value, so a 1,000-name diagnosis column is drafted in < 20 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the row-by-row baseline lives with the tests

from suggest_codes_oracle import suggest_codes_row_by_row  # noqa: E402

import hlwjr  # noqa: E402
from hlwjr.mapping._suggest_codes import suggest_codes  # noqa: E402
from hlwjr.spec._model import CodeSet  # noqa: E402

TARGET_MS = 20.0


def icd10_edition() -> CodeSet:
    icd = hlwjr.load_spec().code_set("icd10")
    synthetic = {f"Z{i // 1000:02d}.{i % 1000:03d}x": f"合成诊断{i}病" for i in range(32_810)}
    return CodeSet(id="icd10", name=icd.name, codes=dict(icd.codes) | synthetic)


def local_values(code_set: CodeSet, n: int) -> pd.Series:
    """Distinct local diagnoses as a HIS holds them: names, partial names, codes in other spellings."""
    rnd = random.Random(7)
    items = list(code_set.codes.items())
    out = set()
    while len(out) < n:
        code, name = rnd.choice(items[:190] if rnd.random() < 0.7 else items)
        out.add(rnd.choice([name, name[:-1] + "（待查）", code.lower(), code.replace(".", ""), name + "？"]))
    return pd.Series(sorted(out))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--values", type=int, default=500)
    ap.add_argument("--baseline", type=int, default=20, help="values the row-by-row baseline is timed on")
    args = ap.parse_args()
    cs = icd10_edition()
    values = local_values(cs, args.values)
    t0 = time.perf_counter()
    suggest_codes(cs, values[:1])
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    indexed = suggest_codes(cs, values)
    per_value = (time.perf_counter() - t0) / len(values) * 1000
    sample = values[: args.baseline]
    t0 = time.perf_counter()
    slow = suggest_codes_row_by_row(cs, sample)
    base = (time.perf_counter() - t0) / len(sample) * 1000
    mine = indexed.set_index("local").loc[slow["local"]].reset_index()[list(slow.columns)]
    same = mine.astype(str).values.tolist() == slow.astype(str).values.tolist()
    found = indexed["code"].notna().mean()
    print(f"code set: {len(cs.codes):,} codes; local values: {len(values):,}; index built in {build:.2f} s")
    print("| measurement | ms a local value | × baseline |")
    print("|---|---:|---:|")
    print(f"| row by row (baseline, {len(sample)} values) | {base:.1f} | 1.0 |")
    print(f"| indexed ({len(values)} values) | {per_value:.1f} | {base / per_value:.0f} |")
    print(f"same suggestions on the baseline's values: {same}; values with a suggestion: {found:.0%}")
    met = per_value <= TARGET_MS and same
    print(f"target ≤ {TARGET_MS:g} ms a value: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
