"""``hlwjr validate``: check a records file against the spec's mandatory checks (强制校验).

::

    hlwjr validate --dataset recipe recipes.jsonl [--spec NAME|DIR] [--report out.xlsx|out.html]
                   [--format text|json] [--with revisit=revisits.csv ...]
                   [--accepted doctor=filed-doctors.csv ...] [--skip RULE ...]

Exit codes: 0 no error (warnings allowed), 1 problems found, 2 usage/config error.
Reads ``.jsonl`` (one JSON object per line), ``.json`` (an array, or ``{"records": [...]}``),
``.csv`` (UTF-8/GBK; every cell read as text so codes keep their leading zeros; integer and
decimal fields are turned into numbers where they are numbers) and ``.xlsx`` (``--sheet``, else
the visible sheet named after the data set, else the one whose header has most of its field keys,
else the first; hidden sheets are passed over, and the choice is printed).
"""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path
from typing import TextIO

from .._exceptions import ConfigError, SourceError
from ..validation._numbers import loads_exact, number_from_text

_TEXT_LIMIT = 50
_TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm"}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "validate",
        help="按接口规范校验数据文件（强制校验），输出问题清单/报告",
        description="按接口规范校验数据文件（强制校验）：必填、类型、长度、格式、值域、身份证校验位、"
        "时间顺序、金额、条件必填、主键重复、引用完整性……退出码：0 无错误，1 有问题，2 用法/配置错误。",
    )
    p.add_argument("records", help="数据文件：.jsonl / .json / .csv / .xlsx")
    p.add_argument("--dataset", "-d", required=True, help="数据集代码、别名或中文名，如 recipe / DS07a / 在线处方")
    p.add_argument(
        "--spec", default=None, help="接口规范：名称或目录（默认 beijing-reference；有 --config 时取项目的）"
    )
    p.add_argument(
        "--config",
        default=None,
        metavar="PROJECT",
        help="项目目录或 hlwjr.toml：引用按上传台账（平台已接收的记录）核对，与 hlwjr upload 的判断一致；"
        "平台已接收的记录上传时跳过，单独计数，不算问题",
    )
    p.add_argument("--report", default=None, help="把完整报告写到 .xlsx 或 .html 文件")
    p.add_argument("--format", choices=("text", "json"), default="text", help="标准输出格式（默认 text）")
    p.add_argument(
        "--with",
        dest="with_",
        action="append",
        default=[],
        metavar="DATASET=FILE",
        help="同一批的其他数据集文件，用于检查引用（可重复），如 --with revisit=revisit.csv",
    )
    p.add_argument(
        "--accepted",
        action="append",
        default=[],
        metavar="DATASET=FILE",
        help="参考集：平台已接收/已备案的记录（如已备案医师名单 doctor=doctors.csv），只用于检查引用，"
        "本身不校验（可重复）",
    )
    p.add_argument(
        "--sheet", default=None, help="Excel 数据文件的工作表名（默认：与数据集同名的、表头含字段代码最多的可见工作表）"
    )
    p.add_argument("--skip", action="append", default=[], metavar="RULE", help="不执行的规则 id（可重复）")
    p.add_argument(
        "--limit", type=int, default=_TEXT_LIMIT, help=f"text 格式最多列出多少条问题（默认 {_TEXT_LIMIT}；0 = 全部）"
    )
    p.set_defaults(handler=run_validate)


