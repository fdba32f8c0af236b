"""One owner per decision (issue 10): every rule of the registry has its one implementation, the
Field attribute list is the one the importer's draft and the engine's plan are built from, and a
field's ``sensitive`` attribute decides its masking everywhere."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mirror_fingerprints import fingerprint, of_function

import hlwjr
from hlwjr import _privacy
from hlwjr.spec._model import CHECKED_ATTRIBUTES, FIELD_ATTRIBUTES, Field
from hlwjr.spec.importing._drafts import _FieldDraft
from hlwjr.validation import _fields, _smallrules
from hlwjr.validation._plan import _FieldPlan
from hlwjr.validation._registry import RuleContext
from hlwjr.validation._rules import RULES

VALIDATION = Path(_fields.__file__).parent
EXAMPLES = Path(hlwjr.__file__).parent / "specs" / "beijing-reference" / "examples"


def _string_literals(path: Path) -> set[str]:
    return {n.value for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.Constant)}


def test_every_record_rule_has_exactly_one_registered_implementation():
    record = [r for r in RULES.values() if r.kind == "record"]
    assert record and all(callable(r.check) for r in record)
    # the implementation lives in a rule-family module, registered once under its id
    homes = {r.id: r.check.__module__ for r in record}
    assert set(homes.values()) <= {"hlwjr.validation._rules_identity", "hlwjr.validation._rules_values"}


def test_every_field_rule_is_produced_by_the_one_field_kernel():
    produced = _string_literals(VALIDATION / "_fields.py")
    field_rules = {r.id for r in RULES.values() if r.kind == "field"}
    assert field_rules <= produced | {"date", "datetime"}  # date/datetime: the field's type names them
    kernel = (VALIDATION / "_fields.py").read_text(encoding="utf-8")
    for name in CHECKED_ATTRIBUTES:  # and the kernel reads every attribute the plan carries …
        if name == "item":  # … but `item`, whose check is the child data set's own plan
            assert "plan.children[f.key]" in (VALIDATION / "_plan.py").read_text(encoding="utf-8")
            continue
        assert f"fp.{name}" in kernel, name


def test_gb_11643_is_defined_once_in_the_privacy_module():
    """The weights and check characters of the ID-card check digit live in ``_privacy`` only;
    every other check (the engine's vectorised mask, the small-batch proof) reads them from there."""
    owner = Path(_privacy.__file__)
    weights, chars = tuple(_privacy.ID_WEIGHTS), _privacy.ID_CHECK_CHARS
    for path in Path(hlwjr.__file__).parent.rglob("*.py"):
        if path == owner:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert chars not in _string_literals(path), path
        for node in ast.walk(tree):
            if isinstance(node, (ast.Tuple, ast.List)) and len(node.elts) == len(weights):
                try:
                    assert tuple(ast.literal_eval(node)) != weights, path
                except ValueError:
                    continue


def test_the_small_batch_proofs_only_mirror_registered_rules():
    assert set(_smallrules._RULES) <= {r.id for r in RULES.values() if r.kind == "record"}


def _engine_fingerprints() -> dict[str, str]:
    found = {rid: of_function(RULES[rid].check) for rid in _smallrules._RULES}
    found["field rules"] = of_function(_fields.field_problems)
    found["rule context"] = of_function(RuleContext)
    return found


def test_a_rule_changed_in_the_engine_fails_until_its_small_batch_mirror_is_reviewed():
    recorded, now = _smallrules.MIRRORED, _engine_fingerprints()
    assert set(recorded) == set(now), "every mirror records what it was reviewed against"
    changed = {k: v for k, v in now.items() if recorded[k] != v}
    assert not changed, (
        "the engine's implementation changed since its row-wise mirror in hlwjr/validation/_smallrules.py "
        f"was reviewed: {sorted(changed)}; review the mirror, then record in MIRRORED: {changed}"
    )


def test_the_fingerprint_sees_code_not_documentation(tmp_path):
    code = '''
def helper(x):
    return x + 1


@decorator(title="a")
def rule(ctx, x):
    """Docs."""
    return helper(x)
'''
    path = tmp_path / "m.py"
    path.write_text(code, encoding="utf-8")
    before = fingerprint(path, "rule")
    path.write_text(code.replace('title="a"', 'title="b"').replace("Docs.", "Other docs."), encoding="utf-8")
    assert fingerprint(path, "rule") == before  # wording and layout: the same rule
    path.write_text(code.replace("x + 1", "x + 2"), encoding="utf-8")
    assert fingerprint(path, "rule") != before  # a helper the rule reaches changed what it does


def test_the_draft_and_the_plan_are_derived_from_the_field_attribute_list():
    draft = {f.name for f in dataclasses.fields(_FieldDraft)}
    plan = {f.name for f in dataclasses.fields(_FieldPlan)}
    assert {a.name for a in FIELD_ATTRIBUTES} <= draft
    assert set(CHECKED_ATTRIBUTES) <= plan
    assert {a.name for a in FIELD_ATTRIBUTES} == {f.name for f in dataclasses.fields(Field)}


def _spec_with(tmp_path: Path, key: str, value) -> Path:
    """The reference spec with ``sensitive: value`` on field ``key`` of 在线复诊."""
    import shutil

    import yaml

    dst = tmp_path / "spec"
    shutil.copytree(Path(hlwjr.__file__).parent / "specs" / "beijing-reference", dst)
    path = dst / "datasets" / "revisit.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(f for f in data["fields"] if f["key"] == key)["sensitive"] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dst


@settings(max_examples=8, deadline=None)
@given(kind=st.sampled_from(["id", "phone", "name", "none"]), key=st.sampled_from(["cardNo", "patientCertID"]))
def test_a_stated_sensitive_attribute_round_trips_and_decides_the_mask(tmp_path_factory, kind, key):
    from hlwjr.spec._write import write_spec

    tmp = tmp_path_factory.mktemp("sensitive")
    spec = hlwjr.load_spec(_spec_with(tmp, key, kind))
    field = spec.dataset("revisit").fields[key]
    assert field.sensitive == kind
    assert field.mask == {"id": "id", "phone": "phone", "name": "name", "none": "plain"}[kind]
    write_spec(spec, tmp / "again")
    assert hlwjr.load_spec(tmp / "again").dataset("revisit").fields[key].sensitive == kind


def test_without_a_stated_attribute_the_mask_is_inferred_once_from_key_and_name():
    revisit = hlwjr.load_spec().dataset("revisit")
    assert revisit.fields["patientCertID"].mask == "id" and revisit.fields["mobile"].mask == "phone"
    assert revisit.fields["cardNo"].mask is None and revisit.mask_of("organID") == "plain"


def test_a_wrong_sensitive_value_is_refused_with_what_to_write(tmp_path):
    with pytest.raises(hlwjr.SpecError) as exc:
        hlwjr.load_spec(_spec_with(tmp_path, "cardNo", "secret"))
    assert "sensitive 应为 id / phone / name / none" in exc.value.message


def _bad_id_record() -> dict:
    rec = json.loads((EXAMPLES / "revisit.json").read_text(encoding="utf-8"))[0]
    rec["patientCertID"] = rec["patientCertID"][:-1] + ("0" if rec["patientCertID"][-1] != "0" else "1")
    return rec


def test_the_report_masks_as_the_spec_says(tmp_path):
    rec = _bad_id_record()
    inferred = hlwjr.check([rec], "revisit", spec=hlwjr.load_spec()).to_frame()
    shown = inferred.loc[inferred["field"] == "patientCertID", "value"].iloc[0]
    assert shown != rec["patientCertID"] and "*" in shown
    plain = hlwjr.load_spec(_spec_with(tmp_path, "patientCertID", "none"))
    stated = hlwjr.check([rec], "revisit", spec=plain).to_frame()
    assert stated.loc[stated["field"] == "patientCertID", "value"].iloc[0] == rec["patientCertID"]
