"""The reference spec (beijing-reference): its example records and field examples pass the engine."""

from __future__ import annotations

import jsonschema
import pytest
from refspec_helpers import reference_examples

import hlwjr
from hlwjr.validation._fastschema import FORMAT_CHECKER

FIELD_RULES = {
    "required",
    "type",
    "max_length",
    "precision",
    "pattern",
    "date",
    "datetime",
    "code_set",
    "const",
    "minimum",
    "maximum",
    "min_items",
    "whitespace",
}


@pytest.fixture(scope="module")
def spec():
    return hlwjr.load_spec()


def test_example_batch_passes_every_mandatory_check(spec):
    batch = reference_examples(spec)
    assert len(batch) >= 10
    report = hlwjr.check(batch, spec=spec)
    assert report.ok, report.to_frame()[["dataset", "row", "field", "rule", "message"]].to_string()
    # the only warnings allowed: references that can only be checked against accepted data
    assert {p.rule for p in report.warnings} <= {"reference"}
    # each data set's examples also pass the spec's own JSON Schema (plain jsonschema) and fast_validate
    for code, records in batch.items():
        schema = spec.dataset(code).json_schema()
        validator = jsonschema.Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
        assert not [e.message for r in records for e in validator.iter_errors(r)], code
        assert hlwjr.fast_validate(schema, records).empty, code


@pytest.mark.parametrize(
    "code",
    [
        "unit",
        "dept",
        "doctor",
        "consult",
        "revisit",
        "emr",
        "recipe",
        "recipe_detail",
        "recipe_audit",
        "dispensing",
        "settlement",
        "evaluation",
        "complaint",
    ],
)
def test_every_field_example_passes_its_field_rules(spec, code):
    ds = spec.dataset(code)
    record = {f.key: f.example for f in ds.fields.values() if f.example is not None and f.type != "array"}
    for f in ds.fields.values():
        if f.type == "array" and f.item:
            child = spec.dataset(f.item)
            record[f.key] = [{c.key: c.example for c in child.fields.values() if c.example is not None}]
    report = hlwjr.check([record], code, spec=spec, skip=["reference"])
    bad = [p for p in report.problems if p.rule in FIELD_RULES and p.rule != "required"]
    assert not bad, [str(p) for p in bad]


def test_every_rule_of_the_reference_spec_is_registered(spec):
    from hlwjr.validation._plan import _plan_for

    for ds in spec.datasets.values():
        plan = _plan_for(spec, ds)  # raises SpecError on an unknown rule or bad params
        assert len(plan.rules) == len(ds.rules)
