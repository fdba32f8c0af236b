"""The reference spec's mandatory checks (强制校验) bite: one broken copy of a good example per
check, run through the validation engine, reports the rule and field the spec wires up."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from refspec_helpers import reference_examples

import hlwjr

SPEC_DIR = Path(hlwjr.__file__).parent / "specs" / "beijing-reference"


@pytest.fixture(scope="module")
def spec():
    return hlwjr.load_spec("beijing-reference")


@pytest.fixture(scope="module")
def examples(spec):
    return reference_examples(spec)


def _set(rec, path, value):
    *head, last = path.split(".")
    for p in head:
        rec = rec[int(p)] if p.isdigit() else rec[p]
    if value is _DEL:
        del rec[last]
    else:
        rec[last] = value


_DEL = object()

CASES = [
    # (data set, example index, {path: new value}, expected rule, expected field, severity)
    ("unit", 0, {"internetPermit": "0"}, "equals", "internetPermit", "error"),
    ("dept", 0, {"subjectName": "消化内科专业"}, "code_name_match", "subjectName", "error"),
    ("dept", 0, {"principalDoctorCertID": "110101197006060571"}, "id_number", "principalDoctorCertID", "error"),
    ("doctor", 0, {"doctorTile": "副主任医师"}, "code_name_match", "doctorTile", "error"),
    ("doctor", 0, {"sex": "2"}, "id_birth_sex", "sex", "warning"),
    ("doctor", 0, {"doctorWorkCode": _DEL}, "required_if", "doctorWorkCode", "error"),
    ("doctor", 0, {"subjectCode": "03.99"}, "code_set", "subjectCode", "error"),
    ("consult", 1, {"refuseReason": _DEL}, "required_if", "refuseReason", "error"),
    ("consult", 0, {"endDate": "2026-11-03 09:00:00"}, "time_order", "endDate", "error"),
    ("consult", 0, {"consultationPrice": -1}, "non_negative", "consultationPrice", "error"),
    ("recipe", 2, {"packetsNum": 0}, "minimum", "packetsNum", "error"),
    ("consult", 0, {"mobile": "1390000100"}, "pattern", "mobile", "error"),
    ("revisit", 2, {"guardianCertID": _DEL}, "required_if", "guardianCertID", "error"),
    ("revisit", 0, {"referralFlag": "0"}, "revisit_only", "referralFlag", "error"),
    ("revisit", 0, {"age": 40}, "id_birth_sex", "age", "warning"),
    ("revisit", 0, {"patientCertType": "1"}, "code_set", "patientCertType", "error"),
    ("emr", 0, {"furtherConsultDiagnosis": "急性支气管炎"}, "code_name_match", "furtherConsultDiagnosis", "warning"),
    ("emr", 0, {"furtherConsultNo": "FZ-NOT-THERE"}, "reference", "furtherConsultNo", "error"),
    ("recipe", 0, {"auditDoctorCertID": "__doctor__"}, "different_persons", "auditDoctorCertID", "error"),
    ("recipe", 0, {"orderList.0.drname": "盐酸曲马多缓释片"}, "no_controlled_drugs", "drname", "error"),
    ("recipe", 2, {"packetsNum": _DEL}, "required_if", "packetsNum", "error"),
    ("recipe", 0, {"totalFee": 999.0}, "sum_of_lines", "totalFee", "warning"),
    ("recipe", 0, {"orderList": []}, "min_items", "orderList", "error"),
    ("recipe", 0, {"orderList.1.lineNo": 1}, "duplicate_key", "lineNo", "error"),
    ("recipe", 0, {"orderList.0.admission": "405"}, "code_set", "admission", "error"),
    ("recipe", 0, {"bussID": "FZ-NOT-THERE"}, "reference", "bussID", "error"),
    ("recipe", 0, {"icdName": "急性上呼吸道感染"}, "code_name_match", "icdName", "warning"),
    ("recipe", 0, {"orderList.1.drname": "氯氮卓片"}, "no_controlled_drugs", "drname", "error"),
    ("recipe_audit", 0, {"auditStatus": "2", "auditOpinion": _DEL}, "required_if", "auditOpinion", "error"),
    ("dispensing", 0, {"logisticsNo": _DEL}, "required_if", "logisticsNo", "error"),
    ("settlement", 1, {"selfPay": 10.0}, "sum_of_fields", "totalFee", "error"),
    ("settlement", 2, {"refundFee": _DEL}, "required_if", "refundFee", "error"),
    ("evaluation", 0, {"bussID": "ZX-NOT-THERE"}, "reference", "bussID", "error"),
    ("evaluation", 0, {"satisfaction": 6}, "code_set", "satisfaction", "error"),
    ("complaint", 0, {"reportDate": "2026-11-01 10:00:00"}, "time_order", "reportDate", "error"),
]


@pytest.mark.parametrize("code, i, change, rule, field, severity", CASES, ids=[f"{c[0]}-{c[3]}-{c[4]}" for c in CASES])
def test_a_broken_example_is_reported_by_the_rule_the_spec_names(
    spec, examples, code, i, change, rule, field, severity
):
    rec = copy.deepcopy(examples[code][i])
    for path, value in change.items():
        if value == "__doctor__":
            value = rec["doctorCertID"]
        _set(rec, path, value)
    report = hlwjr.check([rec], code, spec=spec, accepted=examples)
    hits = [
        p for p in report.problems if p.rule == rule and (p.field == field or (p.field or "").endswith("." + field))
    ]
    assert hits, report.to_frame()[["field", "rule", "message"]].to_dict("records")
    assert {p.severity for p in hits} == {severity}
    assert all(p.message for p in hits)
    # and nothing else: the other rules still hold for the changed record
    others = [p for p in report.problems if p not in hits and p.rule not in ("id_birth_sex",)]
    assert not [p for p in others if p.severity == "error"], [(p.rule, p.field, p.message) for p in others]
