"""Sources (数据源): CSV encodings/delimiters, Excel sheets and header rows, SQL tables/queries, bad input."""

from __future__ import annotations

import sqlite3

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hlwjr
from hlwjr.sources._read import iter_source, list_sheets, open_source

ROWS = "BRXM,XB,SFZH,JE\n张试明,M,110101198001010011,12.50\n李试芳,F,110101199002020022,3\n"


def _write(path, text, encoding):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gbk"),
        ("gb18030", "gb18030"),
    ],
)
def test_csv_encoding_detected_and_reported(tmp_path, encoding, reported):
    text = ROWS
    if encoding == "gb18030":  # a character outside GBK (CJK Extension B) forces GB18030
        text = ROWS.replace("李试芳", "李试\U00020000")
    df = hlwjr.read_source(_write(tmp_path / "x.csv", text, encoding))
    info = df.attrs["source_info"]
    assert info["encoding"] == reported
    assert list(df.columns) == ["BRXM", "XB", "SFZH", "JE"]
    assert df["BRXM"].iloc[0] == "张试明"
    assert df["JE"].tolist() == ["12.50", "3"]  # text kept as text
    assert reported in info["description"]


def test_gbk_character_deep_in_a_large_file_is_found(tmp_path):
    body = "A,B\n" + "x,1\n" * 300_000 + "王试明,2\n"
    df = hlwjr.read_source(_write(tmp_path / "big.csv", body, "gbk"))
    assert df.attrs["source_info"]["encoding"] == "gbk"
    assert df["A"].iloc[-1] == "王试明"


@pytest.mark.parametrize("delimiter", ["\t", ";", "|", ","])
def test_delimiter_detected(tmp_path, delimiter):
    df = hlwjr.read_source(_write(tmp_path / "x.txt", ROWS.replace(",", delimiter), "utf-8"))
    assert df.attrs["source_info"]["delimiter"] == delimiter
    assert df.shape == (2, 4)


def test_leading_zeros_and_empty_cells(tmp_path):
    df = hlwjr.read_source(_write(tmp_path / "x.csv", "KSDM,MC\n0101, 呼吸 \n0202,\n", "utf-8"))
    assert df["KSDM"].tolist() == ["0101", "0202"]
    assert pd.isna(df["MC"].iloc[1])


