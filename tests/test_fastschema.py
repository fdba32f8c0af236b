"""fast_validate: the compiled column-wise JSON Schema path, against jsonschema as the oracle."""

from __future__ import annotations

import json
import shutil
import subprocess

import jsonschema
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hlwjr
from hlwjr import SchemaUnsupported, fast_validate
from hlwjr.validation._ecma import regex_search, translate_pattern
from hlwjr.validation._fastschema import FORMAT_CHECKER


def oracle_pairs(schema, records):
    """(row, top-level field) pairs plain jsonschema finds invalid."""
    validator = jsonschema.Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    pairs = set()
    for row, record in enumerate(records):
        for error in validator.iter_errors(record):
            if error.path:
                pairs.add((row, error.path[0]))
            elif error.validator == "required":
                pairs.add((row, error.message.split("'")[1]))
            else:
                pairs.add((row, None))
    return pairs


def fast_pairs(schema, records):
    frame = fast_validate(schema, records)
    return {(int(r), None if f is None or f != f else f) for r, f in zip(frame["row"], frame["field"])}


# --------------------------------------------------------------------------- the traps, one by one


def test_impossible_calendar_dates_fail_even_when_the_pattern_passes():
    schema = {
        "type": "object",
        "properties": {
            "d": {"type": "string", "format": "date", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
            "t": {"type": "string", "format": "date-time-cn"},
        },
    }
    records = [
        {"d": "2024-02-29", "t": "2024-02-29 23:59:59"},
        {"d": "2024-02-30", "t": "2023-02-29 12:00:00"},
        {"d": "2023-13-01", "t": "2024-01-01 24:00:00"},
        {"d": "0000-01-01", "t": "2024-01-01T00:00:00"},
    ]
    frame = fast_validate(schema, records)
    assert set(zip(frame["row"], frame["field"])) == {(1, "d"), (1, "t"), (2, "d"), (2, "t"), (3, "d"), (3, "t")}
    assert fast_pairs(schema, records) == oracle_pairs(schema, records)


def test_all_errors_are_collected_not_only_the_first():
    schema = {
        "type": "object",
        "required": ["a", "b"],
        "properties": {"a": {"type": "string", "maxLength": 2, "pattern": "^[a-z]+$"}, "c": {"type": "integer"}},
    }
    frame = fast_validate(schema, [{"a": "ABC", "c": "x"}])
    assert sorted(frame["keyword"]) == ["maxLength", "pattern", "required", "type"]


def test_dollar_does_not_match_before_a_trailing_newline():
    schema = {"properties": {"a": {"type": "string", "pattern": "^[0-9]+$"}}}
    frame = fast_validate(schema, [{"a": "123"}, {"a": "123\n"}])
    assert frame["row"].tolist() == [1] and frame["keyword"].tolist() == ["pattern"]
    # and `.` does not match a line terminator, `\d` does not match full-width digits
    assert fast_validate({"properties": {"a": {"pattern": "^a.b$"}}}, [{"a": "a\nb"}])["row"].tolist() == [0]
    assert fast_validate({"properties": {"a": {"pattern": "^\\d+$"}}}, [{"a": "１２３"}])["row"].tolist() == [0]


def test_null_is_not_missing():
    schema = {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}
    frame = fast_validate(schema, [{"a": None}, {}, {"a": "x"}])
    assert list(zip(frame["row"], frame["keyword"])) == [(0, "type"), (1, "required")]
    assert fast_validate({**schema, "properties": {"a": {"type": ["string", "null"]}}}, [{"a": None}]).empty


def test_bool_is_not_an_integer_and_one_point_zero_is():
    schema = {"properties": {"n": {"type": "integer"}, "e": {"enum": [1]}, "m": {"type": "number"}}}
    records = [{"n": True, "e": True, "m": False}, {"n": 1.0, "e": 1.0, "m": 2.5}, {"n": 1.5, "e": 2}]
    frame = fast_validate(schema, records)
    assert set(zip(frame["row"], frame["field"])) == {(0, "n"), (0, "e"), (0, "m"), (2, "n"), (2, "e")}
    assert fast_pairs(schema, records) == oracle_pairs(schema, records)


def test_dataframe_input_nan_none_and_na_are_missing():
    schema = {
        "type": "object",
        "required": ["a", "n"],
        "properties": {"a": {"type": "string", "maxLength": 3}, "n": {"type": "integer", "maximum": 10}},
    }
    df = pd.DataFrame({"a": ["abc", None, "abcd", np.nan], "n": pd.array([1, None, 11, pd.NA], dtype="Int64")})
    frame = fast_validate(schema, df)
    assert list(zip(frame["row"], frame["field"], frame["keyword"])) == [
        (1, "a", "required"),
        (1, "n", "required"),
        (2, "a", "maxLength"),
        (2, "n", "maximum"),
        (3, "a", "required"),
        (3, "n", "required"),
    ]
    # a float column of whole numbers is an integer column; 2.5 is not
    assert fast_validate(schema, pd.DataFrame({"a": ["x", "y"], "n": [1.0, 2.5]}))["row"].tolist() == [1]
    # a missing required column is reported for every row
    assert len(fast_validate(schema, pd.DataFrame({"a": ["x", "y"]}))) == 2


def test_mixed_object_columns_and_non_object_records():
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    df = pd.DataFrame({"a": pd.Series(["x", 1, 2.5, True, None, [1]], dtype=object)})
    assert fast_validate(schema, df)["row"].tolist() == [1, 2, 3, 5]
    frame = fast_validate(schema, [{"a": "x"}, "text", 3, None, ["a"]])
    assert frame["row"].tolist() == [1, 2, 3, 4] and frame["field"].isna().all()


def test_arrays_of_objects_report_the_item_path():
    schema = {
        "type": "object",
        "properties": {
            "lines": {
                "type": "array",
                "minItems": 1,
                "maxItems": 3,
                "items": {
                    "type": "object",
                    "required": ["q"],
                    "properties": {"q": {"type": "number", "exclusiveMinimum": 0}},
                },
            }
        },
    }
    records = [{"lines": [{"q": 1}, {"q": 0}, {}]}, {"lines": []}, {"lines": [{"q": 1}] * 4}]
    frame = fast_validate(schema, records)
    assert sorted(zip(frame["row"], frame["path"])) == [
        (0, "lines[1].q"),
        (0, "lines[2].q"),
        (1, "lines"),
        (2, "lines"),
    ]
    assert set(frame["field"]) == {"lines"}
    assert fast_pairs(schema, records) == oracle_pairs(schema, records)


def test_masks_identity_numbers_in_values():
    schema = {"properties": {"id": {"type": "string", "maxLength": 5}}}
    frame = fast_validate(schema, [{"id": "11010519491231002X"}])
    assert frame["value"].tolist() == ["110105********002X"]


@pytest.mark.parametrize(
    "schema, keyword",
    [
        ({"type": "object", "additionalProperties": False}, "additionalProperties"),
        ({"properties": {"a": {"$ref": "#/x"}}}, "$ref"),
        ({"properties": {"a": {"multipleOf": 2}}}, "multipleOf"),
        ({"properties": {"a": {"format": "email"}}}, "email"),
        ({"properties": {"a": {"anyOf": [{"type": "string"}]}}}, "anyOf"),
    ],
)
def test_unsupported_keywords_raise_and_name_the_path(schema, keyword):
    with pytest.raises(SchemaUnsupported) as info:
        fast_validate(schema, [{}])
    assert keyword in str(info.value)
    assert info.value.where.startswith("#")


@pytest.mark.parametrize(
    "pattern",
    [
        "(?<=a)b",
        "(?<!a)b",
        "a(?=b)",
        "a(?!b)",
        "(a)\\1",
        "a\\Z",
        "\\Aa",
        "a*+",
        "a++",
        "(?>a)",
        "(?i)a",
        "\\p{L}",
        "a{,3}",
        "[[:alpha:]]",
    ],
)
def test_unsupported_regex_features_raise(pattern):
    with pytest.raises(SchemaUnsupported) as info:
        fast_validate({"properties": {"a": {"type": "string", "pattern": pattern}}}, [{"a": "x"}])
    assert "/properties/a/pattern" in info.value.where


def test_annotations_are_ignored():
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "t",
        "description": "d",
        "properties": {"a": {"type": "string", "examples": ["x"], "x-name": "名称", "default": "y"}},
    }
    assert fast_validate(schema, [{"a": "x"}]).empty


