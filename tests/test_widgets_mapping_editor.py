"""MappingEditor (字段对照编辑器), headless: set widget values as a person would, assert the
mapping, the preview, the per-field status, the progress text and the saved YAML."""

from __future__ import annotations

import re
import shutil
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hlwjr
from hlwjr import MappingError, SourceError
from hlwjr.demo._run import find_demo_mapping
from hlwjr.widgets import MappingEditor


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo hospital's HIS and a private copy of the demo mapping."""
    base = tmp_path_factory.mktemp("widgets-demo")
    hospital = hlwjr.generate_demo_hospital(base / "hospital", days=2)
    return {"hospital": hospital, "base": base, "sources": {"his": hospital.sqlite_url}}


@pytest.fixture
def mapping(demo, tmp_path):
    shutil.copytree(find_demo_mapping(), tmp_path / "mapping")
    return hlwjr.load_mapping(tmp_path / "mapping")


@pytest.fixture
def editor(mapping, demo):
    return MappingEditor(mapping, "consult", sources=demo["sources"], sample=4, reviewer="测试分析员")


def _counts(text: str) -> tuple[int, int, int, int]:
    m = re.match(r"(\d+)/(\d+) 必填字段已对照 · 已审核通过 (\d+)/(\d+) 条规则", text)
    assert m, text
    return tuple(int(x) for x in m.groups())


def test_one_row_per_spec_field_with_name_required_and_type(editor):
    ds = hlwjr.load_spec().dataset("consult")
    assert list(editor.rows) == list(ds.fields)
    label = editor.rows["patientCertID"].label.value
    assert ds.fields["patientCertID"].name in label and "必填" in label and "patientCertID" in label
    assert editor.last_error is None


def test_dropdown_lists_ranked_suggestions_with_scores_first(editor):
    opts = editor.rows["patientName"].column.options
    assert opts[0] == ("（不取列）", "")
    assert opts[1][1] == "BRXM" and re.search(r"BRXM · 1\.00 ★", opts[1][0])
    assert re.search(r" · 0\.\d\d", opts[2][0])  # the runner-up with its score
    assert "ys.XM" in [v for _l, v in opts]  # joined columns are offered with their alias


def test_initial_progress_preview_and_status(editor):
    done, required, accepted, rules = _counts(editor.progress_text)
    assert done == required == len(hlwjr.load_spec().dataset("consult").required_fields)
    assert accepted == rules
    assert "样例 4 行" in editor.progress_text
    pf = editor.preview_frame
    assert list(pf.columns[:3]) == ["field", "name", "rule"] and "样例4" in pf.columns
    assert set(editor.field_status.values()) <= {"ok", "unmapped", "problem"}
    assert editor.field_status["patientName"] == "ok"
    # values are masked: no full ID number or phone in the preview
    assert not any(hlwjr.check_id_number(v) for v in pf.filter(like="样例").to_numpy().ravel() if isinstance(v, str))
    assert "hlwjr-preview-table" in editor.preview.value


def test_changing_a_column_updates_preview_progress_and_review(editor):
    before_preview = editor.preview_frame.set_index("field").loc["patientName"].copy()
    before = _counts(editor.progress_text)
    editor.rows["patientName"].column.value = "ys.XM"
    rule = editor.dataset_mapping.fields["patientName"]
    assert rule.column == "ys.XM" and rule.status == "suggested"  # a changed rule needs a new review
    assert editor.rows["patientName"].review.value == "suggested"
    after_preview = editor.preview_frame.set_index("field").loc["patientName"]
    assert after_preview["rule"] == "取列 ys.XM" and not after_preview.equals(before_preview)
    assert _counts(editor.progress_text)[2] == before[2] - 1
    editor.accept("patientName")
    assert editor.dataset_mapping.fields["patientName"].status == "accepted"
    assert editor.dataset_mapping.fields["patientName"].reviewer == "测试分析员"
    assert _counts(editor.progress_text)[2] == before[2]


def test_unmapping_a_required_field_is_counted_and_named(editor):
    done, required, *_ = _counts(editor.progress_text)
    editor.rows["patientName"].column.value = ""
    assert "patientName" not in editor.dataset_mapping.fields
    assert _counts(editor.progress_text)[:2] == (done - 1, required)
    assert editor.field_status["patientName"] in ("unmapped", "problem")
    assert "未对照的必填字段" in editor.progress.value and "patientName" in editor.progress.value


