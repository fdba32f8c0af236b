"""Thirty nights of ``hlwjr run`` against the sandbox and its clock (the issue's acceptance
test): a HIS that grows day by day, consultations that finish after midnight (window of two
days), the platform down one night, the source down another, 5 % of the visits refused, fixed
the next morning and resent. At the end every HIS record is accepted exactly once, status and
reconciliation agree with the sandbox's verification log, and the loopback webhook received an
alert exactly for the nights that should have one."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from ops_helpers import LONG_NAME, hospital_rows, new_hospital, strict_spec, write_tables
from test_ops_alerts import Receiver

from hlwjr import Ledger
from hlwjr.operations._refused import refused_list, resend_refused
from hlwjr.operations._run import run_production
from hlwjr.operations._status import compute_status
from hlwjr.readiness._readiness import platform_counts
from hlwjr.upload._client import PlatformClient

pytestmark = pytest.mark.slow

FIRST = date(2026, 11, 1)
N_DAYS = 30
PER_DAY = 10
REFUSED_DAYS = {3: (1, 4, 6, 8), 7: (2, 5, 7, 3), 15: (0, 3, 6, 7), 25: (1, 2, 4, 5)}  # 16 of 300 visits
PLATFORM_DOWN_NIGHT, SOURCE_DOWN_NIGHT = 10, 20  # night n runs at 01:30 of FIRST + n days


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    from hlwjr.sandbox import Sandbox

    root = tmp_path_factory.mktemp("ops-sim-sandbox")
    # thirty nights in seconds: more token requests a minute than the platform allows a real night
    sb = Sandbox(root / "data", spec=str(strict_spec(root)), token_rate_per_minute=10_000)
    sb.start()
    yield sb
    sb.stop()


def _his_as_of(all_days: list[dict], night: int, fixed: set[int]) -> dict[str, list[dict]]:
    """The HIS at night ``night``: days before it; the last visit of the previous day not yet
    finished; the refused names of a day corrected once ``fixed``."""
    out: dict[str, list[dict]] = {"visits": [], "rx": [], "rx_lines": [], "evals": []}
    for i, day_tables in enumerate(all_days[:night]):
        for name, rows in day_tables.items():
            for j, row in enumerate(rows):
                row = dict(row)
                if name == "visits":
                    if i == night - 1 and j == PER_DAY - 1:
                        row["ZT"] = "进行中"
                    if j in REFUSED_DAYS.get(i, ()) and i not in fixed:
                        row["XM"] = LONG_NAME
                out[name].append(row)
    return out


def test_thirty_nights(sandbox, tmp_path, monkeypatch):
    receiver = Receiver()
    try:
        _thirty_nights(sandbox, tmp_path, monkeypatch, receiver)
    finally:
        receiver.close()


def _thirty_nights(sandbox, tmp_path, monkeypatch, receiver):
    days = [(FIRST + timedelta(days=i)).isoformat() for i in range(N_DAYS)]
    all_days = [hospital_rows([d], PER_DAY) for d in days]
    project, _, src = new_hospital(
        tmp_path,
        sandbox,
        monkeypatch,
        tables=_his_as_of(all_days, 0, set()),
        run={"window_days": 2},
        alerts={"webhook": receiver.url},
    )
    fixed: set[int] = set()
    codes = {}
    for night in range(1, N_DAYS + 2):  # one more night collects the last day's late visit
        now = datetime.combine(FIRST + timedelta(days=night), datetime.min.time()) + timedelta(hours=1, minutes=30)
        sandbox.set_clock(now.strftime("%Y-%m-%d %H:%M:%S"))
        write_tables(src, _his_as_of(all_days, night, fixed))
        if night == PLATFORM_DOWN_NIGHT:
            sandbox.set_faults(error_rate=1.0, error_kind="http503")
        if night == SOURCE_DOWN_NIGHT:
            (src / "rx.csv").unlink()
        try:
            codes[night] = run_production(project, now=now).exit_code
        finally:
            sandbox.set_faults(reset=True)
        if refused_list(project).records:  # the morning after: HIS corrects the names, resend
            fixed |= {i for i in REFUSED_DAYS if i < night}
            write_tables(src, _his_as_of(all_days, night, fixed))
            assert resend_refused(project).exit_code == 0
    sandbox.set_clock(reset=True)

    # exit codes: 2 on the two bad nights, 1 on the nights with refusals, 0 otherwise
    refusal_nights = {i + 1 if i + 1 not in (PLATFORM_DOWN_NIGHT, SOURCE_DOWN_NIGHT) else i + 2 for i in REFUSED_DAYS}
    assert {n for n, c in codes.items() if c == 2} == {PLATFORM_DOWN_NIGHT, SOURCE_DOWN_NIGHT}
    assert {n for n, c in codes.items() if c == 1} == refusal_nights

    # every HIS record accepted exactly once, in the ledger and on the platform
    expected = {"visit": N_DAYS * PER_DAY, "recipe": N_DAYS * PER_DAY, "evaluation": N_DAYS * PER_DAY // 2}
    with Ledger(project.ledger_path) as ledger:
        assert ledger.counts() == {ds: {"accepted": n} for ds, n in expected.items()}
    with PlatformClient.from_project(project) as client:
        log = client.verify_log(**{"from": days[0], "to": (FIRST + timedelta(days=N_DAYS + 1)).isoformat()})
    counts, _ = platform_counts(log)
    for ds, n in expected.items():
        assert sum(c["accepted"] for (_, d), c in counts.items() if d == ds) == n
        assert sum(c["duplicate"] for (_, d), c in counts.items() if d == ds) == 0

    # status and reconciliation agree with the platform
    st = compute_status(project, today=days[-1], days=N_DAYS, platform=True)
    assert st.platform == "ok" and st.mismatches == []
    for ds, n in expected.items():
        assert sum(r["accepted"] for r in st.rows if r["dataset"] == ds) == n
    assert all(r["refused"] == 0 and r["pending"] == 0 for r in st.rows)
    assert "对账一致" in (project.ops_dir / "index.html").read_text(encoding="utf-8")

    # alerts exactly for the nights that should have one
    alerted = set()
    for body in receiver.bodies:
        day = re.search(r"业务日期 (\d{4}-\d{2}-\d{2})", body["text"]["content"]).group(1)
        alerted.add((date.fromisoformat(day) - FIRST).days + 1)
    assert alerted == {PLATFORM_DOWN_NIGHT, SOURCE_DOWN_NIGHT} | refusal_nights
    assert len(receiver.bodies) == len(alerted)
