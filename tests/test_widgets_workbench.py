"""CodeMapEditor, ValidationReport, UploadPanel and ReadinessDashboard, headless: set values, assert
results.  Upload and readiness run against a real sandbox process of their own (the demo
hospital's records must be new to the platform)."""

from __future__ import annotations

import shutil

import pytest

import hlwjr
from hlwjr import ConfigError, MappingError
from hlwjr.demo._run import find_demo_mapping
from hlwjr.widgets import CodeMapEditor, ReadinessDashboard, UploadPanel, ValidationReport


@pytest.fixture(scope="module")
def hospital(tmp_path_factory):
    return hlwjr.generate_demo_hospital(tmp_path_factory.mktemp("demo") / "hospital", days=3)


@pytest.fixture
def mapping(tmp_path):
    shutil.copytree(find_demo_mapping(), tmp_path / "mapping")
    return hlwjr.load_mapping(tmp_path / "mapping")


# ----------------------------------------------------------------------------------- code maps


def test_code_map_editor_counts_values_and_highlights_unmapped(mapping, hospital):
    ed = CodeMapEditor.from_mapping(mapping, "dept-subject", sources={"his": hospital.sqlite_url})
    assert ed.unmapped == ["LS99"]  # the demo's planted unmapped local code
    assert "hlwjr-unmapped" in ed.rows["LS99"].label.value and "呼吸内科门诊" in ed.rows["NK01"].label.value
    assert "hlwjr-mapped" in ed.rows["NK01"].label.value
    assert ed.counts["NK01"] > ed.counts["LS99"] > 0
    assert list(ed.rows)[0] != "LS99"  # most frequent first
    assert "11/12 个本地值已对照" in ed.summary_text and "映射时将拒收" in ed.summary_text


def test_code_map_editor_edits_review_and_saves_the_csv(mapping, hospital):
    ed = CodeMapEditor.from_mapping(mapping, "dept-subject", sources={"his": hospital.sqlite_url})
    ed.rows["LS99"].code.value = "02"
    assert ed.unmapped == [] and "hlwjr-mapped" in ed.rows["LS99"].label.value
    assert ed.rows["LS99"].status.value == "suggested"
    ed.rows["LS99"].status.value = "accepted"
    assert ed.last_error is None
    path = ed.save()
    again = hlwjr.load_mapping(mapping.directory).code_map("dept-subject").to_frame().set_index("local")
    assert path.exists() and again.loc["LS99", "code"] == "02" and again.loc["LS99", "status"] == "accepted"
    assert again.loc["LS99", "name"] == hlwjr.load_spec().code_set("subject").codes["02"]


def test_code_map_editor_errors_are_shown(mapping, hospital):
    ed = CodeMapEditor.from_mapping(mapping, "dept-subject", sources={"his": hospital.sqlite_url})
    ed.rows["LS99"].status.value = "accepted"  # no code chosen yet
    assert isinstance(ed.last_error, MappingError) and "先选代码再审核" in ed.error_message
    assert ed.rows["LS99"].status.value == "suggested" and ed.errors.outputs
    with pytest.raises(MappingError, match="不在值域"):
        ed.set_code("LS99", "99.99")
    with pytest.raises(MappingError, match="没有名为"):
        CodeMapEditor.from_mapping(mapping, "no-such-map", sources={"his": hospital.sqlite_url})


def test_new_local_values_start_from_suggestions(hospital):
    spec = hlwjr.load_spec()
    import pandas as pd

    from hlwjr.mapping._codemaps import CODE_MAP_COLUMNS, CodeMap

    cm = CodeMap(name="sex", entries=pd.DataFrame(columns=CODE_MAP_COLUMNS, dtype="str"), code_set="sex")
    ed = CodeMapEditor(cm, spec.code_set("sex"), {"男": 10, "女": 8, "不详": 1, "？": 1})
    assert ed.rows["男"].code.value == "1" and ed.rows["女"].code.value == "2"
    assert all(r.status.value == "suggested" for r in ed.rows.values())
    assert "？" in ed.unmapped
    with pytest.raises(MappingError, match="文件路径"):
        CodeMapEditor.save.__wrapped__(ed)


# ----------------------------------------------------------------------------------- validation


