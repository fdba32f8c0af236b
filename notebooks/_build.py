"""Generate the guided notebooks (工作台笔记本) from one place, so they stay consistent.

    python notebooks/_build.py           # (re)write notebooks/*.ipynb
    python notebooks/_build.py --check   # exit 1 if a committed notebook differs from what is generated

Every notebook is one onboarding step: Chinese-first prose, a ``parameters``-tagged cell holding
everything that changes for a real hospital, then cells that are prose + one library call + a
displayed result.  They are written without outputs or execution counts (tests enforce it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

COMMON_PARAMS = """\
# 参数 parameters — 换成本院时只改这个单元格（其余单元格不用改）
PROJECT_DIR = "../demo-out/workbench"  # 项目目录（hlwjr.toml、上传台账所在；演示项目在 git 忽略的 demo-out/ 下）
DEMO = True          # True：演示医院（合成测试数据）；False：本院数据（先在 00_开始_setup 中写好项目配置）
USE_SANDBOX = True   # True：在本机沙箱平台演练；False：连接真实的互联网医院接入平台
SANDBOX_URL = None   # None：自动（`make lab` 启动的沙箱，否则本内核启动一个）；或 "http://127.0.0.1:端口/hlwjr"
PROTOCOL = "token"   # 演示用的平台协议："token"（令牌）、"tianjin"（国密网关）或 "gateway-hmac"（HMAC + AES 网关）
"""

OPEN = """\
import hlwjr

wb = hlwjr.open_workbench(PROJECT_DIR, demo=DEMO, sandbox=USE_SANDBOX, sandbox_url=SANDBOX_URL, protocol=PROTOCOL)
wb"""

OPEN_MD = (
    "## 打开项目 Open the project\n\n"
    "`open_workbench` 读取项目配置 `hlwjr.toml`；演示时缺什么就补什么（演示医院 HIS、对照配置副本、沙箱注册）。"
    "出错时单元格里只显示一段说明：**错误 / 位置 / 怎么办**，不会是一长串 traceback。"
)

NAV = (
    "**步骤 Steps:** 00 开始 → 01 接口规范 → 02 数据源 → 03 字段对照 → 04 值域对照 → 05 校验 → 06 测试上传 → 07 达标"
    " → 08 日常运行"
)


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def code(text: str, *, tags: list[str] | None = None):
    cell = new_code_cell(text.strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def params(extra: str = ""):
    return code(COMMON_PARAMS + extra, tags=["parameters"])


NOTEBOOKS: dict[str, list] = {}

NOTEBOOKS["00_开始_setup"] = [
    md("""
# 00 开始：项目配置与平台连通 Setup

这是接入 **北京市医疗服务与执业监管平台 — 互联网医院接入平台** 的工作台。每个笔记本是一步：

| 笔记本 | 做什么 |
|---|---|
| 00 开始 setup | 项目配置、平台密钥（只从环境变量读）、连通与令牌检查 |
| 01 接口规范 spec | 浏览接口规范，导入官方接口文档，比较版本 |
| 02 数据源 profile | 读取并探查 HIS 数据（类型、空值、常见值；敏感值脱敏） |
| 03 字段对照 map fields | 字段对照编辑器：每个规范字段取自哪一列 |
| 04 值域对照 map codes | 本地代码 → 标准代码 |
| 05 校验 validate | 强制校验报告：哪些记录会被平台拒收、为什么 |
| 06 测试上传 upload | 测试数据上传，进度与成功/拒收计数 |
| 07 达标 readiness | 每天 ≥ 30 条、成功率 100 %、不重复、连续 3 天：结论、日历与证据包 |

**怎么用 How to use:** 只改下面带 `parameters` 标签的单元格，然后 *Run → Run All Cells*。
默认参数用 **演示医院**（合成测试数据）在 **本机沙箱平台** 上演练；换成本院时把 `DEMO` 设为 `False`
并填写 `HOSPITAL`。平台的 **secret 不写在笔记本里**：设置环境变量 `HLWJR_SECRET`，或写入项目目录下
git 忽略的 `.hlwjr/secret` 文件。
"""),
    params("""
