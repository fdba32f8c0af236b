"""Golden tests: the demo hospital's source rows → the expected spec records, for every data set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import hlwjr
from hlwjr.demo._hospital import generate_demo_hospital

ROOT = Path(__file__).parents[1]
GOLDEN = Path(__file__).parent / "data" / "mapping_golden"
MASTER = ("unit", "dept", "doctor")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return generate_demo_hospital(tmp_path_factory.mktemp("demo_golden"))


@pytest.fixture(scope="module")
def mapping():
    return hlwjr.load_mapping(ROOT / "mapping" / "demo")


def _sources(h):
    return {"his": f"sqlite:///{h.database}"}


def test_demo_mapping_checks_clean(demo, mapping):
    h = demo
    issues = mapping.check(sources=_sources(h))
    assert [str(i) for i in issues if i.severity == "error"] == []


@pytest.mark.parametrize("code", sorted(p.stem for p in GOLDEN.glob("*.json")))
def test_golden_records(demo, mapping, code):
    h = demo
    gold = json.loads((GOLDEN / f"{code}.json").read_text(encoding="utf-8"))
    r = hlwjr.apply_mapping(mapping, code, date=gold["date"], sources=_sources(h))
    assert (r.n_source_rows, len(r.records), r.rejected_rows) == (
        gold["n_source_rows"],
        gold["n_records"],
        gold["rejected_rows"],
    )
    recs = r.to_dicts()
    rows = r.source_rows.tolist()
    for ex in gold["examples"]:
        assert recs[rows.index(ex["source_row"])] == ex["record"]


def test_every_data_set_of_the_spec_is_mapped(mapping):
    spec = hlwjr.load_spec()
    assert {d.code for d in spec.top_level()} == set(mapping.datasets) == {p.stem for p in GOLDEN.glob("*.json")}


def test_csv_exports_give_the_same_records(demo, mapping):
    h = demo
    a = hlwjr.apply_mapping(mapping, "revisit", date="2026-11-03", sources=_sources(h))
    b = hlwjr.apply_mapping(mapping, "revisit", date="2026-11-03", sources={"his": str(h.csv_dir)})
    assert a.to_dicts() == b.to_dicts()


def test_each_day_has_enough_valid_records(demo, mapping):
    """The platform wants ≥ 30 successful records a day; the demo must give that after validation."""
    h = demo
    spec = hlwjr.load_spec()
    bad_total = 0
    for ds in spec.top_level():
        if ds.code in MASTER:
            continue
        for day in h.days[:3]:
            r = hlwjr.apply_mapping(mapping, ds.code, date=day, sources=_sources(h))
            report = hlwjr.check(r.records, ds.code)
            bad = report.bad_rows(ds.code)
            bad_total += len(bad)
            assert len(r.records) - len(bad) >= 30, (ds.code, day, report.to_frame().head())
    assert bad_total > 0  # the planted dirt is found by validation too
