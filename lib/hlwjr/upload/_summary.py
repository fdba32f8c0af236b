"""What an upload run did, per data set and in total (上传汇总), for the terminal, notebooks and scripts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._privacy import mask_value
from .._text import display_width, pad

# --------------------------------------------------------------------------- summaries


@dataclass
class DatasetSummary:
    """What happened to one data set in one run (数据集上传小结)."""

    dataset: str
    name: str = ""
    mapped: int = 0  # records produced by the mapping (指标对照)
    mapping_rejected: int = 0  # rows the mapping could not turn into records
    invalid: int = 0  # held back: failed pre-flight validation (强制校验)
    already_accepted: int = 0  # skipped: accepted earlier, unchanged
    changed: int = 0  # accepted earlier but content changed: reported, not re-sent
    updated: int = 0  # … sent again as a correction (``update=True``, platform allows it)
    previously_rejected: int = 0  # rejected earlier with the same content: fix the data first
    not_planned: int = 0  # valid, beyond today's quota + margin (test phase)
    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicate: int = 0
    batches: int = 0
    signed_in: int = 0  # daily sign-ins sent (每日签到: an empty call on a day without records)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class UploadSummary:
    """The result of :func:`run_upload` (上传小结): per data set counts, the records held back with
    their problems, the platform's rejections with reasons, and notes."""

    date: str | None
    platform_day: str
    dry_run: bool
    datasets: dict[str, DatasetSummary] = field(default_factory=dict)
    recovered: int = 0  # records resolved by replaying unanswered batches
    problems: Any = None  # DataFrame of pre-flight problems of held-back records
    rejections: list[dict[str, Any]] = field(default_factory=list)  # platform rejections
    changed: list[dict[str, Any]] = field(default_factory=list)  # accepted, changed since
    notes: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    mapping_rejections: Any = None  # DataFrame of source rows the mapping could not map
    retries: int = 0  # requests tried again (network, platform busy), from the run log
    gave_up: list[str] = field(default_factory=list)  # requests given up after every retry
    run_log: Any = None  # Path of this run's log (<work_dir>/logs/upload-….jsonl)

    def total(self, attr: str) -> int:
        return sum(getattr(d, attr) for d in self.datasets.values())

    @property
    def ok(self) -> bool:
        """Nothing rejected or duplicated by the platform in this run."""
        return self.total("rejected") == 0 and self.total("duplicate") == 0

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([d.as_dict() for d in self.datasets.values()])

    def _repr_html_(self) -> str:  # notebooks
        import html

        parts = [
            f"<p><b>{'预演（未发送）' if self.dry_run else '上传'}</b>：业务日期 "
            f"{html.escape(str(self.date or '全部'))}，"
            f"平台日 {html.escape(self.platform_day)}，用时 {self.elapsed:.1f} 秒</p>",
            self.to_frame().to_html(index=False),
        ]
        if self.problems is not None and len(self.problems):
            parts.append(
                f"<p>暂缓 {self.total('invalid')} 条（问题 {len(self.problems)} 个，见 <code>.problems</code>）</p>"
            )
        if self.rejections:
            parts.append(f"<p>平台拒收 {len(self.rejections)} 条（见 <code>.rejections</code>）</p>")
        parts += [f"<p>注意: {html.escape(n)}</p>" for n in self.notes]
        return "\n".join(parts)

    def to_text(self) -> str:
        head = "预演（dry run，未发送）" if self.dry_run else "上传"
        lines = [f"{head}：业务日期 {self.date or '全部'}，平台日 {self.platform_day}"]
        if self.recovered:
            lines.append(f"  已重放上次未确认的批次，解决 {self.recovered} 条记录（同一批次号，未产生重复）")
        if self.retries or self.gave_up:
            lines.append(
                f"  重试 {self.retries} 次（网络中断或平台繁忙后自动再试）"
                + (f"，放弃 {len(self.gave_up)} 次：{self.gave_up[-1]}" if self.gave_up else "")
                + (f"；详见运行日志 {self.run_log}" if self.run_log else "")
            )
        cols = [
            ("mapped", "映射"),
            ("mapping_rejected", "映射拒绝"),
            ("invalid", "暂缓"),
            ("already_accepted", "已接收跳过"),
            ("not_planned", "未排入"),
            ("sent", "发送"),
            ("accepted", "成功"),
            ("rejected", "拒收"),
            ("duplicate", "重复"),
        ]
        widths = [max(display_width(zh), 6) + 2 for _, zh in cols]
        name_w = (
            max([display_width("数据集")] + [display_width(f"{d.dataset} {d.name}") for d in self.datasets.values()])
            + 2
        )
        lines.append("  " + pad("数据集", name_w) + "".join(pad(zh, w, right=True) for (_, zh), w in zip(cols, widths)))
        for d in self.datasets.values():
            lines.append(
                "  "
                + pad(f"{d.dataset} {d.name}", name_w)
                + "".join(pad(str(getattr(d, a)), w, right=True) for (a, _), w in zip(cols, widths))
            )
        lines.append(
            "  "
            + pad("合计", name_w)
            + "".join(pad(str(self.total(a)), w, right=True) for (a, _), w in zip(cols, widths))
        )
        lines.append(
            "  （暂缓 = 未通过强制校验，未发送；未排入 = 合格但超出今天的计划量，留待以后；已接收跳过 = 平台已接收"
            "，不重发）"
        )
        if self.problems is not None and len(self.problems):
            lines.append(
                f"  暂缓 {self.total('invalid')} 条校验未通过的记录（问题 {len(self.problems)} 个），按数据集/字段"
                "/规则汇总："
            )
            g = (
                self.problems.groupby(["dataset", "field", "rule"], dropna=False, sort=False)
                .agg(n=("message", "size"), key=("key", "first"), message=("message", "first"))
                .sort_values("n", ascending=False, kind="stable")
                .reset_index()
            )
            for r in g.head(12).itertuples(index=False):
                field_ = "" if r.field is None or r.field != r.field else r.field
                lines.append(f"    - [{r.dataset}] {field_} {r.rule}: {r.n} 个，例如 {r.key}: {r.message}")
            if len(g) > 12:
                lines.append(f"    …… 共 {len(g)} 类问题；完整清单见 UploadSummary.problems 或 `hlwjr validate`")
        for r in self.rejections[:8]:  # keys may hold an ID-card number (医师 doctorCertID): masked
            lines.append(
                f"  平台拒收 [{r['dataset']}] {_masked(r['key'])} 批次 {r['batch_no']}: {_masked(r['reason'])}"
            )
        if len(self.rejections) > 8:
            lines.append(f"  …… 共 {len(self.rejections)} 条拒收，详见 `hlwjr readiness --format html`")
        for c in self.changed[:5]:
            lines.append(
                f"  注意 [{c['dataset']}] {_masked(c['key'])} 已被平台接收，但内容已变化：未重发"
                f"（确需更正且平台允许时，用 --update 重发）"
            )
        if len(self.changed) > 5:
            lines.append(f"  …… 共 {len(self.changed)} 条已接收记录内容有变化")
        if self.total("updated"):
            lines.append(f"  已作为更正重发 {self.total('updated')} 条已接收的记录")
        for n in self.notes:
            lines.append(f"  注意: {n}")
        lines.append(f"  用时 {self.elapsed:.1f} 秒")
        return "\n".join(lines)


def _masked(text: Any) -> str:
    """A business key or platform message for display: ID-card and phone numbers in it masked (脱敏)."""
    return mask_value(text) or ""
