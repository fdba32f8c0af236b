"""The guided notebooks: committed clean (no outputs, no execution counts, no secrets, no unmasked
IDs), in step with their generator, and each runnable top to bottom on the demo hospital against
a real sandbox process started by a fixture, headless with nbclient — changing only the
``parameters`` cell, as a hospital would."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from hlwjr._privacy import check_id_number

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
NAMES = [
    "00_开始_setup",
    "01_接口规范_spec",
    "02_数据源_profile",
    "03_字段对照_map_fields",
    "04_值域对照_map_codes",
    "05_校验_validate",
    "06_测试上传_upload",
    "07_达标_readiness",
    "08_日常运行_operations",
]
PATHS = [NB_DIR / f"{n}.ipynb" for n in NAMES]


def _read(path: Path):
    return nbformat.read(path, as_version=4)


# ----------------------------------------------------------------------------------- static checks


def test_every_step_has_its_notebook():
    assert sorted(p.name for p in NB_DIR.glob("*.ipynb")) == sorted(p.name for p in PATHS)


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_committed_without_outputs_or_counts(path):
    nb = _read(path)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} 第 {i} 个单元格带有输出"
            assert cell.execution_count is None, f"{path.name} 第 {i} 个单元格带有执行计数"
        assert "execution" not in cell.metadata, f"{path.name} 第 {i} 个单元格带有执行时间元数据"


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_one_parameters_cell_holding_the_project(path):
    nb = _read(path)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    src = tagged[0].source
    for name in ("PROJECT_DIR", "DEMO", "USE_SANDBOX", "SANDBOX_URL"):
        assert re.search(rf"^{name} = ", src, re.M), name
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code is tagged[0], "参数单元格应是第一个代码单元格"
    assert nb.metadata["kernelspec"]["name"] == "python3"


_SECRET = re.compile(r"(secret|password|passwd|token)\s*=\s*['\"][^'\"$]{6,}['\"]", re.I)
_ID18 = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dA-Za-z])")
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_no_secrets_and_no_unmasked_ids(path):
    text = path.read_text(encoding="utf-8")
    assert not _SECRET.search(text), _SECRET.search(text).group(0)
    ids = [m for m in _ID18.findall(text) if check_id_number(m)]
    assert not ids, f"{path.name} 含有身份证号"
    assert not _PHONE.findall(text), f"{path.name} 含有手机号"
    assert "hlw" + "sec" not in text


def test_notebooks_match_their_generator():
    spec = importlib.util.spec_from_file_location("nb_build", NB_DIR / "_build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--check"]) == 0, (
        "notebooks/*.ipynb 与 notebooks/_build.py 不一致：运行 python notebooks/_build.py"
    )


def test_cells_are_prose_plus_one_call():
    """Logic lives in lib/: a code cell is a few lines (import, one call, the displayed result)."""
    for path in PATHS:
        for cell in _read(path).cells:
            if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
                continue
            lines = [ln for ln in cell.source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
            assert len(lines) <= 4, f"{path.name}: {cell.source!r}"
            assert not re.search(r"^\s*(for|while|def|class|try)\b", cell.source, re.M), cell.source


# ----------------------------------------------------------------------------------- execution


def run_notebook(path: Path, overrides: dict, *, allow_errors: bool = False, timeout: int = 300):
    """Execute a notebook as papermill would: an injected cell after the parameters cell."""
    nb = _read(path)
    idx = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    src = "\n".join(f"{k} = {v!r}" for k, v in overrides.items())
    injected = nbformat.v4.new_code_cell(src)
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(idx + 1, injected)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(NB_DIR)}})
    try:
        client.execute()
    except CellExecutionError:  # stops at the first failing cell, as "Run All" does in JupyterLab
        if not allow_errors:
            raise
    return nb


def outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                parts.append(out.text)
            elif out.output_type == "error":
                parts.append("\n".join(out.traceback))
            else:
                data = out.get("data", {})
                parts.append(data.get("text/html") or data.get("text/plain") or "")
                if "application/vnd.jupyter.widget-view+json" in data:
                    parts.append("[widget]")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def workbench_sandbox(tmp_path_factory):
    """A sandbox of this module's own (the notebooks upload the demo hospital and move its clock;
    the shared ``sandbox_server`` stays clean for other areas), stopped by PID at the end."""
    from hlwjr.sandbox import Sandbox

    sb = Sandbox(tmp_path_factory.mktemp("notebook-sandbox")).start()
    yield sb
    sb.stop()


@pytest.fixture(scope="module")
def notebook_env(workbench_sandbox, tmp_path_factory):
    from hlwjr.sandbox._settings import ADMIN_TOKEN_ENV

    mp = pytest.MonkeyPatch()
    mp.setenv(ADMIN_TOKEN_ENV, workbench_sandbox.admin_token)  # the kernels inherit it
    project = tmp_path_factory.mktemp("workbench") / "project"
    yield {"PROJECT_DIR": str(project), "SANDBOX_URL": workbench_sandbox.url}
    mp.undo()


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name, notebook_env):
    nb = run_notebook(NB_DIR / f"{name}.ipynb", notebook_env)
    text = outputs_text(nb)
    assert "Traceback" not in text and "错误（" not in text, text[-3000:]
    project = Path(notebook_env["PROJECT_DIR"])
    if name.startswith("00"):
        assert "成功" in text and (project / "hlwjr.toml").exists()
        secret = (project / ".hlwjr" / "secret").read_text(encoding="utf-8").strip()
        assert secret and secret not in (project / "hlwjr.toml").read_text(encoding="utf-8") and secret not in text
    if name.startswith("02"):  # the master-data template, written into the project
        assert "医护药人员备案" in text and (project / "基础数据.xlsx").exists()
    if name.startswith("03") or name.startswith("04") or name.startswith("05"):
        assert "[widget]" in text
    if name.startswith("03"):
        state = json.dumps(nb.metadata.get("widgets", {}), ensure_ascii=False)
        assert "必填字段已对照" in state and "hlwjr-preview" in state
    if name.startswith("06"):
        assert (project / ".hlwjr" / "ledger.sqlite").exists()
    if name.startswith("07"):
        assert "可以申请" in text, text[-2000:]
    if name.startswith("08"):  # the demo's rehearsal days, and the operations panel
        assert "[widget]" in text and "2026-11-0" in text, text[-2000:]


# ----------------------------------------------------------------------------------- bad input


@pytest.mark.slow
def test_unknown_source_table_gives_a_readable_message(notebook_env):
    params = dict(notebook_env, TABLE="no_such_table")
    text = outputs_text(run_notebook(NB_DIR / "02_数据源_profile.ipynb", params, allow_errors=True))
    assert "错误（SourceError）" in text and "no_such_table" in text and "怎么办" in text, text[-1500:]
    assert "Traceback" not in text


@pytest.mark.slow
def test_broken_mapping_gives_a_readable_message(notebook_env):
    target = Path(notebook_env["PROJECT_DIR"]) / "mapping" / "datasets" / "consult.yaml"
    good = target.read_text(encoding="utf-8")
    target.write_text(good.replace("bussID: {column: ZXID", "bussID: {column: [ZXID", 1), encoding="utf-8")
    try:
        params = dict(notebook_env, DATASETS=["consult"])
        text = outputs_text(run_notebook(NB_DIR / "05_校验_validate.ipynb", params, allow_errors=True))
    finally:
        target.write_text(good, encoding="utf-8")
    assert "错误（MappingError）" in text and "consult.yaml" in text and "怎么办" in text, text[-1500:]
    assert "Traceback" not in text


@pytest.mark.slow
def test_missing_project_gives_a_readable_message(tmp_path):
    nb = run_notebook(
        PATHS[0], {"PROJECT_DIR": str(tmp_path / "nowhere"), "DEMO": False, "USE_SANDBOX": False}, allow_errors=True
    )
    text = outputs_text(nb)
    assert "错误（ConfigError）" in text and "HOSPITAL" in text and "怎么办" in text
    assert "Traceback" not in text and 'File "' not in text
    assert len(text.splitlines()) < 12


@pytest.mark.slow
def test_missing_secret_and_unreachable_platform(tmp_path, monkeypatch):
    hospital = dict(
        name="测试互联网医院",
        org_code="91110108MA01AB12CN",
        platform_url="http://127.0.0.1:9/hlwjr",
        appid="APP-TEST",
        mapping_dir="mapping",
        sources={"his": "his.sqlite"},
        profile="sandbox",
    )
    monkeypatch.delenv("HLWJR_SECRET", raising=False)
    params = {"PROJECT_DIR": str(tmp_path / "p"), "DEMO": False, "USE_SANDBOX": False, "HOSPITAL": hospital}
    text = outputs_text(run_notebook(PATHS[0], params, allow_errors=True))
    assert "错误（ConfigError）" in text and "密钥" in text and "HLWJR_SECRET" in text and "Traceback" not in text
    monkeypatch.setenv("HLWJR_SECRET", "not-a-real-secret")
    text = outputs_text(run_notebook(PATHS[0], params, allow_errors=True, timeout=180))
    assert "错误（TransportError）" in text or "错误（UploadError）" in text, text[-1500:]
    assert "怎么办" in text and "Traceback" not in text
    assert "not-a-real-secret" not in text


def test_cell_execution_error_is_short_for_hlwjr_errors():
    """The custom handler turns an HlwjrError into 错误 / 位置 / 怎么办 lines."""
    from hlwjr import MappingError
    from hlwjr.workbench._errors import _custom_exc

    lines = _custom_exc(
        object(), MappingError, MappingError("列 'XB' 不在数据源中", where="datasets/consult.yaml: 字段 sex"), None
    )
    assert "错误（MappingError）" in lines[0] and lines[1] == "位置：datasets/consult.yaml: 字段 sex"
    assert lines[-1].startswith("怎么办：") and len(lines) == 3


def test_friendly_prints_the_message_instead_of_a_traceback():
    import io

    from hlwjr import SourceError
    from hlwjr.workbench._errors import friendly, setup_notebook

    out = io.StringIO()
    with friendly(stream=out):
        raise SourceError("无法解码：第 3 行有 GBK 以外的字节", where="his/patients.csv")
    text = out.getvalue()
    assert text.startswith("错误（SourceError）") and "位置：his/patients.csv" in text and "编码" in text
    from IPython import get_ipython

    # not inside IPython: nothing installed (a widget test run earlier may have created a shell)
    assert setup_notebook() is (get_ipython() is not None)
    with pytest.raises(ZeroDivisionError):  # bugs are not hidden
        with friendly(stream=out):
            1 / 0  # noqa: B018


@pytest.mark.slow
def test_without_a_sandbox_url_the_kernel_starts_its_own(tmp_path, monkeypatch):
    import hlwjr
    from hlwjr.workbench._workbench import SANDBOX_URL_ENV

    monkeypatch.delenv(SANDBOX_URL_ENV, raising=False)
    wb = hlwjr.open_workbench(tmp_path / "project", demo_days=3)
    try:
        assert wb.sandbox.pid and wb.sandbox.data_dir == tmp_path / "project" / ".hlwjr" / "sandbox"
        assert wb.project.platform.url == wb.sandbox.url
        again = hlwjr.open_workbench(tmp_path / "project", demo_days=3)  # the same kernel reuses it
        assert again.sandbox is wb.sandbox
        assert "成功" in wb.connectivity().to_string()
    finally:
        wb.sandbox.stop()
