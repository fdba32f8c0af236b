"""``hlwjr ledger prune``: the bodies of batches answered long ago (a copy of every record sent)
are emptied and the ledger compacted; records, states, answers and recent bodies stay, so
nothing is sent twice and the next run's ledger guard still passes."""

from __future__ import annotations

import io
import sqlite3
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ledger_guard import platform_counts
from test_upload_sandbox import make_records, new_project

from hlwjr.cli import parse_args, run
from hlwjr.upload._ledger import Ledger
from hlwjr.upload._uploader import upload_records


def _cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return run(parse_args(list(map(str, argv))), out, err), out.getvalue(), err.getvalue()


def _age_batches(path, share: float, days: int) -> set[str]:
    """Make the first ``share`` of the answered batches ``days`` old; returns their numbers."""
    db = sqlite3.connect(str(path))
    with db:
        rows = [r[0] for r in db.execute("SELECT batch_no FROM batches ORDER BY created_at, rowid")]
        old = set(rows[: int(len(rows) * share)])
        db.executemany(
            "UPDATE batches SET answered_at = datetime(answered_at, ?) WHERE batch_no = ?",
            [(f"-{days} days", b) for b in old],
        )
    db.close()
    return old


@given(share=st.sampled_from([0.0, 0.5, 1.0]), days=st.integers(min_value=1, max_value=900))
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_old_bodies_go_and_nothing_else(sandbox, tmp_path_factory, monkeypatch, share, days):
    project, org = new_project(tmp_path_factory.mktemp("prune"), sandbox, monkeypatch)
    records = make_records(org, 40)
    assert upload_records(project, records).ok
    before = platform_counts(project)
    old = _age_batches(project.ledger_path, share, days)
    with Ledger(project.ledger_path) as led:
        counts = led.counts()
    code, out, err = _cli("ledger", "prune", "--config", project.config_file, "--older-than", 180)
    assert code == 0, err
    pruned = old if days >= 181 else set()  # answered before the day 180 days ago
    assert f"已清空 {len(pruned)} 个" in out
    with Ledger(project.ledger_path) as led:
        assert led.counts() == counts and led.unresolved_batches() == []
        bodies = {}
        for (batch_no,) in led._query("SELECT batch_no FROM batches"):
            bodies[batch_no] = led.batch_body(batch_no)
    assert {b for b, body in bodies.items() if not body} == pruned
    assert stat.S_IMODE(project.ledger_path.stat().st_mode) == 0o600
    summary = upload_records(project, records)  # the guard passes; nothing goes again
    assert summary.ok and platform_counts(project) == before


def test_prune_refuses_a_bad_age_and_a_missing_ledger(sandbox, tmp_path, monkeypatch):
    project, _org = new_project(tmp_path, sandbox, monkeypatch)
    code, _out, err = _cli("ledger", "prune", "--config", project.config_file)
    assert code == 2 and "还没有上传台账" in err
    code, _out, err = _cli("ledger", "prune", "--config", project.config_file, "--older-than", 0)
    assert code == 2 and "--older-than" in err


@pytest.mark.parametrize("older_than", [1, 30])
def test_recent_bodies_stay(sandbox, tmp_path, monkeypatch, older_than):
    project, org = new_project(tmp_path, sandbox, monkeypatch)
    assert upload_records(project, make_records(org, 5)).ok
    code, out, _ = _cli("ledger", "prune", "--config", project.config_file, "--older-than", older_than)
    assert code == 0 and "已清空 0 个" in out
