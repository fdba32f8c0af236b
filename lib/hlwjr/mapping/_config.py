"""The whole mapping directory (``mapping.yaml`` + ``datasets/*.yaml`` + ``codes/*.csv``):
loading, checking against the spec and the sources, and saving.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .._exceptions import MappingError, SourceError
from .._files import atomic_write
from .._yaml import read_yaml
from ._codemaps import CODE_MAP_COLUMNS, CodeMap, load_code_map
from ._context import _Context
from ._conversions import time_formats
from ._model import (
    KIND,
    VERSION,
    CodeMapRef,
    DatasetMapping,
    FieldRule,
    SourceDef,
    SourceRef,
    _check_keys,
    _clean,
    _expect,
)
from ._result import MappingResult
from ._roundtrip import render_yaml, unified_diff


@dataclass
class MappingIssue:
    """A problem in a mapping config found by :meth:`Mapping.check` (配置问题)."""

    severity: str  # error | warning
    where: str
    message: str
    cause: str | None = field(default=None, compare=False, repr=False)  # an unreadable source's own message

    def __str__(self) -> str:
        return f"[{'错误' if self.severity == 'error' else '提醒'}] {self.where}: {self.message}"


def _collapse_unreadable(issues: list[MappingIssue]) -> list[MappingIssue]:
    """One error per cause when several data sets cannot read their source for the same reason
    (e.g. the HIS database file is missing): the first is kept and names the others."""
    groups: dict[str, list[MappingIssue]] = {}
    for i in issues:
        if i.cause is not None:
            groups.setdefault(i.cause, []).append(i)
    out = []
    for i in issues:
        same = groups.get(i.cause) if i.cause is not None else None
        if same is None or len(same) == 1:
            out.append(i)
        elif i is same[0]:
            others = "、".join(Path(x.where).stem for x in same[1:])
            out.append(
                MappingIssue(
                    i.severity,
                    i.where,
                    i.message + f"（同一原因，另有 {len(same) - 1} 个数据集的数据源也无法读取：{others}）",
                    cause=i.cause,
                )
            )
    return out


_TOP_KEYS = {"kind", "version", "spec", "hospital", "description", "sources", "code_maps", "datasets"}


@dataclass
class Mapping:
    """A hospital's mapping config (指标对照配置): sources, code maps and one DatasetMapping per data set."""

    spec_id: str
    spec_version: str | None = None
    hospital: str | None = None
    description: str | None = None
    sources: dict[str, SourceDef] = field(default_factory=dict)
    code_maps: dict[str, CodeMapRef] = field(default_factory=dict)
    datasets: dict[str, DatasetMapping] = field(default_factory=dict)
    directory: Path | None = None
    _code_map_cache: dict = field(default_factory=dict, repr=False, compare=False)

    # -- access -----------------------------------------------------------------------------
    def dataset(self, code: str) -> DatasetMapping:
        """The mapping of a data set by spec code (or alias/Chinese name when the spec knows it)."""
        if code in self.datasets:
            return self.datasets[code]
        try:
            real = self.spec().dataset(code).code
        except Exception:
            real = None
        if real in self.datasets:
            return self.datasets[real]
        raise MappingError(
            f"对照配置中没有数据集 {code!r}；已配置：{', '.join(self.datasets) or '（无）'}",
            where=str(self.directory or ""),
        )

    def spec(self):
        from ..spec._load import load_spec

        return load_spec(self.spec_id)

    def code_map(self, name: str) -> CodeMap:
        """A code map by name (loaded from ``codes/<file>.csv``; cached until saved)."""
        if name not in self.code_maps:
            raise MappingError(
                f"未定义的值域对照表 {name!r}；已定义：{', '.join(self.code_maps) or '（无）'}",
                where=str(self.directory / "mapping.yaml") if self.directory else None,
            )
        if name not in self._code_map_cache:
            ref = self.code_maps[name]
            self._code_map_cache[name] = load_code_map(self._path(ref.file), name=name, code_set=ref.code_set)
        return self._code_map_cache[name]

    def add_code_map(self, name: str, *, code_set: str | None = None, file: str | None = None) -> CodeMap:
        """Create an empty code map ``codes/<name>.csv`` for a code set."""
        ref = CodeMapRef(file=file or f"codes/{name}.csv", code_set=code_set)
        self.code_maps[name] = ref
        cm = CodeMap(
            name=name,
            entries=pd.DataFrame(columns=CODE_MAP_COLUMNS, dtype="str"),
            code_set=code_set,
            path=self._path(ref.file),
        )
        self._code_map_cache[name] = cm
        return cm

    def _path(self, rel: str) -> Path:
        p = Path(os.path.expandvars(rel))
        return p if p.is_absolute() or self.directory is None else self.directory / p

    # -- YAML ---------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The top-level ``mapping.yaml`` content (data sets are listed by file)."""
        d = {"kind": KIND, "version": VERSION, "spec": _clean({"id": self.spec_id, "version": self.spec_version})}
        d.update(
            _clean(
                {
                    "hospital": self.hospital,
                    "description": self.description,
                    "sources": {k: v.to_dict() for k, v in self.sources.items()},
                    "code_maps": {k: v.to_dict() for k, v in self.code_maps.items()},
                }
            )
        )
        return d

    def save(self, directory: str | os.PathLike | None = None) -> Path:
        """Write ``mapping.yaml``, ``datasets/<code>.yaml`` and the code maps (each file atomically).

        Round trip: a file is rewritten only when what it holds changed, and then over its current
        text — comments, key order and styles of the unchanged parts stay (ruamel.yaml); code maps
        keep their line endings.  Saving to another directory copies every code map there too."""

        out = Path(directory or self.directory or ".")
        if self._moving(out) and self.directory is not None:
            for name in self.code_maps:  # load before the directory changes
                if self._path(self.code_maps[name].file).exists():
                    self.code_map(name)
        (out / "datasets").mkdir(parents=True, exist_ok=True)
        for path, _old, text in self._yaml_changes(out):
            atomic_write(path, lambda tmp, t=text: tmp.write_text(t, encoding="utf-8"))
        for code, dm in self.datasets.items():
            dm.file = str(self._dataset_file(out, code, dm, self._moving(out)))
        self.directory = out
        for name, cm in self._code_map_cache.items():
            cm.save(self._path(self.code_maps[name].file))
        return out

    def changes(self, directory: str | os.PathLike | None = None) -> list[tuple[Path, str, str]]:
        """What :meth:`save` would write: ``(file, current text or "", new text)`` per changed file
        (mapping YAML and code-map CSVs), nothing for files that stay as they are."""
        out = Path(directory or self.directory or ".")
        found = list(self._yaml_changes(out))
        for name, cm in self._code_map_cache.items():
            target = out / self.code_maps[name].file if self._moving(out) else self._path(self.code_maps[name].file)
            text = cm.render(target)
            if text is not None:
                found.append((target, target.read_text(encoding="utf-8-sig") if target.exists() else "", text))
        return found

    def diff(self, directory: str | os.PathLike | None = None) -> str:
        """A unified diff of what :meth:`save` would change (empty when nothing would)."""

        base = Path(directory or self.directory or ".")
        parts = []
        for path, old, new in self.changes(directory):
            try:
                name = str(path.relative_to(base))
            except ValueError:
                name = str(path)
            parts.append(unified_diff(old, new.lstrip("\ufeff"), name))
        return "".join(parts)

    def _moving(self, out: Path) -> bool:
        return self.directory is None or out.resolve() != self.directory.resolve()

    def _yaml_changes(self, out: Path):
        """(path, current text, new text) of the YAML files whose content changes."""

        moving = self._moving(out)
        here = self.directory / "mapping.yaml" if self.directory is not None else None
        targets = [(out / "mapping.yaml", here, self.to_dict(), _same_top_node)]
        for code, dm in self.datasets.items():
            target = self._dataset_file(out, code, dm, moving)
            targets.append((target, Path(dm.file) if dm.file else None, dm.to_dict(), _same_dataset_node))
        for target, loaded, data, same in targets:
            # written over the target's own text, or (saving elsewhere) over the file it was loaded from
            template = next((p for p in (target, loaded) if p is not None and p.exists()), None)
            text = render_yaml(template, data, same)
            if text is None and template is not None and template.resolve() != target.resolve():
                text = template.read_text(encoding="utf-8")  # unchanged, but saved elsewhere: copy as is
            if text is not None:
                yield target, target.read_text(encoding="utf-8") if target.exists() else "", text

    @staticmethod
    def _dataset_file(out: Path, code: str, dm: DatasetMapping, moving: bool) -> Path:
        """Where :meth:`save` writes a data set: back into the file it was loaded from when that is
        ``datasets/<any name>.yaml`` of the same directory (a second ``<code>.yaml`` beside it would
        make the next load fail with 在多个文件中配置), else ``datasets/<code>.yaml``."""
        if not moving and dm.file:
            loaded = Path(dm.file)
            if loaded.suffix == ".yaml" and loaded.parent.resolve() == (out / "datasets").resolve():
                return loaded
        return out / "datasets" / f"{code}.yaml"

    # -- checks -------------------------------------------------------------------------------
    def check(
        self,
        *,
        spec=None,
        sources: dict | None = None,
        columns: bool = True,
        complete: bool = False,
        sample: int = 0,
    ) -> list[MappingIssue]:
        """Check the config against the spec and (``columns=True``) the source columns.

        ``complete=True`` (``hlwjr map check``): a config ready to upload — a required field without
        a rule (or 无法提供 without a reason) and a business data set without ``business_time`` are
        errors, not reminders.  ``sample=N`` (with ``columns``) also maps the first N source rows of
        each data set without errors and validates them: failing sample rows are reported (errors
        when all of them fail, see :meth:`check_samples`).

        Returns every issue found (errors and warnings); :meth:`validate` raises on errors.
        """
        from ..spec._load import load_spec

        issues: list[MappingIssue] = []
        spec = load_spec(spec if spec is not None else self.spec_id)
        where0 = str(self.directory / "mapping.yaml") if self.directory else "mapping.yaml"
        if spec.id != self.spec_id:
            issues.append(MappingIssue("error", where0, f"对照配置针对规范 {self.spec_id}，但检查用的是 {spec.id}"))
        elif self.spec_version and spec.version != self.spec_version:
            issues.append(
                MappingIssue(
                    "warning",
                    where0,
                    f"对照配置针对规范版本 {self.spec_version}，当前规范为 "
                    f"{spec.version}；请用 `hlwjr spec diff` 查看变化后更新对照",
                )
            )
        for name, ref in self.code_maps.items():
            w = f"{where0}: code_maps.{name}"
            if ref.code_set:
                try:
                    cs = spec.code_set(ref.code_set)
                except Exception:
                    issues.append(MappingIssue("error", w, f"值域 {ref.code_set!r} 不在规范 {spec.id} 中"))
                    cs = None
            else:
                cs = None
            try:
                cm = self.code_map(name)
            except MappingError as exc:
                issues.append(MappingIssue("error", exc.where or w, exc.message))
                continue
            if cs is not None and cs.complete:
                targets = cm.entries["code"].dropna().astype("str")
                bad = sorted(set(targets) - set(cs.codes))
                if bad:
                    issues.append(
                        MappingIssue(
                            "error",
                            str(cm.path),
                            f"对照目标代码 {', '.join(bad[:10])} 不在值域 {cs.id}（{cs.name}）中；"
                            f"可用代码：{', '.join(list(cs.codes)[:20])}",
                        )
                    )
        for code, dm in self.datasets.items():
            w = dm.file or f"datasets/{code}.yaml"
            try:
                ds = spec.dataset(code)
            except Exception:
                issues.append(MappingIssue("error", w, f"规范 {spec.id} 中没有数据集 {code!r}"))
                continue
            found = self._check_rules(spec, ds, dm.fields, w, top=True, complete=complete)
            if complete:
                found += _business_time_issue(spec, ds, dm, w)
            if columns:
                found += self._check_columns(dm, w, sources)
            if columns and sample > 0 and not any(i.severity == "error" for i in found):
                found += self.check_samples(code, sample, spec=spec, sources=sources)
            issues += found
        return _collapse_unreadable(issues)

    def check_samples(self, dataset: str, n: int = 20, *, spec=None, sources: dict | None = None) -> list[MappingIssue]:
        """Map the first ``n`` source rows of ``dataset`` and validate the records (强制校验, without
        references to other data sets): one issue per failing sample row, naming the row and what
        fails, and a last line counting them.  Nothing when every sample row passes.

        When every sample row fails the rules are wrong (errors); when only some do, the rows are
        dirty data the validator will hold back (reminders) — either way the count is reported."""
        dm = self.dataset(dataset)
        w = dm.file or f"datasets/{dm.dataset}.yaml"
        res = self.preview(dm.dataset, n, sources=sources, spec=spec)
        failing = _sample_failures(res, spec)
        if not failing:
            return []
        severity = "error" if len(failing) >= res.n_source_rows else "warning"
        rows = sorted(failing.items())[:_SAMPLE_ROWS_SHOWN]
        out = [MappingIssue(severity, f"{w}: 样例第 {row} 行", _joined(msgs)) for row, msgs in rows]
        verdict = f"按当前规则对照数据源前 {res.n_source_rows} 行：{len(failing)} 行不合格（映射拒收或未通过强制校验）"
        if len(failing) > _SAMPLE_ROWS_SHOWN:
            verdict += f"，上面列出前 {_SAMPLE_ROWS_SHOWN} 行"
        if severity == "error":
            verdict += "；全部样例行都不合格，请检查对照规则"
        out.append(MappingIssue(severity, w, verdict))
        return out

    def _check_rules(
        self, spec, ds, rules: dict[str, FieldRule], w: str, *, top: bool, complete: bool = False
    ) -> list[MappingIssue]:
        issues = []
        for key, rule in rules.items():
            fw = f"{w}: 字段 {key}"
            f = ds.fields.get(key)
            if f is None:
                near = _closest(key, list(ds.fields))
                issues.append(
                    MappingIssue(
                        "error",
                        fw,
                        f"数据集 {ds.code}（{ds.name}）没有字段 {key!r}" + (f"，是否应为 {near}？" if near else ""),
                    )
                )
                continue
            if rule.kind == "children":
                if f.type != "array" or not f.item:
                    issues.append(MappingIssue("error", fw, f"字段 {key} 不是数组字段，不能用 children"))
                    continue
                issues += self._check_rules(
                    spec, spec.dataset(f.item), rule.children.fields, f"{fw}.children", top=False, complete=complete
                )
            elif f.type == "array":
                if rule.kind != "unavailable":
                    issues.append(
                        MappingIssue("error", fw, f"数组字段 {key}（{f.name}）需要 children 规则（明细表按键关联）")
                    )
            if rule.kind == "code":
                if rule.code_map not in self.code_maps:
                    issues.append(
                        MappingIssue(
                            "error", fw, f"未定义的值域对照表 {rule.code_map!r}（在 mapping.yaml 的 code_maps 中添加）"
                        )
                    )
                else:
                    ref = self.code_maps[rule.code_map]
                    if f.code_set and ref.code_set and _norm_cs(spec, ref.code_set) != _norm_cs(spec, f.code_set):
                        issues.append(
                            MappingIssue(
                                "error",
                                fw,
                                f"字段 {key} 的值域是 {f.code_set}，但对照表 {rule.code_map} 对照到 {ref.code_set}",
                            )
                        )
                    if rule.default is not None and f.code_set:
                        try:
                            cs = spec.code_set(f.code_set)
                            if cs.complete and rule.default not in cs.codes:
                                issues.append(
                                    MappingIssue("error", fw, f"默认代码 {rule.default!r} 不在值域 {cs.id} 中")
                                )
                        except Exception:
                            pass
            elif f.code_set and rule.kind in ("column",):
                issues.append(
                    MappingIssue(
                        "warning",
                        fw,
                        f"字段 {key}（{f.name}）有值域 {f.code_set}，但规则直接取列，"
                        "没有值域对照；请确认源数据已是标准代码",
                    )
                )
            if rule.kind == "date" and f.type not in ("date", "datetime"):
                issues.append(MappingIssue("error", fw, f"format 只用于日期/日期时间字段，{key} 的类型是 {f.type}"))
            if rule.kind == "date":
                bad = [f for f in time_formats(rule.format) or [rule.format] if not _is_strftime(f)]
                if bad:
                    issues.append(
                        MappingIssue(
                            "error",
                            fw,
                            f"日期格式 {bad[0]!r} 无效（例：%Y%m%d%H%M%S；几种格式并存时用 | 分隔，按顺序尝试）",
                        )
                    )
            if rule.kind == "const" and _personal(f):
                issues.append(
                    MappingIssue(
                        "warning",
                        fw,
                        f"字段 {key}（{f.name}）是每条记录各自的个人信息，固定值会让每条记录都一样，平台监管会把它"
                        "当作编造的数据；请对照到源数据列，确实无法提供时写 unavailable: <原因>",
                    )
                )
        severity = "error" if complete else "warning"
        for key in ds.required_fields:
            rule = rules.get(key)
            if rule is None:
                issues.append(
                    MappingIssue(
                        severity,
                        w,
                        f"必填字段 {key}（{ds.fields[key].name}）还没有对照规则；请对照到源数据列，"
                        "或确实无法提供时写 unavailable: <原因>",
                    )
                )
            elif rule.kind == "unavailable" and not str(rule.unavailable or "").strip():
                issues.append(
                    MappingIssue(
                        severity,
                        f"{w}: 字段 {key}",
                        f"必填字段 {key}（{ds.fields[key].name}）标为无法提供，但没有写原因",
                    )
                )
        if top and ds.parent is not None:
            issues.append(
                MappingIssue("warning", w, f"{ds.code} 是 {ds.parent} 的明细数据集，应作为其数组字段的 children 配置")
            )
        return issues

    def _check_columns(self, dm: DatasetMapping, w: str, sources) -> list[MappingIssue]:
        issues = []
        try:
            ctx = _Context(self, sources)
            main_cols = ctx.columns(dm.source)
        except (MappingError, SourceError) as exc:
            return [MappingIssue("error", w, f"数据源无法读取：{exc}", cause=exc.message)]
        available = set(main_cols)
        for j in dm.source.joins:
            try:
                jcols = ctx.columns(j)
            except (MappingError, SourceError) as exc:
                issues.append(MappingIssue("error", w, f"关联表 {j.name} 无法读取：{exc}"))
                continue
            for left, right in j.keys.items():
                if left not in main_cols:
                    issues.append(MappingIssue("error", w, f"关联键 {left} 不在主表 {dm.source.label} 中"))
                if right not in jcols:
                    issues.append(MappingIssue("error", w, f"关联键 {right} 不在关联表 {j.name} 中"))
            available |= {f"{j.name}.{c}" for c in jcols}
        if dm.source.business_time and dm.source.business_time not in available:
            issues.append(MappingIssue("error", w, f"业务时间列 business_time={dm.source.business_time} 不在数据源中"))
        issues += _missing_cols(dm.fields, available, w, dm.source.label)
        for key, rule in dm.fields.items():
            if rule.kind == "children":
                ch = rule.children
                try:
                    ccols = set(ctx.columns(ch.source))
                except (MappingError, SourceError) as exc:
                    issues.append(MappingIssue("error", f"{w}: 字段 {key}", f"明细表无法读取：{exc}"))
                    continue
                for child_col, parent_col in ch.keys.items():
                    if child_col not in ccols:
                        issues.append(MappingIssue("error", f"{w}: 字段 {key}", f"关联键 {child_col} 不在明细表中"))
                    if parent_col not in available:
                        issues.append(MappingIssue("error", f"{w}: 字段 {key}", f"关联键 {parent_col} 不在主表中"))
                issues += _missing_cols(ch.fields, ccols, f"{w}: 字段 {key}.children", ch.source.label)
        return issues

    def preview(
        self, dataset: str, n: int = 10, *, sources: dict | None = None, date: str | None = None, spec=None
    ) -> MappingResult:
        """Map the first ``n`` source rows of a data set (预览), e.g. after changing a rule in an editor.

        ``result.records`` are the mapped records, ``result.issues`` what could not be mapped."""
        from ._engine import apply_mapping  # the engine sits above the config; preview is a convenience

        return apply_mapping(self, dataset, sources=sources, date=date, spec=spec, limit=n)

    def validate(self, **kwargs) -> list[MappingIssue]:
        """Like :meth:`check` but raises :class:`hlwjr.MappingError` when there is any error."""
        issues = self.check(**kwargs)
        errors = [i for i in issues if i.severity == "error"]
        if errors:
            more = f"（另有 {len(errors) - 1} 个错误，用 `hlwjr map check` 查看全部）" if len(errors) > 1 else ""
            raise MappingError(errors[0].message + more, where=errors[0].where)
        return issues


