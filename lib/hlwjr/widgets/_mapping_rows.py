"""The MappingEditor's vocabulary: rule kinds and review states offered, parameter help, the widgets
of one field row (:class:`FieldRow`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ipywidgets as widgets

from .._exceptions import MappingError
from ..sources._profile import DATE_FORMATS

#: the rule kinds an analyst picks from (label, kind); "other" keeps a YAML-only rule (concat, children)
RULE_KIND_OPTIONS = [
    ("取列 column", "column"),
    ("日期格式 date", "date"),
    ("值域对照 code map", "code"),
    ("常量 constant", "const"),
    ("派生 derived", "derive"),
    ("无法提供 n/a", "unavailable"),
    ("其他（YAML 中配置）", "other"),
]


REVIEW_OPTIONS = [("待审", "suggested"), ("✓ 通过", "accepted"), ("✗ 拒绝", "rejected")]


_NONE = ""  # the "no column" choice


def _date_formats(field_type: str) -> list[str]:
    """The known source date formats (``hlwjr.sources._profile.DATE_FORMATS``, the one list), those
    of the field's own kind (date / date-time) first."""
    own = "date" if field_type == "date" else "datetime"
    return [f for _p, f, k in DATE_FORMATS if k == own] + [f for _p, f, k in DATE_FORMATS if k != own]


_PARAM_HELP = {
    "column": "",
    "date": "源日期格式，如 %Y%m%d%H%M%S",
    "code": "值域对照表名，如 sex（新名称 = 新建对照表）",
    "const": "常量值",
    "derive": "函数(列, …)，如 age_from_id(SFZH, SQSJ)",
    "unavailable": "无法提供的原因",
    "other": "在 YAML 中编辑",
}


_TYPE_ZH = {
    "string": "文本",
    "integer": "整数",
    "decimal": "数值",
    "date": "日期",
    "datetime": "日期时间",
    "array": "明细数组",
}


#: what the editor can show (筛选): label → value
SHOW_OPTIONS = [
    ("全部", "all"),
    ("必填", "required"),
    ("未对照", "unmapped"),
    ("未通过", "failing"),
    ("待审核", "unreviewed"),
]


@dataclass
class FieldRow:
    """The widgets of one spec field's row: ``column`` (Dropdown), ``kind`` (Dropdown), ``param``
    (Combobox), ``review`` (ToggleButtons), ``status`` (HTML: validation status in the preview)."""

    key: str
    label: widgets.HTML
    column: widgets.Dropdown
    kind: widgets.Dropdown
    param: widgets.Combobox
    review: widgets.ToggleButtons
    status: widgets.HTML

    def widgets(self) -> list[widgets.Widget]:
        return [self.label, self.column, self.kind, self.param, self.review, self.status]


def _parse_derive(text: str) -> tuple[str, list[str]]:
    m = re.fullmatch(r"\s*([A-Za-z_][\w]*)\s*(?:\((.*)\)|[:：]\s*(.*))?\s*", text or "")
    if not m:
        raise MappingError(f"派生规则 {text!r} 看不懂：请写成 函数名(列1, 列2)，例如 age_from_id(SFZH, SQSJ)")
    args = m.group(2) if m.group(2) is not None else (m.group(3) or "")
    return m.group(1), [a.strip() for a in re.split(r"[,，]", args) if a.strip()]
