"""CLI for sources and mapping (数据源探查 / 指标对照): ``hlwjr profile`` and ``hlwjr map ...``.

    hlwjr profile SOURCE [--table T | --query SQL] [--sheet S] [--encoding E] [--format text|json]
    hlwjr map check   --mapping DIR [--no-columns] [--source NAME=URL] [--sample N] [--draft]
                      (required fields without a rule and a missing business_time are errors unless
                      --draft; the first N source rows are mapped and validated, failing rows are errors)
    hlwjr map apply   --mapping DIR --dataset CODE [--date D] [--out FILE.jsonl] [--issues FILE.csv]
    hlwjr map suggest --dataset CODE --source SOURCE [--table T] [--format text|json] [--write DIR]
                      (coded fields also get local value → standard code proposals, all ``suggested``;
                      ``--write`` saves the best ones as a draft config, every rule ``suggested``)
    hlwjr map export  (--mapping DIR | --config PROJECT) --out 指标对照表.xlsx|.docx
    hlwjr map import  (--mapping DIR | --config PROJECT) --in 指标对照表.xlsx [--dry-run] [--reviewer NAME]
    hlwjr map codes   --code-set ID --source SOURCE --column COL [--table T] [--format text|json|csv]
                      [--out FILE.csv]   (csv / --out: the columns of a code-map file, ready to use)

Thin shell: every command calls what the notebooks call (``hlwjr.sources._profile``, ``hlwjr.mapping._engine``,
``hlwjr.mapping._suggest``).  Nothing printed carries a full ID-card or phone number.
"""

from __future__ import annotations

import json
import re

from .._exceptions import ConfigError, SourceError
from .._files import atomic_write
from .._sheets import defuse_frame

__all__ = ["register"]


def _source_args(p, *, positional: bool = True) -> None:
    if positional:
        p.add_argument(
            "source",
            metavar="SOURCE",
            help="CSV/Excel 文件路径，或数据库 URL（如 sqlite:///his.sqlite，可写作 URL#表名）",
        )
    p.add_argument("--table", help="数据库表名 / Excel 工作表名")
    p.add_argument("--query", help="SQL 查询（代替 --table）")
    p.add_argument("--sheet", help="Excel 工作表名")
    p.add_argument("--encoding", help="CSV 编码（缺省自动识别 UTF-8 / GBK / GB18030）")


