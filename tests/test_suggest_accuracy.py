"""Suggestion quality (对照建议): top-1 accuracy on the demo HIS and on a second, differently named HIS.

The truth is the reviewed demo mapping (mapping/demo): every rule that takes one column of the
data set's main table.  The second layout renames the same tables the way other vendors do
(English snake_case and full pinyin: patient_name, id_no, xingming, shenfenzhenghao …).
Run with ``-s`` to see the accuracy table reported in benchmarks/README.md.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import hlwjr
from hlwjr.demo._hospital import generate_demo_hospital
from hlwjr.mapping._suggest import suggest_code_map, suggest_codes, suggest_fields, top1_accuracy

ROOT = Path(__file__).parents[1]

LAYOUT2 = {
    "visits": {
        "FZID": "visit_no",
        "BRID": "patient_id",
        "BRXM": "patient_name",
        "XB": "gender",
        "SFZH": "id_no",
        "CSRQ": "birth_date",
        "LXDH": "phone_no",
        "JHRXM": "guardian_name",
        "JHRSFZH": "guardian_id_no",
        "JHRDH": "guardian_phone",
        "YSGH": "doctor_code",
        "KSDM": "dept_code",
        "FZLX": "visit_mode",
        "JZKH": "card_no",
        "SCZD": "last_diagnosis",
        "ZDDM": "icd_code",
        "ZDMC": "diag_name",
        "BCZD": "diagnosis",
        "JBS": "history",
        "SQSJ": "apply_time",
        "KSSJ": "begin_time",
        "JSSJ": "end_time",
        "ZFQD": "pay_channel",
        "GHFY": "fee_fen",
        "HFBZ": "answered",
        "FZSM": "revisit_declared",
    },
    "prescriptions": {
        "CFBH": "rx_no",
        "FZID": "visit_no",
        "BRID": "patient_id",
        "BRXM": "xingming",
        "XB": "xingbie",
        "SFZH": "shenfenzhenghao",
        "CSRQ": "chushengriqi",
        "LXDH": "lianxidianhua",
        "JHRXM": "jianhurenxingming",
        "JHRSFZH": "jianhurenshenfenzheng",
        "YSGH": "doctor_code",
        "KSDM": "keshidaima",
        "SFYSGH": "pharmacist_code",
        "SFSJ": "audit_time",
        "KFSJ": "prescribe_time",
        "CFLX": "rx_type",
        "TS": "doses",
        "YXTS": "valid_days",
        "FB": "fee_type",
        "PSFS": "delivery",
        "ZDDM": "icd_code",
        "ZDMC": "diag_name",
        "SCZD": "last_diagnosis",
        "ZJE": "total_amount",
        "SFZF": "paid",
        "GMS": "allergy",
    },
    "consultations": {
        "ZXID": "consult_no",
        "BRID": "patient_id",
        "BRXM": "patient_name",
        "XB": "sex",
        "SFZH": "id_card",
        "LXDH": "mobile",
        "YSGH": "doctor_code",
        "KSDM": "dept_code",
        "ZXLX": "consult_type",
        "SQSJ": "apply_time",
        "KSSJ": "start_time",
        "JSSJ": "end_time",
        "ZFQD": "pay_channel",
        "ZXFY": "fee",
        "ZXNR": "question",
        "HFBZ": "reply_flag",
        "JJSJ": "refuse_time",
        "JJYY": "refuse_reason",
        "JJLX": "refuse_type",
    },
    "staff": {
        "YSGH": "staff_no",
        "XM": "name",
        "SFZH": "id_card",
        "XB": "gender",
        "CSRQ": "dob",
        "SJHM": "mobile",
        "RYLB": "staff_type",
        "ZCDM": "title_code",
        "KSDM": "dept_code",
        "ZGZSBH": "qualification_cert_no",
        "ZYZSBH": "practice_cert_no",
        "GZNX": "work_years",
        "ZYDD": "practice_place",
        "FZJG": "issuing_authority",
        "FZRQ": "issue_date",
        "GXSJ": "update_time",
    },
}
DATASET_TABLE = {"revisit": "visits", "recipe": "prescriptions", "consult": "consultations", "doctor": "staff"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return generate_demo_hospital(tmp_path_factory.mktemp("demo_suggest"))


@pytest.fixture(scope="module")
def mapping():
    return hlwjr.load_mapping(ROOT / "mapping" / "demo")


def _truth(dm, rename=None):
    truth = {}
    for key, r in dm.fields.items():
        col = None
        if r.kind in ("column", "date", "code") and r.take == "code":
            col = r.column
        elif r.kind == "derive" and r.derive in ("upper", "trim") and len(r.args) == 1:
            col = r.args[0]
        if col and "." not in col:
            truth[key] = rename.get(col, col) if rename is not None else col
    return truth


def _accuracy(demo, mapping, code, rename=None):
    spec = hlwjr.load_spec()
    dm = mapping.dataset(code)
    df = hlwjr.read_source(f"sqlite:///{demo.database}", table=dm.source.table)
    if rename is not None:
        df = df.rename(columns=rename)
    return top1_accuracy(suggest_fields(spec.dataset(code), df), _truth(dm, rename))


def test_top1_accuracy_on_demo_hospital(demo, mapping):
    report = {}
    for code in mapping.datasets:
        acc, misses = _accuracy(demo, mapping, code)
        report[code] = acc
        assert acc >= 0.85, (code, misses)
    print("\n演示医院 top-1:", {k: f"{v:.0%}" for k, v in report.items()})
    assert sum(report.values()) / len(report) >= 0.95


@pytest.mark.parametrize("code", sorted(DATASET_TABLE))
def test_top1_accuracy_on_second_layout(demo, mapping, code):
    acc, misses = _accuracy(demo, mapping, code, LAYOUT2[DATASET_TABLE[code]])
    print(f"\n第二种 HIS 命名 {code}: top-1 {acc:.0%}; misses: {misses}")
    assert acc >= 0.95, misses


@pytest.mark.parametrize("layout", ["pinyin", "chinese", "english"])
def test_top1_accuracy_on_a_second_hospital_export(layout):
    """A different hospital's single revisit export (流水号 key, no guardian phone, no card type) with
    pinyin-initial, Chinese or English headers: every labelled column goes to its field, no column
    is confidently given to a wrong field, and the business time is the 申请时间 column."""
    from hospital2_helpers import BUSINESS_TIME, LAYOUTS, TRUTH, revisit_export

    from hlwjr.mapping._suggest import suggest_business_time

    rename = LAYOUTS[layout]
    df = revisit_export().rename(columns=rename)
    truth = {k: rename.get(v, v) for k, v in TRUTH.items()}
    ds = hlwjr.load_spec().dataset("revisit")
    sugg = suggest_fields(ds, df)
    acc, misses = top1_accuracy(sugg, truth)
    print(f"\n第二家医院（在线复诊导出，{layout}）top-1 {acc:.0%}; misses: {misses}")
    assert acc >= 0.95, misses
    wrong = {
        s.field: s.best.column for s in sugg if s.best and s.best.score >= 0.75 and truth.get(s.field) != s.best.column
    }
    assert not wrong
    assert suggest_business_time(ds, sugg, df)["column"] == rename.get(BUSINESS_TIME, BUSINESS_TIME)


def test_candidates_have_scores_and_reasons(demo):
    spec = hlwjr.load_spec()
    df = hlwjr.read_source(f"sqlite:///{demo.database}", table="visits")
    by = {s.field: s for s in suggest_fields(spec.dataset("revisit"), df, top=3)}
    best = by["patientCertID"].best
    assert best.column == "SFZH" and best.score >= 0.9
    assert any("身份证号" in r for r in best.reasons)
    assert by["birthday"].best if "birthday" in by else True
    assert all(0 <= c.score <= 1 for s in by.values() for c in s.candidates)
    assert all(len(s.candidates) <= 3 for s in by.values())
    d = by["mobile"].to_dict()
    assert d["candidates"][0]["column"] == "LXDH" and d["candidates"][0]["reasons"]


def test_suggest_codes_common_habits():
    spec = hlwjr.load_spec()
    table = suggest_codes(
        spec.code_set("sex"), {"男": 5, "男性": 2, "M": 9, "1": 3, "女": 4, "F": 8, "未知": 1, "??": 1}
    )
    got = {k: (None if pd.isna(v) else v) for k, v in zip(table["local"], table["code"])}
    assert got == {"男": "1", "男性": "1", "M": "1", "1": "1", "女": "2", "F": "2", "未知": "0", "??": None}
    assert set(table["status"]) == {"suggested"}
    yn = suggest_codes(spec.code_set("yes-no"), ["Y", "N", "是", "否"])
    assert yn["code"].tolist() == ["1", "0", "1", "0"]
    pay = suggest_codes(spec.code_set("payment-channel"), ["WX", "ZFB", "微信支付"])
    assert pay["code"].tolist() == ["2", "1", "2"]
    audit = suggest_codes(spec.code_set("audit-status"), ["通过", "不通过"])
    assert audit["code"].tolist() == ["1", "2"]


def test_suggested_code_map_is_never_accepted(tmp_path):
    spec = hlwjr.load_spec()
    cm = suggest_code_map("sex", spec.code_set("sex"), {"M": 3, "F": 2})
    assert set(cm.entries["status"]) == {"suggested"}
    cm.save(tmp_path / "sex.csv")
    assert "suggested" in (tmp_path / "sex.csv").read_text(encoding="utf-8-sig")


def test_a_column_that_drops_another_persons_title_is_not_preferred():
    """监护人身份证号: `jianhurenshenfenzheng` (guardian, slightly misspelt) beats the bare
    `shenfenzhenghao`, which is the patient's; for 患者证件号码 the bare column stays first."""
    spec = hlwjr.load_spec()
    ids = ["11010119800101001X", "110101199001010027"] * 10
    df = pd.DataFrame({"shenfenzhenghao": ids, "jianhurenshenfenzheng": ids, "xingming": ["张试明"] * 20})
    by = {s.field: s for s in suggest_fields(spec.dataset("recipe"), df)}
    assert by["guardianCertID"].best.column == "jianhurenshenfenzheng"
    assert by["patientCertID"].best.column == "shenfenzhenghao"
    bare = next(c for c in by["guardianCertID"].candidates if c.column == "shenfenzhenghao")
    assert any("指另一个人" in r for r in bare.reasons)


