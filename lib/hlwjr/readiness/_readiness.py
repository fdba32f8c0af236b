"""Readiness (达标情况 / 能否申请): where the hospital stands against the acceptance rule — per
day (Asia/Shanghai) and data set: uploaded, accepted, rejected, duplicates, success rate, whether
the day qualifies, the current streak of qualifying days, what is still missing today
("还需 12 条成功记录"), and the verdict. When the platform offers a verification log (验证日志),
the ledger's numbers are compared with it and every disagreement is reported.

The evidence pack (达标证据包) — an HTML page and an Excel workbook — holds the per-day counts, the
acceptance log with batch numbers, masked sample records, the mapping and code maps with their
versions, and a chart of the streak.
"""

from __future__ import annotations

import html
import io
import json
import os
from dataclasses import dataclass, field
from datetime import date as _date
from datetime import timedelta
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError, HlwjrError
from .._text import pad as _pad
from ..upload._ledger import Ledger, now_shanghai
from ..upload._project import Thresholds
from ._frames import _empty_log, pack_frames

__all__ = ["Readiness", "compute_readiness"]

_COLS = ["day", "dataset", "uploaded", "accepted", "rejected", "duplicate", "success_rate", "qualifies", "reason"]


@dataclass
class Readiness:
    """The readiness verdict (达标结论) and everything behind it."""

    thresholds: Thresholds
    today: str
    per_day: Any  # DataFrame: day, dataset, uploaded, accepted, … (dataset "*" = day total)
    days: dict[str, dict[str, Any]]  # day -> {"qualifies": bool, "reasons": [...]}
    streak: int
    streak_days: list[str]
    may_apply: bool
    today_needed: dict[str, int]  # data set ("*" total) -> accepted records still needed today
    today_blocked: list[str]  # why today can no longer qualify
    required_datasets: tuple[str, ...]
    best_streak_days: list[str] = field(default_factory=list)  # the longest run of qualifying days
    platform: dict[str, Any] | None = None  # the platform's own verdict, when compared
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    sign_ins: dict[str, list[str]] = field(default_factory=dict)  # day -> data sets signed in (每日签到)

    @property
    def gap_text(self) -> str:
        """What is missing today, in words (今天还差什么)."""
        if self.today_blocked:
            return "；".join(self.today_blocked)
        need = {k: v for k, v in self.today_needed.items() if v > 0}
        if not need:
            return "今天已达标"
        if "*" in need:
            return f"今天还需 {need['*']} 条成功记录"
        return "今天还需：" + "，".join(f"{k} {v} 条" for k, v in need.items()) + "成功记录"

    @property
    def verdict(self) -> str:
        t = self.thresholds
        if self.may_apply:
            run = self.best_streak_days
            text = (
                f"可以申请：已连续 {len(run)} 天达标（{run[0]} 至 {run[-1]}），满足连续 {t.consecutive_days} 天的要求"
            )
        else:
            more = t.consecutive_days - self.streak
            text = f"尚不能申请：当前连续达标 {self.streak} 天，还需 {more} 天；{self.gap_text}"
        if self.disagreements:
            text += f"。注意：台账与平台验证日志有 {len(self.disagreements)} 处不一致，请先核对"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "today": self.today,
            "may_apply": self.may_apply,
            "verdict": self.verdict,
            "streak": self.streak,
            "streak_days": self.streak_days,
            "best_streak": len(self.best_streak_days),
            "best_streak_days": self.best_streak_days,
            "today_needed": self.today_needed,
            "today_blocked": self.today_blocked,
            "thresholds": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.thresholds.__dict__.items()},
            "required_datasets": list(self.required_datasets),
            "days": self.days,
            "per_day": json.loads(self.per_day.to_json(orient="records", force_ascii=False)),
            "platform": self.platform,
            "disagreements": self.disagreements,
            "sign_ins": self.sign_ins,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def to_text(self) -> str:
        t = self.thresholds
        rule = (
            f"规则：每天{'每个数据集' if t.per_dataset else '合计'} ≥ {t.min_records_per_day} 条"
            + "".join(f"（{c} ≥ {n} 条）" for c, n in t.min_records_by_dataset.items())
            + f"，成功率 ≥ {t.success_rate:.0%}，重复 ≤ {t.max_duplicates}，连续 {t.consecutive_days} 天"
        )
        lines = [f"达标情况（平台日 {self.today}）", "  " + rule]
        if len(self.per_day):
            lines.append(
                "  "
                + _pad("日期", 12)
                + _pad("数据集", 16)
                + "".join(_pad(h, 7, right=True) for h in ("上传", "成功", "拒收", "重复"))
                + _pad("成功率", 9, right=True)
                + "  达标"
            )
            for r in self.per_day.itertuples(index=False):
                label = "合计" if r.dataset == "*" else r.dataset
                lines.append(
                    "  "
                    + _pad(r.day, 12)
                    + _pad(label, 16)
                    + "".join(_pad(str(v), 7, right=True) for v in (r.uploaded, r.accepted, r.rejected, r.duplicate))
                    + _pad(f"{r.success_rate:.1%}", 9, right=True)
                    + f"  {'是' if r.qualifies else '否 ' + (r.reason or '')}"
                )
        else:
            lines.append("  台账中还没有任何上传记录")
        lines.append(
            f"  连续达标天数: {self.streak}" + (f"（{', '.join(self.streak_days)}）" if self.streak_days else "")
        )
        best = self.best_streak_days
        if len(best) > self.streak:  # the verdict rests on an earlier run: say which
            lines.append(f"  最长连续达标: {len(best)} 天（{best[0]} 至 {best[-1]}）")
        lines.append(f"  今天: {self.gap_text}")
        for day, datasets in sorted(self.sign_ins.items())[-7:]:
            lines.append(f"  每日签到 {day}: {', '.join(datasets)}（当天无记录，已发送空数组）")
        for d in self.disagreements:
            lines.append(f"  不一致: {d['message']}")
        if self.platform is not None and not self.disagreements:
            lines.append("  平台验证日志与台账一致")
        lines.append("结论: " + self.verdict)
        return "\n".join(lines)

    def _repr_html_(self) -> str:  # notebooks
        color = "#2e7d32" if self.may_apply else "#c62828"
        return (
            f"<p style='background:{color};color:white;padding:6px'>{html.escape(self.verdict)}</p>"
            f"<p>平台日 {html.escape(self.today)}；{html.escape(self.gap_text)}</p>"
            + pack_frames(self, _empty_log(), None, None, None)[0].to_html(
                index=False, formatters={"成功率": lambda v: f"{v:.1%}"}
            )
        )

    # evidence pack
    def chart_png(self) -> bytes:
        """A bar chart of accepted records per day with the quota line (达标趋势图)."""
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7, 3), dpi=100)
        ax = fig.add_subplot()
        totals = self.per_day[self.per_day["dataset"] == "*"] if len(self.per_day) else self.per_day
        days = list(totals["day"]) if len(totals) else []
        acc = list(totals["accepted"]) if len(totals) else []
        bad = [int(r + d) for r, d in zip(totals["rejected"], totals["duplicate"])] if len(totals) else []
        colors = ["#2e7d32" if self.days.get(d, {}).get("qualifies") else "#c62828" for d in days]
        x = range(len(days))
        ax.bar(x, acc, color=colors, label="成功")
        if any(bad):
            ax.bar(x, bad, bottom=acc, color="#ffb300", label="拒收/重复")
        if not self.thresholds.per_dataset:
            ax.axhline(self.thresholds.min_records_per_day, color="#555", linestyle="--", linewidth=1)
        ax.set_xticks(list(x), days, rotation=30, fontsize=7)
        font = _cjk_font()
        if font:  # Chinese labels only where a CJK font can draw them
            ax.set_title(f"连续达标 {self.streak}/{self.thresholds.consecutive_days} 天", fontsize=9, fontfamily=font)
            ax.set_ylabel("记录数", fontfamily=font)
            ax.legend(prop={"family": font, "size": 8}, loc="upper left")
        else:
            ax.set_title(f"streak {self.streak}/{self.thresholds.consecutive_days}", fontsize=9)
            ax.set_ylabel("records")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()


