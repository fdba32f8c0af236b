"""The upload ledger (上传台账): states, the acceptance log, recovery data, the reference lookup."""

from __future__ import annotations

import os
import sqlite3

import pytest

from hlwjr import Ledger, UploadError
from hlwjr.upload._ledger import content_hash, record_json, record_key
from hlwjr.upload._results import BatchResult, RecordResult


def _batch(led, batch_no, recs, dataset="recipe"):
    items = [("|".join(record_key(r, ("organID", "recipeID"))), content_hash(r)) for r in recs]
    body = ('{"batchNo":"%s","records":[%s]}' % (batch_no, ",".join(record_json(r) for r in recs))).encode()
    led.open_batch(dataset, batch_no, items, body, data_date="2026-11-01")
    return [k for k, _ in items]


RECS = [{"organID": "O", "recipeID": f"R{i}", "amount": 1.5 * i} for i in range(3)]


def test_lifecycle_pending_sent_answered(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as led:
        keys = _batch(led, "B1", RECS)
        assert led.counts() == {"recipe": {"pending": 3}}
        assert [b.batch_no for b in led.unresolved_batches()] == ["B1"]
        led.mark_sent("B1")
        assert led.counts()["recipe"] == {"sent": 3}
        res = BatchResult(
            "recipe",
            "B1",
            3,
            0,
            "ok",
            [
                RecordResult(0, "accepted"),
                RecordResult(1, "rejected", [{"field": "x", "msg": "坏"}]),
                RecordResult(2, "duplicate"),
            ],
        )
        led.record_answer(res, platform_day="2026-11-01")  # key order recovered from the stored body
        assert led.counts()["recipe"] == {"accepted": 1, "rejected": 1, "duplicate": 1}
        assert led.unresolved_batches() == []
        ev = led.events()
        assert [e["status"] for e in ev] == ["accepted", "rejected", "duplicate"]
        assert ev[0]["batch_no"] == "B1" and ev[0]["key"] == keys[0] and ev[0]["platform_day"] == "2026-11-01"
        assert led.accepted_on("2026-11-01") == {"recipe": 1}
        # the validation engine's lookup: accepted (and duplicate = already on the platform) are known
        assert led.known("recipe", [("O", "R0"), ("O", "R1"), ("O", "R2"), ("O", "R9")]) == {("O", "R0"), ("O", "R2")}
        rows = {r["key"]: r for r in led.record_rows()}
        assert rows["O|R0"]["attempts"] == 1 and rows["O|R1"]["answer"]


def test_accepted_or_in_flight_records_never_enter_a_new_batch(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as led:
        _batch(led, "B1", RECS[:1])
        with pytest.raises(UploadError, match="重复上报"):
            _batch(led, "B2", RECS[:1])
        led.mark_sent("B1")
        led.record_answer(
            BatchResult("recipe", "B1", 1, 0, "", [RecordResult(0, "accepted")]), platform_day="2026-11-01"
        )
        with pytest.raises(UploadError):
            _batch(led, "B3", RECS[:1])
        assert led.batch_body("B2") is None  # the refused batch left nothing behind


def test_rejected_record_can_be_resent_after_a_fix(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as led:
        _batch(led, "B1", RECS[:1])
        led.mark_sent("B1")
        led.fail_batch("B1", "recipe", "平台拒收", 2005, platform_day="2026-11-01")
        assert led.counts()["recipe"] == {"rejected": 1}
        assert led.states("recipe", ["O|R0"])["O|R0"][2] == 1  # innocent: may go again
        fixed = [dict(RECS[0], amount=9)]
        _batch(led, "B2", fixed)
        st = led.states("recipe", ["O|R0"])["O|R0"]
        assert st[0] == "pending" and st[1] == content_hash(fixed[0])
        assert [e["status"] for e in led.events()] == ["refused"]  # a refused request is not an upload


def test_wal_and_survives_reopen(tmp_path):
    path = tmp_path / "w" / "ledger.sqlite"
    with Ledger(path) as led:
        _batch(led, "B1", RECS)
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with Ledger(path) as led:
        (b,) = led.unresolved_batches()
        assert b.n == 3 and b.body.startswith(b'{"batchNo":"B1"')


def test_corrupt_ledger_is_a_clear_error(tmp_path):
    bad = tmp_path / "ledger.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    from hlwjr import ConfigError

    with pytest.raises(ConfigError, match="台账"):
        Ledger(bad)


def test_record_json_is_canonical():
    a = record_json({"b": 1, "a": "中"})
    assert a == '{"a":"中","b":1}' and content_hash(a) == content_hash({"a": "中", "b": 1})


def test_resolve_unanswered_batch_by_hand(tmp_path):
    """A batch sent to a platform without batchNo replay (ngari) and never answered: the analyst
    checks the platform's 验证日志 and settles it — accepted (never sent again, counted on its
    day) or missing (sent again next run, in a new batch)."""
    from hlwjr import ConfigError

    with Ledger(tmp_path / "l.sqlite") as led:
        keys = _batch(led, "B1", RECS)
        led.mark_sent("B1")
        _batch(led, "B2", [{"organID": "O", "recipeID": "R9"}])
        led.mark_sent("B2")
        assert led.resolve_batch("B1", "accepted", platform_day="2026-11-02") == 3
        assert {v[0] for v in led.states("recipe", keys).values()} == {"accepted"}
        assert led.accepted_on("2026-11-02") == {"recipe": 3}
        with pytest.raises(UploadError):  # accepted: never in a new batch again
            _batch(led, "B3", RECS[:1])
        assert led.resolve_batch("B2", "missing") == 1
        assert [b.batch_no for b in led.unresolved_batches()] == []
        _batch(led, "B4", [{"organID": "O", "recipeID": "R9"}])  # missing: may go again
        for bad, text in (
            (("B1", "accepted"), "已有结果"),
            (("NOPE", "missing"), "台账中没有批次"),
            (("B4", "maybe"), "accepted"),
        ):
            with pytest.raises(ConfigError, match=text):
                led.resolve_batch(*bad)


def test_cli_resolve(tmp_path):
    import io

    from hlwjr import cli
    from hlwjr.upload._project import load_project, write_project

    root = write_project(
        tmp_path / "proj",
        {
            "project": {"name": "测试医院", "org_code": "O"},
            "platform": {
                "profile": "tianjin",
                "url": "http://127.0.0.1:9/x",
                "appid": "a",
                "secret_env": "HLWJR_TEST_SECRET",
            },
        },
    ).parent
    project = load_project(root)
    project.ledger_path.parent.mkdir(parents=True, exist_ok=True)
    with Ledger(project.ledger_path) as led:
        _batch(led, "B1", RECS)
        led.mark_sent("B1")
        _batch(led, "B2", RECS[:0] + [{"organID": "O", "recipeID": "R7"}])
        led.mark_sent("B2")

    def run(*argv):
        out, err = io.StringIO(), io.StringIO()
        rc = cli.run(cli.parse_args(["upload", "--config", str(root), *argv]), out, err)
        return rc, out.getvalue(), err.getvalue()

    rc, out, err = run("--resolve", "B1=accepted", "--resolve-day", "2026-11-03")
    assert rc == 0 and "批次 B1: 3 条记录记为平台已接收" in out and "仍有 1 个批次未确认: B2" in out
    rc, out, err = run("--resolve", "B2")
    assert rc == 2 and "批次号=accepted" in err and "Traceback" not in err
    rc, out, err = run("--resolve", "B2=missing", "--resolve-day", "03/11/2026")
    assert rc == 2 and "--resolve-day" in err
    rc, out, err = run("--resolve", "B2=missing")
    assert rc == 0 and "下次运行时重新发送" in out and "仍有" not in out
    with Ledger(project.ledger_path) as led:
        assert led.accepted_on("2026-11-03") == {"recipe": 3} and led.unresolved_batches() == []


def test_close_closes_the_connection_even_when_the_last_write_fails(tmp_path, monkeypatch):
    led = Ledger(tmp_path / "l.sqlite")
    _batch(led, "B1", RECS)
    res = BatchResult("recipe", "B1", 3, 0, "ok", [RecordResult(i, "accepted") for i in range(3)])
    led.record_answer(res, platform_day="2026-11-01", defer=True)

    def boom(*a, **k):
        raise UploadError("写入失败")

    monkeypatch.setattr(led, "_write_answer", boom)
    with pytest.raises(UploadError):
        led.close()
    with pytest.raises(sqlite3.ProgrammingError):  # closed: no file handle left open
        led._db.execute("SELECT 1")
    # nothing half-written: the answer was rolled back, the batch is still to be replayed
    with Ledger(tmp_path / "l.sqlite") as again:
        assert [b.batch_no for b in again.unresolved_batches()] == ["B1"]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to list open files")
def test_corrupt_ledger_leaves_no_open_file(tmp_path):
    from hlwjr import ConfigError

    bad = tmp_path / "ledger.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)

    def open_on_bad():
        out = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                out.append(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                pass
        return [p for p in out if p.startswith(str(bad))]

    for _ in range(3):
        with pytest.raises(ConfigError):
            Ledger(bad)
    assert open_on_bad() == []


def test_refused_rebatch_message_masks_an_id_number_in_the_key(tmp_path):
    doctor = [{"organID": "O", "recipeID": "110101199003071234"}]  # e.g. a key holding 医师 doctorCertID
    with Ledger(tmp_path / "l.sqlite") as led:
        _batch(led, "B1", doctor)
        with pytest.raises(UploadError, match="重复上报") as e:
            _batch(led, "B2", doctor)
    assert "110101199003071234" not in str(e.value) and "O|" in str(e.value)
