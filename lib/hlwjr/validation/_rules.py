"""The rule registry (规则库): every mandatory check (强制校验) by a stable id.

Spec YAML refers to rules by id (``rules: [{id: id_number, params: {number: patientCertID}}]``);
reports carry the id of the rule each problem broke. Three kinds of rule:

* **field rules** (``required``, ``type``, ``max_length`` …) come implicitly from the attributes of
  a spec :class:`~hlwjr.spec._model.Field`; the engine (``hlwjr.validation._engine``) applies them column-wise;
* **record rules** (``id_number``, ``time_order`` …) are small functions here, applied to whole
  columns through a :class:`RuleContext`; they return :class:`Hit` s (failing rows + message);
* **cross-record rules** (``duplicate_key``, ``reference``, ``already_accepted``) look across the
  batch, other data sets of the batch, or what the platform already accepted (a lookup).

``docs/rules.md`` is generated from this registry (:func:`rules_markdown`) and a test keeps the two
in step. Adding a rule: decorate a function with :func:`record_rule`, document its params and
message, add a passing and a failing test record.
"""

from __future__ import annotations

from .._exceptions import SpecError
from . import _rules_identity, _rules_values  # noqa: F401 - importing them registers their rules
from ._registry import RULES, Hit, Rule, RuleContext, _register, record_rule

__all__ = ["RULES", "Hit", "Rule", "RuleContext", "get_rule", "record_rule", "rule_title", "rules_markdown"]


def get_rule(rule_id: str, where: str | None = None) -> Rule:
    try:
        return RULES[rule_id]
    except KeyError:
        raise SpecError(f"未知规则 {rule_id!r}；可用规则: {', '.join(sorted(RULES))}", where=where) from None


def rule_title(rule_id: str) -> str:
    r = RULES.get(rule_id)
    return r.title if r else ""


# ---------------------------------------------------------------------------------- field rules
for _r in [
    Rule(
        "required",
        "必填项不能为空",
        "field",
        {"required": "字段属性 required: true（条件必填见 required_if）"},
        (),
        "error",
        "必填字段 {字段} 为空（缺失/null/空字符串），请补充",
        '{"recipeID": ""}',
    ),
    Rule(
        "type",
        "数据类型正确",
        "field",
        {"type": "字段属性 type: string|integer|decimal|date|datetime|array"},
        (),
        "error",
        "{字段} 应为{类型}，实际为{实际类型}；提示：编码类字段请按文本读取以保留前导零",
        '{"age": "12岁"}',
    ),
    Rule(
        "max_length",
        "长度不超过最大长度（也检查 min_length）",
        "field",
        {"max_length": "字段属性（按字符数计）", "min_length": "字段属性（可选）"},
        (),
        "error",
        "{字段} 长度 {n} 超过最大长度 {max_length}，请截断或核对",
        '{"organID": "1234567890123456789"} (S18)',
    ),
    Rule(
        "precision",
        "小数位数与总位数",
        "field",
        {"precision": "字段属性：小数位数", "total_digits": "字段属性：总位数"},
        (),
        "error",
        "{字段} 小数位数超过 {precision} 位 / 整数部分超过 {total_digits-precision} 位",
        '{"totalFee": 12.345}',
    ),
    Rule(
        "pattern",
        "符合格式（正则）",
        "field",
        {"pattern": "字段属性：ECMA-262 正则（搜索语义，需自行加 ^…$）"},
        (),
        "error",
        "{字段} 格式不符合 {pattern}；含前后空格/全角字符时会单独提示",
        '{"postcode": "10000"}',
    ),
    Rule(
        "date",
        "日期格式 YYYY-MM-DD 且为真实日期",
        "field",
        {"type": "字段属性 type: date"},
        (),
        "error",
        "{字段} 应为日期 YYYY-MM-DD（如 2024-01-31），实际为 …；或：不是真实日期",
        '{"visitDate": "2024-02-30"}',
    ),
    Rule(
        "datetime",
        "日期时间格式 YYYY-MM-DD HH:MM:SS 且为真实时间",
        "field",
        {"type": "字段属性 type: datetime"},
        (),
        "error",
        "{字段} 应为日期时间 YYYY-MM-DD HH:MM:SS，实际为 …",
        '{"datein": "2024/01/01 8:00"}',
    ),
    Rule(
        "code_set",
        "值在值域（代码集）内",
        "field",
        {"code_set": "字段属性：值域 id（值域 complete: false 时为警告）"},
        (),
        "error",
        "{字段} 的值不在值域 {值域} 中；若填的是名称会提示对应代码（值域不完整时为警告）",
        '{"sex": "男"}',
    ),
    Rule(
        "const",
        "等于规定的固定值",
        "field",
        {"const": "字段属性：固定值"},
        (),
        "error",
        "{字段} 应为固定值 {const}",
        '{"referralFlag": "0"}',
    ),
    Rule(
        "minimum",
        "不小于最小值",
        "field",
        {"minimum": "字段属性（整数/数值字段）"},
        (),
        "error",
        "{字段} 的值 {x} 小于最小值 {minimum}",
        '{"age": -1}',
    ),
    Rule(
        "maximum",
        "不大于最大值",
        "field",
        {"maximum": "字段属性（整数/数值字段）"},
        (),
        "error",
        "{字段} 的值 {x} 大于最大值 {maximum}",
        '{"satisfaction": 6}',
    ),
    Rule(
        "min_items",
        "数组至少有规定条数",
        "field",
        {"min_items": "字段属性（数组字段）"},
        (),
        "error",
        "{字段} 至少应有 {min_items} 条明细",
        '{"orderList": []}',
    ),
    # input-shape rules the engine applies to every data set
    Rule(
        "not_object",
        "记录应为对象（字典）",
        "input",
        {},
        (),
        "error",
        "第 N 条记录不是对象（字典），而是 …；请检查数据文件每行是否为一个 JSON 对象",
        '["a", "b"]',
    ),
    Rule(
        "unknown_field",
        "规范中没有的字段",
        "input",
        {},
        (),
        "warning",
        "字段 {列名} 不在数据集 {数据集} 的规范中，平台会忽略；是否拼写错误（相近：…）",
        '{"patientname": "张*"}',
    ),
    Rule(
        "whitespace",
        "值前后有空格",
        "input",
        {},
        (),
        "warning",
        "{字段} 的值前后有空格，平台按原样比较，请去掉空格",
        '{"deptName": " 内科"}',
    ),
]:
    _register(_r)