def test_undecodable_bytes_name_file_and_line(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_bytes("A,B\n张,1\n".encode() + b"x,\xff\xfe\xfd\n")
    with pytest.raises(hlwjr.SourceError) as exc:
        hlwjr.read_source(p)
    assert "bad.csv" in str(exc.value) and "第3行" in str(exc.value)
    assert "encoding" in str(exc.value)
    assert "第2列「B」" in str(exc.value)  # the column too, so the analyst can find the cell
    q = tmp_path / "quoted.csv"
    q.write_bytes("姓名;备注;金额\n".encode("gbk") + '"张;三";ok;1\n'.encode("gbk") + b'x;"a;b";\x80\n')
    with pytest.raises(hlwjr.SourceError, match=r"第3行:第3列「金额」"):
        hlwjr.read_source(q)


def test_wrong_or_unknown_encoding_given_is_a_clear_error(tmp_path):
    p = tmp_path / "his.csv"
    p.write_bytes("BRXM,XB\n张试明,M\n".encode("gbk"))
    with pytest.raises(hlwjr.SourceError) as exc:
        hlwjr.read_source(p, encoding="utf-8")
    msg = str(exc.value)
    assert "第2行:第1列「BRXM」" in msg and "无法按 utf-8 解码" in msg and "看起来是 gbk 编码" in msg
    with pytest.raises(hlwjr.SourceError, match="未知的编码 'latin-9x'"):
        hlwjr.read_source(p, encoding="latin-9x")
    df = hlwjr.read_source(p, encoding="CP936")  # an alias of GBK is fine, reported by its usual name
    assert df["BRXM"].tolist() == ["张试明"] and df.attrs["source_info"]["encoding"] == "gbk"


def test_ragged_row_names_line(tmp_path):
    p = _write(tmp_path / "r.csv", "A,B\n1,2\n3,4\n5,6,7\n", "utf-8")
    with pytest.raises(hlwjr.SourceError) as exc:
        hlwjr.read_source(p)
    assert "第4行" in str(exc.value) and "列数不齐" in str(exc.value)


def test_empty_file_and_missing_file(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    with pytest.raises(hlwjr.SourceError, match="文件为空"):
        hlwjr.read_source(p)
    with pytest.raises(hlwjr.SourceError, match="文件不存在"):
        hlwjr.read_source(tmp_path / "nope.csv")


def test_duplicate_column_names(tmp_path):
    with pytest.raises(hlwjr.SourceError, match="列名重复：「XM」出现在第 1 列和第 3 列"):
        hlwjr.read_source(_write(tmp_path / "d.csv", "XM,XB,XM\n1,2,3\n", "utf-8"))


def test_chunked_csv_reading_keeps_row_numbers(tmp_path):
    p = _write(tmp_path / "c.csv", "A\n" + "".join(f"{i}\n" for i in range(25)), "utf-8")
    chunks = list(iter_source(p, chunksize=10))
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert chunks[2].index[0] == 20
    assert pd.concat(chunks)["A"].tolist() == [str(i) for i in range(25)]


def _workbook(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "说明"
    ws.append(["本表为演示"])
    ws2 = wb.create_sheet("患者")
    ws2.append(["演示医院 患者导出"])
    ws2.append(["导出时间 2026-11-01"])
    ws2.append(["BRXM", "XB", "CSRQ", "NL"])
    ws2.append(["张试明", "M", pd.Timestamp("1980-01-01").to_pydatetime(), 46])
    ws2.append(["李试芳", "F", None, 11.0])
    wb.save(path)
    return path


def test_excel_sheets_and_header_on_row_3(tmp_path):
    p = _workbook(tmp_path / "his.xlsx")
    assert list_sheets(p) == ["说明", "患者"]
    df = hlwjr.read_source(p, sheet="患者")
    info = df.attrs["source_info"]
    assert info["header_row"] == 3 and info["sheet"] == "患者"
    assert list(df.columns) == ["BRXM", "XB", "CSRQ", "NL"]
    assert df["CSRQ"].iloc[0] == "1980-01-01"
    assert df["NL"].tolist() == ["46", "11"]
    assert pd.isna(df["CSRQ"].iloc[1])
    with pytest.raises(hlwjr.SourceError, match="没有名为「病人」的工作表"):
        hlwjr.read_source(p, sheet="病人")
    # the description says which sheet was read, that the title rows were skipped, and what else is there
    assert "工作簿另有工作表 说明" in info["description"] and "上方 2 行（标题/说明）已跳过" in info["description"]
    # without a sheet named: the cover sheet (one line of text) is no table, the data sheet is read
    first = hlwjr.read_source(p)
    assert first.attrs["source_info"]["sheet"] == "患者" and list(first.columns) == ["BRXM", "XB", "CSRQ", "NL"]
    assert "第一个工作表「说明」不是数据表，已读取「患者」" in first.attrs["source_info"]["description"]


def test_excel_duplicate_headers(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["XM", "XM"])
    wb.active.append(["a", "b"])
    wb.save(tmp_path / "d.xlsx")
    with pytest.raises(hlwjr.SourceError, match="列名重复"):
        hlwjr.read_source(tmp_path / "d.xlsx")


@pytest.fixture
def his_db(tmp_path):
    db = tmp_path / "his.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE visits (FZID TEXT, GHFY INTEGER, TS INTEGER, ZJE REAL)")
    con.executemany(
        "INSERT INTO visits VALUES (?,?,?,?)", [(f"FZ{i}", 100 * i, None if i % 2 else 3, 1.5) for i in range(7)]
    )
    con.commit()
    con.close()
    return db


def test_sql_table_query_and_chunks(his_db):
    url = f"sqlite:///{his_db}"
    df = hlwjr.read_source(url, table="visits")
    assert len(df) == 7 and df["TS"].iloc[1] is pd.NA  # nullable ints stay ints
    assert str(df["TS"].dtype) == "Int64"
    assert len(hlwjr.read_source(f"{url}#visits")) == 7
    q = hlwjr.read_source(url, query="SELECT FZID FROM visits WHERE GHFY >= 300")
    assert q["FZID"].tolist() == ["FZ3", "FZ4", "FZ5", "FZ6"]
    chunks = list(iter_source(url, table="visits", chunksize=3))
    assert [len(c) for c in chunks] == [3, 3, 1] and chunks[1].index[0] == 3


def test_sql_errors_are_source_errors(his_db):
    url = f"sqlite:///{his_db}"
    with pytest.raises(hlwjr.SourceError, match="没有表「nope」；可用的表：visits"):
        hlwjr.read_source(url, table="nope")
    with pytest.raises(hlwjr.SourceError, match="SQL 执行出错：no such column: x"):
        hlwjr.read_source(url, query="SELECT x FROM visits")
    with pytest.raises(hlwjr.SourceError, match="需要指定表名"):
        open_source(url)


def test_database_password_masked_in_messages():
    with pytest.raises(hlwjr.SourceError) as exc:
        hlwjr.read_source("nosuchdriver://user:s3cret@db.example/his", table="t")
    assert "s3cret" not in str(exc.value) and "***" in str(exc.value)
    assert "无法识别的数据库 URL" in str(exc.value)


def test_missing_database_driver_says_what_to_install():
    import importlib.util

    if importlib.util.find_spec("psycopg") or importlib.util.find_spec("psycopg2"):
        pytest.skip("a PostgreSQL driver is installed here")
    with pytest.raises(hlwjr.SourceError) as exc:
        hlwjr.read_source("postgresql://user:s3cret@db.example/his", table="t")
    msg = str(exc.value)
    assert "缺少数据库驱动 psycopg" in msg and "pip install" in msg and "s3cret" not in msg


def test_old_xls_refused_with_advice(tmp_path):
    p = tmp_path / "old.xls"
    p.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(hlwjr.SourceError, match="另存为 .xlsx"):
        hlwjr.read_source(p)


def test_large_csv_streamed_with_arrow_same_rows_and_errors(tmp_path, monkeypatch):
    import hlwjr.sources._read as sources

    monkeypatch.setattr(sources, "_ARROW_MIN_BYTES", 0)
    body = "A,B\n" + "".join(f"{i},张{i}\n" for i in range(1000))
    p = _write(tmp_path / "big.csv", body, "gbk")
    chunks = list(iter_source(p, chunksize=300))
    assert [len(c) for c in chunks] == [300, 300, 300, 100] and chunks[3].index[0] == 900
    assert chunks[3]["B"].iloc[-1] == "张999"
    bad = _write(tmp_path / "bad.csv", body + "1,2,3\n", "gbk")
    with pytest.raises(hlwjr.SourceError) as exc:
        list(iter_source(bad, chunksize=300))
    assert "第1002行" in str(exc.value) and "列数不齐" in str(exc.value)


def test_missing_sqlite_file_is_not_created(tmp_path):
    target = tmp_path / "nope.sqlite"
    with pytest.raises(hlwjr.SourceError, match="SQLite 数据库文件不存在"):
        hlwjr.read_source(f"sqlite:///{target}", table="t")
    assert not target.exists()


def test_header_only_csv_reads_as_zero_rows_in_chunks_too(tmp_path):
    from hlwjr.sources._read import iter_source

    p = tmp_path / "header_only.csv"
    p.write_text("BRXM,XB\n", encoding="utf-8")
    assert hlwjr.read_source(p).shape == (0, 2)
    chunks = list(iter_source(p, chunksize=10))
    assert sum(len(c) for c in chunks) == 0 and all(list(c.columns) == ["BRXM", "XB"] for c in chunks)


def test_sql_reads_release_their_connections_and_mask_values_in_errors(his_db, monkeypatch):
    """Each read disposes of its engine (no pooled handle left open on the HIS database, also after
    chunked reads and errors), and a database message quoting an ID-like value is masked."""
    import sqlalchemy as sa

    engines = []
    real = sa.create_engine

    def spy(*a, **k):
        engines.append(real(*a, **k))
        return engines[-1]

    monkeypatch.setattr(sa, "create_engine", spy)
    url = f"sqlite:///{his_db}"
    hlwjr.read_source(url, table="visits")
    list(iter_source(url, table="visits", chunksize=3))
    with pytest.raises(hlwjr.SourceError) as exc:
        hlwjr.read_source(url, query="SELECT * FROM t110101199003071234")
    assert "110101199003071234" not in str(exc.value) and "110101********1234" in str(exc.value)
    assert len(engines) >= 3 and all(e.pool.checkedin() == 0 and e.pool.checkedout() == 0 for e in engines)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.integers(0, 40), title=st.booleans())
def test_an_unclosed_quote_names_its_line(tmp_path, before, title):
    lines = (["导出：医护人员"] if title else []) + ["A,B"] + [f"{i},x" for i in range(before)] + ['9,"bad', "10,y"]
    p = tmp_path / f"q{before}{title}.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(hlwjr.SourceError) as exc:
        hlwjr.read_source(p)
    assert "引号未闭合" in str(exc.value) and f"第{len(lines) - 1}行" in str(exc.value)


@given(
    head=st.sampled_from([b"PK\x03\x04", b"<html><body><table>", b"\xef\xbb\xbf<table>", b"  <!DOCTYPE html>"]),
    body=st.binary(max_size=64),
    suffix=st.sampled_from([".csv", ".txt", ".xls", ".xlsx"]),
)
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_export_whose_content_is_not_its_extension_is_refused(tmp_path, head, body, suffix):
    if head == b"PK\x03\x04" and suffix == ".xlsx":
        return  # a real workbook header: read (or refused) as Excel
    path = tmp_path / f"visits{suffix}"
    path.write_bytes(head + body)
    with pytest.raises(hlwjr.SourceError, match="不是真正的 Excel 或 CSV|扩展名改为 .xlsx") as err:
        hlwjr.read_source(path)
    assert f"visits{suffix}" in str(err.value)


@given(size=st.integers(min_value=140_000, max_value=400_000), row=st.integers(min_value=0, max_value=3))
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_huge_cell_is_read_whole(tmp_path, size, row):
    lines = ["就诊号,诊断"] + [f"MZ{i},感冒" for i in range(4)]
    lines[row + 1] = f'MZ{row},"{"长" * size}"'
    path = tmp_path / "visits.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    df = hlwjr.read_source(path)
    assert len(df) == 4 and df.loc[row, "诊断"] == "长" * size
