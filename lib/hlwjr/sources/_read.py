"""Data sources (数据源): the hospital's HIS/EMR exports and database tables, read into DataFrames.

``read_source(source, ...)`` reads

* **CSV / TXT** exports — the text encoding (UTF-8, UTF-8 with BOM, GBK, GB18030) and the
  delimiter (``,`` ``\\t`` ``;`` ``|``) are detected and reported (``SourceInfo``);
* **Excel** workbooks (.xlsx) — any sheet, with the header row detected when a title block sits
  above it (e.g. headers on row 3);
* **Parquet** extracts (streamed by record batches);
* **SQL databases** through a SQLAlchemy URL (``sqlite:///his.sqlite`` works out of the box, other
  databases with their driver) — a table (``table=`` or ``URL#table``) or a ``query=``.

Text sources are read **as text** (``str``): codes keep their leading zeros and nothing is guessed
behind the analyst's back; empty cells are missing values.  Large sources are read in chunks
(``iter_source(..., chunksize=...)``), so a 1,000,000-row table never needs more than one copy in
memory.  Unreadable input raises :class:`hlwjr.SourceError` naming the source, row and column.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .._exceptions import SourceError
from .._privacy import mask_text
from ._encodings import _GBK_SAFE_DELIMITERS, _check_given_encoding, _decode_table, _detect_delimiter, detect_encoding
from ._excel import (
    _check_columns,
    _csv_header_row,
    _detect_header_row,
    _excel_text,
    _excel_value,
    _pinned_header_row,
    _refuse_uncached_formulas,
    _template_header_row,
    list_sheets,
    named_width,
    open_workbook,
)
from ._layout import FOOTER_LOOK, choose_sheet, trim_footer

__all__ = ["Source", "SourceInfo", "iter_source", "list_sheets", "open_source", "read_source"]


_TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ".dat"}


_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}


_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # 旧版 .xls (BIFF)
_MARKUP = re.compile(rb"^\s*<(?:!doctype\s+html|html|table|\?xml|meta|head|body)\b", re.IGNORECASE)


def _content_kind(path: Path) -> str:
    """What the file's first bytes say it is: ``xlsx`` (zip), ``xls`` (OLE), ``html``, ``binary`` or ``text``."""
    with open(path, "rb") as fh:
        head = fh.read(512)
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head.startswith(_OLE_MAGIC):
        return "xls"
    if _MARKUP.match(_without_bom(head)):
        return "html"
    return "binary" if _looks_binary(head) else "text"


_CONTROL = bytes(set(range(32)) - {9, 10, 12, 13}) + b"\x7f"


