"""``hlwjr spec list|show|schema|import|diff|export`` through the real CLI entry points."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import jsonschema

import hlwjr
from hlwjr import cli

MINI = Path(__file__).parent / "data" / "core_minispec"


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    try:
        args = cli.parse_args(list(argv))
    except hlwjr.HlwjrError as exc:  # usage errors, as main() reports them
        return 2, "", f"错误: {exc}"
    rc = cli.run(args, out, err)
    return rc, out.getvalue(), err.getvalue()


def test_list_text_says_reference_spec_is_not_official():
    rc, out, _ = run("spec", "list")
    assert rc == 0
    spec = hlwjr.load_spec()
    assert "非官方" in out.splitlines()[0]
    assert spec.notice.split("。")[0] in out
    for ds in spec.datasets.values():
        assert ds.code in out and ds.name in out


def test_list_json_gives_datasets_keys_and_fields():
    rc, out, err = run("spec", "list", "--format", "json")
    assert rc == 0
    data = json.loads(out)
    spec = hlwjr.load_spec()
    assert data["spec"]["id"] == spec.id and data["spec"]["official"] is False and data["spec"]["notice"]
    assert "非北京市官方文档" in err  # the notice, without breaking the JSON on stdout
    by_code = {d["code"]: d for d in data["datasets"]}
    assert set(by_code) == set(spec.datasets)
    recipe = spec.dataset("recipe")
    d = by_code["recipe"]
    assert d["name"] == recipe.name and d["key"] == list(recipe.key)
    fields = {f["key"]: f for f in d["fields"]}
    assert list(fields) == list(recipe.fields)
    for f in recipe.fields.values():
        got = fields[f.key]
        assert (got["name"], got["type"], got["max_length"], got["required"], got["code_set"]) == (
            f.name,
            f.type,
            f.max_length,
            f.required,
            f.code_set,
        )


def test_list_other_spec_directory():
    rc, out, _ = run("spec", "list", "--spec", str(MINI))
    assert rc == 0 and "复诊" in out and "b_line" in out


def test_show_dataset_and_code_set():
    rc, out, _ = run("spec", "show", "在线处方")
    assert rc == 0
    recipe = hlwjr.load_spec().dataset("recipe")
    assert f"（{recipe.code}）" in out and "业务主键" in out
    for f in list(recipe.fields.values())[:5]:
        assert f.key in out
    rc, out, _ = run("spec", "show", "sex", "--spec", str(MINI))
    assert rc == 0 and "未说明的性别" in out
    rc, out, _ = run("spec", "show", "b", "--spec", str(MINI), "--format", "json")
    assert json.loads(out)["fields"][2]["item"] == "b_line"


def test_show_unknown_dataset_is_a_usage_error():
    rc, _, err = run("spec", "show", "nope", "--spec", str(MINI))
    assert rc == 2 and err.startswith("错误:") and "nope" in err and "a（复诊）" in err


def test_schema_is_valid_draft_2020_12(tmp_path):
    rc, out, _ = run("spec", "schema", "recipe")
    assert rc == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(schema["required"]) == set(hlwjr.load_spec().dataset("recipe").required_fields)
    rc, out, _ = run("spec", "schema", "b", "--spec", str(MINI), "--out", str(tmp_path / "b.json"))
    assert rc == 0 and json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))["title"] == "处方 (b)"


def test_export_import_diff_cycle(tmp_path):
    doc = tmp_path / "mini.docx"
    rc, out, _ = run("spec", "export", str(MINI), "--out", str(doc))
    assert rc == 0 and doc.is_file() and "已导出" in out
    # dry run: report only
    rc, out, _ = run("spec", "import", str(doc))
    assert rc == 0 and "数据集 3 个" in out and "未写入" in out
    rc, out, _ = run(
        "spec",
        "import",
        str(doc),
        "--out",
        str(tmp_path / "spec"),
        "--id",
        "mini2",
        "--report",
        str(tmp_path / "report.xlsx"),
    )
    assert rc == 0 and (tmp_path / "spec" / "spec.yaml").is_file() and (tmp_path / "report.xlsx").is_file()
    assert hlwjr.load_spec(tmp_path / "spec").id == "mini2"
    # refuses to overwrite without --force
    rc, _, err = run("spec", "import", str(doc), "--out", str(tmp_path / "spec"))
    assert rc == 2 and "非空" in err
    # the imported spec has the same fields: only the sections the export added differ
    rc, out, _ = run("spec", "diff", str(MINI), str(tmp_path / "spec"), "--breaking-only")
    assert rc == 0 and "没有差异" in out
    # a document can be compared directly
    rc, out, _ = run("spec", "diff", str(MINI), str(doc), "--format", "json")
    assert json.loads(out)["summary"]["breaking"] == 0


def test_import_with_uninterpretable_cells_exits_1(tmp_path):
    from test_spec_import import build_docx  # tests/ is on sys.path (pytest rootdir-less import mode)

    doc = build_docx(tmp_path / "doc.docx")
    rc, out, err = run("spec", "import", str(doc), "--out", str(tmp_path / "out"))
    assert rc == 1
    assert "XYZ(5)" in out and "第5行" in out and "无法解析" in err
    assert (tmp_path / "out" / "spec.yaml").is_file()  # written, with the report to check against


def test_import_without_field_table_is_an_error(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("没有表格")
    d.save(tmp_path / "x.docx")
    rc, _, err = run("spec", "import", str(tmp_path / "x.docx"), "--out", str(tmp_path / "o"))
    assert rc == 2 and "没有可识别的字段表" in err and "x.docx" in err
    assert not (tmp_path / "o").exists()


def test_diff_csv_and_exit_code(tmp_path):
    rc, out, _ = run("spec", "diff", str(MINI), "beijing-reference", "--format", "csv")
    assert rc == 1
    assert out.splitlines()[0] == "object,change,dataset,field,code_set,code,attribute,old,new,impact,message"


def test_export_xlsx_format_option(tmp_path):
    rc, out, _ = run("spec", "export", "--format", "xlsx", "--out", str(tmp_path / "ref"))
    assert rc == 0 and (tmp_path / "ref.xlsx").is_file() and "非北京市官方文档" in out


def test_console_script_help():
    res = subprocess.run(
        [sys.executable, "-m", "hlwjr.cli", "spec", "--help"], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0
    for cmd in ("list", "show", "schema", "import", "diff", "export"):
        assert cmd in res.stdout


def test_schema_and_import_report_are_written_atomically(tmp_path, monkeypatch):
    """A failure while writing --out / --report leaves the previous file as it was, no temp files."""
    target = tmp_path / "b.json"
    target.write_text("old", encoding="utf-8")

    def boom(self, *a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", boom)
    rc, _, err = run("spec", "schema", "b", "--spec", str(MINI), "--out", str(target))
    monkeypatch.undo()
    assert rc == 2 and "无法写入" in err
    assert target.read_text(encoding="utf-8") == "old" and sorted(tmp_path.iterdir()) == [target]

    from hlwjr.commands._spec import _write_report

    class Broken:
        def to_text(self):
            raise RuntimeError("report cannot be rendered")

    report = tmp_path / "report.txt"
    report.write_text("old", encoding="utf-8")
    try:
        _write_report(Broken(), report)
    except RuntimeError:
        pass
    assert report.read_text(encoding="utf-8") == "old" and sorted(tmp_path.iterdir()) == [target, report]


def test_show_a_long_code_set_lists_the_first_codes_and_finds_the_rest():
    icd = hlwjr.load_spec().code_set("icd10")
    rc, out, _ = run("spec", "show", "icd10")
    hidden = len(icd.codes) - 50
    assert rc == 0 and f"另有 {hidden} 个代码未列出" in out and "--find" in out
    assert list(icd.codes)[0] in out and list(icd.codes)[-1] not in out
    rc, out, _ = run("spec", "show", "icd10", "--all")
    assert rc == 0 and all(c in out for c in icd.codes) and "未列出" not in out
    rc, out, _ = run("spec", "show", "icd10", "--find", "高血压")
    assert rc == 0 and "I10.x00" in out and "原发性高血压" in out
    rc, out, _ = run("spec", "show", "icd10", "--find", "j06")  # a code typed in lower case: its own
    assert rc == 0 and "J06.900" in out and len(out.strip().splitlines()) <= 5
    rc, out, _ = run("spec", "show", "icd10", "--find", "？？")
    assert rc == 1 and "没有与“？？”相近的代码或名称" in out
