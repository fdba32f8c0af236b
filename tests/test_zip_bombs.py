"""Decompression bombs in the ZIP containers hlwjr reads (an .xlsx export, a .docx or .xlsx
interface document, a returned 指标对照表): refused with a Chinese message naming the file and the
part, a non-zero exit, before any parser inflates them; real workbooks — even a sheet of one value
repeated 100,000 times — are read as before."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlwjr import SourceError, cli
from hlwjr._zip import refuse_zip_bomb

INFLATED = 40 * 1024**2  # above the 32 MiB floor; zeros deflate about 1000:1


def _run(*argv) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(cli.parse_args(list(argv)), out, err)
    return code, out.getvalue() + err.getvalue()


def _with_bomb(real: bytes, part: str, head: bytes, filler: bytes, tail: bytes) -> bytes:
    """``real`` (a ZIP) with ``part`` replaced by ``head`` + ``filler`` × many + ``tail``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(real)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != part:
                dst.writestr(item, src.read(item.filename))
        info = zipfile.ZipInfo(part)
        info.compress_type = zipfile.ZIP_DEFLATED
        with dst.open(info, "w", force_zip64=True) as fh:
            fh.write(head)
            block = filler * (1024**2 // len(filler))
            for _ in range(INFLATED // len(block)):
                fh.write(block)
            fh.write(tail)
    return out.getvalue()


def _xlsx_bomb() -> bytes:
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "编号"])
    buf = io.BytesIO()
    wb.save(buf)
    row = b'<row><c t="inlineStr"><is><t>a</t></is></c></row>'
    return _with_bomb(
        buf.getvalue(), "xl/worksheets/sheet1.xml", b"<worksheet><sheetData>", row, b"</sheetData></worksheet>"
    )


def _docx_bomb() -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph("字段表")
    buf = io.BytesIO()
    d.save(buf)
    ns = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    return _with_bomb(
        buf.getvalue(), "word/document.xml", b"<w:document " + ns + b"><w:body>", b"<w:p/>", b"</w:body></w:document>"
    )


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bombs")
    (d / "export.xlsx").write_bytes(_xlsx_bomb())
    (d / "interface.docx").write_bytes(_docx_bomb())
    return {"xlsx": d / "export.xlsx", "docx": d / "interface.docx"}


@pytest.mark.parametrize(
    ("command", "kind", "part"),
    [
        (("profile",), "xlsx", "xl/worksheets/sheet1.xml"),
        (("spec", "import"), "xlsx", "xl/worksheets/sheet1.xml"),
        (("spec", "import"), "docx", "word/document.xml"),
        (("map", "import", "--mapping", "MAPPING", "--in"), "xlsx", "xl/worksheets/sheet1.xml"),
    ],
)
def test_a_bomb_is_refused_naming_the_file_and_part(bombs, tmp_path, command, kind, part):
    import shutil

    mapping = tmp_path / "mapping"  # a copy: nothing may be written to the real one
    shutil.copytree(Path(__file__).resolve().parents[1] / "mapping" / "demo", mapping)
    argv = [str(mapping) if a == "MAPPING" else a for a in command]
    code, text = _run(*argv, str(bombs[kind]))
    assert code in (1, 2), text[-2000:]  # a data error (1) or a document that cannot be read (2)
    assert "压缩炸弹" in text and part in text and bombs[kind].name in text and "Traceback" not in text


def test_a_repetitive_real_workbook_is_no_bomb(tmp_path):
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("s")
    for _ in range(100_000):
        ws.append(["A", 1, "2026-11-01", None, "同一个值"])
    wb.save(tmp_path / "rep.xlsx")
    refuse_zip_bomb(tmp_path / "rep.xlsx", SourceError)  # about 17:1: read as before


@settings(max_examples=25, deadline=None)
@given(ratio=st.integers(2, 5000), size=st.integers(1, 200 * 1024**2), total_cap=st.booleans())
def test_the_limits_are_the_documented_ones(ratio, size, total_cap):
    """Refused exactly when a part inflates past the floor and the ratio, or the whole past the cap
    (declared sizes, as zipfile enforces them), whatever the numbers."""
    from hlwjr import _zip

    class Info:
        filename, file_size, compress_size = "xl/sharedStrings.xml", size, max(1, size // ratio)

    class Zip:
        def __init__(self, *_a):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *_a):
            return False

        def infolist(self):
            return [Info()]

    cap = size - 1 if total_cap else _zip.MAX_TOTAL
    bomb = size > cap or (size > _zip.BOMB_FLOOR and size > _zip.MAX_RATIO * Info.compress_size)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_zip.zipfile, "ZipFile", Zip)
        mp.setattr(_zip, "MAX_TOTAL", cap)
        if bomb:
            with pytest.raises(SourceError, match="拒绝读取"):
                refuse_zip_bomb("x.xlsx", SourceError)
        else:
            refuse_zip_bomb("x.xlsx", SourceError)