def _cjk_font() -> str | None:
    """The name of an installed font that draws Chinese (e.g. Debian's fonts-wqy-microhei), or None."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for path in (
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    ):
        if os.path.exists(path) and not any(f.fname == path for f in font_manager.fontManager.ttflist):
            try:  # installed after matplotlib built its font cache
                font_manager.fontManager.addfont(path)
                names = {f.name for f in font_manager.fontManager.ttflist}
            except (OSError, RuntimeError, ValueError):
                pass
    for name in (
        "WenQuanYi Micro Hei",
        "WenQuanYi Zen Hei",
        "Noto Sans CJK SC",
        "Noto Sans SC",
        "Source Han Sans SC",
        "Microsoft YaHei",
        "SimHei",
        "PingFang SC",
    ):
        if name in names:
            return name
    return None


# --------------------------------------------------------------------------- computation


def _platform_today(project) -> str | None:
    from ..upload._client import PlatformClient

    try:
        with PlatformClient.from_project(project) as client:
            now = client.server_now()
    except HlwjrError:
        return None
    return now[:10] if now else None


def compute_readiness(
    project_or_ledger,
    *,
    platform_log: Any = None,
    thresholds: Thresholds | None = None,
    today: str | None = None,
    datasets: tuple[str, ...] | None = None,
    ask_platform_clock: bool = True,
) -> Readiness:
    """Readiness (达标情况) from the ledger of a project (or a :class:`Ledger` / its path).

    ``platform_log``: the platform's verification log (验证日志) to compare with — the JSON of the
    sandbox's ``/verify-log``, or ``True`` to fetch it with the project's client; ``None`` skips
    the comparison. ``today`` (``YYYY-MM-DD``) defaults to the platform's clock when the profile
    knows one, else today in Asia/Shanghai. ``thresholds`` default to the project's.
    """
    import pandas as pd

    if today is not None:
        today = _check_day(today, "--today")
    project = None
    if isinstance(project_or_ledger, Ledger):
        ledger, own = project_or_ledger, False
    elif hasattr(project_or_ledger, "ledger_path"):
        project = project_or_ledger
        if not project.ledger_path.exists():
            raise ConfigError(
                f"还没有上传台账 {project.ledger_path}：请先运行 `hlwjr upload --config {project.root}`",
                where=str(project.config_file),
            )
        ledger, own = Ledger(project.ledger_path), True
    else:
        p = Path(project_or_ledger)
        if p.is_dir() or p.suffix == ".toml":
            from ..upload._project import load_project

            return compute_readiness(
                load_project(p),
                platform_log=platform_log,
                thresholds=thresholds,
                today=today,
                datasets=datasets,
                ask_platform_clock=ask_platform_clock,
            )
        ledger, own = Ledger(p), True
    try:
        t = thresholds or (project.readiness if project is not None else Thresholds())
        if platform_log is True:
            platform_log = _fetch_platform_log(project) if project is not None else None
        if today is None and isinstance(platform_log, dict) and platform_log.get("today"):
            today = _valid_day(str(platform_log["today"])[:10])
        if today is None and project is not None and ask_platform_clock:
            today = _valid_day(_platform_today(project))
        today = today or now_shanghai().strftime("%Y-%m-%d")
        events = ledger.events()
        sign_ins = ledger.sign_ins()
    finally:
        if own:
            ledger.close()

    required = tuple(datasets or t.required_datasets or (project.datasets if project is not None else ()))
    ev = pd.DataFrame(events, columns=["at", "platform_day", "dataset", "key", "hash", "batch_no", "status", "errors"])
    rows: list[dict[str, Any]] = []
    days: dict[str, dict[str, Any]] = {}
    ev = ev[ev["status"].isin(("accepted", "rejected", "duplicate"))]  # "refused" requests were not counted
    if len(ev):
        g = ev.groupby(["platform_day", "dataset"])["status"].value_counts().unstack(fill_value=0)
        for col in ("accepted", "rejected", "duplicate"):
            if col not in g.columns:
                g[col] = 0
        g = g.reset_index()
        for day, part in g.groupby("platform_day", sort=True):
            seen = set(part["dataset"])
            per = []
            for r in part.itertuples(index=False):
                per.append(
                    _row(
                        day,
                        r.dataset,
                        int(r.accepted),
                        int(r.rejected),
                        int(r.duplicate),
                        t,
                        check_volume=t.per_dataset,
                    )
                )
            if t.per_dataset:
                for code in required:
                    if code not in seen:
                        per.append(_row(day, code, 0, 0, 0, t, check_volume=True))
            total = _row(
                day,
                "*",
                int(part["accepted"].sum()),
                int(part["rejected"].sum()),
                int(part["duplicate"].sum()),
                t,
                check_volume=not t.per_dataset,
            )
            relevant = [r for r in per if not required or r["dataset"] in required] if t.per_dataset else []
            reasons = [f"{r['dataset']}: {r['reason']}" for r in relevant if not r["qualifies"]]
            if not t.per_dataset and not total["qualifies"]:
                reasons.append(total["reason"])
            if t.per_dataset:  # rejections in a data set outside the required list still break 100 %
                reasons += [
                    f"{r['dataset']}: {r['reason']}"
                    for r in per
                    if r not in relevant and (r["rejected"] or r["duplicate"] > t.max_duplicates)
                ]
                total["qualifies"] = not reasons
                total["reason"] = "；".join(reasons)
            rows.extend(sorted(per, key=lambda r: r["dataset"]))
            rows.append(total)
            days[day] = {"qualifies": not reasons, "reasons": reasons}
    per_day = pd.DataFrame(rows, columns=_COLS)

    # streak: consecutive qualifying calendar days ending today (or yesterday, today still open)
    def qualifies(d: str) -> bool:
        return days.get(d, {}).get("qualifies", False)

    end = _date.fromisoformat(today)
    if not qualifies(end.isoformat()):
        end = end - timedelta(days=1)
    streak_days: list[str] = []
    d = end
    while qualifies(d.isoformat()):
        streak_days.insert(0, d.isoformat())
        d -= timedelta(days=1)
    # the longest run of consecutive qualifying days: once it reaches the rule, the hospital may apply
    best: list[str] = []
    run: list[str] = []
    for day in sorted(days):
        if not days[day]["qualifies"]:
            run = []
            continue
        if run and _date.fromisoformat(day) - _date.fromisoformat(run[-1]) != timedelta(days=1):
            run = []
        run.append(day)
        if len(run) >= len(best):
            best = list(run)
    may_apply = len(best) >= t.consecutive_days

    # today's gap
    today_rows = per_day[per_day["day"] == today]
    needed: dict[str, int] = {}
    blocked: list[str] = []
    acc_today = {r.dataset: r.accepted for r in today_rows.itertuples(index=False)}
    if t.per_dataset:
        for code in required or sorted({r for r in per_day["dataset"] if r != "*"}):
            needed[code] = max(0, t.quota(code) - int(acc_today.get(code, 0)))
    else:
        needed["*"] = max(0, t.min_records_per_day - int(acc_today.get("*", 0)))
    for r in today_rows.itertuples(index=False):
        if r.dataset == "*":
            continue
        if r.duplicate > t.max_duplicates:
            blocked.append(f"今天 {r.dataset} 已有 {r.duplicate} 条重复，今天不能达标")
        if r.uploaded and r.accepted / r.uploaded < t.success_rate:
            blocked.append(
                f"今天 {r.dataset} 已有 {r.rejected} 条被拒收（成功率须 ≥ {t.success_rate:.0%}），今天不能达标；"
                f"修正后明天重新开始计算"
            )

    result = Readiness(
        t,
        today,
        per_day,
        days,
        len(streak_days),
        streak_days,
        may_apply,
        needed,
        blocked,
        required,
        best_streak_days=best,
        sign_ins=sign_ins,
    )
    if isinstance(platform_log, (dict, list)):
        _compare(result, platform_log)
    return result


def _valid_day(value: str | None) -> str | None:
    """``value`` when it is a real calendar date ``YYYY-MM-DD``, else None (a platform's odd clock
    is ignored in favour of Beijing time today)."""
    try:
        return _date.fromisoformat(value).isoformat() if value and len(value) == 10 else None
    except ValueError:
        return None


def _check_day(value: Any, where: str) -> str:
    """A day given by the user (``--today``): a real calendar date ``YYYY-MM-DD``, else a ConfigError."""
    if isinstance(value, _date):
        return value.isoformat()[:10]
    day = _valid_day(str(value).strip())
    if day is None:
        raise ConfigError(f"日期 {value!r} 无效：应为真实的日历日期 YYYY-MM-DD，例如 2026-11-03", where=where)
    return day


def _row(
    day: str, dataset: str, accepted: int, rejected: int, duplicate: int, t: Thresholds, *, check_volume: bool
) -> dict[str, Any]:
    uploaded = accepted + rejected + duplicate
    rate = accepted / uploaded if uploaded else 0.0
    reasons = []
    quota = t.quota(dataset)
    if check_volume and accepted < quota:
        reasons.append(f"成功 {accepted} 条，不足 {quota} 条")
    if uploaded and rate < t.success_rate:
        reasons.append(f"成功率 {rate:.1%} 低于 {t.success_rate:.0%}（拒收 {rejected} 条）")
    if duplicate > t.max_duplicates:
        reasons.append(f"重复 {duplicate} 条")
    if check_volume and not uploaded:
        reasons = [f"当天没有上传（需 ≥ {quota} 条）"]
    return {
        "day": day,
        "dataset": dataset,
        "uploaded": uploaded,
        "accepted": accepted,
        "rejected": rejected,
        "duplicate": duplicate,
        "success_rate": round(rate, 4),
        "qualifies": not reasons,
        "reason": "；".join(reasons),
    }


# --------------------------------------------------------------------------- platform comparison


def _fetch_platform_log(project) -> Any:
    from ..upload._client import PlatformClient

    with PlatformClient.from_project(project) as client:
        return client.verify_log()


def _num(d: dict, *names: str) -> int | None:
    for n in names:
        if n in d and d[n] is not None:
            try:
                return int(d[n])
            except (TypeError, ValueError):
                return None
    return None


def platform_counts(log: Any) -> tuple[dict[tuple[str, str], dict[str, int]], dict[str, Any]]:
    """Read a verification log (验证日志) into ``{(day, dataset): {uploaded, accepted, rejected,
    duplicate}}`` plus the platform's verdict fields. Tolerates the common shapes: a list of
    per-day rows with a ``datasets`` list or a ``dataset`` field."""
    counts: dict[tuple[str, str], dict[str, int]] = {}
    verdict: dict[str, Any] = {}
    if isinstance(log, dict):
        for k in ("may_apply", "streak", "today", "verdict", "rule"):
            if k in log:
                verdict[k] = log[k]
        if isinstance(log.get("verdict"), dict):
            verdict.update(log["verdict"])
        rows = log.get("days") or log.get("rows") or log.get("items") or []
    else:
        rows = log

    def take(day: str, ds: str, d: dict) -> None:
        acc = _num(d, "success", "accepted", "ok")
        if acc is None:
            return
        counts[(day, ds)] = {
            "uploaded": _num(d, "uploaded", "total") or 0,
            "accepted": acc,
            "rejected": _num(d, "failed", "rejected", "fail") or 0,
            "duplicate": _num(d, "duplicate", "duplicates") or 0,
        }

    for row in rows or []:
        if not isinstance(row, dict):
            continue
        day = str(row.get("day") or row.get("date") or "")[:10]
        subs = row.get("datasets")
        if isinstance(subs, list):
            for s in subs:
                if isinstance(s, dict):
                    take(day, str(s.get("dataset") or s.get("code")), s)
        elif isinstance(subs, dict):
            for code, s in subs.items():
                if isinstance(s, dict):
                    take(day, str(code), s)
        elif row.get("dataset"):
            take(day, str(row["dataset"]), row)
    return counts, verdict


def _compare(r: Readiness, log: Any) -> None:
    counts, verdict = platform_counts(log)
    r.platform = {"verdict": verdict, "rows": len(counts)}
    ours = {(x.day, x.dataset): x for x in r.per_day.itertuples(index=False) if x.dataset != "*"}
    for key in sorted(set(ours) | set(counts)):
        mine = ours.get(key)
        theirs = counts.get(key)
        day, ds = key
        if theirs is None:
            if mine is not None and mine.uploaded:
                r.disagreements.append(
                    {
                        "day": day,
                        "dataset": ds,
                        "field": "uploaded",
                        "ledger": mine.uploaded,
                        "platform": 0,
                        "message": f"{day} {ds}: 台账有 {mine.uploaded} 条应答，平台验证日志没有记录",
                    }
                )
            continue
        for f in ("accepted", "rejected", "duplicate"):
            a = int(getattr(mine, f)) if mine is not None else 0
            b = theirs[f]
            if a != b:
                zh = {"accepted": "成功", "rejected": "拒收", "duplicate": "重复"}[f]
                r.disagreements.append(
                    {
                        "day": day,
                        "dataset": ds,
                        "field": f,
                        "ledger": a,
                        "platform": b,
                        "message": f"{day} {ds} {zh}: 台账 {a} 条，平台验证日志 {b} 条",
                    }
                )
    pm = verdict.get("may_apply")
    if isinstance(pm, bool) and pm != r.may_apply:
        r.disagreements.append(
            {
                "day": r.today,
                "dataset": "*",
                "field": "may_apply",
                "ledger": r.may_apply,
                "platform": pm,
                "message": f"结论不一致：台账判断{'可以' if r.may_apply else '不能'}申请，"
                f"平台判断{'可以' if pm else '不能'}申请（请核对两边的达标规则设置）",
            }
        )