def test_public_front_door_and_empty_inputs():
    assert hlwjr.fast_validate is fast_validate
    out = fast_validate({"type": "object"}, [])
    assert list(out.columns)[:4] == ["row", "field", "path", "keyword"] and out.empty
    assert fast_validate({"type": "object"}, pd.DataFrame()).empty


ECMA_CASES = [
    ("^[0-9]+$", "12\n"),
    ("^a.b$", "a\rb"),
    ("^\\d+$", "１２"),
    ("\\bfoo\\b", "éfoo"),
    ("^\\s$", "\u3000"),
    ("^\\w+$", "é"),
    ("^[^]$", "\n"),
    ("^\\u4e2d$", "中"),
    ("^(?<y>\\d{4})$", "2024"),
    ("colou?r", "my colour"),
    ("^[\\d\\s-]+$", "12 3-4"),
    ("^[A-Z]{2}\\.\\d$", "AB.1"),
    ("^\\S+$", "a\u00a0"),
]


def test_regex_semantics_match_node_ecmascript():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node (an ECMAScript engine) is not installed")
    script = (
        "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(cases.map(([p, s]) => new RegExp(p, 'u').test(s))));"
    )
    out = subprocess.run(
        [node, "-e", script], input=json.dumps(ECMA_CASES), capture_output=True, text=True, timeout=60, check=True
    )
    expected = json.loads(out.stdout)
    got = [bool(regex_search(pa.array([s]), p)[0]) for p, s in ECMA_CASES]
    assert got == expected
    # and the Python rendering agrees with the RE2 one
    import re

    assert [bool(re.search(translate_pattern(p)[1], s)) for p, s in ECMA_CASES] == expected


