"""The example records shipped with the reference spec (``examples/<code>.json``): valid against
their data set's JSON Schema, GB 11643-valid ID numbers, and mutually consistent (the record
rules and references of the spec hold among them). The validation engine's own tests use them as
"known good" records, so a test here re-checks each rule with a small independent oracle."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jsonschema
import pytest
from refspec_helpers import reference_examples

import hlwjr
from hlwjr._privacy import check_id_number
from hlwjr.validation._fastschema import FORMAT_CHECKER

SPEC_DIR = Path(hlwjr.__file__).parent / "specs" / "beijing-reference"
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


@pytest.fixture(scope="module")
def spec():
    return hlwjr.load_spec("beijing-reference")


@pytest.fixture(scope="module")
def examples(spec):
    return reference_examples(spec)


def gb11643_ok(s: str) -> bool:
    """Independent GB 11643-1999 check: 17 digits, real birth date, check digit."""
    if len(s) != 18 or not s[:17].isdigit():
        return False
    try:
        dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return "10X98765432"[sum(int(c) * w for c, w in zip(s, W)) % 11] == s[17]


def test_gb11643_oracle_knows_valid_and_invalid_numbers():
    assert gb11643_ok("11010519491231002X")  # the standard's own example
    assert gb11643_ok("440524188001010014")
    assert not gb11643_ok("110105194912310021")  # wrong check digit
    assert not gb11643_ok("11010519490231002X")  # 2月31日


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def test_example_organisation_codes_are_valid_gb32100_credit_codes(examples):
    codes = {r["organID"] for recs in examples.values() for r in recs}
    codes |= {r[k] for r in examples["doctor"] for k in ("firstWorkUnitId",) if k in r}
    for code in codes:
        s = sum(USCC_CHARS.index(c) * w for c, w in zip(code, USCC_W))
        assert USCC_CHARS[(31 - s % 31) % 31] == code[17], code


def test_three_examples_for_every_top_level_data_set(spec, examples):
    files = {p.stem for p in (SPEC_DIR / "examples").glob("*.json")}
    assert files == {ds.code for ds in spec.top_level()}
    for code, recs in examples.items():
        assert isinstance(recs, list) and len(recs) == 3, code


def test_examples_validate_against_the_json_schema(spec, examples):
    for code, recs in examples.items():
        validator = jsonschema.Draft202012Validator(spec.dataset(code).json_schema(), format_checker=FORMAT_CHECKER)
        for i, rec in enumerate(recs):
            errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(rec)]
            assert not errors, (code, i, errors)


def test_field_examples_validate_against_their_field_schema(spec):
    for ds in spec.datasets.values():
        for f in ds:
            if f.example is None:
                continue
            jsonschema.Draft202012Validator(f.json_schema(spec), format_checker=FORMAT_CHECKER).validate(f.example)


def test_business_keys_are_unique(spec, examples):
    for code, recs in examples.items():
        keys = [spec.dataset(code).key_of(r) for r in recs]
        assert len(set(keys)) == len(keys), code


def _id_rules(spec, code):
    return [r for r in spec.dataset(code).rules if r.id == "id_number"]


def test_example_id_numbers_pass_gb11643(spec, examples):
    n = 0
    for code, recs in examples.items():
        for rule in _id_rules(spec, code):
            for rec in recs:
                value = rec.get(rule.params["number"])
                if value is None:
                    continue
                t = rule.params.get("type")
                if t and rec.get(t) not in ("01", "1"):
                    continue
                assert gb11643_ok(value) and check_id_number(value), (code, rule.params["number"])
                n += 1
    assert n >= 40


def _age_at(birth: dt.date, at: dt.date) -> int:
    return at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))


def test_birthday_sex_and_age_agree_with_the_id_number(spec, examples):
    for code, recs in examples.items():
        for rule in (r for r in spec.dataset(code).rules if r.id == "id_birth_sex"):
            p = rule.params
            for rec in recs:
                s = rec[p["number"]]
                birth = dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
                if "sex" in p:
                    assert rec[p["sex"]] == ("1" if int(s[16]) % 2 else "2"), code
                if "birthday" in p:
                    assert rec[p["birthday"]] == birth.isoformat(), code
                if "age" in p:
                    at = dt.date.fromisoformat(rec[p["at"]][:10])
                    assert rec[p["age"]] == _age_at(birth, at), code


def test_references_resolve_among_the_examples(spec, examples):
    for code, recs in examples.items():
        for ref in spec.dataset(code).references:
            for rec in recs:
                local = {k: rec.get(k) for k in ref.fields}
                if any(v is None for v in local.values()):
                    continue
                found = any(
                    all(t.get(tf) == local[lf] for lf, tf in ref.fields.items())
                    for target in ref.datasets
                    for t in examples[target]
                )
                assert found, (code, local, ref.datasets)


def test_prescribers_and_pharmacists_are_filed_with_the_right_role(examples):
    role = {d["doctorCertID"]: d["doctorWorkType"] for d in examples["doctor"]}
    for r in examples["recipe"]:
        assert role[r["doctorCertID"]] == "1" and role[r["auditDoctorCertID"]] == "2"
    for a in examples["recipe_audit"]:
        assert role[a["auditDoctorIdCard"]] == "2"


def _present(rec, k):
    return rec.get(k) not in (None, "")


def _holds(rec, when):
    v = rec.get(when["field"])
    if v in (None, ""):
        return False
    op, x = when["op"], when["value"]
    if op == "eq":
        return str(v) == str(x)
    if op == "ne":
        return str(v) != str(x)
    if op == "in":
        return str(v) in {str(y) for y in x}
    return {"lt": v < x, "le": v <= x, "gt": v > x, "ge": v >= x}[op]


def _check_rule(spec, ds, rule, rec):
    p = rule.params
    if rule.id == "required_if":
        return not _holds(rec, p["when"]) or all(_present(rec, f) for f in p["fields"])
    if rule.id == "time_order":
        vals = [rec[f] for f in p["fields"] if _present(rec, f)]
        return vals == sorted(vals)
    if rule.id == "non_negative":
        return all(rec[f] >= 0 for f in p["fields"] if _present(rec, f))
    if rule.id == "sum_of_lines":
        return abs(rec[p["total"]] - sum(x[p["item_field"]] for x in rec[p["items"]])) <= p["tolerance"]
    if rule.id == "sum_of_fields":
        return abs(rec[p["total"]] - sum(rec.get(f, 0) for f in p["parts"])) <= p["tolerance"]
    if rule.id == "equals":
        return rec.get(p["field"]) == p["value"]
    if rule.id == "revisit_only":
        return rec.get(p["flag"]) == p.get("value", "1") and _present(rec, p["diagnosis"])
    if rule.id == "different_persons":
        vals = [rec[f] for f in p["fields"] if _present(rec, f)]
        return len(vals) == len(set(vals))
    if rule.id == "code_name_match":
        if not (_present(rec, p["code"]) and _present(rec, p["name"])):
            return True
        cs = spec.code_sets[p["code_set"]]
        pairs = zip(rec[p["code"]].split("|"), rec[p["name"]].split("|"))
        return all(cs.name_of(c) == n for c, n in pairs)
    if rule.id == "no_controlled_drugs":
        names = list(spec.code_sets[p["code_set"]].codes.values())
        return not any(n in line[p["name_field"]] for line in rec[p["items"]] for n in names)
    if rule.id in ("id_number", "id_birth_sex"):
        return True  # checked above
    raise AssertionError(f"no oracle for rule {rule.id}")


def test_every_record_rule_holds_for_every_example(spec, examples):
    for code, recs in examples.items():
        ds = spec.dataset(code)
        for rule in ds.rules:
            for i, rec in enumerate(recs):
                assert _check_rule(spec, ds, rule, rec), (code, i, rule.id, dict(rule.params))


def test_examples_exercise_the_conditional_rules(examples):
    assert any(r["age"] < 6 and r["guardianCertID"] for r in examples["revisit"])
    assert any(r["recipeType"] == "3" and r["packetsNum"] for r in examples["recipe"])
    assert any(r["answerFlag"] == "0" and r["refuseReason"] for r in examples["consult"])
    assert any(r["deliveryType"] == "1" and r["logisticsNo"] for r in examples["dispensing"])
    assert any(r.get("refundFlag") == "1" and r["refundFee"] for r in examples["settlement"])
    assert any(r["businessType"] == "5" and r["recipeID"] for r in examples["settlement"])


def test_example_business_times_are_in_2026_and_patients_are_marked_as_test(spec, examples):
    for code, recs in examples.items():
        ds = spec.dataset(code)
        for rec in recs:
            for f in ds:
                if f.type == "datetime" and _present(rec, f.key):
                    assert rec[f.key].startswith("2026-"), (code, f.key)
            for k in ("patientName", "doctorName", "auditDoctorName"):
                if k in rec:
                    assert "测试" in rec[k], (code, k)


def test_examples_pass_the_validation_engine(spec, examples):
    """All twelve data sets as one batch, earlier uploads standing in for "accepted": no problem."""
    report = hlwjr.check(examples, spec=spec, accepted=examples)
    assert report.n_records == 36 and set(report.counts) == set(examples)
    problems = report.to_frame()
    assert problems.empty, problems[["dataset", "row", "field", "rule", "message"]].to_dict("records")


def test_each_data_set_alone_passes_given_the_others_as_accepted(spec, examples):
    for code, recs in examples.items():
        report = hlwjr.check(recs, code, spec=spec, accepted=examples)
        assert report.ok and not report.warnings, (code, report.to_frame().to_dict("records"))
