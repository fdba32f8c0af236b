"""CLI for sources and mapping (数据源探查 / 指标对照): ``hlwjr profile`` and ``hlwjr map ...``.

    hlwjr profile SOURCE [--table T | --query SQL] [--sheet S] [--encoding E] [--format text|json]
    hlwjr map check   --mapping DIR [--no-columns]
    hlwjr map apply   --mapping DIR --dataset CODE [--date D] [--out FILE.jsonl] [--issues FILE.csv]
    hlwjr map suggest --dataset CODE --source SOURCE [--table T] [--format text|json]
    hlwjr map codes   --code-set ID --source SOURCE --column COL [--table T] [--format text|json|csv]

Thin shell: every command calls what the notebooks call (``hlwjr._profile``, ``hlwjr._mapping``,
``hlwjr._suggest``).  Nothing printed carries a full ID-card or phone number.
"""

from __future__ import annotations

import json

__all__ = ["register"]


def _source_args(p, *, positional: bool = True) -> None:
    if positional:
        p.add_argument("source", metavar="SOURCE",
                       help="CSV/Excel 文件路径，或数据库 URL（如 sqlite:///his.sqlite，可写作 URL#表名）")
    p.add_argument("--table", help="数据库表名 / Excel 工作表名")
    p.add_argument("--query", help="SQL 查询（代替 --table）")
    p.add_argument("--sheet", help="Excel 工作表名")
    p.add_argument("--encoding", help="CSV 编码（缺省自动识别 UTF-8 / GBK / GB18030）")


def _read_options(args) -> dict:
    opts = {}
    if getattr(args, "query", None):
        opts["query"] = args.query
    if getattr(args, "table", None):
        if str(args.source).lower().endswith((".xlsx", ".xlsm")):
            opts["sheet"] = args.table
        else:
            opts["table"] = args.table
    if getattr(args, "sheet", None):
        opts["sheet"] = args.sheet
    if getattr(args, "encoding", None):
        opts["encoding"] = args.encoding
    return opts


def register(subparsers) -> None:
    p = subparsers.add_parser("profile", help="数据源探查：每列的类型、空值率、常见值、内容猜测（已脱敏）",
                              description="探查一个数据源（CSV、Excel、数据库表/查询）：每列的推断类型、空值率、"
                                          "不同值个数、常见值（出现少于 5 次的值隐藏）、最小/最大值、长度范围和内容猜测。"
                                          "身份证号、手机号、姓名在预览中脱敏。")
    _source_args(p)
    p.add_argument("--min-count", type=int, default=5, help="常见值至少出现的次数（缺省 5，少于此数的值隐藏）")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=_profile)

    m = subparsers.add_parser("map", help="指标对照：检查 / 运行对照配置，生成对照建议")
    msub = m.add_subparsers(dest="map_command", metavar="COMMAND", parser_class=type(m))
    m.set_defaults(handler=lambda args, out, err: (m.print_help(out), 2)[1])

    c = msub.add_parser("check", help="检查对照配置：格式、与规范一致、源数据列存在、值域对照完整")
    c.add_argument("--mapping", required=True, metavar="DIR", help="对照配置目录（含 mapping.yaml）")
    c.add_argument("--spec", help="规范名称或目录（缺省为配置中的 spec.id）")
    c.add_argument("--no-columns", action="store_true", help="不连接数据源检查列名")
    c.set_defaults(handler=_check)

    a = msub.add_parser("apply", help="运行对照：源数据 → 规范记录（JSON Lines），并报告未能对照的值")
    a.add_argument("--mapping", required=True, metavar="DIR")
    a.add_argument("--dataset", required=True, metavar="CODE", help="数据集代码，如 recipe（也可用别名或中文名）")
    a.add_argument("--date", metavar="YYYY-MM-DD", help="只取该业务日期（北京时间）的数据")
    a.add_argument("--out", metavar="FILE.jsonl", help="把记录写成 JSON Lines 文件（分块流式写入）")
    a.add_argument("--issues", metavar="FILE.csv", help="把拒收和对照问题写成 CSV（UTF-8 BOM，可用 Excel 打开）")
    a.add_argument("--source", action="append", default=[], metavar="NAME=URL",
                   help="覆盖配置中的数据源，如 his=sqlite:///his.sqlite（可多次）")
    a.add_argument("--chunksize", type=int, default=200_000)
    a.add_argument("--format", choices=("text", "json"), default="text")
    a.set_defaults(handler=_apply)

    s = msub.add_parser("suggest", help="对照建议：为规范的每个字段排序候选源数据列（得分与理由）")
    s.add_argument("--dataset", required=True, metavar="CODE")
    _source_args(s, positional=False)
    s.add_argument("--source", required=True, metavar="SOURCE", help="CSV/Excel 文件或数据库 URL（URL#表名）")
    s.add_argument("--spec", help="规范名称或目录（缺省 beijing-reference）")
    s.add_argument("--top", type=int, default=3, help="每个字段列出的候选数（缺省 3）")
    s.add_argument("--format", choices=("text", "json"), default="text")
    s.set_defaults(handler=_suggest)

    k = msub.add_parser("codes", help="值域对照建议：本地值 → 标准代码（如 男/M/1 → 1）")
    k.add_argument("--code-set", required=True, metavar="ID", help="规范中的值域，如 sex、GB/T 2261.1")
    _source_args(k, positional=False)
    k.add_argument("--source", required=True, metavar="SOURCE")
    k.add_argument("--column", required=True, help="本地代码所在列")
    k.add_argument("--spec", help="规范名称或目录")
    k.add_argument("--format", choices=("text", "json", "csv"), default="text")
    k.set_defaults(handler=_codes)