@pytest.fixture(scope="module")
def consult_report(hospital, tmp_path_factory):
    d = tmp_path_factory.mktemp("m") / "mapping"
    shutil.copytree(find_demo_mapping(), d)
    res = hlwjr.apply_mapping(d, "consult", sources={"his": hospital.sqlite_url})
    return hlwjr.check(res.records, "consult"), res.records


def test_validation_report_filters_chart_and_drilldown(consult_report):
    report, records = consult_report
    w = ValidationReport(report, records={"consult": records}, page=5)
    assert len(w.filtered) == len(report.to_frame()) > 0
    assert w.chart.value.count("hlwjr-bar") == len(report.to_frame().groupby(["rule", "severity"]))
    w.rule.value = "id_number"
    assert set(w.filtered["rule"]) == {"id_number"}
    assert ("仅显示前 5 条" in w.table.value) == (len(w.filtered) > 5)
    w.field.value = "patientCertID"
    assert set(w.filtered["field"]) == {"patientCertID"}
    option = w.record.options[1]
    w.record.value = option[1]
    _dataset, row = option[1]
    assert f"第{row + 1}行" in w.detail.value and "patientCertID" in w.detail.value
    full_ids = [v for v in records["patientCertID"].dropna() if hlwjr.check_id_number(v)]
    assert full_ids and not any(v in w.detail.value for v in full_ids)  # masked
    assert not any(v in w.table.value for v in full_ids)
    w.dataset.value = "consult"
    w.severity.value = "warning"
    assert (w.filtered["severity"] == "warning").all()


def test_validation_report_without_problems():
    empty = hlwjr.check([], "consult")
    w = ValidationReport(empty)
    assert "没有问题" in w.table.value and "没有问题" in w.chart.value


# ----------------------------------------------------------------------------------- upload + readiness


@pytest.fixture
def own_sandbox(tmp_path):
    """A fresh sandbox for uploads of the demo hospital (its records must be new to the platform)."""
    from hlwjr.sandbox import Sandbox

    sb = Sandbox(tmp_path / "sandbox").start()
    yield sb
    sb.stop()


@pytest.fixture
def workbench(tmp_path, own_sandbox, monkeypatch):
    from hlwjr.sandbox._settings import ADMIN_TOKEN_ENV

    monkeypatch.setenv(ADMIN_TOKEN_ENV, own_sandbox.admin_token)
    return hlwjr.open_workbench(tmp_path / "project", sandbox_url=own_sandbox.url, demo_days=3)


@pytest.mark.slow
def test_upload_panel_and_readiness_dashboard(workbench, tmp_path):
    panel = workbench.upload_panel()
    panel.date.value = "2026-13-01"
    panel.button.click()
    assert isinstance(panel.last_error, ConfigError) and "YYYY-MM-DD" in panel.error_message
    panel.dry_run.value = True
    panel.date.value = workbench.demo_days()[0]
    panel.button.click()
    assert panel.last_error is None and panel.summaries[-1].dry_run and panel.live["accepted"] == 0
    results = panel.rehearse(workbench.demo_days()[:3])
    assert len(results) == 3 and all(s.total("accepted") >= 30 and s.ok for s in results)
    assert panel.bar.value == panel.bar.max and panel.bar.bar_style == "success"
    assert panel.live["accepted"] == results[-1].total("accepted") and "成功" in panel.counts.value
    assert len(panel.to_frame()) > 3 and "hlwjr-rehearsal" in panel.result.value

    dash = workbench.readiness_dashboard()
    r = dash.readiness
    assert r.may_apply, r.to_text()
    assert "可以申请" in dash.verdict.value
    assert dash.calendar.value.count("background:#a5d6a7") == 3  # three green days
    for day in workbench.demo_days()[:3]:
        assert f"data-day='{day}'" in dash.calendar.value
    dash.view.value = "datasets"
    assert "consult" in dash.table.value
    paths = dash.write_evidence()
    assert paths and all(p.exists() for p in paths.values()) and "已写出" in dash.status.value


def test_rehearsal_needs_the_sandbox(tmp_path):
    project = type("P", (), {"ledger_path": tmp_path / "none.sqlite"})()
    panel = UploadPanel(project, sandbox=None)
    with pytest.raises(ConfigError, match="沙箱"):
        panel.rehearse(["2026-11-01"])


