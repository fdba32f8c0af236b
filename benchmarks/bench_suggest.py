"""Suggestion quality (对照建议准确率, issue 5): top-1 accuracy per data set of ``hlwjr map suggest``.

Not a timing benchmark: it reports how often the best-ranked source column is the right one, on
the demo hospital (pinyin-initial column names: BRXM, SFZH …) and on the second, differently named
HIS layout of ``tests/test_suggest_accuracy.py`` (English snake_case and full pinyin: patient_name,
shenfenzhenghao …).  The truth is the reviewed demo mapping (``mapping/demo``): every rule that
takes one column of the data set's main table.  Target: ≥ 85 % per data set.

    .venv/bin/python benchmarks/bench_suggest.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the second layout and the truth live with the tests

from test_suggest_accuracy import DATASET_TABLE, LAYOUT2, _truth  # noqa: E402

import hlwjr  # noqa: E402
from hlwjr.demo._hospital import generate_demo_hospital  # noqa: E402
from hlwjr.mapping._suggest import suggest_fields, top1_accuracy  # noqa: E402

TARGET = 0.85


def main() -> int:
    spec = hlwjr.load_spec()
    mapping = hlwjr.load_mapping(ROOT / "mapping" / "demo")
    rows = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        demo = generate_demo_hospital(tmp)
        url = f"sqlite:///{demo.database}"
        for code, dm in mapping.datasets.items():
            df = hlwjr.read_source(url, table=dm.source.table)
            layouts = [("演示医院 (pinyin initials)", None)]
            if code in DATASET_TABLE:
                layouts.append(("第二种命名 (snake_case / full pinyin)", LAYOUT2[DATASET_TABLE[code]]))
            for layout, rename in layouts:
                frame = df if rename is None else df.rename(columns=rename)
                truth = _truth(dm, rename)
                acc, misses = top1_accuracy(suggest_fields(spec.dataset(code), frame), truth)
                rows.append((layout, code, dm.source.table, len(truth), acc, misses))
    elapsed = time.perf_counter() - t0
    print(f"{'layout':<40}{'data set':<14}{'table':<20}{'fields':>7}{'top-1':>8}  misses")
    for layout, code, table, n, acc, misses in rows:
        print(f"{layout:<40}{code:<14}{table:<20}{n:>7}{acc:>8.0%}  {'; '.join(misses) or '-'}")
    for layout in dict.fromkeys(r[0] for r in rows):
        sel = [r for r in rows if r[0] == layout]
        n = sum(r[3] for r in sel)
        hit = sum(round(r[3] * r[4]) for r in sel)
        print(
            f"{layout}: {len(sel)} data sets, {hit}/{n} fields right = {hit / n:.1%} "
            f"(lowest data set {min(r[4] for r in sel):.0%})"
        )
    worst = min(r[4] for r in rows)
    print(f"target ≥ {TARGET:.0%} per data set: {'met' if worst >= TARGET else 'NOT met'}; {elapsed:.1f} s")
    return 0 if worst >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