def _same_dataset_node(path: tuple, old, new) -> bool:
    """Whether a data-set file's node already means ``new`` (shorthand rules, default values)."""
    if old == new:
        return True
    try:
        if path == ():
            return DatasetMapping.from_dict(old, "").to_dict() == new
        if len(path) == 2 and path[0] == "fields":
            return FieldRule.from_dict(str(path[1]), old, "").to_dict() == new
        if path == ("source",):
            return SourceRef.from_dict(old, "").to_dict() == new
    except Exception:  # an old node that does not parse: it is replaced
        return False
    return False


def _same_top_node(path: tuple, old, new) -> bool:
    """Whether a ``mapping.yaml`` node already means ``new`` (``his: sqlite:///…`` for {url: …})."""
    if old == new:
        return True
    try:
        if len(path) == 2 and path[0] == "sources":
            d = old if isinstance(old, dict) else ({"url": old} if "://" in str(old) else {"path": old})
            return SourceDef(**d).to_dict() == new
        if len(path) == 2 and path[0] == "code_maps":
            return CodeMapRef(**(old if isinstance(old, dict) else {"file": old})).to_dict() == new
        if path == ("spec",) and isinstance(old, str):
            return new == {"id": old}
    except Exception:
        return False
    return False


_SAMPLE_SKIP = ("reference", "already_accepted")  # other data sets and the platform are not in a sample
_SAMPLE_ROWS_SHOWN = 10