def _looks_binary(head: bytes) -> bool:
    """Bytes no text export starts with: over a tenth control bytes (NUL…) — another program's
    file, a damaged copy, UTF-16 without its BOM. A NUL inside one cell of a CSV is still text."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return False  # UTF-16 with BOM: its own message
    return len(head) > 0 and len(head) - len(head.translate(None, _CONTROL)) > len(head) / 10


def _without_bom(head: bytes) -> bytes:
    """The first bytes without a UTF-8/GB18030 BOM, UTF-16 (Excel's 'Unicode 文本') as UTF-8."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return head.decode("utf-16", errors="ignore").lstrip("\ufeff").encode("utf-8")
    for bom in (b"\xef\xbb\xbf", b"\x84\x31\x95\x33"):
        if head.startswith(bom):
            return head[len(bom) :]
    return head


def _refuse_mismatched_content(path: Path, suffix: str) -> None:
    """A file whose content is not what its extension says (some HIS save a web page as .xls)."""
    if not path.stat().st_size:
        return  # the empty file has its own message
    found = _content_kind(path)
    expected = "xlsx" if suffix in _EXCEL_SUFFIXES else "xls" if suffix == ".xls" else "text"
    if found == expected:
        return
    hint = {
        "html": "这是网页（HTML/XML）表格，不是真正的 Excel 或 CSV 文件："
        "请在 Excel/WPS 中打开，另存为 .xlsx 或 CSV 后再读",
        "xlsx": "文件内容是 Excel 工作簿（.xlsx），扩展名却是 " + suffix + "：请把扩展名改为 .xlsx 后再读",
        "xls": "文件内容是旧版 Excel（.xls）或加密的工作簿：请在 Excel/WPS 中取消密码、另存为 .xlsx 或 CSV",
        "text": "文件内容是文本（CSV/TXT），不是 Excel 工作簿：请把扩展名改为 .csv 后再读",
        "binary": "文件内容既不是文本（CSV/TXT）也不是 Excel 工作簿（含大量 NUL 等控制字节）：可能是其他程序的文件、"
        "损坏的副本，或没有 BOM 的 UTF-16 文本；请从 HIS 重新导出为 CSV（UTF-8/GBK）或 .xlsx",
    }[found]
    raise SourceError(hint, where=str(path))


_ARROW_MIN_BYTES = 8 << 20  # CSV files from 8 MB on are streamed with Arrow's reader


@dataclass
class SourceInfo:
    """How a source was read: kind, encoding and delimiter used, sheet and header row, table/query."""

    label: str
    kind: str  # "csv" | "excel" | "sql" | "frame"
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int | None = None  # 1-based row number of the header in the file/sheet
    table: str | None = None
    query: str | None = None
    notes: list[str] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)  # all sheets of an Excel workbook, in order

    def to_dict(self) -> dict:
        """JSON-safe form (kept in ``df.attrs["source_info"]``, so DataFrames stay writable to Parquet)."""
        from dataclasses import asdict

        d = asdict(self)
        d["description"] = self.describe()
        return d

    def describe(self) -> str:
        """One line in Chinese: what was read and how (shown by ``hlwjr profile``)."""
        parts = [f"数据源 {self.label}"]
        if self.kind == "csv":
            delim = {"\t": "制表符 (tab)", ",": "逗号 (,)", ";": "分号 (;)", "|": "竖线 (|)"}.get(
                self.delimiter or ",", repr(self.delimiter)
            )
            parts.append(f"CSV，编码 {self.encoding}，分隔符 {delim}")
        elif self.kind == "excel":
            parts.append(f"Excel 工作表「{self.sheet}」，表头在第 {self.header_row} 行")
            others = [s for s in self.sheets if s != self.sheet]
            if others:
                parts.append(f"工作簿另有工作表 {'、'.join(others)}（用 sheet= / --sheet 选择）")
        elif self.kind == "sql":
            parts.append(f"数据库表 {self.table}" if self.table else "数据库查询")
        parts += self.notes
        return "，".join(parts)


_DRIVER_ADVICE = (
    "PostgreSQL: pip install 'psycopg[binary]'；MySQL: pip install pymysql，URL 写 mysql+pymysql://；"
    "SQL Server: pip install pyodbc；Oracle: pip install oracledb，URL 写 oracle+oracledb://"
)


