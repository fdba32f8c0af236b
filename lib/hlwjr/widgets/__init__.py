"""Widgets of the analyst's workbench (工作台交互控件), built from stock ipywidgets.

* :class:`MappingEditor` — 字段对照: one row per spec field, ranked column suggestions, rule
  options, review status, live preview with validation status, progress, Save to ``mapping/``;
* :class:`CodeMapEditor` — 值域对照: local values with frequencies beside suggested standard codes,
  saved as the code map CSV, unmapped values highlighted;
* :class:`ValidationReport` — 校验报告: the problems table with filters, counts by rule as a bar
  chart, drill-down to the masked records;
* :class:`UploadPanel` — 测试上传: the day's upload with a progress bar and live counts;
* :class:`ReadinessDashboard` — 达标: streak calendar, per-day table, today's gap, evidence pack;
* :class:`OperationsPanel` — 日常运行: status of the last weeks, the refused list filtered by data
  set/day/rule, a refused record (masked) with the platform's message and its mapping rule, mark
  fixed, resend.

Every widget is an ipywidgets container (display it as the last line of a cell), reacts through
``observe(..., names="value")``, and shows callback errors in its ``errors`` Output as a readable
Chinese message (``last_error`` keeps the exception) — never silently.
"""

from __future__ import annotations

from ._base import guarded
from ._code_map_editor import CodeMapEditor
from ._mapping_editor import MappingEditor
from ._operations_panel import OperationsPanel
from ._readiness_dashboard import ReadinessDashboard
from ._upload_panel import UploadPanel
from ._validation_report import ValidationReport

__all__ = [
    "CodeMapEditor",
    "MappingEditor",
    "OperationsPanel",
    "ReadinessDashboard",
    "UploadPanel",
    "ValidationReport",
    "guarded",
]