def test_rejecting_a_rule_counts_as_not_mapped(editor):
    done = _counts(editor.progress_text)[0]
    editor.reject("bussID")
    assert editor.dataset_mapping.fields["bussID"].status == "rejected"
    assert _counts(editor.progress_text)[0] == done - 1


def test_constant_rule_and_its_validation_status(editor):
    row = editor.rows["sex"]
    row.kind.value = "const"  # the old parameter (a code map name) is not kept for a constant
    assert row.param.value == "" and "请填写参数" in row.status.value
    row.param.value = "x"
    assert editor.dataset_mapping.fields["sex"].kind == "const"
    assert editor.field_status["sex"] == "problem"
    assert "不在值域" in row.status.value
    row.param.value = "1"
    assert editor.field_status["sex"] == "ok"
    assert set(editor.preview_frame.set_index("field").loc["sex"].filter(like="样例")) == {"1"}


def test_code_map_date_and_derived_rules(editor):
    editor.set_rule("sex", column="XB", kind="code", param="sex")
    assert editor.dataset_mapping.fields["sex"].code_map == "sex"
    editor.set_rule("age", kind="derive", param="age_from_id(SFZH, SQSJ)")
    r = editor.dataset_mapping.fields["age"]
    assert (r.derive, r.args) == ("age_from_id", ["SFZH", "SQSJ"]) and editor.field_status["age"] == "ok"
    editor.set_rule("applyDate", column="SQSJ", kind="date", param="%Y-%m-%d %H:%M:%S")
    assert editor.dataset_mapping.fields["applyDate"].format == "%Y-%m-%d %H:%M:%S"
    assert editor.field_status["applyDate"] == "ok"


def test_the_date_formats_offered_are_the_known_ones_of_the_fields_kind_first(editor):
    """One list of known source date formats (the profile's) is offered; a date-time field lists
    the date-time formats first, and every format offered is one the mapping reads."""
    from hlwjr.sources._profile import DATE_FORMATS

    kind_of = {f: k for _p, f, k in DATE_FORMATS}
    editor.set_rule("applyDate", column="SQSJ", kind="date", param="%Y-%m-%d %H:%M:%S")
    offered = list(editor.rows["applyDate"].param.options)
    assert sorted(offered) == sorted(kind_of)
    own = "date" if editor.ds.fields["applyDate"].type == "date" else "datetime"
    first = [kind_of[f] for f in offered]
    assert first == sorted(first, key=lambda k: k != own)


def test_callback_errors_are_shown_not_swallowed_or_raised(editor):
    editor.rows["sex"].kind.value = "code"
    editor.rows["sex"].param.value = "no such/map"
    assert isinstance(editor.last_error, MappingError)
    assert "值域对照表名称 'no such/map' 只能用" in editor.error_message and "怎么办" in editor.error_message
    assert "no such/map" not in editor.mapping.code_maps
    assert editor.errors.outputs and "hlwjr-error" in editor.errors.outputs[0]["data"]["text/html"]
    editor.rows["age"].param.value = "age_from_id(NO_SUCH_COLUMN)"
    assert "不在源表中" in editor.error_message
    editor.rows["patientName"].column.value = "ys.XM"  # the next good action clears the message
    assert editor.last_error is None and not editor.errors.outputs


def test_review_without_a_rule_is_refused_with_a_message(editor):
    editor.rows["mobile"].column.value = ""
    assert editor.rows["mobile"].review.value == "suggested"
    editor.accept("mobile")
    assert isinstance(editor.last_error, MappingError) and "还没有对照规则" in editor.error_message
    assert editor.rows["mobile"].review.value == "suggested" and "mobile" not in editor.dataset_mapping.fields


def test_save_writes_the_yaml_in_the_mapping_directory(editor, mapping):
    editor.rows["patientName"].column.value = "ys.XM"
    editor.accept("patientName")
    path = editor.save()
    assert path == mapping.directory / "datasets" / "consult.yaml" and path.exists()
    status = editor.save_status.value
    bad = int(re.search(r"样例 \d+ 行中 (\d+) 行未通过校验", editor.progress_text).group(1))
    assert "已保存" in status and bad  # the demo's sample has a dirty row: the save must say so
    assert "配置检查通过" not in status and f"仍有问题：样例 4 行中 {bad} 行未通过校验" in status
    again = hlwjr.load_mapping(mapping.directory).dataset("consult").fields["patientName"]
    assert (again.column, again.status, again.reviewer) == ("ys.XM", "accepted", "测试分析员")
    assert not list(mapping.directory.rglob("*.tmp"))


