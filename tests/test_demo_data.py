"""The demo hospital (演示医院): deterministic, big enough, GBK exports, obviously synthetic, dirty."""

from __future__ import annotations

import hashlib
import sqlite3

import pandas as pd
import pytest

import hlwjr
from hlwjr._privacy import check_id_number
from hlwjr.demo._hospital import DEMO_ORGAN_ID, TABLES, generate_demo_hospital

BUSINESS = {
    "consultations": "SQSJ",
    "visits": "SQSJ",
    "emr": "JZRQ",
    "prescriptions": "KFSJ",
    "audits": "SHSJ",
    "dispensing": "HXSJ",
    "settlements": "ZFSJ",
    "evaluations": "PJSJ",
    "complaints": "FSSJ",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return generate_demo_hospital(tmp_path_factory.mktemp("demo"))


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_deterministic(demo, tmp_path):
    again = generate_demo_hospital(tmp_path, seed=20261101)
    for name in TABLES:
        assert _digest(again.csv_dir / f"{name}.csv") == _digest(demo.csv_dir / f"{name}.csv")
    other = generate_demo_hospital(tmp_path / "other", seed=7)
    assert _digest(other.csv_dir / "visits.csv") != _digest(demo.csv_dir / "visits.csv")


def test_tables_and_csv_exports_agree(demo):
    con = sqlite3.connect(demo.database)
    try:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        con.close()
    assert names == set(TABLES)
    for name in ("visits", "prescription_lines"):
        csv_df = hlwjr.read_source(demo.csv_dir / f"{name}.csv")
        assert csv_df.attrs["source_info"]["encoding"] == "gbk"
        assert len(csv_df) == demo.tables[name]
    assert {"BRXM", "XB", "SFZH", "KSDM", "CSRQ", "LXDH"} <= set(hlwjr.read_source(demo.sqlite_url, table="visits"))


def test_at_least_60_business_records_per_day(demo):
    for table, col in BUSINESS.items():
        df = hlwjr.read_source(demo.sqlite_url, table=table)
        days = df[col].astype("str").str.replace("-", "").str[:8]
        counts = days.value_counts()
        assert len([d for d in counts.index if d.startswith("202611")]) >= 5, table
        assert counts[counts.index.str.startswith("2026110")].min() >= 60, (table, counts.to_dict())


def test_synthetic_and_mostly_valid_ids(demo):
    pats = hlwjr.read_source(demo.sqlite_url, table="patients")
    assert pats["BRXM"].str.contains("试").all()
    assert pats["LXDH"].str.startswith("1990000").all()
    valid = pats["SFZH"].map(check_id_number)
    assert 0.02 <= 1 - valid.mean() <= 0.05  # ~3 % bad check digits
    assert hlwjr.read_source(demo.sqlite_url, table="hospital")["JGDM"].iloc[0] == DEMO_ORGAN_ID


def test_realistic_dirt_is_planted(demo):
    assert set(demo.dirt) >= {
        "身份证校验位错误 (bad ID check digit)",
        "完全重复行 (duplicated row)",
        "科室本地代码未对照 (unmapped department LS99)",
        "用法本地代码未对照 (unmapped route ZZ)",
    }
    visits = hlwjr.read_source(demo.sqlite_url, table="visits")
    assert visits["BCZD"].isna().any()  # missing required diagnosis
    bad_dates = pd.to_datetime(visits["JSSJ"], format="%Y%m%d%H%M%S", errors="coerce").isna()
    assert bad_dates.any()  # impossible dates (Nov 31)
    rx = hlwjr.read_source(demo.sqlite_url, table="prescriptions")
    assert rx.duplicated().any()
    assert (hlwjr.read_source(demo.sqlite_url, table="prescription_lines")["YF"] == "ZZ").any()
    assert "README.txt" in {p.name for p in demo.out_dir.iterdir()}


def test_bad_arguments_are_clear_errors_and_write_nothing(tmp_path):
    with pytest.raises(hlwjr.ConfigError, match="不是有效的日期"):
        generate_demo_hospital(tmp_path / "a", start="2026-13-01")
    assert not (tmp_path / "a").exists()
    (tmp_path / "f").write_text("x", encoding="utf-8")
    with pytest.raises(hlwjr.ConfigError, match="不是目录"):
        generate_demo_hospital(tmp_path / "f")
    with pytest.raises(hlwjr.ConfigError, match="至少为 1"):
        generate_demo_hospital(tmp_path / "b", days=0)


def test_a_failed_regeneration_keeps_the_previous_database(tmp_path, monkeypatch):
    """Files are renamed into place only when complete: an error while writing leaves the previous
    his.sqlite as it was and no temporary files behind."""
    import hlwjr.demo._hospital as D

    first = generate_demo_hospital(tmp_path, days=1, per_day=8)
    before = first.database.read_bytes()
    names = sorted(p.name for p in tmp_path.rglob("*"))

    def broken(values):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(D, "_sql_type", broken)
    with pytest.raises(OSError):
        generate_demo_hospital(tmp_path, days=1, per_day=8, seed=7)
    assert first.database.read_bytes() == before
    assert sorted(p.name for p in tmp_path.rglob("*")) == names
    con = sqlite3.connect(first.database)
    try:
        assert con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] == len(TABLES)
    finally:
        con.close()