def run_validate(args, stdout: TextIO, stderr: TextIO) -> int:
    from ..spec._load import load_spec
    from ..upload._ledger import accepted_counts
    from ..validation._engine import check

    project = _project(args)
    spec = load_spec(args.spec or (project.spec if project else None))
    ds = spec.dataset(args.dataset)
    if args.report:
        suffix = Path(args.report).suffix.lower()
        if suffix not in {".xlsx", ".html", ".htm"}:
            raise ConfigError(f"--report 应为 .xlsx 或 .html 文件，实际为 {args.report}")
    batch = {ds.code: read_records(args.records, ds, spec, sheet=getattr(args, "sheet", None))}
    if len(batch[ds.code]) == 0:
        raise SourceError(
            "数据文件中没有记录（只有表头或空文件），没有可校验的数据；请检查导出是否成功、是否选错了文件",
            where=str(args.records),
        )
    _require_spec_columns(batch[ds.code], ds, args)
    for item in args.with_:
        other, file = _dataset_file("--with", item, spec)
        if other.code in batch:
            raise ConfigError(
                f"--with {item}: 数据集 {other.code}（{other.name}）已经给出过（主文件或另一个 --with）；"
                "同一数据集的多个文件请先合并为一个文件"
            )
        batch[other.code] = read_records(file, other, spec)
    accepted: dict = {}
    for item in getattr(args, "accepted", None) or ():
        other, file = _dataset_file("--accepted", item, spec)
        recs = read_records(file, other, spec)
        recs = recs.to_dict("records") if hasattr(recs, "to_dict") else list(recs)
        accepted.setdefault(other.code, []).extend(r for r in recs if isinstance(r, dict))
    with _project_ledger(project) as ledger:
        skip = [*args.skip, *(["already_accepted"] if ledger is not None else [])]
        report = check(batch, spec=spec, skip=skip, accepted=accepted or None, lookup=ledger)
        known = accepted_counts(spec, batch, ledger) if ledger is not None else {}
    if args.report:
        path = Path(args.report)
        (report.to_excel if path.suffix.lower() == ".xlsx" else report.to_html)(path)
    if args.format == "json":
        payload = {
            "ok": report.ok,
            "spec": f"{spec.id} {spec.version}",
            "datasets": list(report.datasets),
            "records": report.counts,
            "errors": report.n_errors,
            "warnings": report.n_warnings,
            "bad_rows": {d: sorted(report.bad_rows(d)) for d in report.datasets},
            "already_accepted": known,
            "source_notes": _source_notes(batch),
            "problems": report.to_records(),
        }
        json.dump(payload, stdout, ensure_ascii=False, indent=1, default=_json_default)
        stdout.write("\n")
    else:
        print(report.summary(), file=stdout)
        for note in _source_notes(batch):
            print(note, file=stdout)
        if known:
            parts = "、".join(f"{d} {n} 条" for d, n in known.items())
            print(f"平台已接收（上传台账）：{parts}——上传时跳过，不算问题", file=stdout)
        hint = _master_data_hint(spec, report, batch)
        if hint:
            print(hint, file=stdout)
        problems = report.problems
        limit = args.limit if args.limit and args.limit > 0 else len(problems)
        if problems:
            print("", file=stdout)
            located = any(p.row is not None for p in problems)
            if Path(args.records).suffix.lower() in _TABLE_SUFFIXES and located:
                print(_row_hint(batch[ds.code]), file=stdout)
            lines = getattr(batch[ds.code], "lines", None)
            if located and lines and lines != list(range(1, len(lines) + 1)):
                print("  （文件中有空行：“第N行”指第 N 条记录，不是文件的行号）", file=stdout)
            for p in problems[:limit]:
                print(f"  {p}" + (f"  值: {p.value}" if p.value not in (None, "") else ""), file=stdout)
            if len(problems) > limit:
                print(
                    f"  …… 另有 {len(problems) - limit} 条问题未列出（--limit 0 列出全部，或 --report out.xlsx 导出"
                    "完整报告）",
                    file=stdout,
                )
        if args.report:
            print(f"报告已写入 {args.report}", file=stdout)
    return 0 if report.ok else 1


def _source_notes(batch) -> list[str]:
    """How each table file was read, where a choice was made (a sheet passed over or chosen, title
    or footer rows skipped): one line per note, naming the file."""
    out = []
    for records in batch.values():
        info = getattr(records, "attrs", {}).get("source_info") or {}
        out += [f"读取 {info.get('label')}：{note}" for note in info.get("notes") or ()]
    return out


def _row_hint(records) -> str:
    """How a record's number (第N行) maps to the sheet's row: the header may sit under title rows."""
    info = getattr(records, "attrs", {}).get("source_info") or {}
    header = info.get("header_row") or 1
    return f"  （“第N行”指第 N 条数据记录，不含表头；在 Excel 中打开时是第 N+{header} 行）"


def _columns_of(records) -> list[str]:
    if hasattr(records, "columns"):
        return [str(c) for c in records.columns]
    return list(dict.fromkeys(str(k) for r in list(records)[:1000] if isinstance(r, dict) for k in r))


