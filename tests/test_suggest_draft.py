"""``hlwjr map suggest --write`` on a new hospital's export: the draft sets ``business_time``, finds
the 流水号 business key, does not give a guardian field the patient's column, and proposes 01 for
a certificate type exported as 1 (leading zero lost)."""

from __future__ import annotations

import io
import random
import string
from pathlib import Path

import pytest
import yaml
from hospital2_helpers import BUSINESS_TIME, OPEN, TRUTH, revisit_export
from hypothesis import given, settings
from hypothesis import strategies as st

import hlwjr
from hlwjr import cli
from hlwjr.mapping._codemaps import load_code_map
from hlwjr.mapping._suggest import suggest_business_time, suggest_codes, suggest_fields

ROOT = Path(__file__).parents[1]


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(cli.parse_args(list(map(str, argv))), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def spec():
    return hlwjr.load_spec()


@pytest.fixture(scope="module")
def draft(tmp_path_factory):
    d = tmp_path_factory.mktemp("hospital2")
    revisit_export().to_csv(d / "fz.csv", index=False, encoding="gbk")
    code, out, err = run("map", "suggest", "--dataset", "revisit", "--source", d / "fz.csv", "--write", d / "m")
    assert code == 0, err
    return d, out


def test_draft_sets_business_time_and_the_business_key(draft):
    d, out = draft
    doc = yaml.safe_load((d / "m" / "datasets" / "revisit.yaml").read_text(encoding="utf-8"))
    assert doc["source"]["business_time"] == BUSINESS_TIME
    assert doc["source"]["business_time_format"] == "%Y-%m-%d %H:%M:%S"
    assert f"business_time = {BUSINESS_TIME}" in out
    assert doc["fields"]["bussID"]["column"] == TRUTH["bussID"]
    assert "流水号" in doc["fields"]["bussID"]["comment"]


def test_draft_maps_no_column_to_a_wrong_field(draft):
    d, _ = draft
    fields = yaml.safe_load((d / "m" / "datasets" / "revisit.yaml").read_text(encoding="utf-8"))["fields"]
    for key, rule in fields.items():
        assert key not in OPEN, (key, rule)
        assert rule["column"] == TRUTH[key], (key, rule)
        assert rule.get("status", "suggested") == "suggested"


def test_certificate_type_1_gets_01_with_the_leading_zero_note(draft):
    d, _ = draft
    fields = yaml.safe_load((d / "m" / "datasets" / "revisit.yaml").read_text(encoding="utf-8"))["fields"]
    name = fields["patientCertType"]["code_map"]
    cm = load_code_map(d / "m" / "codes" / f"{name}.csv")
    row = cm.entries.set_index("local").loc["1"]
    assert row["code"] == "01" and "前导零" in row["comment"] and row["status"] == "suggested"


def test_then_map_check_names_what_the_draft_left_open(draft):
    d, _ = draft
    code, out, _ = run("map", "check", "--mapping", d / "m")
    assert code == 1
    assert "必填字段 unitID" in out and "错误 1 个" in out and "business_time" not in out


def test_business_time_on_the_demo_hospital_matches_the_reviewed_mapping(tmp_path, spec):
    from hlwjr.demo._hospital import generate_demo_hospital
    from hlwjr.mapping._template import master_datasets

    h = generate_demo_hospital(tmp_path / "demo", days=2)
    m = hlwjr.load_mapping(ROOT / "mapping" / "demo")
    master = {d.code for d in master_datasets(spec)}
    for code, dm in m.datasets.items():
        if code in master:
            assert dm.source.business_time is None
            continue
        ds = spec.dataset(code)
        df = hlwjr.read_source(f"sqlite:///{h.database}", table=dm.source.table)
        bt = suggest_business_time(ds, suggest_fields(ds, df), df)
        assert bt is not None, code
        assert (bt["column"], bt["format"]) == (dm.source.business_time, dm.source.business_time_format), code


def test_master_data_draft_has_no_business_time(tmp_path, spec):
    from hlwjr.demo._hospital import generate_demo_hospital

    h = generate_demo_hospital(tmp_path / "demo", days=1)
    code, out, err = run(
        "map", "suggest", "--dataset", "doctor", "--source", f"sqlite:///{h.database}#staff", "--write", tmp_path / "m"
    )
    assert code == 0, err
    doc = yaml.safe_load((tmp_path / "m" / "datasets" / "doctor.yaml").read_text(encoding="utf-8"))
    assert "business_time" not in doc["source"] and "没有找到业务时间列" not in out


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10_000))
def test_suggestions_do_not_depend_on_column_order_or_values(seed):
    """Another export of the same layout (other people, other order of columns): the same picks."""
    df = revisit_export(n=40, seed=seed)
    cols = list(df.columns)
    random.Random(seed).shuffle(cols)
    sugg = suggest_fields(hlwjr.load_spec().dataset("revisit"), df[cols])
    confident = {s.field: s.best.column for s in sugg if s.best is not None and s.best.score >= 0.75}
    assert confident == {k: v for k, v in TRUTH.items() if k in confident}  # every confident pick is right
    assert len(confident) >= 0.9 * len(TRUTH) and not set(confident) & set(OPEN)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_codes_written_without_leading_zero_or_full_width_are_suggested(spec, data):
    code_sets = [cs for cs in (spec.code_set(c) for c in ("cert-type", "nation", "dept-category")) if cs.codes]
    cs = data.draw(st.sampled_from(code_sets))
    code = data.draw(st.sampled_from([c for c in cs.codes if c.isdigit()]))
    spoilt = data.draw(
        st.sampled_from(
            [
                code.lstrip("0") or "0",
                code.translate(str.maketrans(string.digits, "０１２３４５６７８９")),
                f" {code} ",
            ]
        )
    )
    row = suggest_codes(cs, [spoilt]).iloc[0]
    assert row["code"] == code, (cs.id, spoilt, row.to_dict())
    if spoilt == code.lstrip("0") and spoilt != code:
        assert "前导零" in row["reason"]


