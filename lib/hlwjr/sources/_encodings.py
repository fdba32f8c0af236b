"""Text encodings of exports: detecting UTF-8 / GBK / GB18030 (with or without BOM), the delimiter,
and — when bytes do not decode — the line, column and bytes to fix; Arrow columns decoded from GBK.
"""

from __future__ import annotations

import codecs
import csv
import re
from pathlib import Path

from .._exceptions import SourceError
from .._privacy import mask_text

_DELIMITERS = [",", "\t", ";", "|"]


_BLOCK = 1 << 20


# csv.Sniffer's quote guess is quadratic in the sample (a 600 KB line of quotes takes hours): it
# sees the whole lines that fit in this many characters, at least the first line's beginning
_SNIFF_CHARS = 8192


_GBK_SAFE_DELIMITERS = {",", "\t", ";"}  # never a byte of a GBK/GB18030 multi-byte character ("|" can be)


def _decode_table(table, encoding: str):
    """Raw-byte (large_binary) CSV columns → text (large_string) columns, decoded from ``encoding``.

    ASCII-only columns (codes, dates, ID and phone numbers) are valid UTF-8 as they are and are
    re-labelled without copying; the others are decoded per distinct value when values repeat
    (names, departments, diagnoses), else as a whole column in one codec call."""
    import pyarrow as pa

    cols = [_decode_column(c.combine_chunks(), encoding) for c in table.columns]
    return pa.Table.from_arrays(cols, names=table.column_names)


def _decode_column(arr, encoding: str):
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.large_string()
    n = len(arr)
    data = arr.buffers()[2]
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1] if n else None
    if data is None or n == 0 or offsets[-1] == offsets[0]:
        return arr.cast(text)
    body = np.frombuffer(data, dtype=np.uint8)[int(offsets[0]) : int(offsets[-1])]
    if not (body >= 0x80).any():
        return pa.Array.from_buffers(text, n, arr.buffers(), null_count=arr.null_count, offset=arr.offset)
    enc = pc.dictionary_encode(arr)
    if len(enc.dictionary) <= n // 2:
        return _decode_values(enc.dictionary, encoding).take(enc.indices)
    return _decode_values(arr, encoding)


