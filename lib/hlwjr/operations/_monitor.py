"""The monitor page (运行监控): ``<work_dir>/ops/index.html``, regenerated after each run — per
data set × business day the counts and success rate, a chart of the last weeks, the last runs,
the reconciliation and the open refused list. Static (open it from disk or any web server),
Jinja2 with autoescape, keys and messages masked, readable only by the owner (0600)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from ._records import load_runs, write_private

__all__ = ["render_monitor", "write_monitor"]

_DAYS = 42  # six weeks on the page
_MAX_REFUSED = 500

_TEMPLATE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>运行监控 · {{ name }}</title>
<style>
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:2px 8px;font-size:13px}
th{background:#f3f3f3}td.n{text-align:right}.bad{color:#b00020}.ok{color:#1b7f3b}
.bar{display:inline-block;width:12px;margin-right:2px;vertical-align:bottom}
</style></head><body>
<h1>运行监控 · {{ name }}</h1>
<p>业务日期 {{ st.first }} ~ {{ st.last }}，生成于 {{ generated }}（北京时间）。
{% if st.mismatches %}<span class="bad">对账不一致 {{ st.mismatches|length }} 处</span>
{% else %}<span class="ok">对账一致</span>{% endif %}；
{% if refused %}<span class="bad">待处理拒收 {{ refused|length }} 条</span>{% else %}没有待处理的拒收{% endif %}。</p>
<h2>近几周（每日成功 / 拒收）</h2>
<svg width="{{ chart|length * 16 + 20 }}" height="130" role="img" aria-label="每日成功与拒收条数">
{% for c in chart %}
<rect x="{{ 10 + loop.index0 * 16 }}" y="{{ 110 - c.ok_h }}" width="12" height="{{ c.ok_h }}" fill="#4caf50">
<title>{{ c.day }} 成功 {{ c.accepted }}</title></rect>
<rect x="{{ 10 + loop.index0 * 16 }}" y="{{ 110 - c.ok_h - c.bad_h }}" width="12" height="{{ c.bad_h }}" fill="#e53935">
<title>{{ c.day }} 拒收 {{ c.refused }}</title></rect>
{% endfor %}
<text x="10" y="125" font-size="10">{{ chart[0].day if chart else "" }}</text>
<text x="{{ chart|length * 16 - 50 }}" y="125" font-size="10">{{ chart[-1].day if chart else "" }}</text>
</svg>
<h2>每日 × 数据集</h2>
<table><tr><th>业务日期</th><th>数据集</th><th>源数据</th><th>未终态</th><th>映射</th><th>暂缓</th><th>发送</th>
<th>成功</th><th>拒收</th><th>待确认</th><th>成功率</th><th>最近运行</th></tr>
{% for r in st.rows %}
<tr><td>{{ r.day }}</td><td>{{ r.dataset }}</td>
{% for k in ("his_rows", "waiting", "mapped", "invalid", "sent", "accepted", "refused", "pending") %}
<td class="n">{{ "-" if r[k] is none else r[k] }}</td>{% endfor %}
<td class="n {{ 'ok' if r.success_rate == 1 else 'bad' if r.success_rate is not none else '' }}">
{{ "-" if r.success_rate is none else "%.1f%%"|format(r.success_rate * 100) }}</td>
<td>{{ r.last_run or "-" }}</td></tr>
{% endfor %}
</table>
<h2>最近的运行</h2>
<table><tr><th>开始</th><th>类型</th><th>业务日期</th><th>结果</th><th>成功</th><th>拒收</th><th>错误</th></tr>
{% for r in st.runs %}
<tr><td>{{ r.started }}</td><td>{{ r.kind }}</td><td>{{ r.business_day }}</td>
<td class="{{ 'ok' if r.exit_code == 0 else 'bad' }}">{{ r.status }}</td>
<td class="n">{{ r.accepted }}</td><td class="n">{{ r.refused }}</td><td>{{ r.error or "" }}</td></tr>
{% endfor %}
</table>
<h2>对账</h2>
{% if st.mismatches %}<ul>{% for m in st.mismatches %}
<li class="bad">{{ m.message }}{% if m["keys"] %}：{{ m["keys"]|join("、") }}{% endif %}</li>{% endfor %}</ul>
{% else %}<p class="ok">源数据、映射、台账一致。</p>{% endif %}
<h2>待处理的拒收（修正后 <code>hlwjr resend --config … --refused</code>）</h2>
<table><tr><th>业务日期</th><th>数据集</th><th>业务主键</th><th>字段</th><th>平台提示</th><th>批次号</th></tr>
{% for r in refused %}
<tr><td>{{ r.day }}</td><td>{{ r.dataset }}</td><td>{{ r.key }}</td><td>{{ r.field }}</td><td>{{ r.message }}</td>
<td>{{ r.batch_no }}</td></tr>
{% endfor %}
</table>
</body></html>
"""


@functools.lru_cache(maxsize=1)
def _template():
    import jinja2

    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    return env.from_string(_TEMPLATE)


def _chart(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    per_day: dict[str, list[int]] = {}
    for r in rows:
        acc_ref = per_day.setdefault(r["day"], [0, 0])
        acc_ref[0] += r["accepted"]
        acc_ref[1] += r["refused"]
    top = max((a + b for a, b in per_day.values()), default=0) or 1
    return [
        {"day": d, "accepted": a, "refused": b, "ok_h": round(100 * a / top), "bad_h": round(100 * b / top)}
        for d, (a, b) in sorted(per_day.items())
    ]


def render_monitor(project) -> str:
    from ..upload._ledger import now_shanghai
    from ._refused import refused_list
    from ._status import compute_status

    runs = load_runs(project.runs_dir)  # the page ends with the latest business day run (rehearsals too)
    st = compute_status(project, days=_DAYS, today=max((r["business_day"] for r in runs), default=None))
    refused = refused_list(project).rows()[:_MAX_REFUSED]
    return _template().render(
        name=project.name,
        st=st,
        chart=_chart(st.rows),
        refused=refused,
        generated=now_shanghai().strftime("%Y-%m-%d %H:%M:%S"),
    )


def write_monitor(project) -> Path:
    """Regenerate ``<work_dir>/ops/index.html`` (written whole or not at all)."""

    return write_private(project.ops_dir / "index.html", render_monitor(project))
