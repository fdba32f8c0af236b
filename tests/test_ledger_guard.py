"""The ledger is never the only memory: a lost, emptied, replaced, older or damaged ledger stops
the run (exit 2, one Chinese line), `hlwjr ledger rebuild` recovers from the sandbox's
verification log or the last backup, and no sequence of such accidents makes the platform see a
record twice."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_upload_sandbox import make_records, new_project

from hlwjr import LedgerError
from hlwjr.cli import parse_args, run
from hlwjr.upload._client import PlatformClient
from hlwjr.upload._guard import check_ledger, read_witness, witness_path
from hlwjr.upload._recovery import backup_ledger, list_backups, rebuild_ledger
from hlwjr.upload._uploader import upload_records

pytestmark = pytest.mark.slow


def platform_counts(project) -> tuple[int, int]:
    """(accepted, duplicate) records of the project's organisation on the platform."""
    with PlatformClient.from_project(project) as client:
        ok = client.verify_log_records(status="ok", limit=1)["total"]
        dup = client.verify_log_records(status="duplicate", limit=1)["total"]
    return ok, dup


def cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse_args(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


# ------------------------------------------------------------------------------ accidents


def _delete(path):
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        p.unlink(missing_ok=True)


def _truncate(path):
    _delete(path)
    path.write_bytes(b"")


def _damage(path):
    data = bytearray(path.read_bytes())
    page = 4096 if len(data) > 3 * 4096 else 1024
    data[page : page + 64] = b"\xff" * 64  # the header of the second page: a broken b-tree
    path.write_bytes(bytes(data))


def _replace(path):
    _delete(path)
    other = sqlite3.connect(str(path))
    other.executescript("CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT); INSERT INTO meta VALUES ('ledger_id','x')")
    other.close()


def _forget_everything(path):
    _delete(path)
    witness_path(path).unlink(missing_ok=True)


ACCIDENTS = {
    "delete": _delete,
    "truncate": _truncate,
    "damage": _damage,
    "replace": _replace,
    "forget_everything": _forget_everything,
}


def test_each_accident_stops_the_run_with_one_line(sandbox, tmp_path, monkeypatch):
    for name, accident in ACCIDENTS.items():
        project, org = new_project(tmp_path / name, sandbox, monkeypatch)
        assert upload_records(project, make_records(org, 6)).ok
        accident(project.ledger_path)
        with pytest.raises(LedgerError) as info:
            upload_records(project, make_records(org, 6))
        assert "hlwjr ledger rebuild" in info.value.message, name
        assert platform_counts(project) == (12, 0), name
        if name == "forget_everything":
            assert not project.ledger_path.exists()  # the fresh ledger it had begun is removed again
            continue  # nothing local is left to notice it: only the platform (asked before sending) can
        code, _out, err = cli("upload", "--config", str(project.config_file), "--dry-run")
        assert code == 2 and err.count("\n") == 1 and "台账" in err, (name, err)


def test_an_older_copy_is_refused(sandbox, tmp_path, monkeypatch):
    project, org = new_project(tmp_path, sandbox, monkeypatch)
    upload_records(project, make_records(org, 4, prefix="A"))
    old = tmp_path / "old.sqlite"
    shutil.copy(project.ledger_path, old)
    upload_records(project, make_records(org, 4, prefix="B"))
    _delete(project.ledger_path)
    shutil.copy(old, project.ledger_path)
    with pytest.raises(LedgerError, match="旧副本"):
        check_ledger(project.ledger_path)


def test_rebuild_from_the_platform_sends_nothing_again(sandbox, tmp_path, monkeypatch):
    project, org = new_project(tmp_path, sandbox, monkeypatch)
    recs = make_records(org, 8)
    upload_records(project, recs)
    _forget_everything(project.ledger_path)
    with pytest.raises(LedgerError, match="平台上已有本机构"):
        upload_records(project, recs)
    assert not project.ledger_path.exists()  # the refused fresh ledger is not left behind
    with PlatformClient.from_project(project) as client:
        report = rebuild_ledger(project, client=client, records=recs)
    assert report.source == "platform" and report.adopted == {"visit": 8, "recipe": 8}
    again = upload_records(project, recs)
    assert again.total("sent") == 0 and again.total("already_accepted") == 16
    assert platform_counts(project) == (16, 0)


def test_backups_rotate_are_private_and_restore(sandbox, tmp_path, monkeypatch):
    project, org = new_project(tmp_path, sandbox, monkeypatch)
    upload_records(project, make_records(org, 3))
    backups = list_backups(project.ledger_path)
    assert len(backups) == 1  # made by the run itself
    assert backup_ledger(project.ledger_path) == backups[0]  # unchanged since: not copied again
    for prefix in "BCDE":
        upload_records(project, make_records(org, 2, prefix=prefix))
    assert len(list_backups(project.ledger_path)) == 5
    backup_ledger(project.ledger_path, keep=3)
    backups = list_backups(project.ledger_path)
    assert len(backups) == 3
    for p in (project.ledger_path, witness_path(project.ledger_path), *list_backups(project.ledger_path)):
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p
    _truncate(project.ledger_path)
    code, out, err = cli("ledger", "rebuild", "--config", str(project.config_file), "--from-backup", str(backups[0]))
    assert code == 0, err
    assert "原台账已保留" in out
    assert check_ledger(project.ledger_path) is not None
    again = upload_records(project, make_records(org, 3))
    assert again.total("sent") == 0
    code, out, _ = cli("ledger", "check", "--config", str(project.config_file))
    assert code == 0 and "台账正常" in out


def test_restoring_a_backup_older_than_the_last_run_needs_force(sandbox, tmp_path, monkeypatch):
    project, org = new_project(tmp_path, sandbox, monkeypatch)
    upload_records(project, make_records(org, 3, prefix="A"))
    first = list_backups(project.ledger_path)[0]
    upload_records(project, make_records(org, 3, prefix="B"))
    _delete(project.ledger_path)
    with pytest.raises(LedgerError, match="--force"):
        rebuild_ledger(project, backup=first)
    assert read_witness(project.ledger_path).accepted == 12


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.sampled_from(sorted(ACCIDENTS)), min_size=1, max_size=3))
def test_no_sequence_of_accidents_duplicates_a_record(sandbox, tmp_path_factory, monkeypatch, accidents):
    tmp = tmp_path_factory.mktemp("seq")
    project, org = new_project(tmp, sandbox, monkeypatch)
    day1, day2 = make_records(org, 3, prefix="A"), make_records(org, 3, prefix="B")
    upload_records(project, day1)
    for i, name in enumerate(accidents):
        if project.ledger_path.exists() or name == "forget_everything":
            ACCIDENTS[name](project.ledger_path)
        records = day2 if i % 2 else day1
        try:
            upload_records(project, records)
        except LedgerError:
            with PlatformClient.from_project(project) as client:
                rebuild_ledger(project, client=client, records={k: day1[k] + day2[k] for k in day1})
            upload_records(project, records)
    assert platform_counts(project)[1] == 0


def test_rebuild_falls_back_to_the_newest_backup_when_the_platform_is_down(sandbox, tmp_path, monkeypatch):
    project, org = new_project(tmp_path, sandbox, monkeypatch)
    upload_records(project, make_records(org, 3))
    _delete(project.ledger_path)
    down = PlatformClient("sandbox", "http://127.0.0.1:9/hlwjr", project.platform.appid, project.secret())
    down.max_retries = 0
    with down:
        report = rebuild_ledger(project, client=down)
    assert report.source == "backup" and "平台暂时无法连接" in report.to_text()
    assert check_ledger(project.ledger_path) is not None
    assert upload_records(project, make_records(org, 3)).total("sent") == 0
