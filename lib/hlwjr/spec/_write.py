"""Writing a spec directory (``write_spec``), all or nothing: the YAML/CSV files ``load_spec`` reads."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

import yaml

from .._exceptions import SpecError
from .._files import give_default_mode
from ._load import _SpecLoader
from ._model import FIELD_ATTRIBUTES, SPEC_FORMAT_VERSION, SPEC_KIND, Dataset, Field, Spec

# --------------------------------------------------------------------------------------------
# writing


_WRITTEN_ATTRS = tuple(a.name for a in FIELD_ATTRIBUTES if a.name not in {"key", "name", "aliases"})


def _field_to_dict(f: Field) -> dict:
    d: dict[str, Any] = {"key": f.key, "name": f.name}
    defaults = Field(key=f.key, name=f.name)
    for attr in _WRITTEN_ATTRS:
        v = getattr(f, attr)
        if v != getattr(defaults, attr):
            d[attr] = v
    if f.aliases:
        d["aliases"] = dict(f.aliases)
    return d


def _dataset_to_dict(ds: Dataset) -> dict:
    d: dict[str, Any] = {"code": ds.code, "name": ds.name}
    if ds.aliases:
        d["aliases"] = list(ds.aliases)
    if ds.section:
        d["section"] = ds.section
    if ds.description:
        d["description"] = ds.description
    if ds.parent:
        d["parent"] = ds.parent
    if ds.key:
        d["key"] = list(ds.key)
    if ds.depends_on:
        d["depends_on"] = list(ds.depends_on)
    if ds.references:
        refs = []
        for r in ds.references:
            rd: dict[str, Any] = {"fields": dict(r.fields), "datasets": list(r.datasets)}
            if r.where != "any":
                rd["where"] = r.where
            if r.severity != "error":
                rd["severity"] = r.severity
            if r.description:
                rd["description"] = r.description
            refs.append(rd)
        d["references"] = refs
    if ds.rules:
        rules = []
        for r in ds.rules:
            rd = {"id": r.id}
            if r.name:
                rd["name"] = r.name
            if r.params:
                rd["params"] = dict(r.params)
            if r.severity != "error":
                rd["severity"] = r.severity
            if r.description:
                rd["description"] = r.description
            rules.append(rd)
        d["rules"] = rules
    d["fields"] = [_field_to_dict(f) for f in ds.fields.values()]
    return d


def _dump_yaml(obj: Any) -> str:
    return yaml.safe_dump(obj, allow_unicode=True, sort_keys=False, width=100)


def write_spec(spec: Spec, directory: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write ``spec`` as a spec directory (all or nothing: a temp dir renamed into place)."""
    import shutil
    import tempfile

    target = Path(directory)
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise SpecError(f"目标目录 {target} 已存在且非空；请换一个目录或允许覆盖")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        (tmp / "datasets").mkdir()
        (tmp / "codesets").mkdir()
        meta: dict[str, Any] = {
            "kind": SPEC_KIND,
            "version": SPEC_FORMAT_VERSION,
            "id": spec.id,
            "spec_version": spec.version,
            "title": spec.title,
            "official": spec.official,
        }
        for attr in ("notice", "description", "source"):
            if getattr(spec, attr):
                meta[attr] = getattr(spec, attr)
        if spec.provenance_tags:
            meta["provenance_tags"] = dict(spec.provenance_tags)
        if spec.extra:
            meta["extra"] = dict(spec.extra)
        meta["datasets"] = list(spec.datasets)
        cs_entries = []
        for cs in spec.code_sets.values():
            file = cs.file or f"{_safe_filename(cs.id)}.csv"
            e: dict[str, Any] = {"id": cs.id, "name": cs.name}
            if file != f"{cs.id}.csv":
                e["file"] = file
            for attr in ("standard", "provenance", "description"):
                if getattr(cs, attr):
                    e[attr] = getattr(cs, attr)
            if not cs.complete:
                e["complete"] = False
            if cs.aliases:
                e["aliases"] = list(cs.aliases)
            cs_entries.append(e)
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            columns, rows = cs.table()
            w.writerow(columns)
            w.writerows(rows)
            (tmp / "codesets" / file).write_text(buf.getvalue(), encoding="utf-8")
        meta["code_sets"] = cs_entries
        (tmp / "spec.yaml").write_text(_dump_yaml(meta), encoding="utf-8")
        for ds in spec.datasets.values():
            (tmp / "datasets" / f"{ds.code}.yaml").write_text(_dump_yaml(_dataset_to_dict(ds)), encoding="utf-8")
        _SpecLoader(tmp).load()  # never write a spec we cannot read back
        give_default_mode(tmp, directory=True)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _safe_filename(name: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", name).strip("_") or "codes"
