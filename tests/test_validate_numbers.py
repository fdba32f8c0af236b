"""Numbers of any size: big integers compared exactly, numbers beyond the double range a type
problem with their text — through the engine (check, is_valid), the small-batch path, the JSON
Schema engine and ``hlwjr validate`` on CSV and JSON lines files."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from validate_helpers import SPEC_DIR, TODAY, revisit, spec

import hlwjr
from hlwjr import cli
from hlwjr._privacy import mask_value
from hlwjr.validation import _engine
from hlwjr.validation._fastschema import fast_validate
from hlwjr.validation._numbers import FLOAT_MAX, NumberText, loads_exact, number_from_text, number_text
from hlwjr.validation._smallbatch import certify_clean

SPEC = spec()
SKIP = ("reference",)
big_ints = st.integers(-(10**420), 10**420) | st.integers(-(2**70), 2**70) | st.integers(-5, 200)


def age_problems(age):
    report = hlwjr.check({"revisit": [revisit(age=age)]}, spec=SPEC, today=TODAY, skip=SKIP)
    return {p.rule: p for p in report.problems if p.field == "age" and p.rule != "id_birth_sex"}


def expected_rule(age: int) -> str | None:
    if abs(age) > FLOAT_MAX:
        return "type"
    return "maximum" if age > 150 else "minimum" if age < 0 else None


@settings(max_examples=120, deadline=None)
@given(age=big_ints)
def test_integers_of_any_size_are_compared_exactly(age):
    found = age_problems(age)
    rule = expected_rule(age)
    assert set(found) == ({rule} if rule else set()), (age, found)
    if rule:
        # the value's text (masked where it looks like a phone or ID number), never inf or a wrapped int64
        assert found[rule].value in (number_text(age), mask_value(number_text(age)))
        assert "inf" not in found[rule].message and "-9223372036854775808" not in found[rule].message
    records = [revisit(age=age)]
    report = hlwjr.check({"revisit": records}, spec=SPEC, today=TODAY, skip=SKIP)
    assert hlwjr.is_valid({"revisit": records}, spec=SPEC, today=TODAY, skip=SKIP) is report.ok
    plan = _engine._plan_for(SPEC, SPEC.dataset("revisit"))
    if certify_clean(plan, records, spec=SPEC, today=TODAY, skip=SKIP):  # never wrong when it says clean
        assert len(report.problems) == 0 and rule is None


@settings(max_examples=80, deadline=None)
@given(mantissa=st.integers(1, 10**6), exponent=st.integers(309, 5000), sign=st.sampled_from(["", "-"]))
def test_numbers_beyond_the_double_range_are_a_type_problem_with_their_text(mantissa, exponent, sign):
    text = f"{sign}{mantissa}e{exponent}"
    value = loads_exact(text)
    assert isinstance(value, NumberText) and str(value) == text
    for field in ("age", "returnVisitPrice"):
        report = hlwjr.check({"revisit": [revisit(**{field: value})]}, spec=SPEC, today=TODAY, skip=SKIP)
        found = [p for p in report.problems if p.field == field]
        assert [p.rule for p in found][:1] == ["type"], found
        assert text in found[0].message and found[0].value == text


def test_json_text_of_huge_numbers_is_exact():
    assert loads_exact("9" * 401) == int("9" * 401)
    assert isinstance(loads_exact("9" * 5000), NumberText)  # beyond Python's int↔str limit
    assert loads_exact("1e-400") == 0.0
    assert number_from_text("1e309") == NumberText("1e309") and number_from_text(" 12") is None
    assert number_from_text("12345678901234567.5", exact=True).text == "12345678901234567.5"


@given(n=st.integers(2**53 - 3, 2**53 + 3) | st.integers(10**30, 10**30 + 2))
def test_json_schema_bounds_are_exact_for_big_integers(n):
    bound = 2**53 if n < 10**29 else 10**30 + 1
    schema = {"type": "object", "properties": {"n": {"type": "integer", "maximum": bound, "minimum": -bound}}}
    frame = fast_validate(schema, [{"n": n}, {"n": -n}])
    assert len(frame) == (2 if n > bound else 0), frame


def run_validate(path, fmt="json"):
    out, err = io.StringIO(), io.StringIO()
    argv = ["validate", "-d", "revisit", str(path), "--spec", str(SPEC_DIR), "--format", fmt, "--skip", "reference"]
    code = cli.run(cli.parse_args(argv), out, err)
    return code, out.getvalue(), err.getvalue()


AGES = ["9" * 401, "9" * 20, "1e309", "-" + "9" * 25, "56"]


def test_validate_csv_reports_huge_numbers_with_their_text(tmp_path):
    f = tmp_path / "r.csv"
    rows = [revisit(bussID=f"N{i}", age=a) for i, a in enumerate(AGES)]
    header = list(rows[0])
    f.write_text("\n".join([",".join(header)] + [",".join(str(r[k]) for k in header) for r in rows]), "utf-8")
    code, out, err = run_validate(f)
    assert code == 1 and "Traceback" not in err, err
    found = {p["row"]: p for p in json.loads(out)["problems"] if p["field"] == "age" and p["rule"] != "id_birth_sex"}
    assert found[0]["rule"] == "type" and "共 401 位数字" in found[0]["message"]  # rows count from 0
    assert found[1]["rule"] == "maximum" and found[1]["value"] == "9" * 20
    assert found[2]["rule"] == "type" and found[2]["value"] == "1e309"
    assert found[3]["rule"] == "minimum" and found[3]["value"] == "-" + "9" * 25
    assert 4 not in found
    text = json.dumps(found, ensure_ascii=False)
    assert "inf" not in text and "-9223372036854775808" not in text


def test_validate_jsonl_reads_numbers_exactly(tmp_path):
    f = tmp_path / "r.jsonl"
    lines = [json.dumps(revisit(bussID=f"N{i}", age=0)).replace('"age": 0', f'"age": {a}') for i, a in enumerate(AGES)]
    f.write_text("\n".join(lines) + "\n", "utf-8")
    code, out, err = run_validate(f)
    assert code == 1 and "Traceback" not in err, err
    found = {p["row"]: p for p in json.loads(out)["problems"] if p["field"] == "age" and p["rule"] != "id_birth_sex"}
    assert [found[r]["rule"] for r in (0, 1, 2, 3)] == ["type", "maximum", "type", "minimum"]
    assert found[1]["value"] == "9" * 20 and found[2]["value"] == "1e309" and 4 not in found


def test_map_apply_keeps_a_20_digit_integer_exactly(tmp_path):
    import shutil
    from pathlib import Path

    src = Path(__file__).parent / "data" / "mapping_small"
    root = tmp_path / "m"
    shutil.copytree(src, root)
    visit = root / "datasets" / "visit.yaml"
    visit.write_text(
        visit.read_text("utf-8").replace("age: {derive: age_from_birth, args: [p.CSRQ, KSSJ]}", "age: {column: GHFY}"),
        "utf-8",
    )
    visits = root / "src" / "visits.csv"
    lines = visits.read_text("utf-8").splitlines()
    cells = lines[1].split(",")
    cells[4] = "9" * 20
    lines[1] = ",".join(cells)
    visits.write_text("\n".join(lines) + "\n", "utf-8")
    from test_mapping_apply import SPEC

    r = hlwjr.apply_mapping(hlwjr.load_mapping(root), "visit", spec=SPEC, today="2026-11-25")
    ages = r.to_dicts()
    assert ages[0]["age"] == int("9" * 20) and ages[1]["age"] == 2000
