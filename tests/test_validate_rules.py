"""Every rule of the registry, with a passing and a failing record; docs/rules.md in step."""

from __future__ import annotations

from pathlib import Path

import pytest
from validate_helpers import (
    ADULT_ID,
    DOCTOR_ID,
    DROP,
    PATIENT_ID,
    batch,
    doctor,
    line,
    pharmacist,
    problems,
    recipe,
    revisit,
    settlement,
)

import hlwjr
from hlwjr.validation._rules import RULES, rules_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_the_valid_batch_has_no_problem_at_all():
    found, report = problems(batch())
    assert found == set() and report.ok and report.n_records == 5


# (rule id, data set, failing record, field blamed) — each failing record breaks exactly one thing
FAILING = [
    ("required", "doctor", doctor(doctorName=DROP), "doctorName"),
    ("required", "doctor", doctor(doctorName=""), "doctorName"),
    ("required", "doctor", doctor(doctorName="  "), "doctorName"),
    ("required", "doctor", doctor(doctorName=None), "doctorName"),
    ("type", "doctor", doctor(doctorYears="10"), "doctorYears"),
    ("type", "doctor", doctor(doctorYears=True), "doctorYears"),
    ("type", "doctor", doctor(doctorYears=10.5), "doctorYears"),
    ("type", "doctor", doctor(sex=1), "sex"),
    ("type", "revisit", revisit(mobile=None), "mobile"),
    ("max_length", "doctor", doctor(doctorName="名" * 51), "doctorName"),
    ("precision", "revisit", revisit(returnVisitPrice=25.555), "returnVisitPrice"),
    ("precision", "revisit", revisit(returnVisitPrice=123456789.5), "returnVisitPrice"),
    ("pattern", "doctor", doctor(organID="91110000123456789x"), "organID"),
    ("pattern", "doctor", doctor(mobile="1381234567"), "mobile"),
    ("date", "doctor", doctor(birthday="1980/01/01"), "birthday"),
    ("date", "doctor", doctor(birthday="1980-02-30"), "birthday"),
    ("date", "doctor", doctor(birthday=29221), "birthday"),
    ("datetime", "revisit", revisit(endDate="2026-11-01 24:00:00"), "endDate"),
    ("datetime", "revisit", revisit(endDate="2026-11-01T09:30:00"), "endDate"),
    ("code_set", "doctor", doctor(sex="男"), "sex"),
    ("code_set", "doctor", doctor(sex="1 "), "sex"),
    ("const", "revisit", revisit(source="LIS"), "source"),
    ("minimum", "doctor", doctor(doctorYears=-1), "doctorYears"),
    ("maximum", "doctor", doctor(doctorYears=71), "doctorYears"),
    ("min_items", "recipe", recipe(orderList=[], totalFee=DROP), "orderList"),
    ("whitespace", "doctor", doctor(doctorName="张三 "), "doctorName"),
    ("unknown_field", "doctor", doctor(doctorname="张三"), "doctorname"),
    (
        "id_number",
        "doctor",
        doctor(doctorCertID=DOCTOR_ID[:17] + ("0" if DOCTOR_ID[17] != "0" else "1")),
        "doctorCertID",
    ),
    ("id_birth_sex", "doctor", doctor(sex="2"), "sex"),
    ("id_birth_sex", "doctor", doctor(birthday="1980-01-02"), "birthday"),
    ("id_birth_sex", "revisit", revisit(age=50), "age"),
    ("code_name_match", "doctor", doctor(subjectName="消化内科专业"), "subjectName"),
    ("code_name_match", "recipe", recipe(icdCode="I10.x00|E11.900", icdName="高血压|1型糖尿病"), "icdName"),
    ("required_if", "revisit", revisit(patientCertID=PATIENT_ID, age=5, sex="1"), "guardianName"),
    ("required_if", "revisit", revisit(answerFlag="0"), "refuseReason"),
    ("required_if", "recipe", recipe(recipeType="3"), "packetsNum"),
    ("time_order", "revisit", revisit(startDate="2026-11-01 07:00:00"), "startDate"),
    ("time_order", "revisit", revisit(startDate=DROP, endDate="2026-11-01 07:59:59"), "endDate"),
    ("time_order", "recipe", recipe(checkDate="2026-11-01 09:00:00"), "checkDate"),
    ("non_negative", "revisit", revisit(returnVisitPrice=-1), "returnVisitPrice"),
    ("sum_of_lines", "recipe", recipe(totalFee=31.0), "totalFee"),
    ("sum_of_fields", "settlement", settlement(selfPay=50.0), "totalFee"),
    ("equals", "revisit", revisit(referralFlag="0"), "referralFlag"),
    ("revisit_only", "revisit", revisit(originalDiagnosis=DROP), "originalDiagnosis"),
    (
        "no_controlled_drugs",
        "recipe",
        recipe(orderList=[line(1, drname="盐酸吗啡缓释片", totalPrice=30.0)]),
        "orderList.drname",
    ),
    (
        "no_controlled_drugs",
        "recipe",
        recipe(orderList=[line(1, drcode="X004", drname="安定片", totalPrice=30.0)]),
        "orderList.drname",
    ),
    ("different_persons", "recipe", recipe(auditDoctorCertID=DOCTOR_ID), "auditDoctorCertID"),
]