def test_dashboard_without_evidence_directory_shows_the_error():
    import pandas as pd

    from hlwjr.readiness._readiness import Readiness
    from hlwjr.upload._project import Thresholds

    r = Readiness(
        thresholds=Thresholds(),
        today="2026-11-03",
        per_day=pd.DataFrame(
            columns=[
                "day",
                "dataset",
                "uploaded",
                "accepted",
                "rejected",
                "duplicate",
                "success_rate",
                "qualifies",
                "reason",
            ]
        ),
        days={},
        streak=0,
        streak_days=[],
        may_apply=False,
        today_needed={"*": 30},
        today_blocked=[],
        required_datasets=(),
    )
    dash = ReadinessDashboard(r)
    assert "还没有上传记录" in dash.calendar.value and "尚不能申请" in dash.verdict.value
    dash.button.click()
    assert isinstance(dash.last_error, ConfigError) and "out_dir" in dash.error_message


@pytest.mark.slow
def test_real_hospital_rehearses_in_a_separate_project(tmp_path, own_sandbox, monkeypatch, hospital):
    """DEMO = False, USE_SANDBOX = True: the hospital's own hlwjr.toml, secret and ledger stay untouched."""
    from hlwjr.demo._hospital import DEMO_ORGAN_ID, DEMO_ORGAN_NAME
    from hlwjr.sandbox._settings import ADMIN_TOKEN_ENV
    from hlwjr.workbench._workbench import write_hospital_project

    monkeypatch.setenv(ADMIN_TOKEN_ENV, own_sandbox.admin_token)
    shutil.copytree(find_demo_mapping(), tmp_path / "mapping")
    config = write_hospital_project(
        tmp_path / "hosp",
        name=DEMO_ORGAN_NAME,
        org_code=DEMO_ORGAN_ID,
        appid="REAL-APPID",  # the data's organID
        platform_url="https://platform.example.invalid/hlwjr",
        mapping_dir=str(tmp_path / "mapping"),
        sources={"his": hospital.sqlite_url},
        profile="tianjin",
    )
    before = config.read_text(encoding="utf-8")
    wb = hlwjr.open_workbench(tmp_path / "hosp", demo=False, sandbox=True, sandbox_url=own_sandbox.url, hospital=None)
    assert config.read_text(encoding="utf-8") == before and not (tmp_path / "hosp" / ".hlwjr" / "secret").exists()
    assert wb.project.root == tmp_path / "hosp" / ".hlwjr" / "rehearsal"
    assert wb.project.platform.url == own_sandbox.url and wb.project.platform.profile == "sandbox"
    assert "成功" in wb.connectivity().to_string()
    report = wb.check(["consult"], date=hospital.days[0])
    assert report.n_records > 30 and "consult" in wb.last_records
    panel = wb.upload(date=hospital.days[0])  # notebook 06 for the hospital's own data
    assert panel.summaries[-1].total("accepted") >= 30 and panel.summaries[-1].ok
    assert (tmp_path / "hosp" / ".hlwjr" / "rehearsal" / ".hlwjr" / "ledger.sqlite").exists()
    assert not (tmp_path / "hosp" / ".hlwjr" / "ledger.sqlite").exists()
    with pytest.raises(ConfigError, match="HOSPITAL"):
        hlwjr.open_workbench(tmp_path / "empty", demo=False, sandbox=False)


def test_internal_error_in_a_callback_is_shown_with_ids_and_phones_masked():
    """A non-hlwjr exception (pandas, a typo in a value) may quote the cell's value; the widget's
    error box must not show a full ID-card or mobile number."""
    from hlwjr.widgets._base import ErrorsMixin, guarded

    class W(ErrorsMixin):
        def __init__(self):
            self._init_errors()

        @guarded
        def on_change(self):
            raise ValueError("cannot convert '110101199003071234' (13812345678) to float")

    w = W()
    assert w.on_change() is None and isinstance(w.last_error, ValueError)
    text = w.error_message
    assert "内部错误（ValueError）" in text
    assert "110101199003071234" not in text and "13812345678" not in text
    shown = str(w.errors.outputs)
    assert "110101199003071234" not in shown and "13812345678" not in shown