def test_missing_local_values_get_no_code_and_numbers_keep_their_type():
    """A missing local value is not a code (as "nan" it read like the pinyin of 男 and was
    suggested as 1 男性); 1 in a dict stays 1, not "1.0"."""
    cs = hlwjr.load_spec().code_set("GB/T 2261.1")
    for values in (
        {1: 3, None: 2},
        [1, None, float("nan")],
        pd.DataFrame({"local": [1, None], "local_name": [None, "男"]}, dtype=object),
    ):
        s = suggest_codes(cs, values)
        assert s["local"].tolist() == [1] and s["code"].tolist() == ["1"], values


@pytest.mark.parametrize("bare", ["身份证号", "shenfenzhenghao", "SFZH", "证件号码"])
@pytest.mark.parametrize("doctor", ["医生身份证号", "ysshenfenzhenghao", "YSSFZH", "yishengshenfenzhenghao"])
def test_a_bare_id_column_is_the_patients_not_the_doctors(bare, doctor):
    """A bare 身份证号 column in a visit export is the patient's: 医生身份证号 ranks it below
    患者证件号码 and below a column marked for the doctor, and says why."""
    spec = hlwjr.load_spec()
    ids = ["11010119800101001X", "110101199001010027"] * 10
    by = {s.field: s for s in suggest_fields(spec.dataset("revisit"), pd.DataFrame({bare: ids}))}
    alone = by["doctorCertID"].best
    assert alone.column == bare and alone.score < by["patientCertID"].best.score
    both = {s.field: s for s in suggest_fields(spec.dataset("revisit"), pd.DataFrame({bare: ids, doctor: ids}))}
    assert both["doctorCertID"].best.column == doctor
    assert both["patientCertID"].best.column == bare


@pytest.mark.parametrize("values", [["张明", "李红", "王芳"], ["A01", "B02", "C03"], ["门诊", "急诊", "住院"]])
def test_an_integer_field_gets_no_shape_credit_from_a_column_of_text_codes(values):
    """患者年龄 (integer) ← a column of names or letter codes: the values are not integers, so the
    candidate is not said to look like one (codes of digits still are)."""
    spec = hlwjr.load_spec()
    df = pd.DataFrame({"nianling_x": values * 10, "nl": ["23", "45", "7"] * 10})
    by = {s.field: s for s in suggest_fields(spec.dataset("revisit"), df)}
    text = next(c for c in by["age"].candidates if c.column == "nianling_x")
    assert not any("整数" in r for r in text.reasons)
    digits = next(c for c in by["age"].candidates if c.column == "nl")
    assert any("整数" in r for r in digits.reasons)