@pytest.mark.parametrize(
    "rule, dataset, record, field", FAILING, ids=[f"{r}-{f}-{i}" for i, (r, d, rec, f) in enumerate(FAILING)]
)
def test_each_rule_fails_the_broken_record(rule, dataset, record, field):
    base = batch()
    passing, _ = problems(base)
    assert passing == set()
    base[dataset] = [record] if dataset not in ("doctor",) else [record, pharmacist()]
    if dataset == "doctor" and rule in ("id_number", "required", "pattern") and field in ("doctorCertID", "organID"):
        base.pop("revisit"), base.pop("recipe")  # the broken doctor key would break references too
    found, report = problems(base)
    assert (rule, field) in found, report.to_frame()[["dataset", "field", "rule", "message"]].to_string()
    p = next(p for p in report.problems if p.rule == rule and p.field == field)
    assert p.message and p.dataset == dataset and p.row == (None if rule == "unknown_field" else 0)
    assert p.severity == (
        "warning"
        if rule in ("whitespace", "unknown_field")
        or (rule, dataset) in {("id_birth_sex", "doctor"), ("equals", "revisit")}
        else "error"
    )


def test_cross_record_rules_duplicate_reference_and_already_accepted():
    # duplicate business key within the batch
    found, report = problems(batch(recipe=[recipe(), recipe()]))
    assert ("duplicate_key", "recipeID") in found
    dup = next(p for p in report.problems if p.rule == "duplicate_key")
    assert dup.row == 1 and "第 1 行" in dup.message
    # duplicate child key within one prescription
    found, _ = problems(batch(recipe=[recipe(orderList=[line(1), line(1, totalPrice=20.0)])]))
    assert ("duplicate_key", "orderList.lineNo") in found
    # a reference to a revisit that is not in the batch
    found, report = problems(batch(recipe=[recipe(bussID="FZ404")]))
    assert ("reference", "bussID") in found

    # ... but is already accepted by the platform (lookup) or in a reference set (accepted)
    class Ledger:
        def __init__(self, keys):
            self.keys = keys
            self.calls = []

        def known(self, dataset_code, keys):
            self.calls.append((dataset_code, list(keys)))
            return {k for k in keys if k in self.keys.get(dataset_code, set())}

    ledger = Ledger({"revisit": {("91110000123456789X", "FZ404")}})
    found, _ = problems(batch(recipe=[recipe(bussID="FZ404")]), lookup=ledger, skip=["already_accepted"])
    assert ("reference", "bussID") not in found
    found, _ = problems(batch(recipe=[recipe(bussID="FZ404")]), accepted={"revisit": [("91110000123456789X", "FZ404")]})
    assert ("reference", "bussID") not in found
    # already accepted: the key itself is on the platform
    ledger = Ledger({"recipe": {("91110000123456789X", "CF001")}})
    found, _ = problems(batch(), lookup=ledger)
    assert ("already_accepted", "recipeID") in found
    # nothing to check a reference against: one warning, not a false error per row
    found, report = problems([recipe()], "recipe")
    refs = [p for p in report.problems if p.rule == "reference"]
    assert len(refs) == 1 and refs[0].severity == "warning" and refs[0].row is None and report.ok