# ------------------------------------------------------------------------- cross-record rules
for _r in [
    Rule(
        "duplicate_key",
        "同一批内业务主键不重复",
        "cross",
        {"key": "数据集属性 key（业务主键）；明细按所属记录内的 key"},
        (),
        "error",
        "业务主键 {key} 与第 N 行重复（数据集按 {主键字段} 去重），同一业务只能上传一次",
        "两条记录 recipeID 都是 CF001",
    ),
    Rule(
        "reference",
        "引用的记录存在（同批、参考集或平台已接收）",
        "cross",
        {
            "fields": "{本字段: 目标字段}",
            "datasets": "被引用的数据集（任一）",
            "where": "batch（同批）| accepted（已接收/参考集）| any",
        },
        (),
        "error",
        "{字段} = X 在 在线复诊（revisit）中找不到：请先上传被引用的记录，或核对编号",
        "处方 bussID 指向不存在的复诊",
    ),
    Rule(
        "already_accepted",
        "业务主键未被平台接收过（防重复上传）",
        "cross",
        {"lookup": "check(..., lookup=…) 提供时执行"},
        (),
        "error",
        "业务主键 {key} 已被平台接收，重复上传会被判为重复数据；如需更正请按平台的更新方式上传",
        "再次上传已接收的处方",
    ),
]:
    _register(_r)


# --------------------------------------------------------------------------------- docs table
def rules_markdown() -> str:
    """The documentation table of every rule (docs/rules.md is this text)."""
    kinds = [
        ("field", "字段规则（由规范字段属性隐含）"),
        ("record", "记录规则（规范 rules: 按 id 引用）"),
        ("cross", "跨记录规则"),
        ("input", "输入形状规则（引擎对所有数据集执行）"),
    ]
    out = [
        "# 校验规则一览 (rule ids)",
        "",
        "由 `hlwjr.validation._rules.rules_markdown()` 生成；`tests/test_validate_rules.py` 保证本表与规则库一致。",
        "规则 id 稳定，可在规范 YAML 中引用，并出现在校验报告的 `rule` 列。",
        "",
        "级别：error = 强制校验（平台会拒收该记录）；warning = 建议修正。规范中的 `severity` 可覆盖默认级别。",
        "",
        "## 引擎约定（输入如何理解）",
        "",
        "- **缺失、null、空字符串**：`required` 把缺失、JSON null、空字符串和全空白字符串都算作“空”。"
        "可选字段传 JSON null 报 `type`（无值请省略字段）。DataFrame 中 NaN / None / pd.NA 都是“缺失”。",
        "- **不修改数据**：校验器从不去空格、不转全角、不改类型。前后空格、全角数字由 `pattern` / `code_set` / "
        "`id_number` 报告并给出提示，其余文本字段报 `whitespace` 警告。",
        "- **日期**：`date` 为 `YYYY-MM-DD`、`datetime` 为 `YYYY-MM-DD HH:MM:SS`，且必须是真实日期时间（无 2月30日"
        "、24点）。"
        "datetime64 列和 `datetime`/`date` 对象会按上述格式接受；日期字段中的数字报错，并换算出它作为 Excel 日期序"
        "列号代表的日期。",
        '- **类型**：整数字段接受 1 和 1.0，不接受 true、"1"、1.5；文本字段中的数字报 `type`（提示按文本读取以保留'
        "前导零）。",
        "- **正则**：`pattern` 按 ECMA-262 语义（JSON Schema 规定）执行：`$` 不匹配末尾换行前的位置，`\\d` 只匹配半"
        "角数字。",
        "- **身份证**：`id_number` / `id_birth_sex` 只对证件类型为居民身份证（默认 `01`、`1`）或未填证件类型的记录"
        "执行；"
        "出生日期须在 1890 年至今天之间。",
        "- **明细（数组字段）**：展开为子表逐行校验；问题记在父记录的行号上，`field` 为 `orderList.dosage`，"
        "`path` 为 `orderList[2].dosage`。",
        "- **引用**：需要被引用的数据（同批的其他数据集、`accepted` 参考集或 `lookup` 已接收查询）；"
        "都没有时只给一条警告，说明未检查。",
        "- **脱敏**：报告中的值和业务主键按字段脱敏（身份证号、电话、姓名）。",
        "",
    ]
    for kind, title in kinds:
        out += [
            f"## {title}",
            "",
            "| 规则 id | 检查内容 | 参数 | 默认级别 | 提示信息（模板） | 不通过的例子 |",
            "|---|---|---|---|---|---|",
        ]
        for r in RULES.values():
            if r.kind != kind:
                continue
            params = (
                "<br>".join(f"`{k}`{'（必填）' if k in r.required_params else ''}: {v}" for k, v in r.params.items())
                or "—"
            )
            cell = lambda s: s.replace("|", "\\|").replace("\n", " ")
            out.append(
                f"| `{r.id}` | {cell(r.title)} | {cell(params)} | {r.severity} | {cell(r.message)} | "
                f"`{cell(r.example)}` |"
            )
        out.append("")
    return "\n".join(out)
