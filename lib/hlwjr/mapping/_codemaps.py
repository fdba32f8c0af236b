"""Code maps (值域对照): local value → standard code tables kept as CSV in ``codes/<name>.csv``."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .._exceptions import MappingError, SourceError
from .._files import atomic_write
from .._sheets import defuse_frame, undo_defuse
from ._model import REVIEW_STATUSES

CODE_MAP_COLUMNS = ["local", "local_name", "code", "name", "status", "comment"]


@dataclass
class CodeMap:
    """A code map (值域对照): local value → standard code, kept as a CSV analysts edit in Excel.

    CSV columns: ``local,local_name,code,name,status,comment`` (UTF-8 with BOM so Excel shows
    Chinese).  Several local values may map to one code (``男``/``M``/``1`` → ``1``).
    """

    name: str
    entries: pd.DataFrame
    code_set: str | None = None
    path: Path | None = None
    line_end: str = "\r\n"  # kept from the loaded file (Excel writes CRLF); new files: CRLF, for Excel
    _saved: pd.DataFrame | None = field(default=None, repr=False, compare=False)  # as loaded / last saved

    def lookup(self) -> dict[str, str]:
        """local value → code (rows marked rejected are ignored)."""
        e = self.entries
        e = e[(e["status"].fillna("") != "rejected") & e["code"].notna() & (e["code"].astype("str") != "")]
        return dict(zip(e["local"].astype("str"), e["code"].astype("str")))

    def set(
        self,
        local: str,
        code: str,
        *,
        local_name: str | None = None,
        name: str | None = None,
        status: str = "accepted",
        comment: str | None = None,
    ) -> None:
        """Add or change one entry."""
        e = self.entries
        row = {
            "local": str(local),
            "local_name": local_name,
            "code": str(code),
            "name": name,
            "status": status,
            "comment": comment,
        }
        hit = e.index[e["local"].astype("str") == str(local)]
        if len(hit):
            for k, v in row.items():
                if v is not None or k in ("code", "status"):
                    e.loc[hit[0], k] = v
        else:
            self.entries = pd.concat([e, pd.DataFrame([row], columns=CODE_MAP_COLUMNS)], ignore_index=True)

    def to_frame(self) -> pd.DataFrame:
        return self.entries.copy()

    def render(self, path: str | os.PathLike | None = None) -> str | None:
        """The CSV text :meth:`save` would write to ``path`` (BOM included), or None when that file
        already holds these entries (it is then left as it is)."""
        p = Path(path or self.path) if (path or self.path) else None
        frame = self.entries.reindex(columns=CODE_MAP_COLUMNS)
        if p is not None and p.exists() and p == self.path and self._saved is not None and _same(frame, self._saved):
            return None

        safe = defuse_frame(frame)  # opened in Excel: no cell may run as a formula (undone on load)
        return "\ufeff" + safe.to_csv(index=False, quoting=csv.QUOTE_MINIMAL, lineterminator=self.line_end)

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write the CSV (UTF-8 with BOM, for Excel; the loaded file's line endings) atomically —
        only when the entries changed."""

        if path is None and self.path is None:
            raise MappingError(
                f'值域对照表 {self.name} 还没有文件路径：请给出保存位置，如 save("codes/{self.name}.csv")'
            )
        p = Path(path or self.path)
        text = self.render(p)
        if text is not None:
            atomic_write(p, lambda tmp: tmp.write_bytes(text.encode("utf-8")))
        self.path = p
        self._saved = self.entries.reindex(columns=CODE_MAP_COLUMNS).copy()
        return p


def load_code_map(path, *, name: str | None = None, code_set: str | None = None) -> CodeMap:
    """Read a code map CSV (any of UTF-8/UTF-8-BOM/GBK; columns ``local`` and ``code`` required)."""
    from ..sources._read import read_source

    p = Path(path)
    try:
        # a code map is a comma-separated file (as save() and Excel write it): a tab inside a
        # value must not be taken for the delimiter
        df = read_source(p, delimiter=",") if p.suffix.lower() == ".csv" else read_source(p)
    except SourceError as exc:
        raise MappingError(f"值域对照表无法读取：{exc.message}", where=str(p)) from exc
    missing = [c for c in ("local", "code") if c not in df.columns]
    if missing:
        raise MappingError(
            f"值域对照表缺少列 {', '.join(missing)}（需要 local,local_name,code,name,status,comment）", where=str(p)
        )
    for c in CODE_MAP_COLUMNS:
        if c not in df.columns:
            df[c] = pd.Series([None] * len(df), dtype="str")
        else:
            given = df[c].notna()  # what save() protected from Excel; the column keeps its dtype
            if given.any():
                df.loc[given, c] = df.loc[given, c].map(undo_defuse)
    dup = df["local"][df["local"].duplicated()]
    if len(dup):
        row = int(dup.index[0]) + 2
        raise MappingError(f"本地值 {dup.iloc[0]!r} 在对照表中出现多次，请只保留一行", where=f"{p}:第{row}行")
    bad = df["status"].notna() & ~df["status"].isin(REVIEW_STATUSES)
    if bad.any():
        row = int(bad.idxmax()) + 2
        raise MappingError(f"status 应为 {'/'.join(REVIEW_STATUSES)}", where=f"{p}:第{row}行")
    entries = df[CODE_MAP_COLUMNS].reset_index(drop=True)
    head = p.read_bytes()[:65536]
    line_end = "\r\n" if b"\r\n" in head or b"\n" not in head else "\n"
    cm = CodeMap(name=name or p.stem, entries=entries, code_set=code_set, path=p, line_end=line_end)
    cm._saved = entries.copy()
    return cm


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Same entries, as text (a CSV cannot tell None from "")."""
    if a.shape != b.shape:
        return False
    return _as_text(a).equals(_as_text(b))


def _as_text(f: pd.DataFrame) -> pd.DataFrame:
    f = f.reset_index(drop=True).astype(object)
    return f.where(f.notna(), "").astype(str)
