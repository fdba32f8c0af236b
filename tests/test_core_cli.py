"""The CLI shell: every area registers, usage errors are one line with exit 2, help works."""

from __future__ import annotations

import io
import subprocess
import sys

from hlwjr import cli


def test_every_area_is_registered_in_help():
    out = io.StringIO()
    cli.build_parser().print_help(out)
    for command in ("spec", "validate", "sandbox", "profile", "map", "upload", "readiness", "demo", "lab"):
        assert f"    {command}" in out.getvalue()


def test_usage_error_is_one_line_and_exit_2():
    proc = subprocess.run([sys.executable, "-m", "hlwjr.cli", "no-such-command"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("错误:") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_no_command_prints_help_and_exit_2():
    out, err = io.StringIO(), io.StringIO()
    assert cli.run(cli.parse_args([]), out, err) == 2
    assert "COMMAND" in out.getvalue()


def test_config_errors_exit_2_and_data_errors_exit_1():
    from hlwjr import ConfigError, DataError

    def boom(exc):
        def handler(args, stdout, stderr):
            raise exc

        return handler

    for exc, code in ((ConfigError("配置错误", where="hlwjr.toml"), 2), (DataError("数据错误"), 1)):
        args = cli.parse_args([])
        args.handler = boom(exc)
        err = io.StringIO()
        assert cli.run(args, io.StringIO(), err) == code
        assert err.getvalue().startswith("错误: ")
