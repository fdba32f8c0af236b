"""Records identical in every field but their own identifier (one business exported twice under
two numbers) are named before sending — the platform counts them as duplicates — and still sent:
the hospital decides. A difference in any other field, or records of other parents, is no twin."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_upload_sandbox import make_records, new_project

from hlwjr.upload._uploader import upload_records

_SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@given(n=st.integers(min_value=2, max_value=12), twins=st.integers(min_value=0, max_value=4), data=st.data())
@_SETTINGS
def test_twins_under_new_numbers_are_named_and_others_are_not(sandbox, tmp_path_factory, monkeypatch, n, twins, data):
    project, org = new_project(tmp_path_factory.mktemp("twins"), sandbox, monkeypatch)
    records = make_records(org, n)
    visits = records["visit"]
    for i in range(twins):
        copy_ = copy.deepcopy(visits[i % n])
        copy_["bussID"] = f"NEW{i:04d}"
        if data.draw(st.booleans(), label="differs in another field"):
            copy_["visitTime"] = f"2026-11-01 23:{i:02d}:59"  # another visit of the same patient: no twin
        visits.append(copy_)
    same = sum(1 for v in visits[n:] if not v["visitTime"].startswith("2026-11-01 23:"))
    summary = upload_records(project, {"visit": visits}, dry_run=True, validate=False)
    notes = [x for x in summary.notes if "除 bussID 外完全相同" in x]
    if same:
        assert len(notes) == 1 and f"有 {same} 条记录" in notes[0] and "NEW" in notes[0]
    else:
        assert notes == []
    assert summary.datasets["visit"].mapped == len(visits)  # nothing held back


def test_lines_of_different_prescriptions_alike_are_no_twins(sandbox, tmp_path, monkeypatch):
    project, org = new_project(tmp_path, sandbox, monkeypatch)
    recipes = make_records(org, 6)["recipe"]  # same fee and drug lines, other recipeID and bussID
    summary = upload_records(project, {"recipe": recipes}, dry_run=True, validate=False)
    assert not [x for x in summary.notes if "完全相同" in x]


@given(
    value=st.one_of(st.text(max_size=20), st.integers(), st.none(), st.floats(allow_nan=False, allow_infinity=False))
)
def test_the_identifier_is_cut_out_as_the_canonical_json_writes_it(value):
    from hlwjr.upload._ledger import record_json
    from hlwjr.upload._planner import _pair_json

    assert _pair_json("bussID", value) == record_json({"bussID": value})[1:-1]
