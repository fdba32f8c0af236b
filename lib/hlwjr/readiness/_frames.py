"""The readiness tables as people read them (给人看的表): Chinese headers, data-set names, statuses
— shared by the notebook view of :class:`Readiness` and the evidence pack."""

from __future__ import annotations

from .._exceptions import HlwjrError

__all__ = ["pack_frames"]


def _ds_label(code: str, spec) -> str:
    if code == "*":
        return "合计"
    try:
        return f"{code} {spec.dataset(code).name}" if spec is not None else code
    except HlwjrError:
        return code


def _empty_log():
    import pandas as pd

    return pd.DataFrame(columns=["at", "platform_day", "dataset", "key", "batch_no", "status", "errors"])


def pack_frames(readiness, log, samples, versions, spec):
    """The evidence pack's tables with Chinese headers and values (the Readiness object keeps its
    machine-readable columns)."""
    import pandas as pd

    per_day = readiness.per_day.copy()
    per_day["dataset"] = per_day["dataset"].map(lambda c: _ds_label(c, spec))
    per_day["qualifies"] = per_day["qualifies"].map(lambda q: "是" if q else "否")
    per_day = per_day.rename(columns=_PER_DAY_ZH)
    log = log.copy()
    log["status"] = log["status"].map(lambda x: _STATUS_ZH.get(x, x))
    log = log.rename(columns=_LOG_ZH)
    samples = samples.rename(columns=_SAMPLES_ZH) if samples is not None else None
    versions = versions.rename(columns=_VERSIONS_ZH) if versions is not None else None
    disagree = pd.DataFrame(readiness.disagreements, columns=list(_DISAGREE_ZH))
    disagree["field"] = disagree["field"].map(lambda f: _FIELD_ZH.get(f, f))
    disagree["dataset"] = disagree["dataset"].map(lambda c: _ds_label(c, spec))
    disagree = disagree.rename(columns=_DISAGREE_ZH)
    return per_day, log, samples, versions, disagree


_PER_DAY_ZH = {
    "day": "日期（平台日）",
    "dataset": "数据集",
    "uploaded": "上传",
    "accepted": "成功",
    "rejected": "拒收",
    "duplicate": "重复",
    "success_rate": "成功率",
    "qualifies": "达标",
    "reason": "未达标原因",
}
_LOG_ZH = {
    "at": "应答时间（北京时间）",
    "platform_day": "平台日",
    "dataset": "数据集",
    "key": "业务主键（已脱敏）",
    "batch_no": "批次号 batchNo",
    "status": "结果",
    "errors": "平台给出的原因",
}
_STATUS_ZH = {
    "accepted": "成功",
    "rejected": "拒收",
    "duplicate": "重复",
    "refused": "请求被拒（未计入验证日志）",
    "pending": "待发送",
    "sent": "已发送未确认",
}
_SAMPLES_ZH = {"dataset": "数据集", "batch_no": "批次号 batchNo", "key": "业务主键", "record": "记录（已脱敏）"}
_VERSIONS_ZH = {
    "file": "文件",
    "version": "文件格式版本",
    "revision": "修订（git 提交）",
    "sha256": "SHA-256（前16位）",
    "bytes": "字节数",
}
_DISAGREE_ZH = {
    "day": "日期",
    "dataset": "数据集",
    "field": "项目",
    "ledger": "台账",
    "platform": "平台验证日志",
    "message": "说明",
}
_FIELD_ZH = {"uploaded": "上传", "accepted": "成功", "rejected": "拒收", "duplicate": "重复", "may_apply": "能否申请"}