def _read_options(args) -> dict:

    source = str(args.source)
    is_url = "://" in source
    is_excel = source.lower().endswith((".xlsx", ".xlsm"))
    if not is_url and not is_excel and (getattr(args, "table", None) or getattr(args, "query", None)):
        raise ConfigError(
            f"{source} 是文本文件（CSV），没有表或查询：去掉 --table / --query"
            "（数据库写作 sqlite:///his.sqlite#表名，Excel 用 --sheet 选工作表）"
        )
    if not is_url and getattr(args, "query", None):
        raise ConfigError("--query 只用于数据库数据源（如 sqlite:///his.sqlite）；Excel 用 --sheet 选工作表")
    if is_url and getattr(args, "sheet", None):
        raise ConfigError("--sheet 只用于 Excel 文件；数据库用 --table 或 --query")
    if getattr(args, "min_count", 1) < 1 or getattr(args, "top", 1) < 1:
        raise ConfigError("--min-count / --top 至少为 1")
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
    p = subparsers.add_parser(
        "profile",
        help="数据源探查：每列的类型、空值率、常见值、内容猜测（已脱敏）",
        description="探查一个数据源（CSV、Excel、数据库表/查询）：每列的推断类型、空值率、"
        "不同值个数、常见值（出现少于 5 次的值隐藏）、最小/最大值、长度范围和内容猜测。"
        "身份证号、手机号、姓名在预览中脱敏。",
    )
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
    c.add_argument("--no-columns", action="store_true", help="不连接数据源检查列名（也不试对照样例行）")
    c.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="覆盖配置中的数据源，如 his=sqlite:///his.sqlite（可多次）；样例行从这里读",
    )
    c.add_argument(
        "--sample", type=int, default=20, metavar="N", help="按规则对照并校验每个数据集的前 N 行（缺省 20；0 = 不试）"
    )
    c.add_argument(
        "--draft",
        action="store_true",
        help="草稿检查：必填字段未对照、缺业务时间只作提醒（缺省为错误，退出码 1）",
    )
    c.set_defaults(handler=_check)

    a = msub.add_parser("apply", help="运行对照：源数据 → 规范记录（JSON Lines），并报告未能对照的值")
    a.add_argument("--mapping", required=True, metavar="DIR")
    a.add_argument("--dataset", required=True, metavar="CODE", help="数据集代码，如 recipe（也可用别名或中文名）")
    a.add_argument("--date", metavar="YYYY-MM-DD", help="只取该业务日期（北京时间）的数据")
    a.add_argument("--out", metavar="FILE.jsonl", help="把记录写成 JSON Lines 文件（分块流式写入）")
    a.add_argument("--issues", metavar="FILE.csv", help="把拒收和对照问题写成 CSV（UTF-8 BOM，可用 Excel 打开）")
    a.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="覆盖配置中的数据源，如 his=sqlite:///his.sqlite（可多次）",
    )
    a.add_argument("--chunksize", type=int, default=200_000)
    a.add_argument("--format", choices=("text", "json"), default="text")
    a.set_defaults(handler=_apply)

    s = msub.add_parser(
        "suggest",
        help="对照建议：为规范的每个字段排序候选源数据列（得分与理由）；有值域的字段另给本地值 → 标准代码建议",
    )
    s.add_argument("--dataset", required=True, metavar="CODE")
    _source_args(s, positional=False)
    s.add_argument("--source", required=True, metavar="SOURCE", help="CSV/Excel 文件或数据库 URL（URL#表名）")
    s.add_argument("--spec", help="规范名称或目录（缺省 beijing-reference）")
    s.add_argument("--top", type=int, default=3, help="每个字段列出的候选数（缺省 3）")
    s.add_argument("--format", choices=("text", "json"), default="text")
    s.add_argument(
        "--write",
        metavar="DIR",
        help="把最佳建议写成对照配置草稿 DIR/datasets/<数据集>.yaml（全部为 suggested 待审；"
        "有值域的字段另写 codes/<值域>.csv）；不覆盖已有的数据集",
    )
    s.add_argument(
        "--config",
        metavar="PROJECT",
        help="医院项目目录（hlwjr.toml）：源数据里没有的机构代码、机构名称等字段，草稿用项目中的值作固定值（待审）",
    )
    s.set_defaults(handler=_suggest)

    e = msub.add_parser("export", help="导出指标对照表（Excel 或 Word）：每个规范字段一行，含规则、值域对照、审核状态")
    _mapping_args(e)
    e.add_argument(
        "--out", required=True, metavar="FILE.xlsx|.docx", help="输出的指标对照表（.xlsx 可改后导回；.docx 供审阅）"
    )
    e.add_argument(
        "--samples", type=int, default=3, metavar="N", help="每个字段列出前 N 行的对照结果（已脱敏；0 = 不读数据源）"
    )
    e.add_argument("--source", action="append", default=[], metavar="NAME=URL", help="覆盖配置中的数据源（可多次）")
    e.set_defaults(handler=_export)

    i = msub.add_parser("import", help="导入同事修改过的指标对照表：先显示差异，检查通过后写回对照配置")
    _mapping_args(i)
    i.add_argument("--in", dest="in_", required=True, metavar="FILE.xlsx", help="修改过的指标对照表")
    i.add_argument("--dry-run", action="store_true", help="只显示差异，不写入")
    i.add_argument("--reviewer", help="记为审核人（表中「审核人」为空而状态改为已通过/已拒绝时）")
    i.set_defaults(handler=_import)

    k = msub.add_parser("codes", help="值域对照建议：本地值 → 标准代码（如 男/M/1 → 1）")
    k.add_argument("--code-set", required=True, metavar="ID", help="规范中的值域，如 sex、GB/T 2261.1")
    _source_args(k, positional=False)
    k.add_argument("--source", required=True, metavar="SOURCE")
    k.add_argument("--column", required=True, help="本地代码所在列")
    k.add_argument("--spec", help="规范名称或目录")
    k.add_argument(
        "--format",
        choices=("text", "json", "csv"),
        default="text",
        help="csv = 值域对照表文件的列（local,local_name,code,name,status,comment），可直接存为 codes/<名称>.csv",
    )
    k.add_argument("--out", metavar="FILE.csv", help="把建议写成值域对照表文件（UTF-8 BOM，可用 Excel 打开）")
    k.set_defaults(handler=_codes)