def test_a_new_code_map_name_creates_the_code_map_seeded_from_the_column(editor, mapping):
    """Typing a new map name does not silently fall back to a plain column: the code map is created
    for the field's code set with the column's local values (suggestions 待审), shown as a
    CodeMapEditor, used by the preview and saved as a code-map file."""
    from hlwjr.widgets import CodeMapEditor

    editor.set_rule("sex", column="XB", kind="code", param="性别_新院")
    rule = editor.dataset_mapping.fields["sex"]
    assert (rule.kind, rule.code_map) == ("code", "性别_新院") and editor.last_error is None
    ref = mapping.code_maps["性别_新院"]
    assert ref.code_set == "sex" and ref.file == "codes/性别_新院.csv"
    cme = editor.code_map_editors["性别_新院"]
    assert isinstance(cme, CodeMapEditor) and cme in editor.code_maps_box.children
    local = set(editor.frame["XB"].dropna().astype(str))
    entries = mapping.code_map("性别_新院").entries
    assert set(entries["local"]) == local and set(entries["status"]) == {"suggested"}
    assert editor.field_status["sex"] == "ok"  # the preview maps through the new map
    cme.set_code(sorted(local)[0], "9")
    editor.save()
    again = hlwjr.load_mapping(mapping.directory)
    assert again.dataset("consult").fields["sex"].code_map == "性别_新院"
    saved = again.code_map("性别_新院").entries.set_index("local")
    assert saved.loc[sorted(local)[0], "code"] == "9" and set(saved.index) == local


def test_nothing_the_editor_shows_is_lost_on_save(editor, mapping):
    """Every rule kind set in the editor (column, date, existing and new code map, constant, derived,
    无法提供) reads back from the saved directory exactly as the editor holds it."""
    editor.set_rule("patientName", column="ys.XM")
    editor.set_rule("applyDate", column="SQSJ", kind="date", param="%Y-%m-%d %H:%M:%S")
    editor.set_rule("sex", column="XB", kind="code", param="sex")
    editor.set_rule("patientCertType", column="XB", kind="code", param="证件类型_新")
    editor.set_rule("age", kind="derive", param="age_from_id(SFZH, SQSJ)")
    editor.set_rule("mobile", kind="const", param="13800000000")
    editor.set_rule("unitID", kind="unavailable", param="注册后由平台分配")
    editor.accept("patientName")
    assert editor.last_error is None, editor.error_message
    shown = {k: editor.rows[k].param.value for k in editor.rows}
    editor.save()
    again = hlwjr.load_mapping(mapping.directory)
    assert again.dataset("consult").to_dict() == editor.dataset_mapping.to_dict()
    for name in editor.mapping.code_maps:
        assert name in again.code_maps
        a, b = again.code_map(name).entries, editor.mapping.code_map(name).entries
        assert a.fillna("").astype(str).equals(b.fillna("").astype(str).reset_index(drop=True)), name
    reopened = MappingEditor(again, "consult", sources=editor._sources, sample=4)
    assert {k: reopened.rows[k].param.value for k in reopened.rows} == shown
    assert {k: reopened.rows[k].column.value for k in reopened.rows} == {
        k: editor.rows[k].column.value for k in editor.rows
    }


def test_a_code_map_is_refused_for_a_field_without_code_set_or_an_identifying_column(editor):
    editor.set_rule("patientName", column="BRXM", kind="code", param="names")
    assert "没有值域" in editor.error_message and "names" not in editor.mapping.code_maps
    editor.set_rule("sex", column="SFZH", kind="code", param="sex2")
    assert "身份证号" in editor.error_message and "sex2" not in editor.mapping.code_maps


def test_diff_before_saving_and_discard_back_to_the_last_save(editor, mapping):
    before = (mapping.directory / "datasets" / "consult.yaml").read_text(encoding="utf-8")
    assert editor.show_diff() == "" and "没有修改" in editor.diff_view.value
    editor.rows["patientName"].column.value = "ys.XM"
    text = editor.show_diff()
    assert "datasets/consult.yaml" in text and "ys.XM" in text and "ys.XM" in editor.diff_view.value
    editor.discard()
    assert editor.last_error is None, editor.error_message
    assert editor.dataset_mapping.fields["patientName"].column == "BRXM"
    assert editor.rows["patientName"].column.value == "BRXM" and editor.diff() == ""
    assert (mapping.directory / "datasets" / "consult.yaml").read_text(encoding="utf-8") == before
    editor.rows["patientName"].column.value = "ys.XM"  # the editor still works on the reloaded mapping
    assert mapping.dataset("consult").fields["patientName"].column == "ys.XM"