def _profile(args, stdout, stderr) -> int:
    from ._profile import profile_source

    prof = profile_source(args.source, min_count=args.min_count, **_read_options(args))
    if args.format == "json":
        json.dump(prof.to_dict(), stdout, ensure_ascii=False, indent=2)
        print(file=stdout)
        return 0
    print(f"{prof.read_as}，共 {prof.rows} 行、{len(prof.columns)} 列", file=stdout)
    print(f"（出现少于 {prof.min_count} 次的值不显示；身份证号、手机号、姓名已脱敏）", file=stdout)
    print(_table(prof.to_frame()), file=stdout)
    return 0


def _table(df) -> str:
    import pandas as pd

    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 250,
                           "display.max_colwidth", 60):
        return df.fillna("").to_string(index=False)


def _check(args, stdout, stderr) -> int:
    from ._mapping import load_mapping

    mapping = load_mapping(args.mapping)
    issues = mapping.check(spec=args.spec, columns=not args.no_columns)
    errors = [i for i in issues if i.severity == "error"]
    for i in issues:
        print(str(i), file=stdout)
    n_rules = sum(len(d.fields) for d in mapping.datasets.values())
    print(f"对照配置 {args.mapping}：{len(mapping.datasets)} 个数据集、{n_rules} 条字段规则、"
          f"{len(mapping.code_maps)} 个值域对照表；错误 {len(errors)} 个，提醒 {len(issues) - len(errors)} 个",
          file=stdout)
    return 1 if errors else 0


def _parse_sources(items: list[str]) -> dict:
    from ._exceptions import ConfigError

    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--source 应写作 名称=URL或路径，实际为 {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _apply(args, stdout, stderr) -> int:
    from ._mapping import apply_mapping

    result = apply_mapping(args.mapping, args.dataset, date=args.date, out=args.out,
                           sources=_parse_sources(args.source), chunksize=args.chunksize)
    if args.issues:
        result.issues.to_csv(args.issues, index=False, encoding="utf-8-sig")
    if args.format == "json":
        json.dump({"dataset": result.dataset, "date": result.date, "source_rows": result.n_source_rows,
                   "records": result.n_records, "rejected_rows": len(result.rejected_rows),
                   "issues": json.loads(result.issues.to_json(orient="records", force_ascii=False)),
                   "out": str(args.out) if args.out else None}, stdout, ensure_ascii=False, indent=2)
        print(file=stdout)
    else:
        print(result.summary(), file=stdout)
        if not result.issues.empty:
            print(_table(result.issues[["row", "key", "field", "rule", "action", "value", "message"]].head(50)),
                  file=stdout)
            if len(result.issues) > 50:
                print(f"……共 {len(result.issues)} 条问题" + ("，全部见 " + args.issues if args.issues else
                                                            "；用 --issues FILE.csv 导出全部"), file=stdout)
        unmapped = result.unmapped()
        if not unmapped.empty:
            print("未对照的本地值（请补充 codes/ 下的值域对照表）：", file=stdout)
            print(_table(unmapped), file=stdout)
        if args.out:
            print(f"已写出 {result.n_records} 条记录到 {args.out}", file=stdout)
    return 1 if result.rejected_rows else 0


def _suggest(args, stdout, stderr) -> int:
    from ._sources import read_source
    from ._spec import load_spec
    from ._suggest import suggest_fields

    spec = load_spec(args.spec)
    ds = spec.dataset(args.dataset)
    opts = _read_options(args)
    df = read_source(args.source, **opts)
    sugg = suggest_fields(ds, df, top=args.top)
    if args.format == "json":
        json.dump({"dataset": ds.code, "name": ds.name, "source": str(args.source),
                   "fields": [s.to_dict() for s in sugg]}, stdout, ensure_ascii=False, indent=2)
        print(file=stdout)
        return 0
    print(f"数据集 {ds.code}（{ds.name}）× 数据源 {args.source}：每个字段的候选列（得分 0-1，建议需人工审核）", file=stdout)
    for s in sugg:
        req = "必填" if s.required is True else ("条件必填" if s.required else "")
        head = f"{s.field}（{s.name}，{s.type}{'，' + req if req else ''}）"
        if not s.candidates:
            print(f"  {head}: 无候选", file=stdout)
            continue
        cands = "；".join(f"{c.column} {c.score:.2f}（{'，'.join(c.reasons)}）" for c in s.candidates)
        print(f"  {head}: {cands}", file=stdout)
    return 0


def _codes(args, stdout, stderr) -> int:
    from ._exceptions import SourceError
    from ._sources import read_source
    from ._spec import load_spec
    from ._suggest import suggest_codes

    spec = load_spec(args.spec)
    cs = spec.code_set(args.code_set)
    df = read_source(args.source, **_read_options(args))
    if args.column not in df.columns:
        raise SourceError(f"列 {args.column} 不存在；可用列：{', '.join(map(str, df.columns))}", where=str(args.source))
    table = suggest_codes(cs, df[args.column])
    if args.format == "json":
        print(table.to_json(orient="records", force_ascii=False, indent=2), file=stdout)
    elif args.format == "csv":
        print(table.to_csv(index=False), end="", file=stdout)
    else:
        print(f"值域 {cs.id}（{cs.name}）：本地值 → 标准代码建议（需人工审核）", file=stdout)
        print(_table(table), file=stdout)
    return 0