def _sample_failures(res: MappingResult, spec) -> dict[int, list[str]]:
    """Source row (1-based) → what fails there: the mapping's rejections and the validator's errors
    (a required field without a rule yet is reported once as such, not again with every row)."""
    from ..validation._engine import check as validate_records

    failing: dict[int, list[str]] = {}
    for r in res.rejections.itertuples(index=False):
        if not pd.isna(r.row) and r.rule != "duplicate_row":  # an exact re-export is dropped, not failed
            failing.setdefault(int(r.row), []).append(f"{r.field or ''} {r.message}".strip())
    if len(res.records):
        report = validate_records(res.records, res.dataset, spec=spec, skip=_SAMPLE_SKIP)
        rows = list(res.source_rows)
        fields = (report.spec or spec).dataset(res.dataset).fields if (report.spec or spec) else {}
        reported = {k for k, f in fields.items() if f.is_required and k not in res.records.columns}
        for p in report.problems:
            if str(p.field or "").split(".")[0] in reported:
                continue
            if p.severity == "error" and p.row is not None and p.row < len(rows):
                failing.setdefault(int(rows[p.row]), []).append(p.message)
    return failing


def _joined(msgs: list[str], shown: int = 3) -> str:
    return "；".join(msgs[:shown]) + (f"（共 {len(msgs)} 个问题）" if len(msgs) > shown else "")


