"""What an import found, for the analyst: issues with table and row (:class:`ImportIssue`), the
report (:class:`ImportReport`: shape per data set, items to review, review.yaml, profile draft) and
the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------------------------
# report


@dataclass(frozen=True)
class ImportIssue:
    """One cell (or table) of the document that could not be (fully) interpreted.

    ``severity`` is ``"error"`` when the cell's content did not make it into the spec as written
    (a guess was made or it was left out), ``"warning"`` when it was interpreted but should be
    checked, ``"info"`` for a note (e.g. a conditional requirement to be written as a rule).
    """

    table: str
    row: int | None
    column: str | None
    value: str | None
    message: str
    severity: str = "warning"
    dataset: str | None = None
    field: str | None = None

    def where(self) -> str:
        parts = [self.table]
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(f"列「{self.column}」")
        return " ".join(parts)

    def __str__(self) -> str:
        level = {"error": "错误", "warning": "警告", "info": "提示"}.get(self.severity, self.severity)
        value = f"（内容: {self.value}）" if self.value else ""
        return f"[{level}] {self.where()}: {self.message}{value}"


@dataclass
class ImportReport:
    """What :func:`import_spec` found in a document (导入报告): data sets, code sets, issues."""

    source: str
    datasets: list[dict] = dc_field(default_factory=list)
    code_sets: list[dict] = dc_field(default_factory=list)
    issues: list[ImportIssue] = dc_field(default_factory=list)
    tables: int = 0
    return_codes: list[tuple[str, str]] = dc_field(default_factory=list)  # (code, meaning) of 返回码 tables
    request_headers: list[str] = dc_field(default_factory=list)  # X-Ca-Key … of the request-header table

    def profile_draft(self) -> str:
        """A platform profile drafted from the return-code and request-header tables (for review)."""
        import yaml

        codes: dict[str, list] = {}
        for code, meaning in self.return_codes:
            codes.setdefault(_code_meaning(meaning), []).append(int(code) if re.fullmatch(r"-?\d+", code) else code)
        success = codes.pop("success", [])
        draft = {
            "kind": "hlwjr/platform",
            "version": 1,
            "draft": True,
            "id": "draft",
            "name": f"由 {self.source} 起草的平台配置（待核对）",
            "request_headers": list(dict.fromkeys(self.request_headers)),
            "response": {"success_codes": success, "codes": codes},
        }
        head = "# 草稿：由接口文档的返回码表和请求头表生成，请逐项核对后再使用（token/upload 路径需补充）\n"
        return head + yaml.safe_dump(draft, allow_unicode=True, sort_keys=False)

    @property
    def errors(self) -> list[ImportIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[ImportIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when every cell was interpreted (warnings and notes may remain)."""
        return not self.errors

    @property
    def review_items(self) -> list[ImportIssue]:
        """What an analyst must look at: every error and warning, and every note that asks for a check."""
        return [i for i in self.issues if i.severity != "info" or "请核对" in i.message]

    def review_yaml(self) -> str:
        """The review items as YAML (``review.yaml`` beside the spec), each with table and row."""
        import yaml

        keys = ("severity", "table", "row", "column", "value", "dataset", "field", "message")
        items = [{k: getattr(i, k) for k in keys if getattr(i, k) is not None} for i in self.review_items]
        return yaml.safe_dump({"source": self.source, "items": items}, allow_unicode=True, sort_keys=False)

    @property
    def n_fields(self) -> int:
        return sum(d["fields"] for d in self.datasets)

    def to_frame(self):
        """The issues as a DataFrame (columns table,row,column,value,severity,dataset,field,message)."""
        import pandas as pd

        cols = ["table", "row", "column", "value", "severity", "dataset", "field", "message"]
        return pd.DataFrame([{c: getattr(i, c) for c in cols} for i in self.issues], columns=cols)

    def datasets_frame(self):
        import pandas as pd

        return pd.DataFrame(self.datasets, columns=["code", "name", "section", "fields", "key", "parent", "table"])

    def code_sets_frame(self):
        import pandas as pd

        return pd.DataFrame(self.code_sets, columns=["id", "name", "origin", "codes", "table"])

    def to_text(self) -> str:
        lines = [
            f"导入报告: {self.source}",
            f"  表格 {self.tables} 个；数据集 {len(self.datasets)} 个，字段 {self.n_fields} 个；"
            f"值域 {len(self.code_sets)} 个；无法解析 {len(self.errors)} 处，警告 {len(self.warnings)} 处",
            "",
            "数据集:",
        ]
        for d in self.datasets:
            sec = f"{d['section']} " if d.get("section") else ""
            parent = f"，属于 {d['parent']}" if d.get("parent") else ""
            key = ", ".join(d.get("key") or []) or "（未给出）"
            lines.append(
                f"  {sec}{d['name']} [{d['code']}] 字段 {d['fields']} 个，业务主键: {key}{parent}  ← {d['table']}"
            )
            shape = _dataset_shape(d)
            if shape:
                lines.append(f"      {shape}")
        if self.code_sets:
            lines += ["", "值域（代码表）:"]
            for c in self.code_sets:
                lines.append(f"  {c['id']} {c['name']}：{c['codes']} 个代码（{c['origin']}）  ← {c['table']}")
        if self.issues:
            lines += ["", "需要核对的单元格:"]
            order = {"error": 0, "warning": 1, "info": 2}
            for i in sorted(self.issues, key=lambda i: order.get(i.severity, 3)):
                lines.append(f"  {i}")
        return "\n".join(lines)

    __str__ = to_text

    def _repr_html_(self) -> str:  # Jupyter: the summary, then the cells to check
        import html

        head = (
            f"<p><b>导入报告</b> {html.escape(self.source)}：数据集 {len(self.datasets)} 个，字段 {self.n_fields} 个，"
            f"值域 {len(self.code_sets)} 个；无法解析 {len(self.errors)} 处，警告 {len(self.warnings)} 处</p>"
        )
        parts = [head, self.datasets_frame().to_html(index=False)]
        if self.issues:
            parts += ["<p><b>需要核对的单元格</b></p>", self.to_frame().to_html(index=False)]
        return "\n".join(parts)


