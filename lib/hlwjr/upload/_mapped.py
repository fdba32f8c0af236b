"""The day's records for an upload: the project's mapping run for the data sets and day (sources
of the project, undated business data refused), and records as plain dicts (missing values
dropped) — shared by the uploader and the ledger rebuild.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._exceptions import (
    ConfigError,
    HlwjrError,
)

# --------------------------------------------------------------------------- records in


def _clean_child(x: Any) -> Any:
    if not isinstance(x, dict):
        return x
    out = {}
    for k, v in x.items():
        if v is None or (isinstance(v, float) and v != v):
            continue  # missing in a child row (NaN from a DataFrame join)
        out[k] = v.item() if hasattr(v, "item") and not isinstance(v, (str, bytes)) else v
    return out


def _as_dicts(records: Any) -> list[dict[str, Any]]:
    """Records as a list of dicts with missing values dropped (DataFrame NaN/None/NA → absent)."""
    if records is None:
        return []
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(records, pd.DataFrame):
        cols = list(records.columns)
        out = []
        for row in records.itertuples(index=False, name=None):
            d = {}
            for c, v in zip(cols, row):
                if isinstance(v, list):  # array field (明细): children without missing values
                    d[c] = [_clean_child(x) for x in v]
                elif isinstance(v, dict):
                    d[c] = _clean_child(v)
                elif v is None or (not isinstance(v, str) and pd.isna(v)):
                    continue
                else:
                    d[c] = v.item() if hasattr(v, "item") else v
            out.append(d)
        return out
    return records if isinstance(records, list) else list(records)  # dicts are read, never changed


# --------------------------------------------------------------------------- the daily run


def _project_sources(project) -> dict[str, Any] | None:
    """The project's ``[sources]`` (name → path or URL) resolved against the project directory,
    overriding the mapping's named sources."""
    out: dict[str, Any] = {}
    for name, v in (project.sources or {}).items():
        if isinstance(v, dict):
            v = v.get("url") or v.get("path")
        if v is None:
            continue
        v = str(v)
        out[name] = v if "://" in v else str(project.resolve(v))
    return out or None


def _map_records(
    project, spec, datasets: Sequence[str], date: str | None, notes: list[str], master: set[str]
) -> tuple[dict[str, Any], dict[str, int], Any]:
    """Run the project's mapping (指标对照) for the data sets and day: ``({dataset: records},
    {dataset: rows rejected by the mapping}, DataFrame of mapping rejections)``."""
    import pandas as pd

    from ..mapping._config import load_mapping
    from ..mapping._engine import apply_mapping

    if project.mapping_dir is None:
        raise ConfigError("项目没有配置映射目录 (mapping_dir)；请在 hlwjr.toml 中设置", where=str(project.config_file))
    mapping = load_mapping(project.mapping_dir)
    sources = _project_sources(project)
    out: dict[str, Any] = {}
    rejected: dict[str, int] = {}
    frames = []
    for code in datasets:
        try:
            dm = mapping.dataset(code)
        except HlwjrError:
            notes.append(
                f"{code}: 对照配置中没有这个数据集，跳过（在 {project.mapping_dir} 中补充 datasets/{code}.yaml）"
            )
            continue
        # master data (机构、科室、人员) has no business time: all of it, every day; the ledger skips
        # what the platform already accepted
        day = date if getattr(getattr(dm, "source", None), "business_time", None) else None
        if date is not None and day is None:
            _refuse_undated_business_data(spec, code, date, dm)
            master.add(code)
        res = apply_mapping(mapping, code, date=day, sources=sources, spec=spec)
        out[code] = res.records
        rej = res.rejections
        rejected[code] = len(rej)
        if len(rej):
            frames.append(rej)
    return out, rejected, (pd.concat(frames, ignore_index=True) if frames else None)


def _refuse_undated_business_data(spec, code: str, date: str, dm) -> None:
    """``--date D`` for business data (not 基础数据) whose mapping has no ``business_time``: the day
    cannot be picked, and sending every row as that day's would upload the whole backlog."""
    from ..mapping._template import master_datasets

    if code in {d.code for d in master_datasets(spec)}:
        return
    ds = spec.dataset(code)
    raise ConfigError(
        f"数据集 {code}（{ds.name}）的对照没有业务时间列 business_time：--date {date} 无法只取当天的数据，"
        f"不会把全部积压数据当作当天上传；请在 {dm.file or f'datasets/{code}.yaml'} 的 source 下写 "
        "business_time: <就诊/申请时间列>（hlwjr map check 会指出）",
        where=dm.file or code,
    )