# ------------------------------------------------------------ the draft is an assignment
from hypothesis import given as _given  # noqa: E402
from hypothesis import strategies as _st  # noqa: E402

from hlwjr.mapping._suggest import Candidate, FieldSuggestion, assign_columns  # noqa: E402

_COLS = ["A", "B", "C", "D", "E"]


@_st.composite
def _suggestions(draw):
    out = []
    for i in range(draw(_st.integers(1, 7))):
        cols = draw(_st.lists(_st.sampled_from(_COLS), unique=True, max_size=4))
        scores = sorted((draw(_st.floats(0.3, 1.0)) for _ in cols), reverse=True)
        out.append(
            FieldSuggestion(f"f{i}", f"字段{i}", "string", False, [Candidate(c, s) for c, s in zip(cols, scores)])
        )
    return out


@_given(_suggestions(), _st.floats(0.5, 0.9))
def test_one_column_feeds_one_field_and_no_field_gets_a_weak_guess(suggestions, min_score):
    chosen = assign_columns(suggestions, min_score=min_score)
    assert all(c.score >= min_score for c in chosen.values())
    by_column: dict[str, list[float]] = {}
    for c in chosen.values():
        by_column.setdefault(c.column, []).append(c.score)
    for scores in by_column.values():
        assert len(scores) == 1 or min(scores) >= 0.99  # shared only by exact matches
    for s in suggestions:  # a field left open had every good column taken by an equal or better match
        if s.field in chosen:
            continue
        for c in s.candidates:
            if c.score >= min_score:
                assert c.column in by_column and max(by_column[c.column]) >= c.score


def test_the_doctors_id_number_does_not_also_become_the_guardians():
    doctor = FieldSuggestion("doctorCertID", "医生身份证号", "string", True, [Candidate("YSSFZH", 0.93)])
    guardian = FieldSuggestion(
        "guardianCertID", "监护人身份证号", "string", False, [Candidate("YSSFZH", 0.81), Candidate("JHRSFZH", 0.78)]
    )
    chosen = assign_columns([guardian, doctor])
    assert chosen["doctorCertID"].column == "YSSFZH" and chosen["guardianCertID"].column == "JHRSFZH"
    lone = FieldSuggestion("guardianCertID", "监护人身份证号", "string", False, [Candidate("YSSFZH", 0.81)])
    assert "guardianCertID" not in assign_columns([lone, doctor])  # left open, not a shared guess


@pytest.mark.parametrize("with_name_column", [True, False])
def test_a_draft_takes_the_hospital_s_own_code_and_name_from_the_project(tmp_path, with_name_column):
    """What no export column holds but hlwjr.toml knows — the 统一社会信用代码 and the name of the
    hospital — is drafted as a constant (待审); a column that holds it wins."""
    import pandas as pd

    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "hlwjr.toml").write_text(
        '[project]\nname = "某某互联网医院"\norg_code = "12110105MB1234567X"\n', encoding="utf-8"
    )
    cols = {"就诊流水号": [f"FZ{i}" for i in range(12)], "申请时间": ["2026-11-01 09:00:00"] * 12}
    if with_name_column:
        cols["机构名称"] = ["某某互联网医院"] * 12
    src = tmp_path / "export.csv"
    pd.DataFrame(cols).to_csv(src, index=False)
    args = ["map", "suggest", "--dataset", "revisit", "--source", src, "--write", tmp_path / "m"]
    code, out, err = run(*args, "--config", tmp_path / "proj")
    assert code == 0, out + err
    rules = yaml.safe_load((tmp_path / "m" / "datasets" / "revisit.yaml").read_text(encoding="utf-8"))["fields"]
    assert rules["organID"]["const"] == "12110105MB1234567X" and "hlwjr.toml" in rules["organID"]["comment"]
    assert ("column" in rules["organName"]) == with_name_column
    assert with_name_column or rules["organName"]["const"] == "某某互联网医院"
