"""Loading a spec directory (``load_spec``): every file checked, errors name the file, the data set
or field and what to fix; shipped specs are cached by file stamps.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import re
from pathlib import Path
from typing import Any

from .._exceptions import SpecError
from .._yaml import read_yaml
from ._model import (
    _SPECS_DIR,
    DEFAULT_SPEC,
    FIELD_ATTRIBUTES,
    FIELD_TYPES,
    SENSITIVE_KINDS,
    SPEC_FORMAT_VERSION,
    SPEC_KIND,
    CodeSet,
    Dataset,
    Field,
    Reference,
    RuleRef,
    Spec,
)

# --------------------------------------------------------------------------------------------
# loading

_SPEC_KEYS = {
    "kind",
    "version",
    "id",
    "spec_version",
    "title",
    "official",
    "notice",
    "description",
    "source",
    "provenance_tags",
    "datasets",
    "code_sets",
    "extra",
}
_DATASET_KEYS = {
    "code",
    "name",
    "aliases",
    "section",
    "description",
    "key",
    "depends_on",
    "references",
    "rules",
    "fields",
    "parent",
}
_FIELD_KEYS = {a.name for a in FIELD_ATTRIBUTES}
_COUNT_ATTRS = tuple(a.name for a in FIELD_ATTRIBUTES if a.metadata["kind"] == "count")
_NUMBER_ATTRS = tuple(a.name for a in FIELD_ATTRIBUTES if a.metadata["kind"] == "number")
_CODESET_KEYS = {"id", "name", "file", "standard", "provenance", "complete", "aliases", "description"}
_REFERENCE_KEYS = {"fields", "datasets", "dataset", "where", "severity", "description"}
_RULE_KEYS = {"id", "params", "severity", "name", "description"}


def list_specs() -> list[str]:
    """Names of the specs shipped with hlwjr (package data)."""
    if not _SPECS_DIR.is_dir():
        return []
    return sorted(p.name for p in _SPECS_DIR.iterdir() if (p / "spec.yaml").is_file())


def _resolve(name_or_dir: str | os.PathLike | None) -> Path:
    if name_or_dir is None:
        name_or_dir = DEFAULT_SPEC
    p = Path(name_or_dir)
    if p.is_file() and p.name == "spec.yaml":
        return p.parent
    if p.is_dir():
        if not (p / "spec.yaml").is_file():
            raise SpecError(f"目录 {p} 不是规范目录：缺少 spec.yaml（用 `hlwjr spec import` 从接口文档生成）")
        return p
    packaged = _SPECS_DIR / str(name_or_dir)
    if (packaged / "spec.yaml").is_file():
        return packaged
    raise SpecError(
        f"找不到规范 {str(name_or_dir)!r}：既不是规范目录，也不是内置规范（内置: {', '.join(list_specs()) or '无'}）"
    )


def load_spec(name_or_dir: str | os.PathLike | Spec | None = None) -> Spec:
    """Load a spec by name (``beijing-reference``) or directory; the default is the reference spec.

    Every file is checked; a problem raises :class:`hlwjr.SpecError` naming the file and the
    data set/field at fault.  Loaded specs are cached (a changed file is re-read).
    """
    if isinstance(name_or_dir, Spec):
        return name_or_dir
    path = _resolve(name_or_dir).resolve()
    if path.parent == _SPECS_DIR.resolve():
        stamp: tuple = ()  # shipped package data does not change while we run
    else:
        stamp = tuple(sorted((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in path.rglob("*") if f.is_file()))
    return _load_cached(str(path), stamp)


@functools.lru_cache(maxsize=16)
def _load_cached(path: str, _stamp: tuple) -> Spec:
    return _SpecLoader(Path(path)).load()


def _read_yaml(path: Path) -> Any:
    return read_yaml(path, SpecError)


def _tuple(value: Any, where: str, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int)) for v in value):
        return tuple(str(v) for v in value)
    raise SpecError(f"{what} 应为字符串列表，实际为 {value!r}", where=where)


def _check_keys(obj: Any, allowed: set[str], where: str, what: str) -> dict:
    if not isinstance(obj, dict):
        raise SpecError(f"{what} 应为映射（key: value），实际为 {type(obj).__name__}", where=where)
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise SpecError(
            f"{what} 含未知属性 {', '.join(map(str, unknown))}；可用属性: {', '.join(sorted(allowed))}",
            where=where,
        )
    return obj


class _SpecLoader:
    def __init__(self, root: Path) -> None:
        self.root = root

    def load(self) -> Spec:
        meta_path = self.root / "spec.yaml"
        where = str(meta_path)
        meta = _check_keys(_read_yaml(meta_path), _SPEC_KEYS, where, "spec.yaml")
        if meta.get("kind", SPEC_KIND) != SPEC_KIND:
            raise SpecError(f"kind 应为 {SPEC_KIND}，实际为 {meta.get('kind')!r}", where=where)
        if int(meta.get("version", 1)) > SPEC_FORMAT_VERSION:
            raise SpecError(
                f"规范文件格式版本 {meta.get('version')} 高于本工具支持的 {SPEC_FORMAT_VERSION}，请升级 hlwjr",
                where=where,
            )
        dictionary_only = meta.get("datasets") == [] and bool(meta.get("code_sets"))  # a code list on its own
        for req in ("id", "title", "datasets"):
            if not meta.get(req) and not (req == "datasets" and dictionary_only):
                raise SpecError(f"缺少必填属性 {req}", where=where)
        code_sets = self._load_code_sets(meta.get("code_sets") or [], where)
        datasets: dict[str, Dataset] = {}
        for entry in meta["datasets"]:
            file = self.root / "datasets" / f"{entry}.yaml" if isinstance(entry, str) else None
            if file is None:
                raise SpecError(f"datasets 列表项应为数据集代码（文件名），实际为 {entry!r}", where=where)
            ds = self._load_dataset(file, str(meta["id"]))
            if ds.code in datasets:
                raise SpecError(f"数据集代码 {ds.code} 重复", where=str(file))
            datasets[ds.code] = ds
        spec = Spec(
            id=str(meta["id"]),
            version=str(meta.get("spec_version", "0")),
            title=str(meta["title"]),
            datasets=datasets,
            code_sets=code_sets,
            official=bool(meta.get("official", False)),
            notice=meta.get("notice"),
            description=meta.get("description"),
            source=meta.get("source"),
            provenance_tags=dict(meta.get("provenance_tags") or {}),
            path=str(self.root),
            extra=dict(meta.get("extra") or {}),
        )
        for ds in datasets.values():
            object.__setattr__(ds, "_spec", spec)
        self._check_links(spec)
        spec.top_level()  # raises on dependency cycles
        return spec

    # -- code sets ---------------------------------------------------------------------------
    def _load_code_sets(self, entries: list, where: str) -> dict[str, CodeSet]:
        result: dict[str, CodeSet] = {}
        if not isinstance(entries, list):
            raise SpecError("code_sets 应为列表", where=where)
        for i, entry in enumerate(entries):
            ew = f"{where} code_sets[{i}]"
            entry = _check_keys(entry, _CODESET_KEYS, ew, "值域定义")
            if not entry.get("id"):
                raise SpecError("值域定义缺少 id", where=ew)
            cid = str(entry["id"])
            file = entry.get("file") or f"{cid}.csv"
            codes, parents, notes = _read_codes_csv(self.root / "codesets" / file)
            if cid in result:
                raise SpecError(f"值域 id {cid} 重复", where=ew)
            result[cid] = CodeSet(
                id=cid,
                name=str(entry.get("name") or cid),
                codes=codes,
                standard=entry.get("standard"),
                provenance=entry.get("provenance"),
                complete=bool(entry.get("complete", True)),
                aliases=_tuple(entry.get("aliases"), ew, "aliases"),
                description=entry.get("description"),
                parents=parents,
                notes=notes,
                file=file,
            )
        return result

    # -- data sets ---------------------------------------------------------------------------
    def _load_dataset(self, path: Path, spec_id: str) -> Dataset:
        where = str(path)
        raw = _check_keys(_read_yaml(path), _DATASET_KEYS, where, "数据集")
        for req in ("code", "name", "fields"):
            if not raw.get(req):
                raise SpecError(f"数据集缺少必填属性 {req}", where=where)
        code = str(raw["code"])
        if path.stem != code:
            raise SpecError(f"数据集代码 {code} 与文件名 {path.name} 不一致", where=where)
        if not isinstance(raw["fields"], list):
            raise SpecError("fields 应为列表", where=where)
        fields: dict[str, Field] = {}
        for i, fraw in enumerate(raw["fields"]):
            f = self._load_field(fraw, f"{where} fields[{i}]")
            if f.key in fields:
                raise SpecError(f"字段 {f.key} 重复", where=f"{where} fields[{i}]")
            fields[f.key] = f
        key = _tuple(raw.get("key"), where, "key")
        for k in key:
            if k not in fields:
                raise SpecError(f"业务主键 key 中的字段 {k} 不在本数据集的字段中", where=where)
        refs = []
        for i, rraw in enumerate(raw.get("references") or []):
            rw = f"{where} references[{i}]"
            rraw = _check_keys(rraw, _REFERENCE_KEYS, rw, "引用定义")
            fmap = rraw.get("fields")
            if isinstance(fmap, str):
                fmap = {fmap: fmap}
            if isinstance(fmap, list):
                fmap = {str(x): str(x) for x in fmap}
            if not isinstance(fmap, dict) or not fmap:
                raise SpecError("引用定义的 fields 应为 {本字段: 目标字段}", where=rw)
            for local in fmap:
                if local not in fields:
                    raise SpecError(f"引用字段 {local} 不在本数据集的字段中", where=rw)
            targets = _tuple(rraw.get("datasets") or rraw.get("dataset"), rw, "datasets")
            if not targets:
                raise SpecError("引用定义缺少 datasets（被引用的数据集）", where=rw)
            w = str(rraw.get("where", "any"))
            if w not in ("batch", "accepted", "any"):
                raise SpecError(f"引用 where 应为 batch/accepted/any，实际为 {w}", where=rw)
            refs.append(
                Reference(
                    fields={str(k): str(v) for k, v in fmap.items()},
                    datasets=targets,
                    where=w,
                    severity=_severity(rraw.get("severity", "error"), rw),
                    description=rraw.get("description"),
                )
            )
        rules = []
        for i, rr in enumerate(raw.get("rules") or []):
            rw = f"{where} rules[{i}]"
            if isinstance(rr, str):
                rr = {"id": rr}
            rr = _check_keys(rr, _RULE_KEYS, rw, "规则引用")
            if not rr.get("id"):
                raise SpecError("规则引用缺少 id", where=rw)
            params = rr.get("params") or {}
            if not isinstance(params, dict):
                raise SpecError("规则 params 应为映射", where=rw)
            rules.append(
                RuleRef(
                    id=str(rr["id"]),
                    params=params,
                    severity=_severity(rr.get("severity", "error"), rw),
                    name=rr.get("name"),
                    description=rr.get("description"),
                )
            )
        rule_names = {r.name for r in rules if r.name} | {r.id for r in rules}
        for f in fields.values():
            if isinstance(f.required, str) and f.required not in rule_names:
                raise SpecError(
                    f"字段 {f.key} 的 required 指向条件规则 {f.required!r}，但本数据集 rules 中没有该规则（name 或 "
                    "id）",
                    where=where,
                )
        return Dataset(
            code=code,
            name=str(raw["name"]),
            fields=fields,
            key=key,
            aliases=_tuple(raw.get("aliases"), where, "aliases"),
            section=str(raw["section"]) if raw.get("section") is not None else None,
            description=raw.get("description"),
            depends_on=_tuple(raw.get("depends_on"), where, "depends_on"),
            references=tuple(refs),
            rules=tuple(rules),
            parent=raw.get("parent"),
            file=where,
            spec_id=spec_id,
        )

    def _load_field(self, raw: Any, where: str) -> Field:
        raw = _check_keys(raw, _FIELD_KEYS, where, "字段")
        key = raw.get("key")
        if not key or not isinstance(key, str):
            raise SpecError("字段缺少 key（字段代码）", where=where)
        where = f"{where} ({key})"
        ftype = raw.get("type", "string")
        if ftype not in FIELD_TYPES:
            raise SpecError(f"字段类型 {ftype!r} 无效；可用: {', '.join(FIELD_TYPES)}", where=where)
        required = raw.get("required", False)
        if not isinstance(required, (bool, str)):
            raise SpecError(f"required 应为 true/false 或条件规则名，实际为 {required!r}", where=where)
        ints = {}
        for attr in _COUNT_ATTRS:
            v = raw.get(attr)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise SpecError(f"{attr} 应为非负整数，实际为 {v!r}", where=where)
            ints[attr] = v
        for attr in _NUMBER_ATTRS:
            v = raw.get(attr)
            if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)):
                raise SpecError(f"{attr} 应为数值，实际为 {v!r}", where=where)
        if ftype == "array" and not raw.get("item"):
            raise SpecError("数组字段必须用 item 指明子数据集", where=where)
        pattern = raw.get("pattern")
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise SpecError(f"pattern 正则表达式无效: {exc}", where=where) from exc
        sensitive = raw.get("sensitive")
        if sensitive is not None and sensitive not in SENSITIVE_KINDS:
            raise SpecError(
                f"sensitive 应为 {' / '.join(SENSITIVE_KINDS)}（证件号/电话/姓名/不脱敏），实际为 {sensitive!r}",
                where=where,
            )
        aliases = raw.get("aliases") or {}
        if not isinstance(aliases, dict):
            raise SpecError("aliases 应为映射，例如 {pinyin: HZXM, ws: DE02.01.039.00}", where=where)
        return Field(
            key=key,
            name=str(raw.get("name") or key),
            type=ftype,
            description=raw.get("description"),
            required=required,
            code_set=raw.get("code_set"),
            pattern=pattern,
            const=raw.get("const"),
            item=raw.get("item"),
            minimum=raw.get("minimum"),
            maximum=raw.get("maximum"),
            aliases={str(k): str(v) for k, v in aliases.items()},
            sensitive=sensitive,
            provenance=raw.get("provenance"),
            example=raw.get("example"),
            **ints,
        )

    def _check_links(self, spec: Spec) -> None:
        for ds in spec.datasets.values():
            for f in ds.fields.values():
                if f.code_set and f.code_set not in spec.code_sets:
                    try:
                        spec.code_set(f.code_set)
                    except SpecError:
                        raise SpecError(
                            f"字段 {f.key} 引用的值域 {f.code_set!r} 不存在；请在 spec.yaml 的 code_sets 中登记并提"
                            "供 CSV",
                            where=ds.file,
                        ) from None
                if f.item and f.item not in spec.datasets:
                    raise SpecError(f"数组字段 {f.key} 的子数据集 {f.item!r} 不存在", where=ds.file)
            for dep in ds.depends_on:
                if dep not in spec.datasets:
                    raise SpecError(f"depends_on 中的数据集 {dep!r} 不存在", where=ds.file)
            if ds.parent and ds.parent not in spec.datasets:
                raise SpecError(f"parent 数据集 {ds.parent!r} 不存在", where=ds.file)
            for ref in ds.references:
                for target in ref.datasets:
                    if target not in spec.datasets:
                        raise SpecError(f"引用的数据集 {target!r} 不存在", where=ds.file)
                    tds = spec.datasets[target]
                    for tf in ref.fields.values():
                        if tf not in tds.fields:
                            raise SpecError(f"引用目标字段 {target}.{tf} 不存在", where=ds.file)


def _severity(value: Any, where: str) -> str:
    if value not in ("error", "warning"):
        raise SpecError(f"severity 应为 error 或 warning，实际为 {value!r}", where=where)
    return value


def _read_codes_csv(path: Path) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise SpecError("值域 CSV 文件不存在", where=str(path)) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError("值域 CSV 不是 UTF-8 编码，请另存为 UTF-8", where=str(path)) from exc
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise SpecError("值域 CSV 是空文件", where=str(path)) from None
    if header[:2] != ["code", "name"]:
        raise SpecError(f"值域 CSV 表头应以 code,name 开头，实际为 {','.join(header)}", where=str(path))
    codes: dict[str, str] = {}
    parents: dict[str, str] = {}
    notes: dict[str, str] = {}
    col = {h: i for i, h in enumerate(header)}
    for lineno, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) > len(header):
            raise SpecError(
                f"第 {lineno} 行有 {len(row)} 列，表头只有 {len(header)} 列（含逗号的名称请加引号）", where=str(path)
            )
        row = row + [""] * (len(header) - len(row))
        code = row[0].strip()
        if not code:
            raise SpecError(f"第 {lineno} 行缺少 code", where=str(path))
        if code in codes:
            raise SpecError(f"第 {lineno} 行 code {code} 重复", where=str(path))
        codes[code] = row[1].strip()
        if "parent" in col and row[col["parent"]].strip():
            parents[code] = row[col["parent"]].strip()
        if "note" in col and row[col["note"]].strip():
            notes[code] = row[col["note"]].strip()
    if not codes:
        raise SpecError("值域 CSV 没有任何代码", where=str(path))
    return codes, parents, notes