def _require_spec_columns(records, ds, args) -> None:
    """A file none of whose columns is a field of the data set is a raw export, not spec records:
    one clear message saying how to map it, instead of every required field missing in every row."""
    columns = _columns_of(records)
    if not columns or any(c in ds.fields for c in columns):
        return
    by_name = {f.name: f.key for f in ds.fields.values() if f.name}
    named = [f"{c}→{by_name[c]}" for c in columns if c in by_name]
    shown = "、".join(columns[:6]) + ("……" if len(columns) > 6 else "")
    raise ConfigError(
        f"数据文件的列（{shown}）都不是数据集 {ds.code}（{ds.name}）的字段代码：hlwjr validate 校验按规范对照好的"
        "记录。"
        + (f"其中 {'、'.join(named[:6])} 是字段的中文名。" if named else "")
        + f"HIS 原始导出请先做指标对照：hlwjr map suggest --dataset {ds.code} --source {args.records} --write "
        "mapping/<医院>，审核后用 hlwjr validate --config <项目> 校验对照后的数据",
        where=str(args.records),
    )


def _project(args):
    if not getattr(args, "config", None):
        return None
    from ..upload._project import load_project

    return load_project(args.config)


@contextlib.contextmanager
def _project_ledger(project):
    """The project's upload ledger, read-only for validation (None without a project or ledger)."""
    if project is None or not project.ledger_path.exists():
        yield None
        return
    from ..upload._ledger import Ledger

    with Ledger(project.ledger_path) as ledger:
        yield ledger


def _master_data_hint(spec, report, batch) -> str | None:
    from ..mapping._template import master_data_hint

    return master_data_hint(spec, report.to_frame(), batch)


def _dataset_file(option: str, item: str, spec):
    code, sep, file = item.partition("=")
    if not sep or not code or not file:
        raise ConfigError(f"{option} 应写成 数据集=文件，如 revisit=revisit.csv；实际为 {item!r}")
    return spec.dataset(code.strip()), file