def _mapping_args(p) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--mapping", metavar="DIR", help="对照配置目录（含 mapping.yaml）")
    g.add_argument("--config", metavar="PROJECT", help="接入项目目录（hlwjr.toml），用其 mapping_dir")


def _mapping_dir(args):

    if args.mapping:
        return args.mapping
    from ..upload._project import load_project

    project = load_project(args.config)
    if project.mapping_dir is None:
        raise ConfigError("项目没有配置映射目录 (mapping_dir)；请在 hlwjr.toml 中设置", where=str(project.config_file))
    return project.mapping_dir


def _export(args, stdout, stderr) -> int:
    from ..mapping._config import load_mapping
    from ..mapping._table import export_table

    if not str(args.out).lower().endswith((".xlsx", ".docx")):
        raise ConfigError(f"--out 应为 .xlsx（可改后导回）或 .docx（供审阅）文件，实际为 {args.out}")
    if args.samples < 0:
        raise ConfigError("--samples 不能为负数")
    mapping = load_mapping(_mapping_dir(args))
    path = export_table(mapping, args.out, samples=args.samples, sources=_parse_sources(args.source) or None)
    n = sum(len(mapping.spec().dataset(c).fields) for c in mapping.datasets)
    print(
        f"已导出指标对照表 {path}：{len(mapping.datasets)} 个数据集、{n} 个字段；"
        "可修改的列为「规则」「状态」「审核人」「备注」，改好后用 hlwjr map import 导回",
        file=stdout,
    )
    return 0


def _import(args, stdout, stderr) -> int:
    from ..mapping._config import load_mapping
    from ..mapping._table import import_table

    mapping = load_mapping(_mapping_dir(args))
    changes = import_table(mapping, args.in_, reviewer=args.reviewer)
    if not changes:
        print(f"指标对照表 {args.in_} 与对照配置一致，没有需要导入的修改", file=stdout)
        return 0
    print(f"指标对照表 {args.in_}：{len(changes)} 个字段有修改", file=stdout)
    for c in changes:
        print(f"  {c}", file=stdout)
    issues = [i for i in mapping.check(columns=False) if i.severity == "error"]
    print(mapping.diff(), file=stdout, end="")
    if issues:
        for i in issues:
            print(str(i), file=stdout)
        print(f"导入后有 {len(issues)} 个配置错误：未写入；请在指标对照表中改正后重新导入", file=stdout)
        return 1
    if args.dry_run:
        print("（预演：未写入；去掉 --dry-run 写回对照配置）", file=stdout)
        return 0
    mapping.save()
    print(f"已写回对照配置 {mapping.directory}（只改动了上面列出的文件）", file=stdout)
    return 0


def _profile(args, stdout, stderr) -> int:
    from ..sources._profile import profile_source

    prof = profile_source(args.source, min_count=args.min_count, **_read_options(args))
    if args.format == "json":
        json.dump(prof.to_dict(), stdout, ensure_ascii=False, indent=2)
        print(file=stdout)
        return 0
    print(f"{prof.read_as}，共 {prof.rows} 行、{len(prof.columns)} 列", file=stdout)
    print(f"（出现少于 {prof.min_count} 次的值不显示；身份证号、手机号、姓名已脱敏）", file=stdout)
    for warning in prof.warnings:
        print(f"注意：{warning}", file=stdout)
    print(_table(prof.to_frame()), file=stdout)
    return 0


