"""Where a mapping's data comes from: the named sources of ``mapping.yaml`` (files, directories,
databases, ``${ENV}`` expansion), overrides for tests and notebooks, and the cache of whole tables
read for joins and child tables."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .._exceptions import MappingError
from ._model import Join, SourceRef

if TYPE_CHECKING:
    from ._config import Mapping


class _Context:
    """Resolves the named sources of a mapping and caches whole tables read for joins/children."""

    def __init__(self, mapping: Mapping, sources: dict | None) -> None:
        self.mapping = mapping
        self.overrides = dict(sources or {})
        self.cache: dict[tuple, pd.DataFrame] = {}

    def _source_value(self, name: str | None):
        names = list(self.mapping.sources) or list(self.overrides)
        name = name or (names[0] if names else None)
        if name in self.overrides:
            return name, self.overrides[name]
        if name is None or name not in self.mapping.sources:
            raise MappingError(
                f"未定义的数据源 {name!r}；请在 mapping.yaml 的 sources 中定义，或调用时用 sources= 给出",
                where=str(self.mapping.directory or ""),
            )
        sd = self.mapping.sources[name]
        raw = sd.url or sd.path
        env = dict(os.environ)
        if self.mapping.directory is not None:
            env.setdefault("MAPPING_DIR", str(self.mapping.directory.resolve()))
        value = _expand(raw, env, where=f"sources.{name}")
        if sd.path and not Path(value).is_absolute() and self.mapping.directory is not None:
            value = str(self.mapping.directory / value)
        return name, value

    def open(self, ref: SourceRef | Join):
        from ..sources._read import Source

        if ref.file:
            p = self.mapping._path(ref.file)
            return Source(p, sheet=getattr(ref, "sheet", None))
        name, value = self._source_value(ref.source)
        if isinstance(value, pd.DataFrame):
            return Source(value)
        if isinstance(value, dict) and ref.table in value:  # {"table": DataFrame} overrides
            return Source(value[ref.table])
        text = str(value)
        if "://" in text:
            return Source(text, table=ref.table, query=ref.query)
        p = Path(text)
        if p.is_dir():  # a directory of CSV exports: table → <dir>/<table>.csv
            if not ref.table:
                raise MappingError("目录数据源只能按 table 读取（<目录>/<table>.csv）", where=f"sources.{name}")
            return Source(p / f"{ref.table}.csv")
        return Source(p, sheet=ref.table if p.suffix.lower() in (".xlsx", ".xlsm") else None)

    def read(self, ref) -> pd.DataFrame:
        k = (getattr(ref, "source", None), ref.table, ref.query, ref.file)
        if k not in self.cache:
            self.cache[k] = self.open(ref).read()
        return self.cache[k]

    def columns(self, ref) -> list[str]:
        src = self.open(ref)
        if src.info.kind == "sql":
            for chunk in src.iter_chunks(1):
                return list(chunk.columns)
            return []
        if src.info.kind == "csv":
            return src.header_columns()
        return list(src.read().columns)


def _expand(raw: str, env: dict, where: str) -> str:
    def repl(m):
        name, default = m.group(1), m.group(3)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise MappingError(f"环境变量 {name} 未设置（用于数据源路径），请设置后再运行，或用 sources= 覆盖", where=where)

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}", repl, raw)
