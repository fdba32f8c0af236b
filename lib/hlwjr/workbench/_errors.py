"""Readable errors in notebooks and widgets (错误 / 位置 / 怎么办): the message for an error, the
IPython handler that replaces a 40-line traceback with it, and the same as a context manager.
"""

from __future__ import annotations

import contextlib
import html
import sys
from collections.abc import Iterator

from .._exceptions import (
    AuthError,
    ConfigError,
    DataError,
    HlwjrError,
    MappingError,
    RecordsInvalid,
    SourceError,
    SpecError,
    TransportError,
    UploadError,
)
from .._privacy import mask_text

# what to do, by error class (most specific first)
_HINTS: list[tuple[type, str]] = [
    (
        AuthError,
        "核对 appid 与 secret（平台「互联网医院接入平台」中查看）；secret 放在环境变量或 git 忽略的文件里，不要写进"
        "笔记本",
    ),
    (
        TransportError,
        "平台连不上或繁忙：检查网络（政务外网 / VPN）、平台地址与端口；沙箱演练时确认沙箱在运行（重新运行 00_开始"
        "_setup）",
    ),
    (UploadError, "平台拒绝了请求：看上面的平台返回信息，修正数据或配置后重试"),
    (RecordsInvalid, "记录未通过强制校验：在 05_校验_validate 中查看问题清单，修正数据源或对照后重跑"),
    (SourceError, "数据源读不了：检查文件路径、编码（GBK/UTF-8）、表名，或数据库连接串"),
    (DataError, "数据有问题：按提示的文件 / 行 / 列修正数据源"),
    (MappingError, "对照配置有误：在 03_字段对照_map_fields 或 mapping/ 下的 YAML 中按提示的位置修正"),
    (SpecError, "接口规范有误：检查规范目录或导入的接口文档"),
    (ConfigError, "配置有误：检查本笔记本的参数单元格（parameters）和项目目录中的 hlwjr.toml"),
]


def hint_for(exc: BaseException) -> str:
    """What to do about an error (怎么办), in one Chinese sentence."""
    for cls, hint in _HINTS:
        if isinstance(exc, cls):
            return hint
    return "这是 hlwjr 的内部错误，请把本单元格的代码和上面的信息反馈给开发者"


def error_text(exc: BaseException) -> str:
    """A readable multi-line message for an error: what is wrong, where, what to do."""
    if isinstance(exc, HlwjrError):
        lines = [f"错误（{type(exc).__name__}）：{exc.message}"]
        if exc.where:
            lines.append(f"位置：{exc.where}")
        errors = getattr(exc, "errors", None)
        for e in (errors or [])[:5]:
            lines.append(f"  · {e.get('message') or e.get('msg') or e}" if isinstance(e, dict) else f"  · {e}")
        report = getattr(exc, "report", None)
        if report is not None:
            try:
                lines.append(report.summary())
            except Exception:
                pass
    else:
        # a library's message may quote a cell value (a widget callback on patient data): mask it
        lines = [f"内部错误（{type(exc).__name__}）：{mask_text(str(exc))}"]
    lines.append(f"怎么办：{hint_for(exc)}")
    return "\n".join(lines)


def error_html(exc: BaseException) -> str:
    """The message of :func:`error_text` as an HTML box (red for errors)."""
    text = error_text(exc).split("\n")
    head, rest = text[0], text[1:]
    body = "".join(f"<div>{html.escape(line)}</div>" for line in rest)
    return (
        "<div class='hlwjr-error' style='border-left:4px solid #c62828;background:#fdecea;padding:6px 10px;"
        f"margin:4px 0;white-space:pre-wrap'><b>{html.escape(head)}</b>{body}</div>"
    )


def _custom_exc(shell, etype, value, tb, tb_offset=None):  # IPython custom exception handler
    """Show an HlwjrError as 错误 / 位置 / 怎么办 lines in the cell's error output (the cell still
    counts as failed, so "Run All" stops there)."""
    red, reset = "\x1b[31m", "\x1b[0m"
    lines = error_text(value).split("\n")
    stb = [red + lines[0] + reset, *lines[1:]]
    show = getattr(shell, "_showtraceback", None)
    if show is not None:
        show(etype, value, stb)  # ipykernel: an "error" message with our short traceback
    return stb


def setup_notebook() -> bool:
    """Show :class:`HlwjrError` in a cell as a short message, not a traceback. True inside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((HlwjrError,), _custom_exc)
    return True


@contextlib.contextmanager
def friendly(*, stream=None, reraise: bool = False) -> Iterator[None]:
    """``with friendly(): ...`` — print an :class:`HlwjrError` as a readable message (to ``stream``,
    default stderr) instead of a traceback; other exceptions propagate untouched."""
    try:
        yield
    except HlwjrError as exc:
        print(error_text(exc), file=stream or sys.stderr)
        if reraise:
            raise
