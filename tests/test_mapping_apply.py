"""Applying a mapping (运行对照): exact records, every row accounted for, date filter, chunks, JSON lines."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hlwjr
from hlwjr.mapping._derived import DERIVED
from hlwjr.mapping._jsonl import write_jsonl

DATA = Path(__file__).parent / "data"
SPEC = DATA / "mapping_spec"
ORG = "12110000TEST00001X"


@pytest.fixture
def mapping():
    return hlwjr.load_mapping(DATA / "mapping_small")


def _apply(mapping, dataset, **kw):
    return hlwjr.apply_mapping(mapping, dataset, spec=SPEC, today="2026-11-25", **kw)


def test_visit_records_exactly(mapping):
    r = _apply(mapping, "visit")
    got = r.to_dicts()
    assert got[0] == {
        "organID": ORG,
        "bussID": "FZ001",
        "patientName": "张试明",
        "patientCertID": "11010119800101001X",
        "sex": "1",
        "age": 46,
        "birthday": "1980-01-01",
        "mobile": "19900000001",
        "subjectCode": "03.01",
        "startDate": "2026-11-01 09:00:00",
        "price": 15.0,
        "note": "NK01-FZ001",
    }
    assert got[1]["mobile"] == "19900001234" and got[1]["age"] == 11 and got[1]["sex"] == "2"
    # impossible birth date kept for validation to report; sex X defaulted to 0
    assert got[2]["birthday"] == "19900230" and got[2]["sex"] == "0" and "age" not in got[2]
    # impossible visit time kept as is
    assert got[3]["startDate"] == "20261131090000"
    # patient missing from the patients table: joined fields missing, row still mapped and reported
    assert got[4]["bussID"] == "FZ006" and "patientName" not in got[4]
    assert "cardNo" not in r.records.columns  # unavailable → not sent
    assert r.records["age"].dtype == "Int64" and r.records["price"].dtype == "float64"


def test_every_source_row_is_a_record_or_a_reported_rejection(mapping):
    r = _apply(mapping, "visit")
    assert r.n_source_rows == 7
    assert set(r.source_rows) | set(r.rejected_rows) == set(range(1, 8))
    assert not set(r.source_rows) & set(r.rejected_rows)
    rej = r.rejections.set_index("row")
    assert rej.loc[4, "rule"] == "code_map" and rej.loc[4, "value"] == "XX99" and rej.loc[4, "key"] == f"{ORG}|FZ004"
    assert rej.loc[5, "rule"] == "duplicate_row"
    kept = r.issues[r.issues["action"] != "rejected"]
    assert set(zip(kept["row"], kept["rule"])) == {
        (3, "code_map"),
        (3, "date"),
        (3, "derive"),
        (6, "date"),
        (6, "derive"),
        (7, "join"),
    }
    assert sorted(r.unmapped().to_dict("records"), key=lambda d: d["field"]) == [
        {"field": "sex", "value": "X", "action": "defaulted", "count": 1},
        {"field": "subjectCode", "value": "XX99", "action": "rejected", "count": 1},
    ]
    assert "源数据 7 行 → 记录 5 条，拒收 2 行" in r.summary()


def test_issue_values_are_masked(mapping, tmp_path):
    m = mapping
    m.dataset("visit").set_rule("mobile", column="LXDH", code_map="sex")  # nonsense map → phone values rejected
    r = _apply(m, "visit")
    vals = r.issues.loc[r.issues["field"] == "mobile", "value"].tolist()
    assert vals == ["199****1234"]


def test_date_filter_selects_business_day(mapping):
    r = _apply(mapping, "visit", date="2026-11-02")
    assert r.records["bussID"].tolist() == ["FZ003"]
    assert r.date == "2026-11-02"
    # rows of other days are neither records nor issues; the unparseable business time is reported
    assert set(r.issues["rule"]) == {"business_time", "duplicate_row", "code_map", "date", "derive"}
    assert r.issues.loc[r.issues["rule"] == "business_time", "row"].tolist() == [6]
    with pytest.raises(hlwjr.MappingError, match="YYYY-MM-DD"):
        _apply(mapping, "visit", date="2026/11/02")


def test_date_filter_counts_the_days_rows_so_the_summary_adds_up(mapping):
    r = _apply(mapping, "visit", date="2026-11-02")
    # every row of the day (or of an unknown day) ends as a record or as a reported rejection
    assert r.n_day_rows == len(r.records) + len(r.rejected_rows)
    assert f"其中当日 {r.n_day_rows} 行" in r.summary()
    assert _apply(mapping, "visit").n_day_rows is None


def test_children_built_only_for_this_data_set(mapping):
    r = _apply(mapping, "recipe")
    recs = r.to_dicts()
    assert [x["recipeID"] for x in recs] == ["CF1", "CF2"]
    assert recs[0]["orderList"] == [
        {"lineNo": 1, "drcode": "YP1", "admission": "1", "price": 12.5},
        {"lineNo": 2, "drcode": "YP2", "admission": "5", "price": 12.5},
    ]
    rej = r.rejections
    assert rej["row"].tolist() == [3] and rej["field"].tolist() == ["orderList.admission"]
    assert "明细（rx_lines 第 4 行）" in rej["message"].iloc[0] and rej["key"].iloc[0] == f"{ORG}|CF3"
    one_day = _apply(mapping, "recipe", date="2026-11-01")
    assert [len(x) for x in one_day.records["orderList"]] == [2, 1]


@pytest.mark.parametrize("chunksize", [1, 3, 100_000])
def test_exact_duplicate_names_the_row_it_repeats_and_its_key(mapping, chunksize):
    rej = _apply(mapping, "visit", chunksize=chunksize).rejections.set_index("row")
    assert rej.loc[5, "message"].startswith("与第 4 行完全相同")
    assert rej.loc[5, "key"] == f"{ORG}|FZ004"  # the business key of the row it repeats


def test_exact_duplicates_across_chunks_point_at_the_first_occurrence():
    from hlwjr.mapping._engine import _exact_duplicates

    seen_h, seen_r = np.array([], dtype="uint64"), np.array([], dtype="int64")
    found = {}
    for hashes, rows in [([7, 3, 7], [1, 2, 3]), ([3, 9, 7, 9], [4, 5, 6, 7]), ([9], [8])]:
        rows = np.array(rows)
        dup, first, seen_h, seen_r = _exact_duplicates(np.array(hashes, dtype="uint64"), rows, seen_h, seen_r)
        found.update(zip(rows[dup].tolist(), first.tolist()))
    assert found == {3: 1, 4: 2, 6: 1, 7: 5, 8: 5}
    assert seen_h.tolist() == [3, 7, 9] and seen_r.tolist() == [2, 1, 5]


def test_chunked_equals_whole(mapping):
    whole = _apply(mapping, "visit")
    chunked = _apply(mapping, "visit", chunksize=2)
    pd.testing.assert_frame_equal(whole.records, chunked.records)
    cols = ["row", "rule", "action", "field"]
    key = lambda df: df[cols].astype(str).sort_values(cols).reset_index(drop=True)
    pd.testing.assert_frame_equal(key(whole.issues), key(chunked.issues))


def test_streaming_out_matches_to_jsonl(mapping, tmp_path):
    r = _apply(mapping, "recipe")
    r.to_jsonl(tmp_path / "a.jsonl")
    s = _apply(mapping, "recipe", out=tmp_path / "b.jsonl", chunksize=1)
    assert s.n_records == 2 and s.records.empty
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    lines = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()]
    assert lines == r.to_dicts()


def test_jsonl_serialiser_matches_json_module():
    df = pd.DataFrame(
        {
            "s": pd.array(['a"b', "c\\d", "换行\n制表\t", "ctl\x01", None], dtype="str"),
            "i": pd.array([1, None, -3, 0, 7], dtype="Int64"),
            "f": [1.5, np.nan, 0.1 + 0.2, 100.0, -2.25],
            "o": pd.Series([[{"a": 1}], [], None, "raw", 5], dtype="object"),
        }
    )
    buf = io.BytesIO()
    assert write_jsonl(df, buf) == 5
    lines = [json.loads(x) for x in buf.getvalue().decode("utf-8").splitlines()]
    assert lines[0] == {"s": 'a"b', "i": 1, "f": 1.5, "o": [{"a": 1}]}
    assert lines[1] == {"s": "c\\d", "o": []}  # missing values are left out, not null
    assert lines[2] == {"s": "换行\n制表\t", "i": -3, "f": 0.1 + 0.2}
    assert lines[3] == {"s": "ctl\x01", "i": 0, "f": 100.0, "o": "raw"}
    assert lines[4] == {"i": 7, "f": -2.25, "o": 5}


def test_derived_functions():
    s = lambda *v: pd.Series(list(v), dtype="str")
    age = DERIVED["age_from_birth"].func([s("19800302", "20200101", None), s("20261101", "20261101", "20261101")], {})
    assert age.tolist()[:2] == [46, 6] and age.isna().tolist()[2]
    ids = s("110101198003020019", "11010120150102002X", "bad")
    assert DERIVED["sex_from_id"].func([ids], {}).tolist()[:2] == ["1", "2"]
    assert DERIVED["birth_from_id"].func([ids], {}).tolist()[:2] == ["1980-03-02", "2015-01-02"]
    assert DERIVED["age_from_id"].func([ids, s("2026-03-01 08:00:00", "2026-11-01 08:00:00", None)], {}).tolist()[
        :2
    ] == [45, 11]
    assert DERIVED["yuan_from_fen"].func([pd.Series([1550, 1, None], dtype="Int64")], {}).tolist()[:2] == [15.5, 0.01]
    assert DERIVED["first_non_empty"].func([s(None, " ", "a"), s("x", "y", "z")], {}).tolist() == ["x", "y", "a"]
    assert DERIVED["upper"].func([s(" 11010119800101001x ")], {}).tolist() == ["11010119800101001X"]
    assert DERIVED["date_plus_days"].func([s("2026-11-01 10:00:00"), s("3")], {}).tolist() == ["2026-11-04"]


def test_missing_column_at_run_time_is_a_mapping_error(mapping):
    mapping.dataset("visit").set_rule("patientName", column="BRXMX")
    with pytest.raises(hlwjr.MappingError, match="列 'BRXMX' 不在数据源中"):
        _apply(mapping, "visit")


def test_missing_join_key_at_run_time_names_file_join_and_table(mapping, tmp_path):
    mapping.dataset("visit").source.joins[0].keys = {"BRID": "BRIDX"}
    with pytest.raises(hlwjr.MappingError) as exc:
        hlwjr.apply_mapping(mapping, "visit", spec=SPEC, check=False)
    assert "关联键 BRIDX 不在关联表 p（patients）中；该表的列：BRID" in str(exc.value)
    assert "visit.yaml: source.joins p" in str(exc.value)
    mapping.dataset("visit").source.joins[0].keys = {"BRIDX": "BRID"}
    with pytest.raises(hlwjr.MappingError, match="关联键 BRIDX 不在主表 visits 中"):
        hlwjr.apply_mapping(mapping, "visit", spec=SPEC, check=False)
    with pytest.raises(hlwjr.MappingError, match="对照配置目录不存在"):
        hlwjr.load_mapping(tmp_path / "nowhere")
    with pytest.raises(hlwjr.MappingError, match="不是有效的日期"):
        _apply(mapping, "visit", date="2026-13-01")


def test_sources_override_with_dataframes(mapping):
    visits = pd.DataFrame(
        {"FZID": ["A1"], "BRID": ["P1"], "KSDM": ["EK01"], "KSSJ": ["20261101080000"], "GHFY": ["100"], "LXDH": [None]}
    )
    patients = pd.DataFrame(
        {
            "BRID": ["P1"],
            "BRXM": ["周试一"],
            "XB": ["F"],
            "SFZH": ["110101201001010020"],
            "CSRQ": ["20100101"],
            "SJHM": [None],
        }
    )
    r = _apply(mapping, "visit", sources={"his": {"visits": visits, "patients": patients}})
    assert r.to_dicts()[0]["patientName"] == "周试一" and r.to_dicts()[0]["subjectCode"] == "07"


def test_preview_first_rows_after_an_edit(mapping):
    mapping.dataset("visit").set_rule("note", const="预览")
    r = mapping.preview("visit", 2, spec=SPEC)
    assert r.n_source_rows == 2 and r.records["note"].tolist() == ["预览", "预览"]
    assert r.records["bussID"].tolist() == ["FZ001", "FZ002"]


@pytest.mark.parametrize(
    "values",
    [
        ["a", "b"],
        [" a", "b"],
        ["a ", "b"],
        ["a", "\u3000b"],
        ["中文", "b\u3000"],
        ["中文。", "x"],
        ["a", ""],
        ["a", None],
        ["x\u00a0", "y"],
        ["张试明", "李试芳"],
        ["\t制表", "换行\n"],
        [None, None],
    ],
)
def test_text_is_trimmed_and_empty_is_missing(values):
    from hlwjr.mapping._conversions import as_text

    s = pd.Series(values, dtype="str")
    want = s.str.strip()
    want = want.mask(want == "")
    got = as_text(s)
    assert [None if pd.isna(v) else v for v in got] == [None if pd.isna(v) else v for v in want]


def test_issue_keys_are_masked_like_the_validators(mapping):
    """A business key made of an ID-card number (as doctor's doctorCertID) is masked in every issue;
    the 机构代码 part stays readable."""
    import re

    mapping.dataset("visit").set_rule("bussID", column="p.SFZH")
    r = _apply(mapping, "visit")
    keys = [k for k in r.issues["key"].tolist() if isinstance(k, str)]
    assert keys and all(k.startswith(f"{ORG}|") for k in keys)
    assert not any(re.search(r"\d{17}[\dXx]", k) for k in keys)
    assert any(re.fullmatch(rf"{ORG}\|\d{{6}}\*{{8}}\w{{4}}", k) for k in keys)


def test_to_jsonl_never_leaves_a_half_written_file(mapping, tmp_path, monkeypatch):
    import hlwjr.mapping._result as M

    r = _apply(mapping, "visit")
    target = tmp_path / "a.jsonl"
    assert r.to_jsonl(target) == r.n_records
    before = target.read_bytes()

    def broken(records, fh):
        fh.write(b'{"organID": "half')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(M, "write_jsonl", broken)
    with pytest.raises(OSError):
        r.to_jsonl(target)
    assert target.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl"]