def _business_time_issue(spec, ds, dm: DatasetMapping, w: str) -> list[MappingIssue]:
    """A business data set (not 基础数据) needs ``source.business_time``: without it ``upload --date``
    cannot pick the day's rows and would send the whole backlog."""
    from ._template import master_datasets

    if dm.source.business_time or ds.parent is not None or ds.code in {d.code for d in master_datasets(spec)}:
        return []
    return [
        MappingIssue(
            "error",
            w,
            f"数据集 {ds.code}（{ds.name}）没有设置业务时间列 source.business_time："
            "按日期上传（--date）时无法只取当天的数据；请在 source 下写 business_time: <就诊/申请时间列>",
        )
    ]


def _missing_cols(rules: dict[str, FieldRule], available: set[str], w: str, label: str) -> list[MappingIssue]:
    issues = []
    for key, rule in rules.items():
        for col in rule.columns():
            if col not in available:
                near = _closest(col, sorted(available))
                issues.append(
                    MappingIssue(
                        "error",
                        f"{w}: 字段 {key}",
                        f"列 {col!r} 不在数据源 {label} 中" + (f"，是否应为 {near}？" if near else ""),
                    )
                )
    return issues


def _norm_cs(spec, name: str) -> str:
    try:
        return spec.code_set(name).id
    except Exception:
        return name