# ------------------------------------------------------------------------- differential (hypothesis)

PATTERNS = [
    "^[0-9]{2,4}$",
    "^[A-Z][a-z]*$",
    "[0-9]",
    "^(ab|cd)+$",
    "^[^x]*$",
    "^.{1,3}$",
    "中",
    "^$",
    "^[0-9a-f]+(-[0-9]+)?$",
]
ALPHABET = st.sampled_from(list("0123456789abcdxAZ-中 ") + ["１"])
TEXT = st.text(ALPHABET, max_size=6) | st.sampled_from(
    [
        "2024-02-29",
        "2024-02-30",
        "2023-02-29",
        "2024-13-01",
        "2024-1-01",
        "2024-01-01 12:00:00",
        "2024-02-30 12:00:00",
        "2024-01-01 24:00:00",
        "2024-01-01T00:00:00Z",
        "2024-02-30T00:00:00+08:00",
        "2024-01-01T25:00:00Z",
        "",
        "ab",
        "abcd",
        "12",
        "1234",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-20, 20)
    | st.floats(-20, 20, allow_nan=False)
    | st.sampled_from([1.0, 0.0, -1.0, 10.0])
    | TEXT
)


def string_schema():
    return st.fixed_dictionaries(
        {"type": st.just("string")},
        optional={
            "maxLength": st.integers(0, 6),
            "minLength": st.integers(0, 3),
            "pattern": st.sampled_from(PATTERNS),
            "format": st.sampled_from(["date", "date-time", "date-time-cn"]),
            "enum": st.lists(TEXT, min_size=1, max_size=3),
        },
    )


def number_schema():
    bound = st.integers(-10, 10) | st.sampled_from([0.5, -2.5, 3.0])
    return st.fixed_dictionaries(
        {"type": st.sampled_from(["integer", "number", ["integer", "null"]])},
        optional={
            "minimum": bound,
            "maximum": bound,
            "exclusiveMinimum": bound,
            "exclusiveMaximum": bound,
            "enum": st.lists(st.integers(-3, 3) | st.sampled_from([1.0, True, None, 2.5]), min_size=1, max_size=3),
            "const": st.sampled_from([0, 1, 1.0, True, "1", None]),
        },
    )


def loose_schema():
    return st.fixed_dictionaries(
        {},
        optional={
            "type": st.lists(
                st.sampled_from(["string", "integer", "number", "boolean", "null", "array", "object"]),
                min_size=1,
                max_size=3,
                unique=True,
            ),
            "enum": st.lists(SCALARS | st.just([1, "a"]), min_size=1, max_size=3),
            "const": SCALARS,
            "maxLength": st.integers(0, 3),
            "minimum": st.integers(-5, 5),
            "minItems": st.integers(0, 2),
        },
    )


def object_schema(leaf):
    return st.fixed_dictionaries(
        {"type": st.just("object"), "properties": st.dictionaries(st.sampled_from(list("abcdef")), leaf, max_size=4)},
        optional={"required": st.lists(st.sampled_from(list("abcdefg")), max_size=3, unique=True)},
    )


LEAF = string_schema() | number_schema() | loose_schema()
ARRAY = st.fixed_dictionaries(
    {"type": st.just("array")},
    optional={"minItems": st.integers(0, 2), "maxItems": st.integers(0, 3), "items": LEAF | object_schema(LEAF)},
)
SCHEMAS = object_schema(LEAF | ARRAY)

VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(list("abcdef")), inner, max_size=3),
    max_leaves=6,
)
RECORDS = st.lists(st.dictionaries(st.sampled_from(list("abcdefg")), VALUES, max_size=6) | SCALARS, max_size=8)


@given(SCHEMAS, RECORDS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_differential_against_jsonschema_on_dict_records(schema, records):
    assert fast_pairs(schema, records) == oracle_pairs(schema, records)


@given(SCHEMAS, st.lists(st.dictionaries(st.sampled_from(list("abcdef")), SCALARS, max_size=6), min_size=1, max_size=8))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_differential_against_jsonschema_on_dataframes(schema, records):
    # a DataFrame has no JSON null: its missing cells are missing properties
    cleaned = [{k: v for k, v in r.items() if v is not None} for r in records]
    frame = pd.DataFrame(cleaned) if any(cleaned) else pd.DataFrame(index=range(len(cleaned)))
    frame = frame.astype(object) if len(frame.columns) else frame
    assert fast_pairs(schema, frame) == oracle_pairs(schema, cleaned)


@given(SCHEMAS, st.lists(st.dictionaries(st.sampled_from(list("abcdef")), SCALARS, max_size=6), min_size=1, max_size=8))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_differential_against_jsonschema_on_typed_dataframes(schema, records):
    # let pandas infer column dtypes (str, int64, float64 with NaN, bool, object) as a reader would
    cleaned = [{k: v for k, v in r.items() if v is not None} for r in records]
    frame = pd.DataFrame(cleaned) if any(cleaned) else pd.DataFrame(index=range(len(cleaned)))
    # a float64 column turns the integers of other rows into 1.0: the same JSON number
    assert fast_pairs(schema, frame) == oracle_pairs(schema, cleaned)


@pytest.mark.parametrize("dtype", ["string[python]", "string[pyarrow]", "category", object, "str"])
def test_every_pandas_string_dtype_reads_the_same(dtype):
    schema = {"properties": {"a": {"type": "string", "maxLength": 2, "pattern": "^[a-z]+$"}}}
    frame = pd.DataFrame({"a": pd.Series(["ab", "abc", None, "A", "b\n"], dtype=dtype)})
    out = fast_validate(schema, frame)
    assert out[["row", "keyword"]].values.tolist() == [[1, "maxLength"], [3, "pattern"], [4, "pattern"]]


# ------------------------------------------------------------------ RFC 3339 date-time (§5.6)
_DT = {"type": "object", "properties": {"t": {"type": "string", "format": "date-time"}}}


@pytest.mark.parametrize(
    "text, ok",
    [
        ("1998-12-31T23:59:60Z", True),  # a leap second, UTC
        ("1998-12-31t23:59:60z", True),  # T and Z in either case
        ("1998-12-31T15:59:60.123-08:00", True),  # a leap second, local time behind UTC
        ("1999-01-01T00:29:60+00:30", True),  # … and ahead of it
        ("1963-06-19t08:30:06.283185z", True),
        ("1998-12-31T22:59:60Z", False),  # a leap second only at 23:59 UTC
        ("1998-12-31T23:58:60Z", False),
        ("1998-12-31T23:59:61Z", False),
        ("2026-11-01 10:00:00Z", False),  # the separator is T
        ("2026-11-01T10:00:00", False),  # the offset is required
        ("2026-02-29T10:00:00Z", False),  # no such day
        ("1990-12-31T15:59:59-24:00", False),
        ("２026-11-01T10:00:00Z", False),  # full-width digit
    ],
)
def test_rfc3339_date_time_by_both_paths(text, ok):
    assert (len(fast_validate(_DT, [{"t": text}])) == 0) == ok  # the record path
    assert (len(fast_validate(_DT, [{"t": text}] * 3000)) == 0) == ok  # the column path


@settings(max_examples=80, deadline=None)
@given(
    hh=st.integers(0, 23),
    mm=st.integers(0, 59),
    sign=st.sampled_from("+-"),
    oh=st.integers(0, 23),
    om=st.integers(0, 59),
    t=st.sampled_from("Tt"),
)
def test_a_leap_second_is_valid_exactly_at_2359_utc(hh, mm, sign, oh, om, t):
    text = f"2016-12-31{t}{hh:02d}:{mm:02d}:60{sign}{oh:02d}:{om:02d}"
    offset = (oh * 60 + om) * (1 if sign == "+" else -1)
    expected = (hh * 60 + mm - offset) % 1440 == 23 * 60 + 59
    assert (len(fast_validate(_DT, [{"t": text}])) == 0) == expected
    assert (len(fast_validate(_DT, [{"t": text}] * 2500)) == 0) == expected
