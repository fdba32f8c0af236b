"""Command line: ``hlwjr <area> <command> ...`` — a thin shell over what the notebooks call.

Each area registers its sub-commands in ``_cli_<area>.py`` (a ``register(subparsers)`` function);
handlers have the signature ``handler(args, stdout, stderr) -> int``.
Exit codes: 0 ok, 1 problems found / not ready, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import TextIO

from ._exceptions import ConfigError, HlwjrError, LedgerError
from ._privacy import mask_text

# Modules that contribute sub-commands, in the order they appear in --help.
_COMMAND_MODULES = (
    ".commands._spec",
    ".commands._validate",
    ".commands._sandbox",
    ".commands._map",
    ".commands._template",
    ".commands._upload",
    ".commands._ledger",
    ".commands._run",
    ".commands._platform",
    ".commands._demo",
    ".commands._lab",
)


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``run`` decides the exit code."""

    def error(self, message: str):
        raise ConfigError(f"{message}（用法见 `{self.prog} --help`）")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hlwjr",
        description="hlwjr: 北京市互联网医院接入平台 数据对接工作台 (spec → map → validate → upload → readiness)",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"hlwjr {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _COMMAND_MODULES:
        importlib.import_module(name, __package__).register(sub)
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def run(args: argparse.Namespace, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr) -> int:
    handler = getattr(args, "handler", None)
    if handler is None:
        build_parser().print_help(stdout)
        return 2
    try:
        return int(handler(args, stdout, stderr) or 0)
    except HlwjrError as exc:
        print(f"错误: {exc}", file=stderr)
        return 2 if isinstance(exc, (ConfigError, LedgerError)) else 1
    except KeyboardInterrupt:
        print("已中断 (interrupted)", file=stderr)
        return 130
    except BrokenPipeError:  # e.g. `hlwjr spec show recipe | head`
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:  # a file the user named cannot be read/written: one line, no traceback
        where = f"{mask_text(str(exc.filename))}: " if exc.filename else ""
        print(
            f"错误: {where}文件读写失败（{exc.strerror or exc}）；请检查路径是否存在、是否有读写权限、磁盘是否已满",
            file=stderr,
        )
        return 2


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except HlwjrError as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 2
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
