"""``fast_validate`` agrees with the official JSON-Schema-Test-Suite (draft 2020-12) on every case
of the keyword subset it claims.

The suite is not in the repository: ``make suite`` (a step of ``make test``) fetches it from the
jsonschema sdist on PyPI into ``.cache/json-schema-test-suite``. A case whose schema is outside
the subset makes ``fast_validate`` raise ``SchemaUnsupported`` — out of the subset by construction,
counted, never guessed. Two deliberate choices, both documented in ``_fastschema``:

* ``format`` is asserted (like jsonschema with its FormatChecker), so the core file's "format is
  only an annotation by default" cases do not apply; the assertion cases of ``optional/format``
  (``date``, ``date-time``: RFC 3339, leap second ``23:59:60``, lower-case ``t``/``z``) do;
* fast_validate checks records: a suite instance that is not an object is checked as the value
  ``v`` of a record ``{"v": instance}`` under ``{"properties": {"v": schema}, "required": ["v"]}``
  (``$ref`` & co. are outside the subset: fast_validate refuses them itself).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hlwjr import SchemaUnsupported, fast_validate

SUITE = Path(__file__).resolve().parents[1] / ".cache" / "json-schema-test-suite" / "draft2020-12"
_ANNOTATION_ONLY = "only an annotation by default"


def _files() -> list[Path]:
    if not SUITE.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"JSON-Schema-Test-Suite missing at {SUITE}: `make suite` fetches it")
        pytest.skip("JSON-Schema-Test-Suite not fetched: run `make suite`")
    return sorted(SUITE.glob("*.json")) + sorted((SUITE / "optional").rglob("*.json"))


def _verdict(schema, instance) -> bool:
    """fast_validate's answer for one suite case (raises SchemaUnsupported outside the subset)."""
    if isinstance(instance, dict):
        return fast_validate(schema, [instance]).empty
    wrapped = {"type": "object", "properties": {"v": schema}, "required": ["v"]}
    return fast_validate(wrapped, [{"v": instance}]).empty


def _cases():
    for path in _files():
        for group in json.loads(path.read_text(encoding="utf-8")):
            for case in group["tests"]:
                if path.name == "format.json" and path.parent == SUITE and _ANNOTATION_ONLY in case["description"]:
                    continue  # fast_validate asserts formats (see the module docstring)
                yield path.relative_to(SUITE), group, case


def test_fast_validate_agrees_with_the_suite_on_its_subset():
    agree, unsupported, disagree = 0, 0, []
    for where, group, case in _cases():
        try:
            got = _verdict(group["schema"], case["data"])
        except SchemaUnsupported:
            unsupported += 1
            continue
        if got == case["valid"]:
            agree += 1
        else:
            disagree.append(f"{where}: {group['description']} / {case['description']}: got {got}")
    print(f"\nJSON-Schema-Test-Suite: {agree} cases agree, {unsupported} outside the subset")
    assert not disagree, "\n".join(disagree)
    assert agree >= 460  # the subset is exercised, not skipped away


def test_the_rfc3339_cases_are_in_the_subset():
    path = SUITE / "optional" / "format" / "date-time.json"
    if not path.exists():
        _files()  # skip or fail as above
    cases = [c for g in json.loads(path.read_text(encoding="utf-8")) for c in g["tests"]]
    leap = [c for c in cases if "23:59:60" in str(c["data"])]
    assert leap and all(_verdict({"format": "date-time"}, c["data"]) == c["valid"] for c in cases)
