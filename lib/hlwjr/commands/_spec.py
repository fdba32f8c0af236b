"""``hlwjr spec list|show|schema|import|diff|export``: the interface spec (接口规范) on the command line.

A thin shell over :func:`hlwjr.load_spec`, :func:`hlwjr.import_spec`, :func:`hlwjr.diff_specs`
and :func:`hlwjr.export_spec` — the same calls the notebooks make. Reading sub-commands take
``--spec NAME|DIR`` (default: the reference spec ``beijing-reference``, which is inferred from
public analogues and is not the official Beijing document — ``list`` says so).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from .._exceptions import ConfigError, SpecError
from .._files import atomic_write
from .._privacy import mask_value
from .._sheets import defuse_frame, excel_writer
from .._text import text_table

_SPEC_HELP = "接口规范：内置名称（如 beijing-reference）或规范目录（默认 beijing-reference，参考规范，非官方）"
_DOC_SUFFIXES = (".docx", ".xlsx", ".xlsm", ".pdf")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "spec",
        help="接口规范：列出/查看数据集，导入接口文档，对比版本，导出审阅文档",
        description="接口规范（数据集、字段、值域）：list / show / schema / import / diff / export",
    )
    sub = p.add_subparsers(dest="spec_command", metavar="COMMAND", parser_class=type(p))
    p.set_defaults(handler=lambda a, o, e: (p.print_help(o), 2)[1])

    s = sub.add_parser(
        "list",
        help="列出数据集（代码、中文名称、业务主键、字段数）",
        description="列出规范中的数据集。--format json 给出每个数据集的字段清单。",
    )
    s.add_argument("--spec", default=None, help=_SPEC_HELP)
    s.add_argument("--format", choices=["text", "json"], default="text", help="输出格式（默认 text）")
    s.set_defaults(handler=_list)

    s = sub.add_parser(
        "show",
        help="查看一个数据集的字段表（也可查看一个值域）",
        description="查看数据集：字段名、中文名称、类型、长度、必填、值域、说明；"
        "参数为值域 id/标准号时显示值域的代码。",
    )
    s.add_argument("dataset", metavar="DATASET", help="数据集代码、别名或中文名称（或值域 id）")
    s.add_argument("--spec", default=None, help=_SPEC_HELP)
    s.add_argument("--format", choices=["text", "json"], default="text")
    s.add_argument(
        "--find",
        metavar="TEXT",
        default=None,
        help="值域：只列出与 TEXT 相近的代码（代码、代码开头或名称相似，如 高血压、J06）",
    )
    s.add_argument(
        "--all", action="store_true", help=f"值域：列出全部代码（默认超过 {_CODES_SHOWN} 个时只列前 {_CODES_SHOWN} 个）"
    )
    s.set_defaults(handler=_show)

    s = sub.add_parser("schema", help="输出数据集的 JSON Schema（Draft 2020-12）")
    s.add_argument("dataset", metavar="DATASET", help="数据集代码、别名或中文名称")
    s.add_argument("--spec", default=None, help=_SPEC_HELP)
    s.add_argument("--out", default=None, help="写入文件（默认输出到屏幕）")
    s.set_defaults(handler=_schema)

    s = sub.add_parser(
        "import",
        help="把接口文档（Word .docx / Excel .xlsx / PDF）导入为规范目录",
        description="读取接口文档中的字段表和代码表，写出规范目录（spec.yaml, datasets/, codesets/），"
        "并打印导入报告：找到的数据集、字段、值域，以及每个无法解析的单元格（表格与行号）。"
        "不给 --out 时只检查不写入。"
        "退出码：0 无待核对项，1 已写出但有待核对项（见 review.yaml），2 文档中没有可用的内容。",
    )
    s.add_argument("doc", metavar="DOC", help="接口文档 .docx、.xlsx 或 .pdf")
    s.add_argument("--out", default=None, help="输出的规范目录（全部成功才写入）")
    s.add_argument("--id", dest="spec_id", default=None, help="规范标识（默认取文件名）")
    s.add_argument("--official", action="store_true", help="标记为官方文档（平台下发的正式接口文档）")
    s.add_argument("--force", action="store_true", help="输出目录已存在时覆盖")
    s.add_argument("--report", default=None, help="把导入报告另存为 .xlsx / .csv / .txt")
    s.add_argument("--strict", action="store_true", help="仍有待核对项时不写出规范目录")
    s.add_argument("--profile-out", default=None, help="由返回码表和请求头表起草平台配置（.yaml，草稿，需核对）")
    s.set_defaults(handler=_import)

    s = sub.add_parser(
        "diff",
        help="对比两个规范版本：新增/删除/变更的数据集、字段和代码",
        description="对比两个规范（名称、目录，或直接给接口文档 .docx/.xlsx/.pdf）。退出码：0 无差异，1 有差异。",
    )
    s.add_argument("old", metavar="OLD", help="旧版：规范名称、目录或接口文档")
    s.add_argument("new", metavar="NEW", help="新版：规范名称、目录或接口文档")
    s.add_argument("--format", choices=["text", "json", "csv"], default="text")
    s.add_argument("--breaking-only", action="store_true", help="只列出需要处理的变更")
    s.add_argument("--descriptions", action="store_true", help="也列出字段说明（描述文字）的改动")
    s.set_defaults(handler=_diff)

    s = sub.add_parser("export", help="把规范导出为审阅文档（Word / Excel）")
    s.add_argument(
        "spec_name", metavar="SPEC", nargs="?", default=None, help="规范名称或目录（默认 beijing-reference）"
    )
    s.add_argument("--spec", dest="spec_opt", default=None, help="同 SPEC（两者给一个即可）")
    s.add_argument(
        "--format", choices=["docx", "xlsx"], default=None, help="docx（Word）或 xlsx（Excel）；默认按 --out 扩展名"
    )
    s.add_argument("--out", required=True, help="输出文件，如 spec.docx")
    s.set_defaults(handler=_export)


def _load(name):
    from ..spec._load import load_spec

    if name and Path(name).suffix.lower() in _DOC_SUFFIXES and Path(name).is_file():
        from ..spec.importing._importer import import_spec

        return import_spec(name).spec
    return load_spec(name)


def _notice(spec, out: TextIO) -> None:
    if not spec.official:
        print(f"注意: {spec.notice or '本规范不是官方文档'}", file=out)


# --------------------------------------------------------------------------------------------


def _field_json(f) -> dict:
    return {
        "key": f.key,
        "name": f.name,
        "type": f.type,
        "max_length": f.max_length,
        "precision": f.precision,
        "required": f.required,
        "code_set": f.code_set,
        **({"item": f.item} if f.item else {}),
    }


def _list(args, stdout: TextIO, stderr: TextIO) -> int:
    spec = _load(args.spec)
    if args.format == "json":
        data = {
            "spec": {
                "id": spec.id,
                "version": spec.version,
                "title": spec.title,
                "official": spec.official,
                "notice": spec.notice,
            },
            "datasets": [
                {
                    "code": ds.code,
                    "name": ds.name,
                    "section": ds.section,
                    "key": list(ds.key),
                    "parent": ds.parent,
                    "depends_on": list(ds.depends_on),
                    "fields": [_field_json(f) for f in ds.fields.values()],
                }
                for ds in _ordered(spec)
            ],
        }
        json.dump(data, stdout, ensure_ascii=False, indent=2)
        print(file=stdout)
        if not spec.official:
            print(f"注意: {spec.notice or '本规范不是官方文档'}", file=stderr)
        return 0
    print(spec.label, file=stdout)
    _notice(spec, stdout)
    print(file=stdout)
    rows = []
    for ds in _ordered(spec):
        req = sum(1 for f in ds.fields.values() if f.is_required)
        name = ("  └ " if ds.parent else "") + ds.name
        rows.append(
            [
                ds.section or "",
                ds.code,
                name,
                ", ".join(ds.key) or "—",
                f"{len(ds.fields)}/{req}",
                ", ".join(ds.depends_on) or "—",
            ]
        )
    _table(["章节", "代码", "数据集", "业务主键", "字段/必填", "依赖（先传）"], rows, stdout)
    print(
        f"\n共 {len(spec.datasets)} 个数据集、{len(spec.code_sets)} 个值域。"
        "查看字段: hlwjr spec show <代码>；JSON Schema: hlwjr spec schema <代码>",
        file=stdout,
    )
    return 0


def _ordered(spec) -> list:
    out = []
    for ds in spec.top_level():
        out.append(ds)
        out.extend(_children(spec, ds.code))
    for ds in spec.datasets.values():  # children whose parent is missing, just in case
        if ds not in out:
            out.append(ds)
    return out


def _children(spec, code) -> list:
    res = []
    for d in spec.datasets.values():
        if d.parent == code:
            res.append(d)
            res.extend(_children(spec, d.code))
    return res


def _show(args, stdout: TextIO, stderr: TextIO) -> int:
    from ..spec._export import length_label, type_label

    spec = _load(args.spec)
    try:
        ds = spec.dataset(args.dataset)
    except SpecError:
        try:
            cs = spec.code_set(args.dataset)
        except SpecError:
            raise SpecError(
                f"规范 {spec.id} 中没有数据集或值域 {args.dataset!r}；可用数据集: "
                + ", ".join(f"{d.code}（{d.name}）" for d in spec.datasets.values())
                + "（用 `hlwjr spec list` 查看）"
            ) from None
        return _show_code_set(spec, cs, args, stdout)
    if args.format == "json":
        data = {
            "code": ds.code,
            "name": ds.name,
            "aliases": list(ds.aliases),
            "section": ds.section,
            "description": ds.description,
            "key": list(ds.key),
            "depends_on": list(ds.depends_on),
            "parent": ds.parent,
            "references": [
                {"fields": dict(r.fields), "datasets": list(r.datasets), "where": r.where} for r in ds.references
            ],
            "rules": [{"id": r.id, "name": r.name, "params": dict(r.params), "severity": r.severity} for r in ds.rules],
            "fields": [
                {
                    **_field_json(f),
                    "description": f.description,
                    "total_digits": f.total_digits,
                    "pattern": f.pattern,
                    "minimum": f.minimum,
                    "maximum": f.maximum,
                    "aliases": dict(f.aliases),
                    "provenance": f.provenance,
                }
                for f in ds.fields.values()
            ],
        }
        json.dump(data, stdout, ensure_ascii=False, indent=2, default=str)
        print(file=stdout)
        return 0
    print(f"{ds.section + ' ' if ds.section else ''}{ds.name}（{ds.code}）— 规范 {spec.id} {spec.version}", file=stdout)
    _notice(spec, stdout)
    if ds.aliases:
        print(f"别名: {', '.join(ds.aliases)}", file=stdout)
    print(f"业务主键（去重键）: {', '.join(ds.key) or '—'}", file=stdout)
    if ds.parent:
        print(f"明细数据集，属于: {ds.parent}", file=stdout)
    if ds.depends_on:
        print(f"上传顺序：先上传 {', '.join(ds.depends_on)}", file=stdout)
    for r in ds.references:
        refs = ", ".join(f"{a}→{b}" for a, b in r.fields.items())
        print(f"引用: {refs} 于 {' 或 '.join(r.datasets)}（{r.where}）", file=stdout)
    if ds.description:
        print(f"说明: {ds.description}", file=stdout)
    print(file=stdout)
    rows = []
    for i, f in enumerate(ds.fields.values(), start=1):
        req = "是" if f.required is True else (f"条件:{f.required}" if f.required else "")
        vals = f.code_set or (f"→{f.item}" if f.item else "")
        desc = mask_value((f.description or "").replace("\n", " ")) or ""
        rows.append([str(i), f.key, f.name, type_label(f), length_label(f), req, vals, desc[:40]])
    _table(["#", "字段名", "中文名称", "类型", "长度", "必填", "值域", "说明"], rows, stdout)
    if ds.rules:
        print("\n校验规则:", file=stdout)
        for r in ds.rules:
            params = ", ".join(f"{k}={v}" for k, v in r.params.items())
            print(
                f"  {r.id}{'（' + r.name + '）' if r.name else ''}: "
                f"{params}{'  [警告]' if r.severity == 'warning' else ''}",
                file=stdout,
            )
    return 0


def _show_code_set(spec, cs, args, stdout: TextIO) -> int:
    if args.format == "json":
        json.dump(
            {
                "id": cs.id,
                "name": cs.name,
                "standard": cs.standard,
                "complete": cs.complete,
                "codes": [{"code": c, "name": n} for c, n in cs.codes.items()],
            },
            stdout,
            ensure_ascii=False,
            indent=2,
        )
        print(file=stdout)
        return 0
    std = f"，标准 {cs.standard}" if cs.standard else ""
    print(f"值域 {cs.id}（{cs.name}{std}）：{len(cs.codes)} 个代码{'' if cs.complete else '（不完整）'}", file=stdout)
    codes = _codes_to_show(cs, args)
    if args.find is not None and not codes:
        print(f"没有与“{args.find}”相近的代码或名称", file=stdout)
        return 1
    _table(["代码", "名称"], [[c, cs.codes[c]] for c in codes], stdout)
    if args.find is None and len(codes) < len(cs.codes):
        print(
            f"……另有 {len(cs.codes) - len(codes)} 个代码未列出：用 --find 文字 查找（如 --find 高血压），"
            "或 --all 列出全部",
            file=stdout,
        )
    return 0


_CODES_SHOWN = 50


def _codes_to_show(cs, args) -> list[str]:
    """The codes ``spec show`` lists: those like ``--find``, all with ``--all``, else the first ones."""
    if args.find is not None:
        from ..mapping._suggest_codes import code_shortlist

        return code_shortlist(cs, args.find, limit=20)
    return list(cs.codes) if args.all or len(cs.codes) <= _CODES_SHOWN else list(cs.codes)[:_CODES_SHOWN]


def _schema(args, stdout: TextIO, stderr: TextIO) -> int:
    spec = _load(args.spec)
    schema = spec.dataset(args.dataset).json_schema()
    text = json.dumps(schema, ensure_ascii=False, indent=2)
    if args.out:
        try:
            atomic_write(args.out, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"无法写入 {args.out}: {exc.strerror}") from exc
        print(f"已写入 {args.out}", file=stdout)
    else:
        print(text, file=stdout)
    return 0


def _import(args, stdout: TextIO, stderr: TextIO) -> int:
    from ..spec.importing._importer import import_spec

    out = args.out
    if args.strict and out is not None:
        dry = import_spec(args.doc, spec_id=args.spec_id, official=True if args.official else None)
        if dry.report.review_items:
            print(dry.report.to_text(), file=stdout)
            n = len(dry.report.review_items)
            print(f"--strict：有 {n} 项待核对，未写入 {out}；核对原文后再导入。", file=stderr)
            return 1
    result = import_spec(
        args.doc, out, spec_id=args.spec_id, official=True if args.official else None, overwrite=args.force
    )
    if result.out_dir is not None:
        review = result.out_dir / "review.yaml"
        atomic_write(review, lambda tmp: tmp.write_text(result.report.review_yaml(), encoding="utf-8"))
    print(result.report.to_text(), file=stdout)
    if args.profile_out:
        draft = result.report.profile_draft()
        atomic_write(Path(args.profile_out), lambda tmp: tmp.write_text(draft, encoding="utf-8"))
        n = len(result.report.return_codes)
        print(f"\n平台配置草稿（返回码 {n} 个）已写入 {args.profile_out}，请逐项核对", file=stdout)
    if args.report:
        _write_report(result.report, Path(args.report))
        print(f"\n导入报告已另存为 {args.report}", file=stdout)
    print(file=stdout)
    if result.out_dir is not None:
        print(
            f"已写入规范目录 {result.out_dir}（规范标识 {result.spec.id}）；"
            f"使用: hlwjr spec list --spec {result.out_dir}",
            file=stdout,
        )
        print(f"待核对 {len(result.report.review_items)} 项，已列在 {result.out_dir / 'review.yaml'}", file=stdout)
    else:
        print("未写入（没有给 --out）：确认报告无误后加 --out DIR 写出规范目录。", file=stdout)
    if not result.report.ok:
        print(f"有 {len(result.report.errors)} 处单元格无法解析，请对照原文核对（见上）。", file=stderr)
        return 1
    return 1 if result.report.review_items else 0  # 1: written, with items to review


def _write_report(report, path: Path) -> None:

    suffix = path.suffix.lower()

    def write(tmp: Path) -> None:  # to a temporary file, renamed into place: never half-written
        if suffix == ".xlsx":
            with excel_writer(tmp) as xw:
                report.to_frame().to_excel(xw, sheet_name="需核对", index=False)
                report.datasets_frame().to_excel(xw, sheet_name="数据集", index=False)
                report.code_sets_frame().to_excel(xw, sheet_name="值域", index=False)
        elif suffix == ".csv":
            defuse_frame(report.to_frame()).to_csv(tmp, index=False, encoding="utf-8-sig")
        else:
            tmp.write_text(report.to_text() + "\n", encoding="utf-8")

    try:
        atomic_write(path, write)
    except OSError as exc:
        raise ConfigError(f"无法写入导入报告 {path}: {exc.strerror}") from exc


def _diff(args, stdout: TextIO, stderr: TextIO) -> int:
    from ..spec._diff import diff_specs

    diff = diff_specs(_load(args.old), _load(args.new), descriptions=args.descriptions)
    if args.breaking_only:
        diff.changes = diff.breaking
    if args.format == "json":
        json.dump(diff.to_dict(), stdout, ensure_ascii=False, indent=2, default=str)
        print(file=stdout)
    elif args.format == "csv":
        defuse_frame(diff.to_frame()).to_csv(stdout, index=False)
    else:
        print(diff.to_text(), file=stdout)
    return 1 if diff else 0


def _export(args, stdout: TextIO, stderr: TextIO) -> int:
    from ..spec._export import export_spec

    spec = _load(args.spec_name or args.spec_opt)
    out = export_spec(spec, args.out, format=args.format)
    print(
        f"已导出 {spec.id} {spec.version}（{len(spec.datasets)} 个数据集、{len(spec.code_sets)} 个值域）到 {out}",
        file=stdout,
    )
    _notice(spec, stdout)
    return 0


# --------------------------------------------------------------------------------------------


def _table(header: list[str], rows: list[list[str]], out: TextIO) -> None:
    """A plain aligned text table (East Asian wide characters count double)."""

    print(text_table(header, rows), file=out)