def _table(df) -> str:
    import pandas as pd

    with pd.option_context(
        "display.max_rows", None, "display.max_columns", None, "display.width", 250, "display.max_colwidth", 60
    ):
        return df.fillna("").to_string(index=False)


def _check(args, stdout, stderr) -> int:
    from ..mapping._config import load_mapping

    if args.sample < 0:
        raise ConfigError("--sample 不能为负数")
    mapping = load_mapping(args.mapping)
    issues = mapping.check(
        spec=args.spec,
        sources=_parse_sources(args.source) or None,
        columns=not args.no_columns,
        complete=not args.draft,
        sample=0 if args.no_columns else args.sample,
    )
    errors = [i for i in issues if i.severity == "error"]
    for i in issues:
        print(str(i), file=stdout)
    n_rules = sum(len(d.fields) for d in mapping.datasets.values())
    print(
        f"对照配置 {args.mapping}：{len(mapping.datasets)} 个数据集、{n_rules} 条字段规则、"
        f"{len(mapping.code_maps)} 个值域对照表；错误 {len(errors)} 个，提醒 {len(issues) - len(errors)} 个",
        file=stdout,
    )
    return 1 if errors else 0


def _parse_sources(items: list[str]) -> dict:

    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--source 应写作 名称=URL或路径，实际为 {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _apply(args, stdout, stderr) -> int:
    from ..mapping._engine import apply_mapping

    result = apply_mapping(
        args.mapping,
        args.dataset,
        date=args.date,
        out=args.out,
        sources=_parse_sources(args.source),
        chunksize=args.chunksize,
    )
    if args.issues:
        issues = defuse_frame(result.issues)
        atomic_write(args.issues, lambda tmp: issues.to_csv(tmp, index=False, encoding="utf-8-sig"))
    if args.format == "json":
        json.dump(
            {
                "dataset": result.dataset,
                "date": result.date,
                "source_rows": result.n_source_rows,
                "day_rows": result.n_day_rows,
                "records": result.n_records,
                "rejected_rows": len(result.rejected_rows),
                "issues": json.loads(result.issues.to_json(orient="records", force_ascii=False)),
                "out": str(args.out) if args.out else None,
            },
            stdout,
            ensure_ascii=False,
            indent=2,
        )
        print(file=stdout)
    else:
        print(result.summary(), file=stdout)
        if not result.issues.empty:
            print(
                _table(result.issues[["row", "key", "field", "rule", "action", "value", "message"]].head(50)),
                file=stdout,
            )
            if len(result.issues) > 50:
                print(
                    f"……共 {len(result.issues)} 条问题"
                    + ("，全部见 " + args.issues if args.issues else "；用 --issues FILE.csv 导出全部"),
                    file=stdout,
                )
        unmapped = result.unmapped()
        if not unmapped.empty:
            print("未对照的本地值（请补充 codes/ 下的值域对照表）：", file=stdout)
            print(_table(unmapped), file=stdout)
        if args.out:
            print(f"已写出 {result.n_records} 条记录到 {args.out}", file=stdout)
    return 1 if result.rejected_rows else 0


def _suggest(args, stdout, stderr) -> int:
    from ..mapping._suggest import suggest_fields
    from ..sources._read import read_source
    from ..spec._load import load_spec

    spec = load_spec(args.spec)
    ds = spec.dataset(args.dataset)
    opts = _read_options(args)
    df = read_source(args.source, **opts)
    sugg = suggest_fields(ds, df, top=args.top)
    codes = _code_suggestions(spec, sugg, df)
    if args.write:
        written, business_time = _write_draft(args, spec, ds, df, sugg, codes)
        done = (
            f"已写出对照草稿 {written}（规则均为 suggested 待审；用 `hlwjr map check --mapping {args.write}` "
            "检查，在 03_字段对照 中审核）"
        )
        if business_time:
            done += f"\n  业务时间列 business_time = {business_time}（upload --date 按它取当天的数据；请核对）"
        elif not _is_master(spec, ds):
            done += "\n  没有找到业务时间列：请在草稿的 source 下写 business_time: <列>，否则 map check 报错"
        if args.format == "json":
            print(done, file=stderr)
    if args.format == "json":
        json.dump(
            {
                "dataset": ds.code,
                "name": ds.name,
                "source": str(args.source),
                "fields": [s.to_dict() | ({"codes": codes[s.field]} if s.field in codes else {}) for s in sugg],
            },
            stdout,
            ensure_ascii=False,
            indent=2,
        )
        print(file=stdout)
        return 0
    print(
        f"数据集 {ds.code}（{ds.name}）× 数据源 {args.source}：每个字段的候选列（得分 0-1，建议需人工审核）",
        file=stdout,
    )
    for s in sugg:
        req = "必填" if s.required is True else ("条件必填" if s.required else "")
        head = f"{s.field}（{s.name}，{s.type}{'，' + req if req else ''}）"
        if not s.candidates:
            print(f"  {head}: 无候选", file=stdout)
            continue
        cands = "；".join(f"{c.column} {c.score:.2f}（{'，'.join(c.reasons)}）" for c in s.candidates)
        print(f"  {head}: {cands}", file=stdout)
        if s.field in codes:
            shown = codes[s.field][:_CODES_SHOWN]
            pairs = "；".join(
                f"{c['local']}→{c['code'] or '?'}" + (f" {c['name']}" if c["name"] else "") for c in shown
            )
            more = f"；……共 {len(codes[s.field])} 个本地值" if len(codes[s.field]) > len(shown) else ""
            print(f"      值域 {s.code_set}，列 {s.best.column} 的本地值 → 标准代码: {pairs}{more}", file=stdout)
    if args.write:
        print(done, file=stdout)
    return 0


def _write_draft(args, spec, ds, df, suggestions, codes, *, min_score: float = 0.75):
    """A first draft of one data set's mapping from the best suggestions (指标对照草稿): column rules,
    date reformats where the column's format is not the spec's, and code maps for coded fields, every
    rule and code ``suggested`` (待审) — never accepted automatically; business data also gets
    ``source.business_time``.  Returns the YAML written and the business-time column (or None)."""
    from pathlib import Path

    from ..mapping._config import Mapping, load_mapping
    from ..mapping._model import DatasetMapping, SourceDef, SourceRef
    from ..mapping._suggest import assign_columns, suggest_code_map
    from ..sources._profile import profile_frame

    out = Path(args.write)
    mapping = (
        load_mapping(out)
        if (out / "mapping.yaml").exists()
        else Mapping(spec_id=spec.id, spec_version=spec.version, directory=out)
    )
    if mapping.spec_id != spec.id:
        raise ConfigError(
            f"对照配置 {out} 针对规范 {mapping.spec_id}，而建议用的是 {spec.id}；请用 --spec {mapping.spec_id}"
        )
    if ds.code in mapping.datasets:
        raise ConfigError(
            f"对照配置 {out} 已有数据集 {ds.code} 的规则：草稿不会覆盖已有（可能已审核）的规则；"
            "请在 03_字段对照 的 MappingEditor 中修改，或先移走 "
            f"{mapping.datasets[ds.code].file or f'datasets/{ds.code}.yaml'}"
        )
    source = str(args.source)
    if "://" in source:
        url, _, table = source.partition("#")
        table = args.table or table or None
        sdef, ref = SourceDef(url=url), SourceRef(table=table if not args.query else None, query=args.query)
    else:
        f = Path(source).resolve()
        if f.suffix.lower() in (".xlsx", ".xlsm"):
            sdef, ref = SourceDef(path=str(f)), SourceRef(table=df.attrs.get("source_info", {}).get("sheet"))
        elif f.suffix.lower() == ".csv":  # a directory of CSV exports: table → <dir>/<table>.csv
            sdef, ref = SourceDef(path=str(f.parent), encoding=args.encoding), SourceRef(table=f.stem)
        else:
            sdef, ref = None, SourceRef(file=str(f))
    if sdef is not None:
        name = next((k for k, v in mapping.sources.items() if (v.url, v.path) == (sdef.url, sdef.path)), None)
        if name is None:
            name = next(n for n in ("his", *(f"his{i}" for i in range(2, 100))) if n not in mapping.sources)
            mapping.sources[name] = sdef
        ref.source = name if len(mapping.sources) > 1 else None
    dm = DatasetMapping(dataset=ds.code, source=ref)
    prof = profile_frame(df if len(df) <= 20000 else df.sample(20000, random_state=0))
    _set_business_time(spec, ds, dm, suggestions, prof)
    assigned = assign_columns(suggestions, min_score=min_score)  # one column feeds one field
    for s in suggestions:
        best = assigned.get(s.field)
        if best is None:
            continue
        rule = {"column": best.column}
        want = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%d %H:%M:%S"}.get(s.type)
        fmt = prof.column(best.column).date_format if want else None
        if fmt and fmt != want:
            rule["format"] = fmt
        if s.field in codes and any(c["code"] for c in codes[s.field]):
            target = spec.code_set(s.code_set).id
            cm_name = next((k for k, v in mapping.code_maps.items() if v.code_set and v.code_set == target), None)
            if cm_name is None:
                cm_name = target.replace("/", "-").replace(" ", "")
                cm = mapping.add_code_map(cm_name, code_set=target)
            else:
                cm = mapping.code_map(cm_name)
            known = set(cm.entries["local"].astype("str"))
            draft = suggest_code_map(cm_name, spec.code_set(target), df[best.column].dropna()).entries
            for e in draft.itertuples(index=False):
                if str(e.local) not in known and isinstance(e.code, str) and e.code:
                    cm.set(str(e.local), e.code, name=e.name, status="suggested", comment=e.comment)
            rule["code_map"] = cm_name
        r = dm.set_rule(s.field, **rule)
        r.score = round(best.score, 3)
        r.comment = "建议：" + "；".join(best.reasons)
    _project_constants(args, ds, dm)
    mapping.datasets[ds.code] = dm
    mapping.save(out)
    return out / "datasets" / f"{ds.code}.yaml", dm.source.business_time


# what the project knows about the hospital, by what a field holds: 机构代码/统一社会信用代码, 机构名称
_ORG_CODE = re.compile(r"机构(唯一号|代码|编码|标识)|信用代码|组织机构")
_ORG_NAME = re.compile(r"^(医疗)?机构名称$")


def _project_constants(args, ds, dm) -> None:
    """Fields no source column feeds that the project's hlwjr.toml answers (the hospital's own code
    and name) get that value as a constant rule — suggested (待审) like the rest of the draft."""
    if not getattr(args, "config", None):
        return
    from ..upload._project import load_project

    project = load_project(args.config)
    for f in ds.fields.values():
        if f.key in dm.fields or f.type != "string":
            continue
        value = project.org_code if _ORG_CODE.search(f.name or "") else None
        if value is None and _ORG_NAME.search(f.name or ""):
            value = project.name
        if value:
            rule = dm.set_rule(f.key, const=value)
            rule.comment = f"建议：来自 {args.config}/hlwjr.toml 的 [project]（源数据中没有该列）"


def _set_business_time(spec, ds, dm, suggestions, prof) -> None:
    """Business data gets ``source.business_time`` (the day ``upload --date`` picks rows by) from the
    event-time column; master data (基础数据) has none."""
    from ..mapping._suggest import suggest_business_time

    if _is_master(spec, ds):
        return
    bt = suggest_business_time(ds, suggestions, prof)
    if bt is None:
        return
    dm.source.business_time = bt["column"]
    if bt["format"]:
        dm.source.business_time_format = bt["format"]


def _is_master(spec, ds) -> bool:
    from ..mapping._template import master_datasets

    return ds.code in {d.code for d in master_datasets(spec)}


_CODES_SHOWN = 8
_MAX_LOCAL_CODES = 50  # more distinct values than this: not a local code column
_MIN_COLUMN_SCORE = 0.6  # propose codes only for a column that plausibly feeds the field


def _code_suggestions(spec, suggestions, df) -> dict[str, list[dict]]:
    """For coded fields (字段有值域): local value → standard code proposals for the best-ranked column,
    most frequent first, each ``suggested`` (never accepted automatically).  Columns that look like
    ID-card numbers, phone numbers or names, or that hold too many distinct values, are skipped."""
    from ..mapping._suggest import suggest_codes
    from ..sources._profile import guess_kind

    out: dict[str, list[dict]] = {}
    for s in suggestions:
        best = s.best
        if not s.code_set or best is None or best.score < _MIN_COLUMN_SCORE or best.column not in df.columns:
            continue
        try:
            code_set = spec.code_set(s.code_set)
        except Exception:  # a code set the spec does not ship: nothing to propose against
            continue
        values = df[best.column].dropna()
        if (
            values.empty
            or values.nunique() > _MAX_LOCAL_CODES
            or guess_kind(values)[0] in ("id_card", "mobile", "name")
        ):
            continue
        table = suggest_codes(code_set, values).sort_values("count", ascending=False, kind="stable")
        out[s.field] = [
            {
                "local": str(r.local),
                "count": int(r.count),
                "code": r.code if isinstance(r.code, str) else None,
                "name": r.name if isinstance(r.name, str) else None,
                "score": float(r.score),
                "reason": r.reason,
                "status": "suggested",
            }
            for r in table.itertuples(index=False)
        ]
    return out


def _codes(args, stdout, stderr) -> int:
    from ..mapping._suggest import suggest_code_map, suggest_codes
    from ..sources._read import read_source
    from ..spec._load import load_spec

    spec = load_spec(args.spec)
    cs = spec.code_set(args.code_set)
    df = read_source(args.source, **_read_options(args))
    if args.column not in df.columns:
        raise SourceError(f"列 {args.column} 不存在；可用列：{', '.join(map(str, df.columns))}", where=str(args.source))
    _refuse_identifying_column(df[args.column], args.column, str(args.source))
    table = suggest_codes(cs, df[args.column])
    if args.out:
        from pathlib import Path

        if Path(args.out).suffix.lower() != ".csv":
            raise ConfigError(f"--out 应为 .csv 文件（值域对照表），实际为 {args.out}")
        cm = suggest_code_map(Path(args.out).stem, cs, df[args.column])
        cm.save(args.out)
        print(
            f"已写出值域对照表 {args.out}：{len(cm.entries)} 个本地值（全部 suggested 待审）；"
            f"在 mapping.yaml 的 code_maps 中登记：{cm.name}: {{file: codes/{Path(args.out).name}, code_set: {cs.id}}}",
            file=stdout,
        )
    elif args.format == "json":
        print(table.to_json(orient="records", force_ascii=False, indent=2), file=stdout)
    elif args.format == "csv":  # exactly a code-map file: save the output as codes/<name>.csv
        cm = suggest_code_map(cs.id, cs, df[args.column])
        print(defuse_frame(cm.entries).to_csv(index=False), end="", file=stdout)
    else:
        print(f"值域 {cs.id}（{cs.name}）：本地值 → 标准代码建议（需人工审核）", file=stdout)
        print(_table(table), file=stdout)
    return 0


def _refuse_identifying_column(values, column: str, where: str) -> None:
    """值域对照 is for local code columns; a column of ID-card numbers, phone numbers or names would
    list every person's value unmasked, so it is refused with a message saying what to pick instead."""
    from ..sources._profile import KIND_LABELS, guess_kind

    kind = guess_kind(values.dropna())[0]
    if kind in ("id_card", "mobile", "name"):
        raise ConfigError(
            f"列 {column} 看起来是{KIND_LABELS[kind]}，不是本地代码列：值域对照只用于代码列"
            "（如性别 XB、科室 KSDM、费别 FB），个人信息不会被逐值列出；请换一列",
            where=where,
        )