# 本院信息（DEMO = False 时使用；appid 在接入平台「查看本机构的appid和secret」处获得，secret 不写这里）
HOSPITAL = None
# HOSPITAL = dict(
#     name="XX互联网医院", org_code="统一社会信用代码", platform_url="http://平台地址/hlwjr", appid="平台分配的appid",
#     profile="sandbox", mapping_dir="../mapping/本院", sources={"his": "oracle+oracledb://user:${HIS_PASSWORD}@host/his"},
# )
"""),
    md(OPEN_MD + "\n\n本笔记本还会在 `DEMO = False` 时用 `HOSPITAL` 写出本院的 `hlwjr.toml`（不含密钥）。"),
    code("""
import hlwjr

wb = hlwjr.open_workbench(PROJECT_DIR, demo=DEMO, sandbox=USE_SANDBOX, sandbox_url=SANDBOX_URL, hospital=HOSPITAL)
wb"""),
    md("""
## 连通与令牌检查 Connectivity and token

用项目的 appid 和 secret 向平台申请令牌（获取令牌），并读取平台时间——达标按 **平台日（北京时间）** 统计。
连不上时，检查网络方式（政务外网 / 互联网 + VPN）和平台地址；令牌被拒时，核对 appid 与 secret。
"""),
    code("wb.connectivity()"),
    md(f"""
## 下一步 Next

打开 `01_接口规范_spec.ipynb` 了解要上传哪些数据集，或直接到 `03_字段对照_map_fields.ipynb` 做字段对照。

{NAV}
"""),
]

NOTEBOOKS["01_接口规范_spec"] = [
    md(f"""
# 01 接口规范 Interface spec

要上传的数据集（网络咨询、在线复诊、电子处方……）、每个数据集的字段、类型、长度、是否必填、值域，
都来自 **接口规范**。工作台自带一份 *参考规范*（依据公开资料推断，非北京市官方文档）；拿到
平台下发的《互联网医院数据接口文档》后，在这里导入，并和参考规范比较差异。

{NAV}
"""),
    params("""
DATASET = "recipe"    # 要查看的数据集（代码、别名或中文名，如 "在线处方"）
CODE_SET = "sex"      # 要查看的值域（代码表）
OFFICIAL_DOC = None   # 官方接口文档路径（.docx / .xlsx / .pdf）；None：演示用参考规范导出的 Word 文档
"""),
    md(OPEN_MD),
    code(OPEN),
    md("## 数据集与上传顺序 Data sets in upload order\n\n被引用的数据（人员、科室）先传，业务数据（复诊、处方）后传。"),
    code("wb.spec_overview()"),
    md(
        "## 一个数据集的字段 Fields of a data set\n\n必填字段缺失会被平台强制校验拒收；条件必填在满足条件时必填（例"
        "如年龄小于 6 岁须填监护人）。"
    ),
    code("wb.fields(DATASET)"),
    md("## 值域 Code set\n\n带值域的字段只接受标准代码（如 GB/T 2261.1 性别代码），本地代码要在 04 中对照。"),
    code("wb.code_set(CODE_SET)"),
    md("""
## 导入官方接口文档 Import the official document

导入器读取文档中的字段表（字段名 / 类型 / 长度 / 必填 / 代码表），生成规范目录，并列出需要人工核对的地方。
演示时先把参考规范导出为 Word 文档再导入——拿到官方文档时步骤完全相同。
"""),
    code("wb.import_document(OFFICIAL_DOC)"),
    md("## 版本差异 Differences between editions\n\n新版本删除或改变的字段会影响对照配置（标为 breaking）。"),
    code("wb.diff_editions()"),
]

NOTEBOOKS["02_数据源_profile"] = [
    md(f"""
# 02 数据源探查 Profile the sources

先看数据，再做对照：每一列的推断类型、空值率、不同值个数、常见值（出现少于 `MIN_COUNT` 次的值不显示，
身份证号、手机号、姓名一律脱敏）、日期格式。GBK 编码的 CSV、Excel、数据库表都可以。

{NAV}
"""),
    params("""
