"""Fast paths of the mapping (性能路径) give exactly what the plain paths give.

Distinct-value date parsing, the column-wise JSON-lines writer and the raw-byte GBK CSV reader are
there for speed only: each is checked here against a straightforward reference on the same input.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hlwjr
from hlwjr.mapping import _engine as _mapping
from hlwjr.mapping._conversions import parse_times
from hlwjr.mapping._jsonl import iter_dicts, write_jsonl
from hlwjr.sources import _encodings
from hlwjr.sources import _read as _sources

DATA = Path(__file__).parent / "data"
SPEC = DATA / "mapping_spec"


# ---- JSON lines ---------------------------------------------------------------------------------


def _reference_lines(frame: pd.DataFrame) -> list[dict]:
    """What a row-by-row writer produces: one dict per row, missing values left out."""
    return [json.loads(json.dumps(d, ensure_ascii=False)) for d in iter_dicts(frame)]


def _written(frame: pd.DataFrame) -> list[dict]:
    buf = io.BytesIO()
    assert write_jsonl(frame, buf) == len(frame)
    text = buf.getvalue().decode("utf-8")
    assert text.endswith("\n") and text.count("\n") == len(frame)
    return [json.loads(line) for line in text.splitlines()]


def _mixed_frame(n: int, *, first_missing: bool) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    pick = rng.integers(0, 4, n)
    first = pd.array(np.where(pick == 0, None, "DEMO0001").tolist() if first_missing else ["DEMO0001"] * n, dtype="str")
    return pd.DataFrame(
        {
            "unitID": first,
            "organName": pd.array(['演示医院"测试"'] * n, dtype="str"),  # a constant that needs escaping
            "patientName": pd.array(np.array(["张试明", "李\\试", "王\n试", None])[pick].tolist(), dtype="str"),
            "guardianName": pd.array([None] * n, dtype="str"),  # missing everywhere: key never written
            "age": pd.array(np.where(pick == 1, None, pick * 7).tolist(), dtype="Int64"),
            "price": np.array([15.0, 2.5, np.nan, 1e20])[pick],
            "flag": pick % 2 == 0,
            "orderList": pd.Series([[{"drugName": "阿莫西林", "dose": 1.5}], [], None, [{"x": "y"}]][p] for p in pick),
        }
    )


@pytest.mark.parametrize("first_missing", [False, True])
def test_jsonl_writer_matches_row_by_row_dicts(first_missing):
    frame = _mixed_frame(500, first_missing=first_missing)
    assert _written(frame) == _reference_lines(frame)


def test_jsonl_writer_constant_and_empty_columns():
    frame = pd.DataFrame({"a": pd.array(["1"] * 3, dtype="str"), "b": pd.array(["x"] * 3, dtype="str")})
    assert _written(frame) == [{"a": "1", "b": "x"}] * 3
    assert _written(pd.DataFrame(index=range(2))) == [{}, {}]
    buf = io.BytesIO()
    assert write_jsonl(frame.iloc[:0], buf) == 0 and buf.getvalue() == b""


def test_jsonl_writer_reserves_space_only_for_real_files(tmp_path):
    frame = _mixed_frame(50, first_missing=False)
    path = tmp_path / "out.jsonl"
    with open(path, "wb") as fh:
        write_jsonl(frame, fh)
        write_jsonl(frame, fh)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 100 and [json.loads(x) for x in lines[:50]] == _reference_lines(frame)


# ---- dates: distinct values parsed once ------------------------------------------------------------


def _strptime(v, fmt):
    try:
        return np.datetime64(dt.datetime.strptime(v, fmt), "s")
    except (TypeError, ValueError):
        return np.datetime64("NaT")


@pytest.mark.parametrize("fmt", ["%Y%m%d%H%M%S", "%Y-%m-%d", "%Y年%m月%d日"])
def test_repeated_dates_parse_like_strptime(fmt):
    rng = np.random.default_rng(11)
    stamps = (np.datetime64("1950-01-01T00:00:00") + rng.integers(0, 80 * 365 * 86400, 300)).astype("datetime64[s]")
    good = [pd.Timestamp(s).strftime(fmt) for s in stamps]
    dirt = ["20261131", "2026-02-30", "20260229120000", "2024-02-29", "abc", "", None, "2026-13-01", "20260101246000"]
    values = rng.choice(np.array(good + dirt, dtype=object), 6000)  # ≥ 4096 rows: the distinct-value path
    text = pd.Series(pd.array(values.tolist(), dtype="str"))
    parsed, used = parse_times(text, fmt)
    assert used == fmt
    expected = [_strptime(v, fmt) for v in values]
    got = parsed.to_numpy(dtype="datetime64[s]")
    assert [str(x) for x in got] == [str(x) for x in expected]
    small, _ = parse_times(text.iloc[:1000], fmt)  # the plain path agrees value by value
    assert small.to_numpy(dtype="datetime64[s]").tolist() == got[:1000].tolist()


def test_large_chunks_map_exactly_like_small_chunks():
    """7,000 rows in one chunk (distinct-value paths) and in chunks of 500 (plain paths) agree."""
    m = hlwjr.load_mapping(DATA / "mapping_small")
    src = DATA / "mapping_small" / "src"
    visits = hlwjr.read_source(src / "visits.csv")
    patients = hlwjr.read_source(src / "patients.csv")
    big = visits.iloc[np.arange(7000) % len(visits)].reset_index(drop=True)
    big["FZID"] = [f"FZ{i:05d}" for i in range(len(big))]
    runs = [
        hlwjr.apply_mapping(
            m,
            "visit",
            spec=SPEC,
            today="2026-11-25",
            chunksize=size,
            sources={"his": {"visits": big, "patients": patients}},
        )
        for size in (7000, 500)
    ]
    one, many = runs
    pd.testing.assert_frame_equal(one.records, many.records)

    def issues(r):  # issues are listed rule by rule within a chunk: compare them row by row
        return r.issues.sort_values(["row", "field", "rule"], na_position="first").reset_index(drop=True)

    pd.testing.assert_frame_equal(issues(one), issues(many))
    assert one.n_records + len(one.rejected_rows) == 7000
    assert set(one.issues["rule"]) >= {"date", "derive", "code_map"}


def test_limit_reads_exactly_that_many_rows():
    m = hlwjr.load_mapping(DATA / "mapping_small")
    src = DATA / "mapping_small" / "src"
    visits = hlwjr.read_source(src / "visits.csv")
    big = visits.iloc[np.arange(100) % len(visits)].reset_index(drop=True)
    big["FZID"] = [f"FZ{i:05d}" for i in range(len(big))]
    r = hlwjr.apply_mapping(
        m,
        "visit",
        spec=SPEC,
        today="2026-11-25",
        chunksize=30,
        limit=45,
        sources={"his": {"visits": big, "patients": hlwjr.read_source(src / "patients.csv")}},
    )
    assert r.n_source_rows == 45


# ---- GBK CSV read as raw bytes ---------------------------------------------------------------------


def _gbk_csv(path: Path, delimiter: str, rows: int = 3000) -> Path:
    rng = np.random.default_rng(5)
    names = ["张试明", "李试芳", "欧阳试", "王试"]
    lines = [delimiter.join(["BRID", "BRXM", "ZD", "KSMC", "BZ"])]
    for i in range(rows):
        name = names[rng.integers(0, 4)]
        diag = f"诊断{i}号"  # distinct on every row: decoded as a whole column
        dept = rng.choice(["内科", "", "外科,急诊", '儿科"甲"'])
        note = rng.choice(["", "x", "备注"])
        cells = [f"P{i}", name, diag, dept, note]
        lines.append(
            delimiter.join(f'"{c.replace(chr(34), chr(34) * 2)}"' if (delimiter in c or '"' in c) else c for c in cells)
        )
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_large_gbk_csv_reads_like_pandas(tmp_path, monkeypatch, delimiter):
    monkeypatch.setattr(_sources, "_ARROW_MIN_BYTES", 0)  # the streaming (Arrow) reader
    decoded = []
    real = _sources._decode_table
    monkeypatch.setattr(_sources, "_decode_table", lambda t, enc: decoded.append(enc) or real(t, enc))
    path = _gbk_csv(tmp_path / "big.csv", delimiter)
    expected = pd.read_csv(path, sep=delimiter, encoding="gb18030", dtype=str, keep_default_na=False, na_values=[""])
    chunks = list(_sources.iter_source(path, chunksize=1000))
    assert [len(c) for c in chunks] == [1000, 1000, 1000]
    got = pd.concat(chunks)
    assert list(got.columns) == list(expected.columns)
    for c in expected.columns:
        assert str(got[c].dtype) == "str"
        assert got[c].tolist() == expected[c].astype("str").tolist(), c
    assert got["KSMC"].isna().sum() == expected["KSMC"].isna().sum() > 0
    # raw bytes + per-column decoding, except "|" (a possible second byte of a GBK character)
    assert decoded == ([] if delimiter == "|" else ["gb18030"] * 3)


def test_gbk_decode_of_raw_columns_keeps_missing_values():
    import pyarrow as pa

    raw = pa.array(["内科".encode("gbk"), None, b"", "外科".encode("gbk"), b"A"] * 3000, type=pa.large_binary())
    out = _encodings._decode_column(raw, "gb18030")
    assert out.type == pa.large_string()
    assert out.to_pylist()[:5] == ["内科", None, "", "外科", "A"]
    unique = pa.array([f"值{i}".encode("gbk") if i % 7 else None for i in range(5000)], type=pa.large_binary())
    decoded = _encodings._decode_column(unique, "gb18030").to_pylist()
    assert decoded == [f"值{i}" if i % 7 else None for i in range(5000)]
    assert _mapping is not None
