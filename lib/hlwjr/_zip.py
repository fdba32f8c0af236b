"""Opening a ZIP container a stranger sent (an .xlsx export, a .docx or .xlsx interface document):
a decompression bomb is refused before any parser sees it.

Excel and Word compress their XML parts about 5–30 to 1, even a sheet of one value repeated a
million times (its row numbers differ). A part that inflates more than :data:`MAX_RATIO` to 1
*and* past :data:`BOMB_FLOOR` bytes, or a container of more than :data:`MAX_TOTAL` bytes in all,
was not written by Excel or Word: reading it would fill the memory (python-docx and openpyxl's
shared strings parse whole parts) or run for hours. The sizes checked are the ones the ZIP
declares, which are also the most :mod:`zipfile` will ever inflate.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ._exceptions import HlwjrError

__all__ = ["BOMB_FLOOR", "MAX_RATIO", "MAX_TOTAL", "refuse_zip_bomb"]

#: inflation ratio above which a large part is a bomb (real XML parts: 5–30)
MAX_RATIO = 200
#: parts smaller than this are never a danger, whatever their ratio
BOMB_FLOOR = 32 * 1024**2
#: all parts together (Excel's largest sheet, 1,048,576 rows × 16,384 columns, is far below)
MAX_TOTAL = 16 * 1024**3


def _size(n: int) -> str:
    if n >= 1024**3:
        return f"{n / 1024**3:.1f} GB"
    return f"{n / 1024**2:.0f} MB" if n >= 1024**2 else f"{max(1, round(n / 1024))} KB"


def refuse_zip_bomb(path: str | Path, error: type[HlwjrError], what: str = "文件") -> None:
    """Raise ``error`` (naming the file and the part) when the ZIP at ``path`` is a decompression
    bomb; a file that is no ZIP at all is left to its reader, which says what it is."""
    try:
        with zipfile.ZipFile(path) as z:
            parts = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    total = sum(p.file_size for p in parts)
    if total > MAX_TOTAL:
        raise error(
            f"{what}解压后共 {_size(total)}，远超 Excel/Word 文件的大小：不是正常保存的文件（或是压缩炸弹），"
            "已拒绝读取；请在 Excel/Word 中打开后另存为，或改用 CSV 导出",
            where=str(path),
        )
    for p in parts:
        if p.file_size > BOMB_FLOOR and p.file_size > MAX_RATIO * max(1, p.compress_size):
            ratio = p.file_size // max(1, p.compress_size)
            raise error(
                f"{what}中的 {p.filename} 从 {_size(p.compress_size)} 解压后为 {_size(p.file_size)}（压缩比 {ratio}:1，"
                f"正常的 Excel/Word 文件不超过约 30:1）：疑似压缩炸弹，已拒绝读取；请确认文件来源，"
                "在 Excel/Word 中打开后另存为",
                where=str(path),
            )