def test_upload_panel_summary_masks_ids_in_platform_reasons():
    from hlwjr.upload._summary import DatasetSummary, UploadSummary

    s = UploadSummary(
        date="2026-11-01",
        platform_day="2026-11-01",
        dry_run=False,
        datasets={"recipe": DatasetSummary("recipe", "在线处方", sent=1, rejected=1)},
    )
    s.rejections.append(
        {
            "dataset": "recipe",
            "key": "O|R1",
            "batch_no": "B1",
            "status": "rejected",
            "reason": "patientCertID 证件号 110101199003071234 校验位错误",
        }
    )
    page = UploadPanel._summary_html(s)
    assert "校验位错误" in page and "B1" in page and "110101199003071234" not in page


@pytest.mark.slow
def test_one_project_one_ledger_and_no_registration_behind_the_analysts_back(
    tmp_path, own_sandbox, monkeypatch, hospital
):
    """A project registered with `hlwjr sandbox register` (its hlwjr.toml points at the sandbox)
    is what the notebooks open — the CLI's ledger; a real-platform project rehearses in a project
    registered once; re-running notebook 05 after an upload shows the accepted records as such."""
    from hlwjr.demo._hospital import DEMO_ORGAN_ID, DEMO_ORGAN_NAME
    from hlwjr.sandbox import Sandbox
    from hlwjr.sandbox._settings import ADMIN_TOKEN_ENV
    from hlwjr.widgets import ValidationReport
    from hlwjr.workbench._workbench import write_hospital_project

    monkeypatch.setenv(ADMIN_TOKEN_ENV, own_sandbox.admin_token)
    shutil.copytree(find_demo_mapping(), tmp_path / "mapping")
    appid, secret = own_sandbox.register(DEMO_ORGAN_ID, DEMO_ORGAN_NAME)  # as `hlwjr sandbox register` does
    monkeypatch.setenv("HOSP_SECRET", secret)
    config = write_hospital_project(
        tmp_path / "cli-project",
        name=DEMO_ORGAN_NAME,
        org_code=DEMO_ORGAN_ID,
        appid=appid,
        platform_url=own_sandbox.url,
        mapping_dir=str(tmp_path / "mapping"),
        sources={"his": hospital.sqlite_url},
        secret_env="HOSP_SECRET",
    )
    registrations = []
    real_register = Sandbox.register
    monkeypatch.setattr(Sandbox, "register", lambda self, *a: registrations.append(a) or real_register(self, *a))
    wb = hlwjr.open_workbench(config.parent, demo=False, sandbox=True, sandbox_url=own_sandbox.url)
    assert wb.project.config_file == config and registrations == []  # the CLI's project, as it is
    assert not (config.parent / ".hlwjr" / "rehearsal").exists()
    day = hospital.days[0]
    panel = wb.upload(date=day)
    accepted = panel.summaries[-1].total("accepted")
    assert accepted >= 30 and wb.project.ledger_path == config.parent / ".hlwjr" / "ledger.sqlite"
    report = wb.validation_report(["consult"], date=day)  # notebook 05 again, after the upload
    assert isinstance(report, ValidationReport)
    assert not [p for p in report.report.problems if p.rule == "already_accepted"]
    assert "已被平台接收" in report.summary.value and wb.last_accepted.get("consult", 0) > 0

    real = write_hospital_project(
        tmp_path / "real",
        name=DEMO_ORGAN_NAME,
        org_code=DEMO_ORGAN_ID,
        appid="REAL-APPID",
        platform_url="https://platform.example.invalid/hlwjr",
        mapping_dir=str(tmp_path / "mapping"),
        sources={"his": hospital.sqlite_url},
        profile="tianjin",
    )
    for _ in range(2):
        wb = hlwjr.open_workbench(real.parent, demo=False, sandbox=True, sandbox_url=own_sandbox.url)
    assert len(registrations) == 1  # registered once, the rehearsal project reused afterwards


