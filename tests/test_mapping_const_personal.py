"""A fixed value (const) on a field about each record's person — name, ID, phone, sex, age, birth
date, 职称 — makes every record the same: ``map check`` warns that the platform will take it for
made-up data. Fixed values of the organisation (机构名称) or of a code the hospital really uses
for everyone (证件类型 01) stay quiet."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hlwjr
from hlwjr.mapping._model import FieldRule

DEMO = Path(__file__).parents[1] / "mapping" / "demo"
SPEC = hlwjr.load_spec()
PERSONAL = {"doctor": ["doctorName", "doctorCertID", "sex", "birthday", "mobile", "doctorTile"]}
PERSONAL["revisit"] = ["patientName", "patientCertID", "age", "sex", "mobile", "doctorName"]
QUIET = {"revisit": ["patientCertType", "organName", "unitID"], "doctor": ["doctorUnitName"]}


def _warnings(m, code):
    return [i for i in m.check(spec=SPEC) if i.severity == "warning" and "编造" in i.message and code in i.where]


@given(data=st.data(), code=st.sampled_from(sorted(PERSONAL)))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_fixed_value_on_a_personal_field_is_warned_and_others_are_not(tmp_path_factory, data, code):
    d = tmp_path_factory.mktemp("m")
    shutil.copytree(DEMO, d / "m")
    m = hlwjr.load_mapping(d / "m")
    dm = m.dataset(code)
    personal = data.draw(st.sampled_from(PERSONAL[code]))
    quiet = data.draw(st.sampled_from(QUIET[code]))
    assert _warnings(m, code) == []
    dm.fields[personal] = FieldRule(personal, const="张三")
    dm.fields[quiet] = FieldRule(quiet, const="01")
    found = _warnings(m, code)
    assert len(found) == 1 and personal in found[0].message and "unavailable" in found[0].message
