"""validate's row hint names the sheet row a record sits on when title rows sit above the header."""

from __future__ import annotations

import io

import openpyxl
import pytest
from validate_helpers import SPEC_DIR, doctor

from hlwjr import cli


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(cli.parse_args(argv), out, err)
    return code, out.getvalue() + err.getvalue()


@pytest.mark.parametrize("titles", [0, 1, 3])
def test_row_hint_counts_the_title_rows_above_the_header(tmp_path, titles):
    rec = doctor()
    rec["doctorName"] = ""  # a problem on record 1
    wb = openpyxl.Workbook()
    for k in range(titles):
        wb.active.append([f"医师备案导出（说明 {k + 1}）"])
    wb.active.append(list(rec))
    wb.active.append([None if v == "" else v for v in rec.values()])
    path = tmp_path / "d.xlsx"
    wb.save(path)
    code, out = _run(["validate", "-d", "doctor", str(path), "--spec", str(SPEC_DIR)])
    assert code == 1, out
    assert f"在 Excel 中打开时是第 N+{titles + 1} 行" in out