def _dataset_shape(d: dict) -> str:
    """方法 uploadRecipe；子列表 orderList；值域字段 3 个；条件必填 rationalResult；待核对 2 处."""
    parts = []
    if d.get("method"):
        parts.append(f"方法 {d['method']}")
    if d.get("lists"):
        parts.append(f"子列表 {'、'.join(d['lists'])}")
    if d.get("code_sets"):
        parts.append(f"值域字段 {d['code_sets']} 个")
    if d.get("conditional"):
        parts.append(f"条件必填 {'、'.join(d['conditional'])}")
    if d.get("review"):
        parts.append(f"待核对 {d['review']} 处")
    return "；".join(parts)


def _code_meaning(meaning: str) -> str:
    """success / token_expired / auth / busy / rejected, by the words of a return code's meaning."""
    m = meaning.lower()
    if re.search(r"成功|正常|^ok$|success", m):
        return "success"
    if re.search(r"(?:token|令牌|凭证).*(?:过期|失效)|(?:过期|失效).*(?:token|令牌)", m):
        return "token_expired"
    if re.search(r"签名|认证|授权|鉴权|token|令牌|密钥|appid|appkey|无权限|ca-key", m):
        return "auth"
    if re.search(r"繁忙|忙|重试|超时|限流|频繁|稍后|系统异常|服务异常|内部错误", m):
        return "busy"
    return "rejected"


@dataclass
class ImportResult:
    """The outcome of :func:`import_spec`: the loaded :class:`~hlwjr.Spec`, the report, the directory."""

    spec: Any
    report: ImportReport
    out_dir: Path | None = None