def test_save_names_an_unmapped_required_field(editor):
    editor.rows["patientName"].column.value = ""
    editor.save()
    status = editor.save_status.value
    assert "已保存" in status and "仍有问题" in status and "必填字段 patientName" in status
    assert "配置检查通过" not in status


def test_a_new_data_set_starts_from_suggestions_never_accepted(mapping, demo):
    del mapping.datasets["consult"]
    ed = MappingEditor(mapping, "在线咨询", sources=demo["sources"], table="consultations", sample=3)
    rules = ed.dataset_mapping.fields
    assert rules["patientName"].column == "BRXM" and rules["patientName"].score == 1.0
    assert rules["patientCertID"].column == "SFZH"
    assert all(r.status == "suggested" for r in rules.values())
    assert _counts(ed.progress_text)[2] == 0
    assert ed.rows["patientName"].column.value == "BRXM"


def test_unknown_data_set_and_empty_source_are_clear_errors(mapping, demo, tmp_path):
    del mapping.datasets["consult"]
    with pytest.raises(MappingError, match="table="):
        MappingEditor(mapping, "consult", sources=demo["sources"])
    db = tmp_path / "empty.sqlite"
    with sqlite3.connect(db) as con:  # the export ran, but the query found no rows
        con.execute("CREATE TABLE consultations (ZXID TEXT, BRXM TEXT, SQSJ TEXT)")
    with pytest.raises(SourceError, match="是空的"):
        MappingEditor(mapping, "consult", sources={"his": f"sqlite:///{db}"}, table="consultations")


# ------------------------------------------------------------------ the editor at scale


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(show=st.sampled_from(["all", "required", "unmapped", "failing", "unreviewed"]), needle=st.text(max_size=3))
def test_filter_and_search_show_exactly_the_matching_rows(editor, show, needle):
    editor.show.value, editor.search.value = show, needle
    shown = editor.visible_fields()
    expected = []
    for key, f in editor.ds.fields.items():
        rule = editor.dm.fields.get(key)
        hay = " ".join([key, f.name or "", (rule.column or "") if rule else ""]).lower()
        ok = {
            "all": True,
            "required": bool(f.is_required),
            "unmapped": not editor._mapped(key),
            "failing": editor.field_status.get(key) == "problem",
            "unreviewed": rule is not None and rule.status not in ("accepted", "rejected"),
        }[show]
        if ok and (not needle.strip() or needle.strip().lower() in hay):
            expected.append(key)
    assert shown == expected
    assert len(editor.grid.children) == 6 * (len(shown) + 1)  # header + the shown rows, nothing else
    assert f"显示 {len(shown)}/{len(editor.rows)}" in editor.shown_count.value


def test_bulk_accept_accepts_only_the_shown_suggestions_and_hidden_rows_keep_their_state(editor, mapping):
    mapped = [k for k, r in editor.dm.fields.items() if r.kind != "unavailable"]
    for k in mapped:  # as a fresh draft: everything waits for review
        editor.rows[k].review.value = "suggested"
    editor.search.value = "patient"
    shown = [k for k in editor.visible_fields() if k in mapped]
    assert shown and all("patient" in (k + (editor.dm.fields[k].column or "")).lower() for k in shown)
    hidden = [k for k in mapped if k not in shown]
    assert editor.accept_visible() == len(shown) and editor.last_error is None
    assert all(editor.dm.fields[k].status == "accepted" for k in shown)
    assert all(editor.dm.fields[k].status == "suggested" for k in hidden)  # not shown, not touched
    editor.search.value = ""
    editor.show.value = "unreviewed"
    assert set(editor.visible_fields()) == set(hidden)
    editor.save()
    again = hlwjr.load_mapping(mapping.directory).dataset("consult")
    assert {k for k in mapped if again.fields[k].status == "accepted"} == set(shown)


def test_field_descriptions_are_tooltips(editor):
    from html import escape

    described = [k for k, f in editor.ds.fields.items() if f.description]
    assert described
    for key, f in editor.ds.fields.items():
        label = editor.rows[key].label.value
        if f.description:
            assert f"title='{escape(f.description)}'" in label, key
        else:
            assert "title=" not in label and "null" not in label, key