TABLE = "consultations"   # 要探查的源表（数据库表名，或 CSV 目录中的文件名）
MIN_COUNT = 5             # 出现少于这个次数的值不显示（可能是个人信息）
"""),
    md(OPEN_MD),
    code(OPEN),
    md("## 对照配置用到的源表 Source tables in the mapping"),
    code("wb.source_tables()"),
    md("## 探查一张表 Profile one table"),
    code("wb.profile(TABLE, min_count=MIN_COUNT)"),
    md(
        "## 基础数据模板 Master data template\n\n"
        "业务数据（复诊、处方……）引用机构、科室、人员备案等 **基础数据**；一份 HIS 导出里通常没有它们。"
        "下面生成一个 Excel 模板（中文表头、`*` 为必填、值域下拉），填好后在 03 中作为数据源对照，"
        "或用 `hlwjr template --mapping 对照目录` 登记为数据源。"
    ),
    code("wb.master_data_template()"),
]

NOTEBOOKS["03_字段对照_map_fields"] = [
    md(f"""
# 03 字段对照 Map fields（指标对照）

每个规范字段一行：中文名、是否必填、类型；**源列** 下拉框里排在前面的是按列名（拼音首字母、同义词）和
列中数值（像身份证号、像日期……）排序的建议及分数（★ 为最佳）；**规则** 可选取列、日期格式转换、值域对照、
常量、派生（如由身份证号算年龄）、无法提供；**审核** 记录谁在何时通过或拒绝——建议永远不会被自动通过。

改动任何一项，下面的 **预览** 立即用前几行源数据重新映射并校验：红色单元格是会被平台拒收的值，
悬停可看原因；顶部的 **进度** 显示必填字段对照了多少。满意后点 **保存 Save**，写入对照目录的
`datasets/<数据集>.yaml`（像代码一样评审、提交）。

{NAV}
"""),
    params("""
DATASET = "consult"   # 要对照的数据集（代码、别名或中文名）
SAMPLE_ROWS = 5       # 预览用的源数据行数
REVIEWER = "分析员"    # 审核人（写入对照配置的 reviewer）
"""),
    md(OPEN_MD),
    code(OPEN),
    md("## 字段对照编辑器 Mapping editor"),
    code("editor = wb.mapping_editor(DATASET, sample=SAMPLE_ROWS, reviewer=REVIEWER)\neditor"),
    md(
        "## 对照配置检查 Check the mapping\n\n保存后检查整个对照配置：未定义的值域对照表、源中没有的列、还没对照的"
        "必填字段。"
    ),
    code("wb.mapping_check()"),
]

NOTEBOOKS["04_值域对照_map_codes"] = [
    md(f"""
# 04 值域对照 Map codes

HIS 里的本地代码（性别 `M/F/U`、科室 `NK01`、给药途径 `PO`……）要对照到标准代码。每个本地值一行，
旁边是它在数据中出现的次数和建议的标准代码（带分数与理由，状态为“待审”）。**未对照的值标红**：
映射时这些行会被拒收（不会悄悄丢掉）。保存后写入对照目录的 `codes/<名称>.csv`（UTF-8 带 BOM，Excel 可直接编辑）。

{NAV}
"""),
    params("""
CODE_MAP = "dept-subject"   # 要编辑的值域对照表（对照配置 mapping.yaml 的 code_maps 中的名称）
"""),
    md(OPEN_MD),
    code(OPEN),
    md("## 值域对照编辑器 Code map editor"),
    code("codes = wb.code_map_editor(CODE_MAP)\ncodes"),
]

NOTEBOOKS["05_校验_validate"] = [
    md(f"""
# 05 校验 Validate（强制校验）

按规范把映射后的记录全部检查一遍：必填、类型、长度、日期、值域、身份证号校验位、出生日期与性别一致、
时间先后、金额合计、业务主键重复、引用的记录是否存在……每个问题都有数据集、行、业务主键、字段、规则、
脱敏后的值和中文说明。上面是按规则的统计图，可以按数据集 / 规则 / 字段筛选，选一条记录查看它的全部问题。

{NAV}
"""),
    params("""
DATASETS = None       # 要校验的数据集，如 ["consult", "recipe"]；None：对照配置中的全部（引用在同一批中核对）
DATE = "2026-11-01"   # 业务日期 YYYY-MM-DD（人员、科室等主数据不按日期筛选）；None：全部数据
"""),
    md(OPEN_MD),
    code(OPEN),
    md("## 校验报告 Validation report"),
    code("report = wb.validation_report(DATASETS, date=DATE)\nreport"),
]

NOTEBOOKS["06_测试上传_upload"] = [
    md(f"""
# 06 测试上传 Test upload