@pytest.mark.slow
def test_a_real_upload_from_a_notebook_needs_confirm(tmp_path, monkeypatch, hospital):
    from hlwjr.demo._hospital import DEMO_ORGAN_ID, DEMO_ORGAN_NAME
    from hlwjr.workbench._workbench import write_hospital_project

    shutil.copytree(find_demo_mapping(), tmp_path / "mapping")
    monkeypatch.setenv("HLWJR_SECRET", "bbf1dd188b8b4629853f06f118d11e4a")
    write_hospital_project(
        tmp_path / "real",
        name=DEMO_ORGAN_NAME,
        org_code=DEMO_ORGAN_ID,
        appid="REAL-APPID",
        platform_url="http://127.0.0.1:9/hlwjr",  # nothing listens: nothing may be sent
        mapping_dir=str(tmp_path / "mapping"),
        sources={"his": hospital.sqlite_url},
        profile="tianjin",
    )
    wb = hlwjr.open_workbench(tmp_path / "real", demo=False, sandbox=False)
    panel = wb.upload(date=hospital.days[0])  # "Run All" with CONFIRM = False
    assert panel.summaries[-1].dry_run and panel.summaries[-1].total("sent") == 0
    assert "CONFIRM = True" in panel.result.value and "预演" in panel.result.value


@pytest.mark.slow
@pytest.mark.parametrize("protocol", ["tianjin", "gateway-hmac"])
def test_the_demo_rehearses_over_the_gateway(tmp_path, monkeypatch, protocol):
    """PROTOCOL = "tianjin" / "gateway-hmac": the notebooks' demo on the sandbox's gateway (SM4
    bodies and SM3 signatures, or AES bodies and HmacSHA256 signatures), readiness compared with the
    sandbox's verification log."""
    from hlwjr.workbench._workbench import SANDBOX_URL_ENV

    monkeypatch.delenv(SANDBOX_URL_ENV, raising=False)
    wb = hlwjr.open_workbench(tmp_path / "project", demo_days=3, protocol=protocol)
    try:
        assert wb.project.platform.url == wb.sandbox.gateway_url and protocol in wb.project.platform.profile
        assert wb.sandbox.settings.protocol == protocol
        wb.rehearse(3)
        r = wb.readiness()
        assert r.may_apply and r.platform is not None and not r.disagreements, r.to_text()
    finally:
        wb.sandbox.stop()
    with pytest.raises(ConfigError, match="PROTOCOL"):
        hlwjr.open_workbench(tmp_path / "other", protocol="soap")


# ------------------------------------------------------------------ a long code set (ICD-10)
def _icd10_edition():
    from hlwjr.spec._model import CodeSet

    icd = hlwjr.load_spec().code_set("icd10")
    synthetic = {f"Z{i // 1000:02d}.{i % 1000:03d}x": f"合成诊断{i}病" for i in range(32_810)}
    return CodeSet(id="icd10", name=icd.name, codes=dict(icd.codes) | synthetic)


def test_a_long_code_set_is_offered_as_a_shortlist_and_a_search(tmp_path):
    import pandas as pd

    from hlwjr.mapping._codemaps import CODE_MAP_COLUMNS, CodeMap

    icd = _icd10_edition()
    cm = CodeMap(name="diagnosis", entries=pd.DataFrame(columns=CODE_MAP_COLUMNS), code_set="icd10")
    local = pd.Series(["急性上呼吸道感染"] * 3 + ["高血压2级", "本院自编诊断X", "J06.900"])
    ed = CodeMapEditor(cm, icd, local)
    for row in ed.rows.values():  # never 33,000 options per row
        assert row.search is not None and len(row.code.options) <= 15
    assert ed.rows["J06.900"].code.value == "J06.900"  # the suggestion, listed and chosen as 待审
    assert "J06.900" in {v for _, v in ed.rows["急性上呼吸道感染"].code.options}
    row = ed.rows["本院自编诊断X"]
    row.search.value = "合成诊断17"  # a name typed: the list becomes what matches it
    assert ed.last_error is None and "Z00.017x" in {v for _, v in row.code.options}
    assert row.code.value == ""  # nothing chosen yet
    row.search.value = "Z12.345x"  # a code typed exactly: chosen
    assert row.code.value == "Z12.345x" and ed.code_map.lookup()["本院自编诊断X"] == "Z12.345x"
    row.search.value = "？？？"
    assert isinstance(ed.last_error, MappingError) and "没有与" in ed.error_message
    ed.set_code("高血压2级", "Z31.999x")  # any code of the set, listed or not
    assert ed.rows["高血压2级"].code.value == "Z31.999x"
    assert ed.save(tmp_path / "diagnosis.csv").exists()