def test_id_rules_apply_only_to_resident_id_cards():
    passport = revisit(patientCertType="03", patientCertID="E12345678")
    found, _ = problems(batch(revisit=[passport]))
    assert not {r for r, f in found} & {"id_number", "id_birth_sex"}
    found, _ = problems(batch(revisit=[revisit(patientCertType="01", patientCertID="E12345678")]))
    assert ("id_number", "patientCertID") in found


def test_full_width_and_spaces_in_ids_are_reported_with_a_hint():
    fw = ADULT_ID.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    _, report = problems(batch(revisit=[revisit(patientCertID=fw)]))
    msg = next(p.message for p in report.problems if p.rule == "id_number")
    assert "全角" in msg and "半角" in msg
    _, report = problems(batch(revisit=[revisit(patientCertID=" " + ADULT_ID)]))
    assert "空格" in next(p.message for p in report.problems if p.rule == "id_number")


def test_code_set_hints_name_instead_of_code():
    _, report = problems(batch(doctor=[doctor(sex="男性"), pharmacist()]))
    msg = next(p.message for p in report.problems if p.rule == "code_set")
    assert "应填代码 1" in msg


def test_incomplete_code_sets_only_warn():
    _found, report = problems(batch(recipe=[recipe(icdCode="Z99.999", icdName="其他")]))
    p = next(p for p in report.problems if p.rule == "code_set")
    assert p.severity == "warning" and report.ok


def test_unknown_rule_or_bad_params_in_the_spec_is_a_spec_error(tmp_path):
    import shutil

    from validate_helpers import SPEC_DIR

    d = tmp_path / "spec"
    shutil.copytree(SPEC_DIR, d)
    f = d / "datasets" / "settlement.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("sum_of_fields", "sum_of_feilds"), encoding="utf-8")
    with pytest.raises(hlwjr.SpecError, match="未知规则 'sum_of_feilds'"):
        hlwjr.check([settlement()], "settlement", spec=d)
    f.write_text(
        f.read_text(encoding="utf-8").replace("sum_of_feilds", "sum_of_fields").replace("parts:", "partz:"),
        encoding="utf-8",
    )
    with pytest.raises(hlwjr.SpecError, match="未知参数 partz"):
        hlwjr.check([settlement()], "settlement", spec=d)


def test_every_registered_rule_is_documented_and_tested():
    tested = {r for r, *_ in FAILING} | {"duplicate_key", "reference", "already_accepted", "not_object"}
    assert set(RULES) <= tested, set(RULES) - tested
    docs = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert docs.strip() == rules_markdown().strip(), "docs/rules.md is stale: regenerate it from rules_markdown()"
    for rule_id in RULES:
        assert f"`{rule_id}`" in docs


def test_a_failing_lookup_is_one_error_without_unmasked_ids():
    """The lookup is someone else's code (ledger, sandbox client): its failure becomes one DataError,
    and an ID or phone number in its message is masked (nothing prints them in full)."""

    class Broken:
        def known(self, dataset_code, keys):
            raise RuntimeError(f"connection lost while asking for {ADULT_ID} / 13812345678")

    for kw in ({}, {"skip": ["already_accepted"]}):
        with pytest.raises(hlwjr.DataError) as info:
            problems(batch(recipe=[recipe(bussID="FZ404")]), lookup=Broken(), **kw)
        text = str(info.value)
        assert "lookup.known" in text and ADULT_ID not in text and "13812345678" not in text
        assert ADULT_ID[:6] in text and "138****5678" in text