def _decode_values(arr, encoding: str):
    """Decode every value of a large_binary array with one codec call (values joined by NUL)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.large_string()
    valid = arr.is_valid()
    filled = pc.fill_null(arr, b"") if arr.null_count else arr
    offsets = np.frombuffer(filled.buffers()[1], dtype=np.int64)[filled.offset : filled.offset + len(filled) + 1]
    body = np.frombuffer(filled.buffers()[2], dtype=np.uint8)[int(offsets[0]) : int(offsets[-1])]
    if (body == 0).any():  # a NUL inside a value: decode value by value (rare)
        return pa.array([None if v is None else v.decode(encoding) for v in arr.to_pylist()], type=text)
    joined = pc.binary_join_element_wise(
        filled, pa.scalar(b"\x00", pa.large_binary()), pa.scalar(b"", pa.large_binary())
    )
    jo = np.frombuffer(joined.buffers()[1], dtype=np.int64)[joined.offset : joined.offset + len(joined) + 1]
    raw = memoryview(joined.buffers()[2])[int(jo[0]) : int(jo[-1])]
    utf8 = np.frombuffer(bytes(raw).decode(encoding).encode("utf-8"), dtype=np.uint8)
    ends = np.flatnonzero(utf8 == 0)  # the separators: one after each value
    new_offsets = np.empty(len(arr) + 1, dtype=np.int64)
    new_offsets[0] = 0
    new_offsets[1:] = ends - np.arange(len(ends))  # each earlier separator removed
    chars = utf8[utf8 != 0]
    validity = None
    if arr.null_count:
        validity = pa.py_buffer(np.packbits(valid.to_numpy(zero_copy_only=False), bitorder="little"))
    return pa.Array.from_buffers(
        text, len(arr), [validity, pa.py_buffer(new_offsets), pa.py_buffer(chars)], null_count=arr.null_count
    )


def detect_encoding(path: Path) -> str:
    """The encoding a text export was written in: ``utf-8-sig``, ``utf-8``, ``gbk`` or ``gb18030``.

    The whole file is checked block by block (a GBK character deep in a large file is found too).
    """
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SourceError("文件是 UTF-16 编码，请另存为 UTF-8 或 GBK 的 CSV", where=str(path))
    else:
        candidates = ["utf-8", "gbk", "gb18030"]
    last: tuple[int, int] | None = None
    for enc in candidates:
        bad = _first_bad_byte(path, enc)
        if bad is None:
            if last is not None:  # UTF-8 failed at line last[1]: no line of it may be UTF-8 Chinese
                _refuse_mixed_utf8(path, last[1], enc)
            return enc
        last = bad if last is None or bad[0] > last[0] else last
    offset, line = last or (0, 1)
    raise _undecodable(path, candidates, offset, line)


_CJK = re.compile("[\u4e00-\u9fff]")


def _refuse_mixed_utf8(path: Path, gbk_line: int, encoding: str) -> None:
    """A GBK file with lines of UTF-8 Chinese (two exports joined) would read those lines as
    mojibake (张三 → 寮犱笁): refused, naming a line of each. Two CJK characters make a line UTF-8."""
    with open(path, "rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if raw.isascii():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if len(_CJK.findall(text)) >= 2:
                raise SourceError(
                    f"文件混用了两种编码：第 {line_no} 行是 UTF-8，第 {gbk_line} 行是 {encoding.upper()}"
                    "（常见于把两次导出拼接在一起），按任何一种读都会有一部分变成乱码；"
                    f"请统一另存为 UTF-8 后再读（若确认整个文件都是 {encoding.upper()}，可用 encoding= 明确指定）",
                    where=f"{path}:第{line_no}行",
                )


def _undecodable(path: Path, encodings: list[str], offset: int, line: int) -> SourceError:
    column = _column_at(path, offset) if line > 1 else None
    where = f"{path}:第{line}行" + (f":第{column[0]}列「{mask_text(column[1])}」" if column else "")
    return SourceError(
        f"无法解码：在字节 {offset} 附近出现无法按 {'/'.join(encodings)} 解码的字节；"
        "请确认导出编码（如 HIS 导出时选择 GBK 或 UTF-8），或用 encoding= 明确指定；"
        "也可能是该单元格内容本身已损坏",
        where=where,
    )


def _check_given_encoding(path: Path, encoding: str) -> str:
    """An encoding the analyst named (encoding= / --encoding): it must exist and decode the whole file.
    Returns its canonical name (``GBK`` → ``gbk``, ``utf8`` → ``utf-8``); ``utf-8`` on a file
    starting with a BOM is ``utf-8-sig`` — the BOM is no text of the header (pandas skips it too)."""
    try:
        encoding = codecs.lookup(encoding).name
    except LookupError as exc:
        raise SourceError(
            f"未知的编码 {encoding!r}；常用的有 utf-8、utf-8-sig、gbk、gb18030（不写则自动识别）", where=str(path)
        ) from exc
    if encoding == "utf-8":
        with open(path, "rb") as fh:
            encoding = "utf-8-sig" if fh.read(3) == codecs.BOM_UTF8 else encoding
    bad = _first_bad_byte(path, {"gbk": "gb18030"}.get(encoding.lower(), encoding))
    if bad is not None:
        try:
            guess = detect_encoding(path)
        except SourceError:
            guess = None
        err = _undecodable(path, [encoding], *bad)
        if guess:
            err = SourceError(
                err.message + f"；该文件看起来是 {guess} 编码，去掉 encoding= 即可自动识别", where=err.where
            )
        raise err
    return encoding


def _column_at(path: Path, offset: int) -> tuple[int, str] | None:
    """Best effort: (1-based column number, header name) of the cell holding byte ``offset`` of a
    delimited text file, counting delimiters outside quotes; None when it cannot be told."""
    try:
        with open(path, "rb") as fh:
            header = fh.readline()
            start = max(len(header), offset - 65536)
            fh.seek(start)
            before = fh.read(offset - start)
        if b"\n" in before:
            before = before[before.rindex(b"\n") + 1 :]
        elif start > len(header):
            return None  # a line longer than 64 KiB: don't guess
        text = header.decode("gb18030", errors="replace").lstrip("\ufeff").rstrip("\r\n")
        delim = max(_DELIMITERS, key=text.count)
        names = next(csv.reader([text], delimiter=delim)) if text.count(delim) else [text]
        inside = before.decode("gb18030", errors="replace")
        n, quoted = 0, False
        for ch in inside:
            if ch == '"':
                quoted = not quoted
            elif ch == delim and not quoted:
                n += 1
        if n < len(names):
            return n + 1, names[n].strip()
    except (OSError, csv.Error, StopIteration):
        return None
    return None


def _first_bad_byte(path: Path, encoding: str) -> tuple[int, int] | None:
    dec = codecs.getincrementaldecoder(encoding)()
    pos = 0
    lines = 1
    with open(path, "rb") as fh:
        while True:
            block = fh.read(_BLOCK)
            final = not block
            try:
                dec.decode(block, final=final)
            except UnicodeDecodeError as exc:
                good = block[: max(exc.start, 0)]
                return pos + exc.start, lines + good.count(b"\n")
            except UnicodeError:  # "UTF-16 stream does not start with BOM": wrong from the first byte
                return pos, lines
            if final:
                return None
            pos += len(block)
            lines += block.count(b"\n")


def _sniff_sample(lines: list[str]) -> str:
    """The first lines that fit in :data:`_SNIFF_CHARS` characters (else the first line's start)."""
    sample = ""
    for line in lines:
        if not line or len(sample) + len(line) > _SNIFF_CHARS:
            break
        sample += line
    return sample or lines[0][:_SNIFF_CHARS]


def _detect_delimiter(path: Path, encoding: str) -> str:
    with open(path, encoding={"gbk": "gb18030"}.get(encoding, encoding), newline="") as fh:
        sample = _sniff_sample([fh.readline(_SNIFF_CHARS + 1) for _ in range(20)])
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:  # e.g. a title line above the header: count over the sample
        counts = {d: sample.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","
