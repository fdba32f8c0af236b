"""Records out as JSON values and JSON lines, fast for large DataFrames (Arrow-backed columns)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import numpy as np
import pandas as pd

from ._conversions import _join_row_wise, _large


def iter_dicts(records: pd.DataFrame) -> Iterator[dict]:
    cols = list(records.columns)
    arrays = [records[c].tolist() for c in cols]
    for values in zip(*arrays):
        yield {c: _py(v) for c, v in zip(cols, values) if not _missing(v)}


def _missing(v) -> bool:
    if v is None:
        return True
    if isinstance(v, float):
        return v != v
    return v is pd.NA or v is pd.NaT


def _py(v):
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _needs_escape(arr) -> bool:
    """Does any value contain a quote, a backslash or a control character (JSON escapes)?"""
    data = arr.buffers()[2]
    if data is None:
        return False
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)
    b = np.frombuffer(data, dtype=np.uint8)[offsets[arr.offset] : offsets[arr.offset + len(arr)]]
    # three SIMD comparisons over the bytes (a lookup-table gather is several times slower)
    return bool((b < 0x20).any() or (b == 0x22).any() or (b == 0x5C).any())


def _json_values(s: pd.Series):
    """(large_string array of JSON-encoded values, quoted: bool); null where the value is missing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = s.dtype.kind
    dtype = str(s.dtype)
    if dtype in ("Int64", "Int32", "Int16", "Int8", "UInt8", "UInt16", "UInt32", "UInt64") or kind in "iu":
        return _large(pa.array(s, from_pandas=True).cast(pa.string())), False
    if kind == "f" or dtype in ("Float64", "Float32"):
        vals = s.to_numpy(dtype="float64", na_value=np.nan)
        arr = pa.array(vals, mask=~np.isfinite(vals)).cast(pa.string())
        # arrow writes 15.0 as "15": keep the decimal point so a decimal stays a decimal when read back
        plain = pc.invert(pc.match_substring_regex(arr, "[.eE]"))
        arr = pc.if_else(pc.fill_null(plain, False), pc.binary_join_element_wise(arr, ".0", ""), arr)
        return _large(arr), False
    if kind == "b":
        return _large(pc.if_else(pa.array(s, from_pandas=True), "true", "false")), False
    if dtype == "str" or dtype.startswith("string"):
        arr = _large(pa.array(s, from_pandas=True))
        if _needs_escape(arr):
            vals = arr.to_pylist()
            arr = pa.array(
                [None if v is None else json.dumps(v, ensure_ascii=False)[1:-1] for v in vals], type=pa.large_string()
            )
        return arr, True
    # object: lists of dicts (array fields), values kept raw for validation to report…
    enc = [
        None if _missing(v) else json.dumps(_jsonable(v), ensure_ascii=False, separators=(",", ":")) for v in s.tolist()
    ]
    return pa.array(enc, type=pa.large_string()), False


def _jsonable(v):
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items() if not _missing(x)}
    return _py(v)


def _constant(arr) -> str | None:
    """The single value of a column where every row holds the same text (constants), else None.

    ``arr`` is a large_string array.  Compares lengths, then the bytes as one (rows × width)
    matrix against the first value — cheap, and it stops at the lengths for most columns."""
    if len(arr) == 0 or arr.null_count:
        return None
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    width = int(offsets[1] - offsets[0])
    if not (np.diff(offsets) == width).all():
        return None
    first = arr[0].as_py()
    if width:
        data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[int(offsets[0]) : int(offsets[-1])]
        rows = data.reshape(len(arr), width)
        if not (rows[:64] == data[:width]).all() or not (rows == data[:width]).all():  # the head first: cheap no
            return None
    return first


def write_jsonl(records: pd.DataFrame, fh) -> int:
    """Serialise a records DataFrame to JSON lines without building a dict per row.

    Column-wise: each column is encoded once as JSON fragments (strings escaped only when a
    value needs it), a column whose value is the same on every row (constants such as
    ``organID``) is folded into the literal text, and an optional column becomes a segment
    ``,"key":"value"`` that is empty where the value is missing — a missing value leaves its key
    out (never ``null``).  One Arrow ``binary_join_element_wise`` then concatenates literals and
    columns row by row, and the output is that array's data buffer, written in one call."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(records)
    if n == 0:
        return 0
    text = pa.large_string()
    cols = list(records.columns)
    args: list = []  # literal text (str) and column arrays, in line order
    pending = ""  # literal text not yet emitted
    # When the first column can be missing, every segment starts with a comma and the comma of
    # the first present one is cut off afterwards (rare: the first field is normally a constant).
    lead_missing = False
    for i, c in enumerate(cols):
        arr, quoted = _json_values(records[c])
        key = json.dumps(str(c), ensure_ascii=False)
        q = '"' if quoted else ""
        if i == 0:
            lead_missing = arr.null_count > 0
        comma = "" if i == 0 and not lead_missing else ","
        if arr.null_count == len(arr):
            continue  # missing on every row: the key never appears
        if arr.null_count == 0:
            const = _constant(arr)
            if const is not None:
                pending += comma + key + ":" + q + const + q
                continue
            args += [pending + comma + key + ":" + q, arr]
            pending = q
        else:
            segment = pc.binary_join_element_wise(
                pa.scalar(comma + key + ":" + q, text), arr, pa.scalar(q, text), pa.scalar("", text)
            )
            args += [pending, pc.fill_null(segment, "")]
            pending = ""
    if lead_missing:
        args.append(pending)
        body = _join_row_wise(args, n)
        body = pc.if_else(pc.equal(pc.binary_length(body), 0), body, pc.utf8_slice_codeunits(body, 1))
        args = ["{", body, "}\n"]
    else:
        args = ["{"] + args + [pending + "}\n"]
    lines = _join_row_wise(args, n)
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    start, end = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    _reserve(fh, end - start)
    fh.write(memoryview(lines.buffers()[2])[start:end])
    return n


def _reserve(fh, nbytes: int) -> None:
    """Allocate the disk blocks of the next ``nbytes`` of a real file before writing them.

    Large JSON-lines files are written 100+ MB at a time; with delayed allocation (ext4) such a
    write sometimes stalls behind the file system's journal, and reserving the blocks first
    (``posix_fallocate``) avoids that.  Only a hint: in-memory buffers, pipes and file systems
    without support are written as they are."""
    try:
        fd = fh.fileno()
        pos = fh.tell()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError/ValueError
        return
    if nbytes < (8 << 20) or not hasattr(os, "posix_fallocate"):
        return
    try:
        import stat

        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.posix_fallocate(fd, pos, nbytes)
    except OSError:
        pass