def _mask_url(url: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def _looks_like_url(s: str) -> bool:
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", s))


class Source:
    """One opened source; ``read()`` gives a DataFrame, ``iter_chunks(n)`` DataFrames of ≤ n rows."""

    _trailing = 0  # a CSV header's trailing blank names (trailing separators)

    def __init__(
        self,
        source,
        *,
        table: str | None = None,
        query: str | None = None,
        sheet: str | int | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
        header_row: int | None = None,
        columns: list[str] | None = None,
        excel_numbers: bool = False,
        prefer_sheets=(),
        prefer_columns=(),
    ) -> None:
        self._frame: pd.DataFrame | None = None
        self._prefer = {"prefer": tuple(prefer_sheets), "keys": tuple(prefer_columns)}  # no sheet= given
        self._columns = columns
        self._excel_numbers = excel_numbers  # keep Excel's numeric cells as numbers (validate)
        if isinstance(source, pd.DataFrame):
            self._frame = source
            self.info = SourceInfo(label="<DataFrame>", kind="frame")
            return
        text = expand_env(str(source))
        if _looks_like_url(text) and not text.startswith("file://"):
            if "#" in text and table is None and query is None:
                text, table = text.split("#", 1)
            if not table and not query:
                raise SourceError(
                    "数据库数据源需要指定表名 (table=) 或查询 (query=)，例如 sqlite:///his.sqlite#visits",
                    where=_mask_url(text),
                )
            self.url = text
            self.info = SourceInfo(
                label=_mask_url(text) + (f"#{table}" if table else ""), kind="sql", table=table, query=query
            )
            m = re.match(r"^sqlite(?:\+\w+)?:///(.+?)(\?.*)?$", text)
            if m and m.group(1) != ":memory:" and not m.group(1).startswith("file:") and not Path(m.group(1)).exists():
                # SQLite would silently create an empty database file here
                raise SourceError(
                    "SQLite 数据库文件不存在，请检查路径（或先生成演示数据：hlwjr demo data --out DIR）",
                    where=self.info.label,
                )
            return
        path = Path(text[7:] if text.startswith("file://") else text).expanduser()
        self.path = path
        if not path.exists():
            raise SourceError("文件不存在，请检查路径", where=str(path))
        if path.is_dir():
            raise SourceError("这是一个目录，请给出 CSV/Excel 文件或数据库 URL", where=str(path))
        suffix = path.suffix.lower()
        if suffix != ".parquet" and suffix != ".pq":
            _refuse_mismatched_content(path, suffix)
        if suffix in _EXCEL_SUFFIXES:
            self.info = SourceInfo(label=mask_text(str(path)), kind="excel", header_row=header_row)
            self._sheet = sheet
        elif suffix in (".parquet", ".pq"):
            self.info = SourceInfo(label=mask_text(str(path)), kind="parquet")
        elif suffix == ".xls":
            raise SourceError("不支持旧版 .xls 格式，请在 Excel 中另存为 .xlsx 或 CSV", where=str(path))
        else:
            self.info = SourceInfo(
                label=mask_text(str(path)),
                kind="csv",
                encoding=encoding,
                delimiter=delimiter,
                header_row=header_row or 1,
            )
            if path.stat().st_size == 0:
                raise SourceError("文件为空（0 字节），请重新导出", where=str(path))
            if encoding is None:
                self.info.encoding = detect_encoding(path)
            else:
                self.info.encoding = _check_given_encoding(path, encoding)
            if delimiter is None:
                self.info.delimiter = _detect_delimiter(path, self.info.encoding)
            if header_row is None:
                self._detect_csv_header_row()
            self._check_header()

    # ---- CSV ------------------------------------------------------------------------------
    def _pd_encoding(self) -> str:
        return {"utf-8-sig": "utf-8-sig", "gbk": "gb18030"}.get(self.info.encoding, self.info.encoding)

    def _header_line(self) -> str:
        """The raw text of the CSV's header row (表头行)."""
        with open(self.path, encoding=self._pd_encoding(), newline="") as fh:
            for _ in range((self.info.header_row or 1) - 1):
                fh.readline()
            return fh.readline()

    def _detect_csv_header_row(self) -> None:
        """Title or note lines above the header (导出标题、导出时间) are skipped, as in Excel."""
        with open(self.path, encoding=self._pd_encoding(), newline="", errors="replace") as fh:
            lines = [fh.readline() for _ in range(30)]
        try:
            rows = list(csv.reader([ln for ln in lines if ln], delimiter=self.info.delimiter))
        except csv.Error:  # a cell over csv's 128 KiB field limit (a pasted report): no title rows guessed
            rows = []
        hdr = _csv_header_row([len(r) for r in rows], [named_width(r) for r in rows])
        self.info.header_row = hdr
        if hdr > 1:
            self.info.notes.append(f"上方 {hdr - 1} 行（标题/说明）已跳过")

    def _check_header(self) -> None:
        line = self._header_line()
        if not line.strip():
            raise SourceError(
                "文件没有表头行（第一行为空），请确认导出时包含列名", where=f"{self.path}:第{self.info.header_row}行"
            )
        try:
            header = [h.strip() for h in next(csv.reader([line], delimiter=self.info.delimiter))]
        except csv.Error as exc:  # a header cell over csv's 128 KiB field limit
            raise SourceError(
                "表头行无法读出列名：有一个单元格超过 128 KB（常见原因：引号没有闭合，或这不是 CSV 导出文件）；"
                "请检查第一行并重新导出",
                where=f"{self.path}:第{self.info.header_row}行",
            ) from exc
        width = named_width(header)
        # trailing separators — of the header, or of records one field longer (which pandas
        # would silently read as an index, shifting every value one column left): no columns
        self._trailing = max(len(header), self._first_record_width()) - width
        self._names = header[:width] + [f"\x00trailing{i}" for i in range(self._trailing)]
        _check_columns(header[:width], where=f"{self.path}:第{self.info.header_row}行（表头）")

    def _first_record_width(self) -> int:
        """How many fields the first record under the header has (0: none)."""
        with open(self.path, encoding=self._pd_encoding(), newline="", errors="replace") as fh:
            for _ in range(self.info.header_row or 1):
                fh.readline()
            try:
                return next((len(r) for r in csv.reader(fh, delimiter=self.info.delimiter) if r), 0)
            except csv.Error:  # a cell over csv's field limit: pandas reads and reports it
                return 0

    def _without_trailing(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame without the columns of the header's trailing separators (``a,b,c,,``) — kept
        only while empty: a value under no column name is refused, with its row and column."""
        if not self._trailing or self._columns is not None:
            return frame
        width = frame.shape[1] - self._trailing
        extra = frame.iloc[:, width:]
        filled = extra.notna().to_numpy().nonzero()
        if len(filled[0]):
            row, col = int(filled[0][0]), int(filled[1][0])
            value = mask_text(str(extra.iat[row, col]))
            raise SourceError(
                f"第 {width + col + 1} 列有值「{value}」，但表头这一列没有列名（表头只有 {width} 列）："
                "请补上列名或删除该值（行末多余的分隔符本身不要紧）",
                where=f"{self.path}:第{(self.info.header_row or 1) + 1 + int(frame.index[row])}行",
            )
        return frame.iloc[:, :width]

    def _csv_kwargs(self) -> dict:
        names = dict(names=self._names, header=0) if self._trailing else {}
        return names | dict(
            sep=self.info.delimiter,
            encoding=self._pd_encoding(),
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skiprows=(self.info.header_row or 1) - 1,
            skipinitialspace=False,
            usecols=self._columns,
            engine="c",
            on_bad_lines="error",
        )

    def _translate_csv(self, exc: Exception, rows_before: int = 0):
        msg = str(exc)
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
        if m:
            exp, line, saw = m.groups()
            line_no = int(line) + (self.info.header_row or 1) - 1 + rows_before
            return SourceError(
                f"列数不齐 (ragged row)：表头有 {exp} 列，这一行有 {saw} 列；请检查该行是否含未加引号的分隔符或换行"
                + ("；若只是行末多了分隔符，可在表头行末补上同样多的分隔符" if int(saw) > int(exp) else ""),
                where=f"{self.path}:第{line_no}行",
            )
        m = re.search(r"EOF inside string starting at row (\d+)", msg)
        if m:
            line_no = int(m.group(1)) + 1 + rows_before  # pandas counts the file's lines from 0, skipped ones too
            return SourceError(
                "引号未闭合：这一行开始的引号直到文件末尾都没有结束；请检查该单元格里的双引号（应成对，"
                '单元格内的引号要写成两个 ""）',
                where=f"{self.path}:第{line_no}行",
            )
        if isinstance(exc, UnicodeDecodeError):
            return SourceError(
                f"无法按 {self.info.encoding} 解码（字节 {exc.start} 附近），请用 encoding= 指定正确编码",
                where=str(self.path),
            )
        if isinstance(exc, pd.errors.EmptyDataError):
            return SourceError("文件为空，没有表头和数据", where=str(self.path))
        if isinstance(exc, ValueError) and "Usecols" in msg:
            return SourceError(f"缺少列：{msg}", where=str(self.path))
        return SourceError(f"无法读取 CSV（{msg}）：请检查分隔符、引号和每行的列数", where=str(self.path))

    # ---- reading ------------------------------------------------------------------------------
    def read(self) -> pd.DataFrame:
        """The whole source as one DataFrame (text sources as ``str`` columns)."""
        if self._frame is not None:
            return self._frame if self._columns is None else self._frame[self._columns]
        kind = self.info.kind
        if kind == "csv":
            try:
                df = self._without_footer(self._without_trailing(pd.read_csv(self.path, **self._csv_kwargs())))
            except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, ValueError) as exc:
                raise self._translate_csv(exc) from exc
        elif kind == "excel":
            df = self._read_excel()
        elif kind == "parquet":
            df = pd.concat(list(self.iter_chunks(1 << 30)), ignore_index=True)
        else:
            df = self._read_sql(None)
        df.columns = [str(c).strip() for c in df.columns]
        df.attrs["source"] = self.info.label
        return df

    def _note(self, note: str) -> None:
        if note not in self.info.notes:
            self.info.notes.append(note)

    def _without_footer(self, frame: pd.DataFrame, first_line: int | None = None) -> pd.DataFrame:
        frame, note = trim_footer(frame, first_line=first_line)
        if note:
            self._note(note)
        return frame

    def _last_without_footer(self, chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        """The chunks, the table's last lines without the summary lines under it (which may
        straddle chunks: the last few rows are held back until the end is known)."""
        held: list[pd.DataFrame] = []
        for chunk in chunks:
            held.append(chunk)
            while len(held) > 1 and sum(map(len, held[1:])) >= FOOTER_LOOK:
                yield held.pop(0)
        if not held:
            return
        tail = self._without_footer(pd.concat(held) if len(held) > 1 else held[0])
        start = 0
        for chunk in held:
            piece = tail.iloc[start : start + len(chunk)]
            start += len(chunk)
            if len(piece) or len(held) == 1:
                yield piece

    def iter_chunks(self, chunksize: int = 200_000) -> Iterator[pd.DataFrame]:
        """The source in chunks of at most ``chunksize`` rows (index continues across chunks)."""
        if self.info.kind == "csv":
            if self.path.stat().st_size >= _ARROW_MIN_BYTES and self._columns is None:
                yield from self._last_without_footer(self._arrow_chunks(chunksize))
                return
            yield from self._last_without_footer(self._pandas_chunks(chunksize))
        elif self.info.kind == "sql":
            yield from self._read_sql(chunksize)
        elif self.info.kind == "parquet":
            yield from self._parquet_chunks(chunksize)
        else:
            df = self.read()
            for start in range(0, max(len(df), 1), chunksize):
                yield df.iloc[start : start + chunksize]

    def _pandas_chunks(self, chunksize: int, skip_rows: int = 0) -> Iterator[pd.DataFrame]:
        try:
            with pd.read_csv(self.path, chunksize=chunksize, **self._csv_kwargs()) as reader:
                for chunk in reader:
                    chunk = self._without_trailing(chunk)
                    chunk.columns = [str(c).strip() for c in chunk.columns]
                    if chunk.empty:  # a header-only export: no rows today, same as read_source
                        yield chunk
                        continue
                    if chunk.index[-1] < skip_rows:
                        continue
                    yield chunk[chunk.index >= skip_rows] if chunk.index[0] < skip_rows else chunk
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, ValueError) as exc:
            raise self._translate_csv(exc) from exc

    def _arrow_chunks(self, chunksize: int) -> Iterator[pd.DataFrame]:
        """Large CSV exports: Arrow's multi-threaded streaming reader, every column as text.

        GBK/GB18030 files (delimiter ``,``, tab or ``;``) are parsed as raw bytes and decoded column
        by column (see :func:`_decode_table`); other encodings go through Arrow's transcoding.

        On a parse problem the rest is re-read with pandas from the last good row, so the error
        names the file and line exactly as for small files."""
        import pyarrow as pa
        import pyarrow.csv as pacsv

        header = self._header_names()
        enc = {"utf-8-sig": "utf-8", "gbk": "gb18030"}.get(self.info.encoding, self.info.encoding)
        # GBK/GB18030 exports are parsed as raw bytes and only the non-ASCII columns are decoded
        # (once per distinct value) — far cheaper than transcoding the whole file.  Safe because no
        # byte of a multi-byte GBK/GB18030 character is a quote, CR/LF, comma, tab or semicolon.
        raw = enc == "gb18030" and self.info.delimiter in _GBK_SAFE_DELIMITERS
        read = pacsv.ReadOptions(
            encoding="utf8" if raw else enc,
            skip_rows=self.info.header_row or 1,
            column_names=header,
            block_size=1 << 24,
        )
        parse = pacsv.ParseOptions(delimiter=self.info.delimiter)
        kind = pa.large_binary() if raw else pa.large_string()
        convert = pacsv.ConvertOptions(
            column_types={c: kind for c in header},
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=True,
        )
        done = 0
        pending: list = []
        pending_rows = 0
        try:
            reader = pacsv.open_csv(self.path, read_options=read, parse_options=parse, convert_options=convert)
            for batch in reader:
                pending.append(batch)
                pending_rows += batch.num_rows
                while pending_rows >= chunksize:
                    table = pa.Table.from_batches(pending)
                    head, rest = table.slice(0, chunksize), table.slice(chunksize)
                    yield self._without_trailing(self._table_frame(_decode_table(head, enc) if raw else head, done))
                    done += head.num_rows
                    pending = rest.to_batches()
                    pending_rows = rest.num_rows
            if pending_rows:
                table = pa.Table.from_batches(pending)
                yield self._without_trailing(self._table_frame(_decode_table(table, enc) if raw else table, done))
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            # locate and describe the problem the way the pandas reader does (file, line)
            # (pandas raises a SourceError naming the line; if pandas reads it, the rows are fine)
            _ = exc
            yield from self._pandas_chunks(chunksize, skip_rows=done)

    def _parquet_chunks(self, chunksize: int) -> Iterator[pd.DataFrame]:
        """Parquet files (warehouse extracts): streamed by record batches, text kept as text."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(self.path)
            done = 0
            for batch in pf.iter_batches(batch_size=chunksize, columns=self._columns):
                df = self._table_frame(pa.Table.from_batches([batch]), done)
                if done == 0:
                    _check_columns([str(c) for c in df.columns], where=str(self.path))
                done += len(df)
                yield df
        except (pa.ArrowInvalid, OSError) as exc:
            raise SourceError(f"无法读取 Parquet 文件：{exc}", where=str(self.path)) from exc

    def _table_frame(self, table, start: int) -> pd.DataFrame:
        df = table.to_pandas()
        df.index = pd.RangeIndex(start, start + len(df))
        return df

    def _header_names(self) -> list[str]:
        """The CSV header's names, its trailing blank ones (trailing separators) named apart."""
        return self._names

    def header_columns(self) -> list[str]:
        """A CSV's column names, read from its header row alone (checked when the source was
        opened): the rows under it — an unclosed quote, a ragged row — are reported when read."""
        return self._names[: len(self._names) - self._trailing]

    # ---- Excel --------------------------------------------------------------------------------
    def _read_excel(self) -> pd.DataFrame:
        wb = open_workbook(self.path, data_only=True)
        try:
            names = wb.sheetnames
            sheet = self._sheet
            if sheet is None:
                ws_name, chosen = choose_sheet(wb, names, **self._prefer, where=str(self.path))
                for note in chosen:
                    self._note(note)
            elif isinstance(sheet, int):
                if not 0 <= sheet < len(names):
                    raise SourceError(
                        f"工作表序号 {sheet} 不存在；共有 {len(names)} 个工作表：{', '.join(names)}",
                        where=str(self.path),
                    )
                ws_name = names[sheet]
            else:
                if sheet not in names:
                    raise SourceError(f"没有名为「{sheet}」的工作表；可用：{', '.join(names)}", where=str(self.path))
                ws_name = sheet
            rows = [list(r) for r in wb[ws_name].iter_rows(values_only=True)]
            pinned = _pinned_header_row(wb[ws_name]) or _template_header_row(wb, ws_name)
        finally:
            wb.close()
        self.info.sheet = ws_name
        self.info.sheets = list(names)
        where = f"{self.path}[{ws_name}]"
        _refuse_uncached_formulas(self.path, ws_name, where)
        while rows and all(v is None or str(v).strip() == "" for v in rows[-1]):
            rows.pop()
        if not rows:
            raise SourceError("工作表为空", where=where)
        hdr = self.info.header_row or pinned or _detect_header_row(rows)
        self.info.header_row = hdr
        names_ = [("" if h is None else str(h)).strip() for h in rows[hdr - 1]]
        names_ = names_[: named_width(names_)]
        _check_columns(names_, where=f"{where}:第{hdr}行（表头）")
        if hdr > 1:
            note = f"上方 {hdr - 1} 行（标题/说明）已跳过"
            if note not in self.info.notes:
                self.info.notes.append(note)
        width = len(names_)
        data = []
        cell = _excel_value if self._excel_numbers else _excel_text
        for i, r in enumerate(rows[hdr:], start=hdr + 1):
            extra = [v for v in r[width:] if v is not None and str(v).strip() != ""]
            if extra:
                raise SourceError(
                    f"该行在表头之外还有 {len(extra)} 个值（列数多于表头），请检查", where=f"{where}:第{i}行"
                )
            data.append([cell(v) for v in (list(r[:width]) + [None] * (width - len(r)))])
        df = pd.DataFrame(data, columns=names_, dtype=object if self._excel_numbers else "str")
        df = self._without_footer(df, first_line=hdr + 1)
        if self._columns is not None:
            missing = [c for c in self._columns if c not in df.columns]
            if missing:
                raise SourceError(f"缺少列：{', '.join(missing)}", where=where)
            df = df[self._columns]
        return df

    # ---- SQL ----------------------------------------------------------------------------------
    def _read_sql(self, chunksize: int | None):
        import sqlalchemy as sa

        where = self.info.label
        try:
            engine = sa.create_engine(self.url)
        except ImportError as exc:  # the dialect's DBAPI driver is not installed
            missing = getattr(exc, "name", None) or str(exc)
            raise SourceError(
                f"缺少数据库驱动 {missing}：请在 .venv 中安装它（{_DRIVER_ADVICE}），"
                f"并加入 pyproject.toml 与 environment.yml",
                where=where,
            ) from exc
        except Exception as exc:  # ArgumentError, NoSuchModuleError (unknown dialect)
            raise SourceError(
                f"无法识别的数据库 URL（应写作 方言+驱动://用户:密码@主机/库，如 "
                f"sqlite:///his.sqlite、postgresql+psycopg://u:p@host/db）：{exc}",
                where=where,
            ) from exc
        if self.info.table:
            cols = "*" if not self._columns else ", ".join(_quote_ident(c) for c in self._columns)
            sql = f"SELECT {cols} FROM {_quote_ident(self.info.table)}"
        else:
            sql = self.info.query
        chunked = False  # the chunk generator then owns the engine and disposes of it
        try:
            with engine.connect() as con:
                if self.info.table and not sa.inspect(con).has_table(self.info.table):
                    tables = sa.inspect(con).get_table_names()
                    raise SourceError(
                        f"数据库中没有表「{self.info.table}」；可用的表：{', '.join(tables) or '（无）'}", where=where
                    )
                if chunksize is None:
                    df = pd.read_sql_query(sa.text(sql), con, dtype_backend="numpy_nullable")
                    _check_columns(list(df.columns), where=where)
                    df.attrs["source"] = where
                    return df
                chunked = True
                return self._sql_chunks(engine, sql, chunksize)
        except SourceError:
            raise
        except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
            raise SourceError(f"SQL 执行出错：{_sql_message(exc)}", where=where) from exc
        finally:
            if not chunked:
                engine.dispose()  # close the pooled connection: no open handle on the HIS database

    def _sql_chunks(self, engine, sql: str, chunksize: int):
        import sqlalchemy as sa

        try:
            with engine.connect() as con:
                offset = 0
                for chunk in pd.read_sql_query(sa.text(sql), con, chunksize=chunksize, dtype_backend="numpy_nullable"):
                    chunk.index = pd.RangeIndex(offset, offset + len(chunk))
                    offset += len(chunk)
                    yield chunk
        except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
            raise SourceError(f"SQL 执行出错：{_sql_message(exc)}", where=self.info.label) from exc
        finally:
            engine.dispose()


def _sql_message(exc: BaseException) -> str:
    while exc.__cause__ is not None and not hasattr(exc, "orig"):
        exc = exc.__cause__
    # a database error can quote the offending value (e.g. an ID number in a bad cast): mask it
    return mask_text(str(getattr(exc, "orig", None) or exc).split("\n")[0])


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def open_source(source, **options) -> Source:
    """Open a source (path, SQLAlchemy URL or DataFrame) without reading its rows yet."""
    return Source(source, **options)


def read_source(
    source,
    *,
    table: str | None = None,
    query: str | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    header_row: int | None = None,
    columns: list[str] | None = None,
    excel_numbers: bool = False,
    prefer_sheets=(),
    prefer_columns=(),
) -> pd.DataFrame:
    """Read a whole source (CSV/TXT file, .xlsx workbook, SQLAlchemy URL + table/query) into a DataFrame.

    How it was read is in ``df.attrs["source_info"]``: a dict with ``encoding``, ``delimiter``,
    ``sheet``, ``header_row``, ``table`` … and ``description`` (one line in Chinese).  Use
    :func:`open_source` to get the :class:`SourceInfo` object itself. ``excel_numbers``: keep
    numeric Excel cells as numbers instead of the text Excel shows (the validator wants to know
    which were typed as numbers). ``prefer_sheets`` / ``prefer_columns`` (a data set's names and
    field keys): with no ``sheet`` given, the visible sheet so named, else the one whose header
    holds most of those columns, is read (:func:`choose_sheet`).
    """
    src = Source(
        source,
        table=table,
        query=query,
        sheet=sheet,
        encoding=encoding,
        delimiter=delimiter,
        header_row=header_row,
        columns=columns,
        excel_numbers=excel_numbers,
        prefer_sheets=prefer_sheets,
        prefer_columns=prefer_columns,
    )
    df = src.read()
    df.attrs["source_info"] = src.info.to_dict()
    return df


def iter_source(source, *, chunksize: int = 200_000, **options) -> Iterator[pd.DataFrame]:
    """Read a source in chunks of at most ``chunksize`` rows (for large CSV files and tables)."""
    return Source(source, **options).iter_chunks(chunksize)


ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(address: str) -> str:
    """``${NAME}`` in a source address replaced by the environment variable NAME — how a database
    password reaches hlwjr without being written into ``hlwjr.toml``; an unset variable is an error."""
    if "${" not in address:
        return address

    def one(m: re.Match) -> str:
        if m.group(1) not in os.environ:
            raise SourceError(
                f"数据源地址引用的环境变量 {m.group(1)} 没有设置：请在运行环境中设置它", where=_mask_url(address)
            )
        return os.environ[m.group(1)]

    return ENV_REF.sub(one, address)