每日上传：按当天业务日期映射 → 校验 → 只发送通过校验的记录（按依赖顺序：人员、科室在前，复诊在处方前），
平台已接收的不再重发，校验未过的暂缓并列出原因，每一步记入上传台账。测试阶段每个数据集每天发送
30 条再加 20 % 余量。

在沙箱上可以 **演练连续几天**（拨动沙箱时钟到每个演示日）；对真实平台，每天运行一次当天的上传即可。

{NAV}
"""),
    params("""
REHEARSAL_DAYS = 3   # 沙箱：演练上传演示数据的前几天（连续达标需要 3 天）
DATE = None          # 真实平台：业务日期 YYYY-MM-DD；None：今天
CONFIRM = False      # 真实平台：True 才真正发送；False 只预演（映射和校验，不发送）
"""),
    md(OPEN_MD),
    code(OPEN),
    md(
        "## 上传面板 Upload panel\n\n演示医院在沙箱上自动演练 `REHEARSAL_DAYS` 天；本院数据上传业务日期 `DATE`（默"
        "认今天）。"
        "之后也可以在面板里填业务日期、勾选“预演”（只映射和校验，不发送）再点上传。"
    ),
    code("panel = wb.upload(REHEARSAL_DAYS, date=DATE, confirm=CONFIRM)\npanel"),
    md("## 本次运行的统计 Counts of this session"),
    code("panel.to_frame()"),
]

NOTEBOOKS["07_达标_readiness"] = [
    md(f"""
# 07 达标 Readiness

《监管平台对接操作手册》的要求：基于真实诊疗数据，**单日上传测试数据不少于 30 条，成功上传率 100 %，
数据不得重复，至少连续三天**。这里按平台日（北京时间）统计上传台账，并与平台的 **验证日志** 核对；
日历里绿色是达标的一天，红色没达标（悬停看原因）。满足要求后生成 **证据包**（HTML + Excel + 趋势图），
再到平台提交接入申请。

{NAV}
"""),
    params(""),
    md(OPEN_MD),
    code(OPEN),
    md("## 达标看板 Readiness dashboard"),
    code("dashboard = wb.readiness_dashboard()\ndashboard"),
    md("## 结论与文字版 Verdict as text"),
    code("print(dashboard.readiness.to_text())"),
]


NOTEBOOKS["08_日常运行_operations"] = [
    md(f"""
# 08 日常运行 Daily operations

接入申请通过以后，医院要 **每天** 上报前一天已结束的业务数据，一年又一年：夜间由定时任务运行
`hlwjr run --config 项目`（crontab、systemd 定时器或 Windows 任务计划，见 docs/operations.md）。
这个笔记本看运行之后的情况：最近几周每天每个数据集发送、成功、拒收、待确认了多少；平台拒收的记录
逐条打开（已脱敏），旁边是平台的提示和产生该字段的对照规则；在 HIS 中改正后勾选“已修复”，再重发。
已被平台接收的记录永远不会再发。

{NAV}
"""),
    params("""
DAYS = 30            # 看最近几个业务日
TODAY = None         # 截止到哪个业务日 YYYY-MM-DD；None：最近一个已结束的业务日（演示：最后上传的那天）
"""),
    md(OPEN_MD),
    code(OPEN),
    md("## 最近的运行情况 Status（与 `hlwjr status` 相同）"),
    code("status = wb.status(DAYS, today=TODAY)\nprint(status.to_text())"),
    md(
        "## 拒收与重发 Refused records and resend\n\n"
        "按数据集、业务日期、规则筛选；选中一条看平台提示与对照规则；在 HIS 中改正后勾选“已在 HIS 中修复”，"
        "点“重发已修复”。“全部重发”把仍被拒收、但现在能通过校验的记录都发出去（与 `hlwjr resend --refused` 相同）。"
    ),
    code("panel = wb.operations_panel(DAYS, today=TODAY)\npanel"),
]


def build() -> dict[str, nbformat.NotebookNode]:
    out = {}
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        for i, cell in enumerate(nb.cells):  # stable ids: no diff noise when regenerated
            cell["id"] = f"{name.split('_')[0]}-{i:02d}"
        out[name] = nb
    return out


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, nb in build().items():
        path = HERE / f"{name}.ipynb"
        text = nbformat.writes(nb) + "\n"
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("与生成器不一致（运行 python notebooks/_build.py）: " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
