"""Hostile and broken input files never crash hlwjr: every file-reading command, run in-process
through ``cli.run``, ends with exit 0/1/2, words its error in Chinese naming the file, shows no
traceback, never prints a full ID-card or mobile number from the file, and leaves no output file
behind when it fails.  The files are generated (hypothesis chooses the damage, the extension the
file is saved under, the command, and the text around it)."""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hlwjr
from hlwjr import cli

ID = "110101199003078515"  # valid check digit
PHONE = "13812345678"
DATA = Path(__file__).parent / "data"
_CJK = re.compile(r"[\u4e00-\u9fff]")
_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEADER = "bussID,patientName,patientCertID,mobile"


def _row(name: str = "张三") -> str:
    return f"1,{name},{ID},{PHONE}"


# ------------------------------------------------------------------------------ hostile files
def _workbook(rows, *, state: str | None = None) -> bytes:
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return _rewrite_workbook(buf.getvalue(), state=state) if state else buf.getvalue()


def _rewrite_workbook(data: bytes, *, state: str) -> bytes:
    """The workbook with its sheets' state changed ("hidden") or its sheets removed ("none")."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/workbook.xml":
                body = _hide_sheets(body) if state == "hidden" else re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", body)
            z.writestr(item, body)
    return out.getvalue()


def _hide_sheets(workbook_xml: bytes) -> bytes:
    if b"state=" in workbook_xml:
        return workbook_xml.replace(b'state="visible"', b'state="hidden"')
    return workbook_xml.replace(b"<sheet ", b'<sheet state="hidden" ')


def _plain_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", f"{ID} {PHONE}")
    return buf.getvalue()


def _text(lines: list[str], ending: str = "\n", encoding: str = "utf-8") -> bytes:
    return ending.join(lines).encode(encoding) + ending.encode(encoding)


HOSTILE = {
    "empty": lambda: b"",
    "only_bom": lambda: b"\xef\xbb\xbf",
    "only_header": lambda: _text([HEADER]),
    "binary": lambda: bytes(range(256)) * 16,
    "plain_zip": _plain_zip,
    "xlsx_no_sheets": lambda: _workbook([["a"], [ID]], state="none"),
    "xlsx_hidden_sheets": lambda: _workbook([["a", "b"], [ID, PHONE]], state="hidden"),
    "xlsx": lambda: _workbook([HEADER.split(","), _row().split(",")]),
    "utf16": lambda: _text([HEADER, _row()], encoding="utf-16"),
    "gbk_and_utf8": lambda: _text([HEADER, _row("张三")]) + _text([_row("李四")], encoding="gbk"),
    "nul_bytes": lambda: _text([HEADER, _row("张\x00三")]),
    "one_mb_cell": lambda: _text([HEADER, "1," + "x" * 1_000_000 + f",{ID},{PHONE}"]),
    "ten_thousand_columns": lambda: _text([",".join(f"c{i}" for i in range(10_000)), ",".join([ID] * 10_000)]),
    "duplicate_header": lambda: _text(["a,a,b", f"1,{ID},{PHONE}"]),
    "numeric_header": lambda: _text(["1,2,3", f"1,{ID},{PHONE}"]),
    "blank_header": lambda: _text([" ,,b", f"1,{ID},{PHONE}"]),
    "crlf": lambda: _text([HEADER, _row()], ending="\r\n"),
    "cr_only": lambda: _text([HEADER, _row()], ending="\r"),
    "unterminated_quote": lambda: _text([HEADER, f'1,"张三,{ID},{PHONE}', _row()]),
    "quote_storm": lambda: ('{"a":' * 100_000).encode(),
    "json_scalar": lambda: b"42",
    "json_id_string": lambda: json.dumps(ID).encode(),
    "json_records_not_list": lambda: json.dumps({"records": ID}).encode(),
    "jsonl_bad_line": lambda: _text([json.dumps({"bussID": "1", "patientCertID": ID}), "{bad " + ID]),
    "jsonl_scalar_lines": lambda: _text([json.dumps({"bussID": "1"}), json.dumps(PHONE), "[1, 2]"]),
    "json_deep_arrays": lambda: ("[" * 100_000 + "]" * 100_000).encode(),
    "json_deep_objects": lambda: ('{"a":' * 100_000 + "1" + "}" * 100_000).encode(),
    "json_huge_int": lambda: ('[{"bussID": ' + "9" * 100_000 + f', "patientCertID": "{ID}"}}]').encode(),
    "json_nan_infinity": lambda: f'[{{"bussID": NaN, "price": Infinity, "mobile": "{PHONE}"}}]'.encode(),
}
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx")
RECORD_SUFFIXES = (".csv", ".json", ".jsonl", ".xlsx")


def _commands(path: Path, out_dir: Path) -> dict[str, tuple[list[str], list[Path]]]:
    """Each file-reading command on ``path``, with the output files it must not leave on failure."""
    spec_out = out_dir / "spec"
    codes_out = out_dir / "codes.csv"
    return {
        "validate": (["validate", "-d", "recipe", str(path)], []),
        "profile": (["profile", str(path)], []),
        "suggest": (["map", "suggest", "--dataset", "recipe", "--source", str(path)], []),
        "codes": (
            ["map", "codes", "--code-set", "sex", "--source", str(path), "--column", "a", "--out", str(codes_out)],
            [codes_out],
        ),
        "spec_import": (["spec", "import", str(path), "--out", str(spec_out)], [spec_out]),
        "map_check_source": (["map", "check", "--mapping", str(_mapping_copy(out_dir)), "--source", f"his={path}"], []),
    }


# ------------------------------------------------------------------------------ the contract
def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = cli.run(cli.parse_args(argv), out, err)  # an exception escaping fails the test
    return rc, out.getvalue(), err.getvalue()


def assert_handled(argv: list[str], path: Path, outputs=(), *, failed_means_nothing_written: bool = True):
    rc, out, err = _run(argv)
    said = out + err
    assert rc in (0, 1, 2), (argv, rc, err)
    assert "Traceback" not in said and 'File "' not in said, err
    assert ID not in said and PHONE not in said, said[:2000]
    if err.strip() and rc != 0:
        assert _CJK.search(err), err
        assert path.name in err or (rc == 1 and not err.startswith("错误")), err
    if rc == 2 or (rc != 0 and failed_means_nothing_written):
        for o in outputs:
            assert not o.exists(), f"{o} left behind ({argv}): {err}"
    return rc, out, err


@pytest.fixture(scope="module")
def workdir():
    d = Path(tempfile.mkdtemp(prefix="hlwjr-adversarial-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


_FAST_DAMAGE = sorted(set(HOSTILE) - {"ten_thousand_columns", "one_mb_cell", "quote_storm"})


@_SETTINGS
@given(
    damage=st.sampled_from(_FAST_DAMAGE),
    suffix=st.sampled_from(RECORD_SUFFIXES + (".txt", ".docx", ".pdf")),
    command=st.sampled_from(["validate", "profile", "suggest", "codes", "spec_import", "map_check_source"]),
)
def test_a_hostile_file_is_refused_or_read_never_crashes(workdir, damage, suffix, command):
    d = Path(tempfile.mkdtemp(dir=workdir))
    path = d / f"{damage}{suffix}"
    path.write_bytes(HOSTILE[damage]())
    (d / "out").mkdir()
    argv, outputs = _commands(path, d / "out")[command]
    # map codes writes its table only when it succeeds; spec import writes only when all is read
    assert_handled(argv, path, outputs, failed_means_nothing_written=command != "spec_import")


@pytest.mark.parametrize("damage", ["ten_thousand_columns", "one_mb_cell", "quote_storm"])
@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_huge_lines_and_cells_are_read_or_refused_in_time(workdir, damage, suffix):
    path = workdir / f"{damage}{suffix}"
    path.write_bytes(HOSTILE[damage]())
    assert_handled(["validate", "-d", "recipe", str(path)], path)


@_SETTINGS
@given(
    names=st.lists(
        st.one_of(
            st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n\x00"), max_size=6),
            st.sampled_from(["", " ", "\t", "1", "1.5", "-0", "bussID", "bussID", '"', '"a""b"', ID, PHONE]),
        ),
        min_size=1,
        max_size=6,
    ),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    suffix=st.sampled_from([".csv", ".txt"]),
    given_encoding=st.sampled_from([None, "utf-8", "GBK", "utf-16", "utf-32", "latin-1", "no-such-codec"]),
    above=st.lists(st.sampled_from(["", " ", "\ufeff", "导出时间：2026-11-02", ID, f"{ID},{PHONE}", ",,"]), max_size=3),
)
def test_any_header_row_is_read_or_refused_with_its_file(
    workdir, names, ending, encoding, suffix, given_encoding, above
):
    path = Path(tempfile.mkdtemp(dir=workdir)) / f"headers{suffix}"
    header = ending.join([*above, ",".join(names)])
    body = ",".join([ID, PHONE, "张三"][: len(names)] + ["x"] * max(0, len(names) - 3))
    try:
        path.write_bytes((header + ending + body + ending).encode(encoding))
    except UnicodeEncodeError:
        path.write_bytes((header + ending + body + ending).encode("utf-8"))
    assert_handled(["validate", "-d", "recipe", str(path)], path)
    chosen = ["--encoding", given_encoding] if given_encoding else []
    assert_handled(["profile", str(path), *chosen], path)
    assert_handled(["map", "suggest", "--dataset", "recipe", "--source", str(path), *chosen], path)


@_SETTINGS
@given(
    lines=st.lists(
        st.one_of(
            st.just(json.dumps({"bussID": "1", "patientCertID": ID, "mobile": PHONE})),
            st.sampled_from(["", "   ", "{", "[", "]", "null", "NaN", "-Infinity", "1e999", "9" * 5000, '"\\ud800"']),
            st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
            st.text(max_size=20),
        ),
        max_size=6,
    ),
    suffix=st.sampled_from([".json", ".jsonl"]),
)
def test_any_json_lines_are_read_or_refused_with_their_file(workdir, lines, suffix):
    path = Path(tempfile.mkdtemp(dir=workdir)) / f"records{suffix}"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    assert_handled(["validate", "-d", "recipe", str(path)], path)


_CELLS = st.sampled_from(
    [None, "", " ", ID, PHONE, int(ID[:15]), 1e308, -1e308, 10**20, "=1+1", "#N/A", True, 0.1, "bussID", "张三"]
    + [_dt.datetime(1900, 1, 1), _dt.date(9999, 12, 31), _dt.date(1, 1, 1), _dt.time(23, 59), "a" * 40_000]
)


@_SETTINGS
@given(
    rows=st.lists(st.lists(_CELLS, max_size=5), max_size=5),
    title=st.sampled_from(["Sheet", "recipe", "在线处方"]),
    command=st.sampled_from(["validate", "profile", "suggest"]),
)
def test_any_worksheet_is_read_or_refused_with_its_file(workdir, rows, title, command):
    wb = openpyxl.Workbook()
    wb.active.title = title
    for row in rows:
        wb.active.append(row)
    path = Path(tempfile.mkdtemp(dir=workdir)) / "cells.xlsx"
    wb.save(path)
    assert_handled(_commands(path, path.parent)[command][0], path)


def test_a_hostile_file_through_the_library_raises_only_hlwjr_errors(workdir):
    for damage, build in HOSTILE.items():
        if damage in ("ten_thousand_columns", "one_mb_cell"):
            continue
        for suffix in TABLE_SUFFIXES:
            path = workdir / f"lib-{damage}{suffix}"
            path.write_bytes(build())
            try:
                hlwjr.read_source(path)
            except hlwjr.HlwjrError as exc:
                assert str(path) in str(exc) and _CJK.search(str(exc)), exc
                assert ID not in str(exc) and PHONE not in str(exc)


# ------------------------------------------------------------------------------ paths
@pytest.mark.parametrize("command", ["validate", "profile", "suggest", "codes", "spec_import", "map_check_source"])
def test_a_missing_path_and_a_directory_are_named(workdir, command):
    (workdir / "out-paths").mkdir(exist_ok=True)
    for path in (workdir / "no-such-file.csv", workdir / "a-folder.csv"):
        if path.name == "a-folder.csv":
            path.mkdir(exist_ok=True)
        argv, outputs = _commands(path, workdir / "out-paths")[command]
        rc, out, err = assert_handled(argv, path, outputs)
        assert rc in (1, 2) and path.name in err + out, (out, err)  # map check lists it with its problems


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_named(workdir):
    path = workdir / "locked.csv"
    path.write_bytes(_text([HEADER, _row()]))
    path.chmod(0)
    try:
        (workdir / "out-locked").mkdir(exist_ok=True)
        for command in ("validate", "profile", "suggest"):
            argv, outputs = _commands(path, workdir / "out-locked")[command]
            rc, _, err = assert_handled(argv, path, outputs)
            assert rc in (1, 2) and "locked.csv" in err
    finally:
        path.chmod(0o600)


def test_outputs_in_a_missing_folder_are_written_whole_or_refused_naming_it(workdir):
    records = workdir / "ok.csv"
    records.write_bytes(_text([HEADER, _row()]))
    mapping = _mapping_copy(workdir)
    missing = workdir / "missing" / "deeper"
    report, jsonl, codes = missing / "report.xlsx", missing / "visit.jsonl", missing / "codes.csv"
    codes_argv = ["map", "codes", "--code-set", "sex", "--source", str(records), "--column", "bussID"]
    runs = [
        (["validate", "-d", "recipe", str(records), "--report", str(report)], report),
        (["map", "apply", "--mapping", str(mapping), "--dataset", "visit", "--out", str(jsonl)], jsonl),
        ([*codes_argv, "--out", str(codes)], codes),
    ]
    for argv, target in runs:
        rc, _, err = _run(argv)
        if rc == 2:
            assert str(missing) in err and _CJK.search(err) and not target.exists(), err
        else:
            assert target.stat().st_size > 0 and not Path(str(target) + ".part").exists(), (argv, err)
    if report.exists():
        openpyxl.load_workbook(report).close()  # whole, not half-written


# ------------------------------------------------------------------------------ mapping YAML
def _mapping_copy(root: Path) -> Path:
    d = Path(tempfile.mkdtemp(dir=root)) / "mapping"
    shutil.copytree(DATA / "mapping_small", d)
    top = d / "mapping.yaml"
    top.write_text(top.read_text(encoding="utf-8").replace("id: mapping-test", f"id: {DATA / 'mapping_spec'}"))
    return d


def _visit_yaml() -> str:
    return (DATA / "mapping_small" / "datasets" / "visit.yaml").read_text(encoding="utf-8")


YAML_DAMAGE = {
    "tab_indent": lambda t: t.replace("  bussID:", "\tbussID:"),
    "duplicate_key": lambda t: t + "  bussID: {column: BRID}\n",
    "anchor_alias": lambda t: t.replace("  sex: {", "  sex: &s {").replace(
        "  cardNo: {unavailable: HIS 不记录就诊卡号}", "  cardNo: *s"
    ),
    "merge_key": lambda t: t.replace("  sex: {", "  sex: &s {").replace(
        "  cardNo: {unavailable: HIS 不记录就诊卡号}", "  cardNo: {<<: *s, column: KSDM}"
    ),
    "fields_list": lambda t: t.split("fields:")[0] + "fields: [1, 2]\n",
    "rule_number": lambda t: t.split("fields:")[0] + "fields:\n  bussID: 5\n",
    "dataset_list": lambda t: t.replace("dataset: visit", "dataset: [visit]"),
    "business_time_list": lambda t: t.replace("business_time: KSSJ", "business_time: [KSSJ]"),
    "table_mapping": lambda t: t.replace("table: visits", "table: {a: 1}"),
    "format_number": lambda t: t.replace("format: '%Y%m%d'}", "format: 5}"),
    "args_mapping": lambda t: t.replace("args: [p.SFZH]", "args: {a: 1}"),
    "huge_integer": lambda t: t.replace("default: '0'", "default: " + "9" * 5000),
    "scalar_document": lambda t: "42\n",
    "empty_document": lambda t: "",
    "unclosed_bracket": lambda t: t.replace("{column: FZID, status: accepted}", "{column: FZID, status: accepted"),
}


@_SETTINGS
@given(
    damage=st.sampled_from(sorted(YAML_DAMAGE)),
    encoding=st.sampled_from(["utf-8", "utf-8", "gbk"]),
    command=st.sampled_from(["check", "apply"]),
)
def test_a_damaged_mapping_file_is_worded_with_its_file(workdir, damage, encoding, command):
    d = _mapping_copy(workdir)
    target = d / "datasets" / "visit.yaml"
    target.write_bytes(YAML_DAMAGE[damage](_visit_yaml()).encode(encoding))
    out = d / "out" / "visit.jsonl"
    argv = ["map", "check", "--mapping", str(d)]
    if command == "apply":
        argv = ["map", "apply", "--mapping", str(d), "--dataset", "visit", "--out", str(out)]
    # exit 1 of map apply: records written, the rejected rows listed — only exit 2 writes nothing
    rc, _, err = assert_handled(argv, target, [out], failed_means_nothing_written=False)
    if rc == 2:
        assert "visit.yaml" in err or "mapping" in err, err
    assert not Path(str(out) + ".part").exists()


def test_a_key_written_twice_is_refused_with_both_lines(workdir):
    d = _mapping_copy(workdir)
    target = d / "datasets" / "visit.yaml"
    target.write_text(YAML_DAMAGE["duplicate_key"](_visit_yaml()), encoding="utf-8")
    with pytest.raises(hlwjr.MappingError, match=r"bussID.*重复.*第 \d+ 行") as info:
        hlwjr.load_mapping(d)
    assert "visit.yaml" in str(info.value)


def test_merge_keys_still_override_as_yaml_means(workdir):
    d = _mapping_copy(workdir)
    target = d / "datasets" / "visit.yaml"
    target.write_text(YAML_DAMAGE["merge_key"](_visit_yaml()), encoding="utf-8")
    rule = hlwjr.load_mapping(d).datasets["visit"].fields["cardNo"]
    assert rule.to_dict()["column"] == "KSDM"


def test_a_gbk_file_with_utf8_lines_is_refused_not_read_as_mojibake(workdir):
    path = workdir / "mixed.csv"
    path.write_bytes(HOSTILE["gbk_and_utf8"]())
    with pytest.raises(hlwjr.SourceError, match="混用了两种编码") as info:
        hlwjr.read_source(path)
    assert "第2行" in str(info.value)
    assert hlwjr.read_source(path, encoding="gbk").shape[0] == 2  # the analyst may insist


def test_a_bom_is_no_header_text_when_utf8_is_named(workdir):
    path = workdir / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n")
    assert list(hlwjr.read_source(path, encoding="utf-8").columns) == ["a", "b"]
    path.write_bytes(b"\xef\xbb\xbf\n" + ID.encode() + b"\n")  # a blank header: the record is no header
    with pytest.raises(hlwjr.SourceError, match="没有表头行") as info:
        hlwjr.read_source(path, encoding="utf-8")
    assert ID not in str(info.value)


@pytest.mark.parametrize("suffix", [".csv", ".txt", ".xlsx"])
@pytest.mark.parametrize("damage", ["binary", "utf16_without_bom"])
def test_binary_content_is_called_neither_text_nor_excel(workdir, suffix, damage):
    path = workdir / f"{damage}{suffix}"
    body = HOSTILE["binary"]() if damage == "binary" else _text([HEADER, _row()], encoding="utf-16-le")
    path.write_bytes(body)
    with pytest.raises(hlwjr.SourceError, match="既不是文本.*也不是 Excel"):
        hlwjr.read_source(path)
    path.write_bytes(HOSTILE["nul_bytes"]())  # one NUL inside a cell: still a CSV
    if suffix != ".xlsx":
        assert hlwjr.read_source(path).shape == (1, 4)
