"""Benchmarks of the workbench (issue 7): how live the MappingEditor feels, and how long the guided
notebooks take headless.

1. MappingEditor: one dropdown change (re-map the sample rows, validate them, redraw the preview,
   status and progress) against the baseline a naive editor would do — re-map and re-validate the
   whole source table.  Target: < 0.5 s per change (feels live).
2. The eight notebooks executed headless with nbclient against a real sandbox, as ``make test`` does.
   Target: < 120 s in total.

    .venv/bin/python benchmarks/bench_notebooks.py [--days 30] [--changes 10] [--skip-notebooks]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bench_editor(days: int, changes: int, work: Path) -> None:
    import hlwjr
    from hlwjr.demo._run import find_demo_mapping
    from hlwjr.widgets import MappingEditor

    hospital = hlwjr.generate_demo_hospital(work / "hospital", days=days)
    shutil.copytree(find_demo_mapping(), work / "mapping")
    mapping = hlwjr.load_mapping(work / "mapping")
    sources = {"his": hospital.sqlite_url}
    t0 = time.perf_counter()
    ed = MappingEditor(mapping, "consult", sources=sources, sample=5)
    t_open = time.perf_counter() - t0
    cols = ["ys.XM", "BRXM"]
    times = []
    for i in range(changes):
        t0 = time.perf_counter()
        ed.rows["patientName"].column.value = cols[i % 2]
        times.append(time.perf_counter() - t0)
        assert ed.last_error is None, ed.error_message
    base = []
    for _ in range(3):
        t0 = time.perf_counter()
        res = hlwjr.apply_mapping(mapping, "consult", sources=sources)
        hlwjr.check(res.records, "consult")
        base.append(time.perf_counter() - t0)
    live, full = statistics.median(times), statistics.median(base)
    print(f"MappingEditor on consult ({hospital.tables['consultations']} source rows, 5 sample rows)")
    print(f"  open (read, profile, suggest, first preview): {t_open:.2f} s")
    print(
        f"  one dropdown change, median of {changes}:        {live * 1000:.0f} ms  (target < 500 ms: "
        f"{'met' if live < 0.5 else 'NOT met'})"
    )
    print(f"  baseline: re-map + validate the whole table:   {full * 1000:.0f} ms")
    print(f"  ratio baseline / change: {full / live:.1f}x")


def bench_notebooks(work: Path) -> None:
    import os

    import nbformat
    from nbclient import NotebookClient

    from hlwjr.sandbox import Sandbox
    from hlwjr.sandbox._settings import ADMIN_TOKEN_ENV

    names = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    with Sandbox(work / "sandbox") as sb:
        os.environ[ADMIN_TOKEN_ENV] = sb.admin_token
        total = 0.0
        for name in names:
            nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
            idx = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
            nb.cells.insert(
                idx + 1, nbformat.v4.new_code_cell(f"PROJECT_DIR = {str(work / 'project')!r}\nSANDBOX_URL = {sb.url!r}")
            )
            t0 = time.perf_counter()
            NotebookClient(
                nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}
            ).execute()
            dt = time.perf_counter() - t0
            total += dt
            print(f"  {name:<28} {dt:6.1f} s")
        sb.set_clock(reset=True)
    print(f"all {len(names)} notebooks headless: {total:.1f} s (target < 120 s: {'met' if total < 120 else 'NOT met'})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=30, help="demo business days (≈ 70 consultations a day)")
    ap.add_argument("--changes", type=int, default=10)
    ap.add_argument("--skip-notebooks", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hlwjr-bench-nb-") as tmp:
        bench_editor(args.days, args.changes, Path(tmp) / "editor")
        if not args.skip_notebooks:
            bench_notebooks(Path(tmp) / "notebooks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
