"""Files the workbench writes for people: usual permissions, and one-line errors on file trouble."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest

from hlwjr import cli
from hlwjr.spec._load import load_spec
from hlwjr.spec._write import write_spec

EXAMPLES = Path(cli.__file__).resolve().parent / "specs" / "beijing-reference" / "examples"


def _run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(cli.parse_args(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _bad_recipes(tmp_path) -> Path:
    rec = json.loads((EXAMPLES / "recipe.json").read_text(encoding="utf-8"))[0]
    rec["updateTime"] = "2024-02-30 10:00:00"
    p = tmp_path / "recipes.jsonl"
    p.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    return p


def test_reports_exports_and_spec_directories_get_the_usual_mode(tmp_path, umask_022):
    # tempfile makes 0600 files / 0700 directories; colleagues must be able to read what we hand over
    src = _bad_recipes(tmp_path)
    for name in ("r.xlsx", "r.html"):
        code, _, _ = _run("validate", "-d", "recipe", str(src), "--report", str(tmp_path / name))
        assert code == 1 and _mode(tmp_path / name) == 0o644
    code, _, err = _run("spec", "export", "--out", str(tmp_path / "spec.xlsx"))
    assert code == 0, err
    assert _mode(tmp_path / "spec.xlsx") == 0o644
    out = write_spec(load_spec(), tmp_path / "copy")
    assert _mode(out) == 0o755
    assert all(_mode(p) == (0o755 if p.is_dir() else 0o644) for p in out.rglob("*"))


def test_a_file_problem_is_one_line_with_the_path_never_a_traceback(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x", encoding="utf-8")
    # the output's parent is a file: the OS refuses; the user gets the path and what to check
    code, _out, err = _run("spec", "export", "--out", str(blocker / "spec.docx"))
    assert code == 2
    assert err.startswith("错误: ") and "afile" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
