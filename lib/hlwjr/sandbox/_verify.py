"""The verification log (验证日志) and the "may apply" verdict (是否达到接入申请条件).

Per natural day (Asia/Shanghai, sandbox clock) and data set: uploaded (上传条数), success (成功),
failed (失败), duplicate (重复), success rate (成功率) and whether the day meets the rule
(当日达标).  The verdict: the streak of consecutive qualifying days (连续达标天数) and whether the
hospital may submit its access application (可提交接入申请).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections import defaultdict

from ._settings import VerifyRule

__all__ = ["compute_verify_log"]


def _counts() -> dict:
    return {"uploaded": 0, "success": 0, "failed": 0, "duplicate": 0}


def _rate(c: dict, rule: VerifyRule) -> float:
    """成功率: success / uploaded (duplicates left out of both when the rule allows them)."""
    base = c["uploaded"] - (c["duplicate"] if rule.allow_duplicates else 0)
    return c["success"] / base if base else 0.0


def _judge(c: dict, rule: VerifyRule) -> tuple[bool, list[str]]:
    reasons = []
    if c["uploaded"] < rule.min_daily_records:
        reasons.append(f"上传 {c['uploaded']} 条，少于每日 {rule.min_daily_records} 条")
    rate = _rate(c, rule)
    if c["uploaded"] and rate + 1e-12 < rule.min_success_rate:
        reasons.append(f"成功率 {rate:.1%}，未达 {rule.min_success_rate:.0%}（失败 {c['failed']} 条）")
    if c["duplicate"] and not rule.allow_duplicates:
        reasons.append(f"有 {c['duplicate']} 条重复数据（数据不得重复）")
    return not reasons, reasons


def _row(c: dict, rule: VerifyRule) -> dict:
    ok, reasons = _judge(c, rule)
    rate = _rate(c, rule)
    return {**c, "success_rate": round(rate, 4), "qualifies": ok, "reasons": reasons}


def _streaks(days: list[str]) -> list[tuple[str, str, int]]:
    """Runs of consecutive calendar days in a sorted list → (first, last, length)."""
    runs: list[tuple[str, str, int]] = []
    prev = None
    for d in days:
        cur = _dt.date.fromisoformat(d)
        if prev is not None and cur - prev == _dt.timedelta(days=1):
            first, _, n = runs[-1]
            runs[-1] = (first, d, n + 1)
        else:
            runs.append((d, d, 1))
        prev = cur
    return runs


def _streak_summary(qualifying: list[str], today: str) -> dict:
    runs = _streaks(sorted(qualifying))
    best = max(runs, key=lambda r: (r[2], r[1]), default=None)
    yesterday = (_dt.date.fromisoformat(today) - _dt.timedelta(days=1)).isoformat()
    current = next((r for r in reversed(runs) if r[1] in (today, yesterday)), None)
    return {
        "streak": current[2] if current else 0,
        "streak_from": current[0] if current else None,
        "streak_to": current[1] if current else None,
        "best_streak": best[2] if best else 0,
        "best_from": best[0] if best else None,
        "best_to": best[1] if best else None,
    }


def compute_verify_log(
    rows: list[tuple[str, str, str, int]],
    rule: VerifyRule,
    *,
    today: str,
    dataset_names: dict[str, str] | None = None,
) -> dict:
    """Roll ``(day, dataset, status, count)`` rows up into the 验证日志 and its verdict.

    ``streak`` is the current run of qualifying days (ending today or yesterday — today may still
    be in progress); ``best_streak`` the longest run; ``may_apply`` is True once a run reached
    ``rule.consecutive_days`` (per data set when ``rule.per_dataset``).
    """
    names = dataset_names or {}
    per: dict[str, dict[str, dict]] = defaultdict(lambda: defaultdict(_counts))
    for day, ds, status, n in rows:
        c = per[day][ds]
        c["uploaded"] += n
        key = {"ok": "success", "fail": "failed", "duplicate": "duplicate"}.get(status)
        if key:
            c[key] += n
    days_out = []
    qualifying_total: list[str] = []
    qualifying_ds: dict[str, list[str]] = defaultdict(list)
    seen_ds: set[str] = set()
    # In total mode a data set's own row is judged on quality only (the volume counts in total).
    ds_rule = rule if rule.per_dataset else dataclasses.replace(rule, min_daily_records=0)
    for day in sorted(per):
        total = _counts()
        ds_rows = []
        for ds in sorted(per[day]):
            c = per[day][ds]
            seen_ds.add(ds)
            for k in total:
                total[k] += c[k]
            r = _row(c, ds_rule)
            if r["qualifies"]:
                qualifying_ds[ds].append(day)
            ds_rows.append({"dataset": ds, "name": names.get(ds, ds), **r})
        day_row = {"date": day, **_row(total, rule), "datasets": ds_rows}
        if rule.per_dataset:
            scope = rule.required_datasets or tuple(sorted(seen_ds))
            missing = [d for d in scope if d not in {r["dataset"] for r in ds_rows if r["qualifies"]}]
            day_row["qualifies"] = not missing
            day_row["reasons"] = [f"数据集 {names.get(d, d)}（{d}）当日未达标" for d in missing]
        if day_row["qualifies"]:
            qualifying_total.append(day)
        days_out.append(day_row)

    need = rule.consecutive_days
    result: dict = {"rule": rule.as_dict(), "today": today, "days": days_out}
    reasons: list[str] = []
    if rule.per_dataset:
        scope = list(rule.required_datasets) or sorted(seen_ds)
        by_ds = {}
        for ds in scope:
            s = _streak_summary(qualifying_ds.get(ds, []), today)
            s["may_apply"] = s["best_streak"] >= need
            s["name"] = names.get(ds, ds)
            by_ds[ds] = s
            if not s["may_apply"]:
                reasons.append(
                    f"数据集 {names.get(ds, ds)}（{ds}）最长连续达标 {s['best_streak']} 天，需至少 {need} 天"
                )
        result["datasets"] = by_ds
        overall = _streak_summary(qualifying_total, today)
        may_apply = bool(scope) and all(s["may_apply"] for s in by_ds.values())
        if not scope:
            reasons.append("尚无任何上传记录")
    else:
        overall = _streak_summary(qualifying_total, today)
        may_apply = overall["best_streak"] >= need
        if not may_apply:
            reasons.append(f"最长连续达标 {overall['best_streak']} 天，需至少连续 {need} 天")
    if not may_apply:
        failing = [d for d in days_out if not d["qualifies"]]
        if failing:
            last = failing[-1]
            reasons.append(f"{last['date']} 未达标：" + "；".join(last["reasons"] or ["见各数据集"]))
    result.update(overall)
    result["may_apply"] = may_apply
    result["verdict"] = (
        f"已连续 {overall['best_streak']} 天达标，可以提交接入申请"
        if may_apply and not rule.per_dataset
        else "各数据集均已连续达标，可以提交接入申请"
        if may_apply
        else "尚未达到接入申请条件"
    )
    result["reasons"] = reasons
    return result