def _closest(name: str, options: list[str]) -> str | None:
    from rapidfuzz import process

    hit = process.extractOne(name, options, score_cutoff=75) if options else None
    return hit[0] if hit else None


def _read_yaml(path: Path):
    return read_yaml(path, MappingError)


def load_mapping(directory: str | os.PathLike) -> Mapping:
    """Load a mapping directory (``mapping.yaml`` + ``datasets/*.yaml``); schema errors raise MappingError."""
    d = Path(directory)
    top_file = d / "mapping.yaml" if d.is_dir() else d
    if not d.exists():
        raise MappingError(
            "对照配置目录不存在：请检查 --mapping 路径（应为含 mapping.yaml 的目录，如 mapping/demo）", where=str(d)
        )
    if d.is_dir() and not top_file.exists():
        raise MappingError("不是对照配置目录：缺少 mapping.yaml", where=str(d))
    d = top_file.parent
    raw = _read_yaml(top_file)
    w = str(top_file)
    _expect(raw, dict, w, "mapping.yaml")
    raw = {k: v for k, v in raw.items() if not str(k).startswith("x-")}
    _check_keys(raw, _TOP_KEYS, w, "mapping.yaml")
    if raw.get("kind") != KIND:
        raise MappingError(f"kind 应为 {KIND}，实际为 {raw.get('kind')!r}", where=w)
    if raw.get("version") != VERSION:
        raise MappingError(f"不支持的对照配置版本 {raw.get('version')!r}（支持 {VERSION}）", where=w)
    spec = raw.get("spec")
    if isinstance(spec, str):
        spec = {"id": spec}
    _expect(spec, dict, w, "spec")
    if not spec.get("id"):
        raise MappingError("spec.id 缺失（例如 beijing-reference）", where=w)
    sources = {}
    for name, sd in _expect(raw.get("sources") or {}, dict, w, "sources").items():
        if isinstance(sd, str):
            sd = {"url": sd} if "://" in sd else {"path": sd}
        _expect(sd, dict, f"{w}: sources.{name}", "source")
        _check_keys(sd, {"url", "path", "encoding", "description"}, f"{w}: sources.{name}", "source")
        sources[str(name)] = SourceDef(**sd)
    code_maps = {}
    for name, cd in _expect(raw.get("code_maps") or {}, dict, w, "code_maps").items():
        if isinstance(cd, str):
            cd = {"file": cd}
        _expect(cd, dict, f"{w}: code_maps.{name}", "code map")
        _check_keys(cd, {"file", "code_set", "description"}, f"{w}: code_maps.{name}", "code map")
        if not cd.get("file"):
            raise MappingError("code map 缺少 file", where=f"{w}: code_maps.{name}")
        code_maps[str(name)] = CodeMapRef(**cd)
    m = Mapping(
        spec_id=str(spec["id"]),
        spec_version=None if spec.get("version") is None else str(spec["version"]),
        hospital=raw.get("hospital"),
        description=raw.get("description"),
        sources=sources,
        code_maps=code_maps,
        directory=d,
    )
    files = sorted((d / "datasets").glob("*.yaml")) if (d / "datasets").is_dir() else []
    for item in raw.get("datasets") or []:  # optional explicit list (inline dicts or file names)
        if isinstance(item, str):
            files.append(d / item)
        else:
            dm = DatasetMapping.from_dict(item, f"{w}: datasets")
            m.datasets[dm.dataset] = dm
    for f in files:
        dm = DatasetMapping.from_dict(_read_yaml(f), str(f))
        if dm.dataset in m.datasets:
            raise MappingError(f"数据集 {dm.dataset} 在多个文件中配置", where=str(f))
        m.datasets[dm.dataset] = dm
    return m


#: what differs from person to person (a fixed 职称 for every doctor is made up), by the field's name
_PERSONAL = re.compile(r"姓名|身份证|证件号|手机|性别|年龄|出生|职称|职务|民族|婚姻|血型")
_ORGANISATION = re.compile(r"机构|单位|医院|科室|平台")


def _personal(f) -> bool:
    """A field about the person of each record: never the same for every record."""
    name = f.name or ""
    return bool(_PERSONAL.search(name)) and not _ORGANISATION.search(name)


def _is_strftime(fmt: str) -> bool:
    """A usable strftime format: it formats without error and has at least one directive."""
    try:
        dt.datetime.now().strftime(fmt)
    except ValueError:
        return False
    return "%" in fmt
