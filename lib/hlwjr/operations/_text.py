"""Terminal text of a run record (运行小结)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._text import text_table

__all__ = ["run_text"]

_STATUS_ZH = {"ok": "正常", "problems": "有问题需处理", "failed": "未能运行"}
_COLS = (
    ("his_rows", "源数据"),
    ("waiting", "未终态"),
    ("mapped", "映射"),
    ("mapping_rejected", "映射拒绝"),
    ("invalid", "暂缓"),
    ("already_accepted", "已接收跳过"),
    ("sent", "发送"),
    ("accepted", "成功"),
    ("rejected", "拒收"),
    ("duplicate", "重复"),
)


def run_text(record: dict[str, Any], path: Path | None = None) -> str:
    head = {"run": "日常运行", "backfill": "补采", "resend": "重发"}.get(record["kind"], record["kind"])
    lines = [
        f"{head}：业务日期 {record['business_day']}（窗口 {record['window'][0]} ~ {record['window'][-1]}），"
        f"{_STATUS_ZH[record['status']]}，退出码 {record['exit_code']}"
    ]
    if record["error"]:
        lines.append(f"  错误: {record['error']}（未上报的记录没有标记为已发送，下次运行会重新采集）")
    if record["datasets"]:
        rows = [
            [r["day"] or "主数据", f"{r['dataset']} {r.get('name') or ''}".strip()]
            + [str(r.get(k, 0)) for k, _ in _COLS]
            for r in record["datasets"]
        ]
        rows.append(["合计", ""] + [str(record["totals"].get(k, 0)) for k, _ in _COLS])
        table = text_table(["业务日期", "数据集", *(zh for _, zh in _COLS)], rows)
        lines += ["  " + line for line in table.splitlines()]
    if record["retries"]:
        lines.append(f"  重试 {record['retries']} 次（网络或平台繁忙，已自动重试）")
    for r in record["refused"][:10]:
        lines.append(f"  平台拒收 [{r['dataset']}] {r['key']}: {r['reason']}")
    if record["n_refused"]:
        lines.append(
            f"  共 {record['n_refused']} 条拒收：`hlwjr refused` 查看，修正源数据后 `hlwjr resend --refused` 重发"
        )
    for b in record["unconfirmed"][:10]:
        lines.append(f"  未确认批次 {b['batch_no']}（{b['dataset']}，{b['n']} 条）：下次运行时重放或人工核对")
    for c in record["changed"][:5]:
        lines.append(f"  已接收但内容已变化 [{c['dataset']}] {c['key']}：未重发")
    for u in record["unaccounted"][:10]:
        lines.append(f"  对账: [{u['dataset']}] {u['key']} 已映射，但既未发送也未暂缓")
    for u in record.get("not_in_source", [])[:10]:
        lines.append(
            f"  对账: [{u['dataset']}] {u['key']} 已上报（业务日期 {u['day']}），但源数据中已不存在（删除或改期？）"
        )
    for m in (record.get("platform_check") or {}).get("mismatches", [])[:10]:
        lines.append(f"  对账: {m['message']} {'、'.join(m['keys'][:5])}")
    if record["source_empty"]:
        lines.append("  源数据为空：窗口内没有任何业务记录，请检查 HIS 导出或数据库是否已更新")
    for n in record["notes"]:
        lines.append(f"  注意: {n}")
    for a in record["alerts"]:
        lines.append(f"  告警（{a['channel']}）: {'已发送' if a['ok'] else a['error']}")
    if path is not None:
        lines.append(f"  运行记录: {path}")
    return "\n".join(lines)


_STATUS_COLS = (
    ("his_rows", "源数据"),
    ("waiting", "未终态"),
    ("mapped", "映射"),
    ("invalid", "暂缓"),
    ("sent", "发送"),
    ("accepted", "成功"),
    ("refused", "拒收"),
    ("pending", "待确认"),
)


def _cell(v: Any) -> str:
    return "-" if v is None else str(v)


def status_text(st) -> str:
    """``hlwjr status`` in the terminal: the day × data set table, the last runs, reconciliation."""
    lines = [f"运行状态：业务日期 {st.first} ~ {st.last}"]
    if not st.rows:
        lines.append("  这段时间没有运行记录，台账中也没有记录（还没有运行过 `hlwjr run`？）")
    else:
        rows = [
            [r["day"], r["dataset"]]
            + [_cell(r.get(k)) for k, _ in _STATUS_COLS]
            + [
                "-" if r["success_rate"] is None else f"{r['success_rate']:.1%}",
                f"{r['last_run'] or '-'} {_STATUS_ZH.get(r['last_status'], '')}".strip(),
            ]
            for r in st.rows
        ]
        table = text_table(["业务日期", "数据集", *(zh for _, zh in _STATUS_COLS), "成功率", "最近运行"], rows)
        lines += ["  " + line for line in table.splitlines()]
        lines.append(
            "  （源数据/未终态/映射/暂缓 = 该日最近一次运行时的情况；发送/成功/拒收/待确认 = 台账中的当前状态）"
        )
    if st.runs:
        lines.append("  最近的运行：")
        for r in st.runs[:5]:
            err = f"：{r['error']}" if r.get("error") else ""
            lines.append(
                f"    {r['started']} {r['kind']} 业务日期 {r['business_day']} "
                f"{_STATUS_ZH.get(r['status'], r['status'])}（成功 {r['accepted']}，拒收 {r['refused']}）{err}"
            )
    if st.platform and st.platform != "ok":
        lines.append(f"  平台核对: {st.platform}")
    if st.mismatches:
        lines.append(f"  对账不一致 {len(st.mismatches)} 处：")
        for m in st.mismatches[:20]:
            keys = f"（{'、'.join(m['keys'][:5])}{' 等' if len(m['keys']) > 5 else ''}）" if m["keys"] else ""
            lines.append(f"    - {m['message']}{keys}")
    else:
        lines.append("  对账一致" + ("（含平台验证日志）" if st.platform == "ok" else ""))
    return "\n".join(lines)