def _json_default(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    return str(v)


# ------------------------------------------------------------------------------------ reading
def read_records(path: str | Path, dataset, spec=None, sheet: str | None = None):
    """Read a records file for ``dataset`` (a spec Dataset): list of dicts or a DataFrame
    (``sheet``: the worksheet of a workbook, else chosen as :func:`_read_excel` says)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"数据文件不存在：{p}")
    suffix = p.suffix.lower()
    if suffix == ".jsonl" or suffix == ".ndjson":
        return _read_jsonl(p)
    if suffix == ".json":
        return _read_json(p)
    if suffix in {".csv", ".txt"}:
        return _coerce_text_frame(_read_csv(p), dataset, str(p))
    if suffix in {".xlsx", ".xlsm"}:
        return _coerce_text_frame(_read_excel(p, dataset, sheet), dataset, str(p), from_excel=True)
    raise ConfigError(
        f"不支持的数据文件类型 {suffix or '（无扩展名）'}：请用 .jsonl / .json / .csv / .xlsx", where=str(p)
    )


def _decode(p: Path) -> str:
    raw = p.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise SourceError("文件既不是 UTF-8 也不是 GBK/GB18030 编码，请另存为 UTF-8", where=str(p))


class _Lines(list):
    """Records of a JSON lines file, with the file line of each (blank lines are no records)."""

    lines: list[int]


def _read_jsonl(p: Path) -> list:
    records = _Lines()
    records.lines = []
    for lineno, line in enumerate(_decode(p).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(loads_exact(line, constants=True))
            records.lines.append(lineno)
        except json.JSONDecodeError as exc:
            raise SourceError(
                f"第 {lineno} 行不是合法的 JSON（{exc.msg}，第 {exc.colno} 列）；每行应为一个 JSON 对象",
                where=f"{p}:{lineno}",
            ) from exc
    return records


def _read_json(p: Path) -> list:
    try:
        data = loads_exact(_decode(p), constants=True)
    except json.JSONDecodeError as exc:
        raise SourceError(f"不是合法的 JSON（{exc.msg}，第 {exc.lineno} 行第 {exc.colno} 列）", where=str(p)) from exc
    if isinstance(data, dict) and isinstance(data.get("records"), list):
        return data["records"]
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        return [data]
    raise SourceError('JSON 文件应为记录数组，或 {"records": [...]}', where=str(p))


def _read_csv(p: Path):
    """A CSV/TXT export, read by the one file reader (:func:`hlwjr.read_source`): encoding and
    delimiter detected and reported with their byte/row location, title rows above the header
    skipped, duplicate or empty column names refused — the same as ``map apply`` and ``profile``."""
    from ..sources._read import read_source

    if p.stat().st_size == 0 or not p.read_bytes()[:65536].strip():
        raise SourceError("文件是空的（0 字节或只有空白），没有表头也没有记录；请检查导出是否成功", where=str(p))
    return read_source(p)


def _read_excel(p: Path, dataset=None, sheet: str | None = None):
    """The worksheet holding ``dataset``'s records, read by the one file reader: ``sheet`` if given,
    else the visible sheet named after the data set (code, name or alias), else the one whose
    header has the most of its field keys, else the first — hidden sheets passed over, and every
    such choice said in the source's notes (:func:`hlwjr.sources._layout.choose_sheet`)."""
    from ..sources._read import read_source

    if dataset is None:
        return read_source(p, excel_numbers=True, sheet=sheet)
    names = (dataset.code, dataset.name, *getattr(dataset, "aliases", ()))
    return read_source(p, excel_numbers=True, sheet=sheet, prefer_sheets=names, prefer_columns=dataset.fields)


def _coerce_text_frame(frame, dataset, where: str, from_excel: bool = False):
    """Numbers for integer/decimal fields where the text is a number; JSON for array fields.

    Text that is not a number stays text, so the validator reports it (``type``) instead of
    losing it. Nothing else is changed: codes keep their leading zeros, spaces stay.
    """

    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    dup = frame.columns[frame.columns.duplicated()].tolist()
    if dup:
        raise SourceError(f"列名重复：{', '.join(dup)}；请删除或改名", where=where)
    for f in dataset.fields.values():
        if f.key not in frame.columns:
            continue
        col = frame[f.key]
        if f.type in ("integer", "decimal"):
            frame[f.key] = _numbers_of(col, integer=f.type == "integer")
        elif f.type == "array":
            frame[f.key] = col.map(lambda v: _maybe_json(v))
        elif f.type == "string" and from_excel:
            # a code typed into Excel as a number (性别 1) reads as the text Excel shows, like the
            # same sheet saved as CSV; numbers of 16+ digits stay numbers: Excel kept only 15
            # digits of them, and the type problem says so
            frame[f.key] = col.map(_excel_number_as_text)
    return frame


def _numbers_of(col, *, integer: bool):
    """Cells whose whole text is a number become that number, exactly: pandas converts the
    short ones at C speed; text of 16+ characters (where a float would round or overflow) is
    read by :func:`number_from_text` — integers of any size stay ints, numbers beyond the double
    range keep their text (:class:`NumberText`). Other text stays text (the validator words it)."""
    import numpy as np
    import pandas as pd

    text = col.astype(object)
    is_str = text.map(type).eq(str).to_numpy()
    as_str = text.where(is_str)
    nums = pd.to_numeric(as_str, errors="coerce").astype("float64")
    strings = as_str.astype("string")
    plain = (strings.str.strip() == strings).fillna(False).to_numpy()
    long_text = (strings.str.len() > 15).fillna(False).to_numpy()
    short = plain & ~long_text & nums.notna().to_numpy() & np.isfinite(nums.fillna(0).to_numpy(dtype=float))
    out = text.copy()
    out[short] = nums[short]
    if integer:
        whole = short & (nums.fillna(0.5) % 1 == 0).to_numpy()
        out[whole] = nums[whole].astype("int64").astype(object)
    overflow = np.isinf(nums.fillna(0).to_numpy(dtype=float))
    for i in np.flatnonzero(plain & (long_text | overflow)):
        n = number_from_text(text.iat[i], exact=True)
        if n is not None:
            out.iat[i] = int(n) if integer and isinstance(n, float) and n.is_integer() and abs(n) < 2**53 else n
    return out.astype(object)


def _excel_number_as_text(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return v
    if isinstance(v, float) and not math.isfinite(v):
        return v
    if abs(v) >= 1e15:
        return v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _maybe_json(v):
    if isinstance(v, str) and v.strip().startswith("["):
        try:
            return loads_exact(v, constants=True)
        except json.JSONDecodeError:
            return v
    return v
