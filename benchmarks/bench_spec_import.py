"""Spec import of official-style documents (接口文档导入, issue 12).

Targets: a 40-table Word document (request headers, 24 service tables with direction column,
merged 操作名称/说明 rows, nested lists, and 15 appendix dictionaries) imports in < 5 s; a bare
36,000-row dictionary workbook (疾病诊断编码 | 疾病诊断名称) in < 3 s. Baseline for the workbook:
openpyxl reading the same cells alone (read-only), measured in the same run.

    .venv/bin/python benchmarks/bench_spec_import.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the document builders live with the tests

import docx  # noqa: E402
import openpyxl  # noqa: E402
from test_spec_import_official import _plain_table, add_header_table, add_service_table  # noqa: E402

from hlwjr.spec.importing._importer import import_spec  # noqa: E402

TYPES = ["Varchar(50)", "varchar2(20)", "Int", "Decimal(8,2)", "datetime", "date", "Text", "Varcha(30)"]


def _service_rows(n: int) -> list[list[str]]:
    rows = [[f"field{i}", f"字段{i}", "输入" if i == 0 else "", TYPES[i % 8], "YN"[i % 2], ""] for i in range(n)]
    rows[3][5] = "1男 2女"
    rows[4][5] = "单位：元"
    rows += [
        ["itemList", "明细列表", "输入List", "", "Y", ""],
        ["[1..n]itemCode", "明细编码", "", "varchar(20)", "Y", ""],
        ["[0..1]itemName", "明细名称", "", "varchar(50)", "N", ""],
        ["code", "返回码", "输出", "int", "Y", ""],
    ]
    return rows


def build_document(path: Path, services: int = 24, dictionaries: int = 15) -> int:
    doc = docx.Document()
    add_header_table(doc)
    for s in range(services):
        doc.add_heading(f"3.{s + 1} 上传数据{s + 1}", level=2)
        add_service_table(doc, f"uploadData{s + 1}", f"上传第{s + 1}类数据", _service_rows(25))
    for d in range(dictionaries):
        doc.add_heading(f"4.{d + 1} 字典{d + 1}代码表", level=2)
        _plain_table(doc, [["序号", "代码", "名称"]] + [[str(i), f"{i:02d}", f"名称{i}"] for i in range(1, 30)])
    doc.save(path)
    return 1 + services + dictionaries


def build_dictionary(path: Path, rows: int = 36000) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "国家临床版2.0疾病诊断编码"
    ws.append(["疾病诊断编码", "疾病诊断名称"])
    for i in range(rows):
        ws.append([f"A{i // 1000:02d}.{i % 1000:03d}", f"疾病诊断{i}"])
    wb.save(path)


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        doc, book = Path(tmp) / "doc.docx", Path(tmp) / "dict.xlsx"
        tables = build_document(doc)
        build_dictionary(book)
        t_doc, res = _timed(lambda: import_spec(doc))
        fields = sum(len(d.fields) for d in res.spec.datasets.values())
        print(
            f"document: {tables} tables → {len(res.spec.datasets)} data sets, {fields} fields, "
            f"{len(res.spec.code_sets)} code sets in {t_doc:.2f} s (target < 5 s)"
        )

        def raw():
            wb = openpyxl.load_workbook(book, read_only=True, data_only=True)
            n = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
            wb.close()
            return n

        t_raw, _ = _timed(raw)
        t_book, res2 = _timed(lambda: import_spec(book))
        (cs,) = res2.spec.code_sets.values()
        print(
            f"dictionary: {len(cs.codes)} codes in {t_book:.2f} s (target < 3 s); "
            f"openpyxl read-only alone {t_raw:.2f} s"
        )
        return 0 if t_doc < 5 and t_book < 3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
