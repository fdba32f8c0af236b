"""CLI: ``hlwjr template`` — the master-data workbook (基础数据模板) a new hospital fills first.

    hlwjr template --out 基础数据.xlsx [--spec S] [--dataset dept,doctor,unit | --for revisit]
                   [--mapping DIR]

Without ``--dataset`` the master data sets are read from the spec's references (see
``hlwjr.mapping._template``).  ``--mapping DIR`` also adds the workbook to that mapping config as a
source with one data set per sheet, so ``hlwjr map apply`` reads the filled workbook.
"""

from __future__ import annotations

from .._exceptions import ConfigError

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "template",
        help="基础数据模板：机构、科室、人员备案等被业务数据引用的数据集的 Excel 模板",
        description="按接口规范生成基础数据（机构、科室、人员备案……被其他数据集引用的数据集）Excel 模板："
        "每个数据集一个工作表，中文表头（* 为必填），说明与示例行，值域下拉框；填好后可作为数据源读入。",
    )
    p.add_argument("--out", required=True, metavar="FILE.xlsx", help="输出的 Excel 文件")
    p.add_argument("--spec", help="规范名称或目录（缺省 beijing-reference）")
    p.add_argument("--dataset", metavar="CODES", help="只生成这些数据集，逗号分隔，如 dept,doctor,unit")
    p.add_argument("--for", dest="for_", metavar="CODES", help="只生成这些业务数据集所需的基础数据，如 revisit")
    p.add_argument("--mapping", metavar="DIR", help="同时把模板登记到该对照配置（数据源 + 每个工作表一个数据集）")
    p.add_argument("--rows", type=int, default=1000, help="预设下拉框与文本格式的行数（缺省 1000）")
    p.set_defaults(handler=_template)


def _codes(text: str | None) -> list[str] | None:
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def _template(args, stdout, stderr) -> int:
    from pathlib import Path

    from ..mapping._template import write_template
    from ..spec._load import load_spec

    if not str(args.out).lower().endswith(".xlsx"):
        raise ConfigError(f"--out 应为 .xlsx 文件，实际为 {args.out}")
    if args.rows < 1:
        raise ConfigError("--rows 至少为 1")
    if args.dataset and args.for_:
        raise ConfigError("--dataset 与 --for 只能用一个")
    spec = load_spec(args.spec)
    sheets = write_template(
        spec, args.out, datasets=_codes(args.dataset), for_datasets=_codes(args.for_), rows=args.rows
    )
    listing = "、".join(f"{spec.dataset(c).name}（{c}，工作表「{s}」）" for c, s in sheets.items())
    print(f"已写出基础数据模板 {args.out}：{listing}", file=stdout)
    print("  第 3 行为表头（* 为必填），第 2 行为说明与示例；请从第 4 行起填写，代码列用下拉框选择", file=stdout)
    if args.mapping:
        added = _register(args.mapping, spec, Path(args.out), sheets)
        if added:
            print(f"  已登记到对照配置 {args.mapping}：数据集 {', '.join(added)}（datasets/<代码>.yaml）", file=stdout)
    return 0


def _register(directory: str, spec, workbook, sheets: dict[str, str]) -> list[str]:
    from pathlib import Path

    from ..mapping._config import Mapping, load_mapping
    from ..mapping._template import template_mapping

    out = Path(directory)
    mapping = (
        load_mapping(out)
        if (out / "mapping.yaml").exists()
        else Mapping(spec_id=spec.id, spec_version=spec.version, directory=out)
    )
    if mapping.spec_id != spec.id:
        raise ConfigError(
            f"对照配置 {out} 针对规范 {mapping.spec_id}，模板用的是 {spec.id}；请用 --spec {mapping.spec_id}"
        )
    kept = [c for c in sheets if c in mapping.datasets]
    added = template_mapping(mapping, spec, workbook, sheets)
    if kept:
        print(f"  对照配置已有数据集 {', '.join(kept)}，未改动", flush=True)
    if added:
        mapping.save(out)
    return added
