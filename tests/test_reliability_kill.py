"""Reliability: SIGKILL the upload process at random points of a 5,000-record run, ten times, then
run it again — the platform ends with every record accepted exactly once, zero duplicates, and the
ledger agrees with the verification log (验证日志)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hlwjr import Ledger, compute_readiness
from hlwjr.upload._project import load_project, write_project

pytestmark = pytest.mark.slow

MINISPEC = Path(__file__).parent / "data" / "upload_minispec"
N_VISITS = 2500  # + 2,500 prescriptions = 5,000 records

WORKER = r"""
import sys
sys.path.insert(0, sys.argv[3])
from test_upload_sandbox import make_records
from hlwjr.upload._project import load_project
from hlwjr.upload._uploader import upload_records
project = load_project(sys.argv[1])
records = make_records(sys.argv[2], int(sys.argv[4]))
def progress(desc, done, total):
    if done and not getattr(progress, "said", False):
        progress.said = True
        print("SENDING", flush=True)
s = upload_records(project, records, progress=progress)
print("DONE", s.total("accepted"), s.total("already_accepted"), s.recovered, flush=True)
"""


def test_sigkill_ten_times_then_finish(sandbox, tmp_path):
    from test_upload_sandbox import uscc

    org = uscc(777000 + os.getpid() % 1000)
    appid, secret = sandbox.register(org, "可靠性测试医院")
    (tmp_path / "secret").write_text(secret, encoding="utf-8")
    cfg = {
        "datasets": ["visit", "recipe"],
        "project": {"name": "可靠性测试医院", "org_code": org, "spec": str(MINISPEC), "phase": "production"},
        "platform": {
            "profile": "sandbox",
            "url": sandbox.url,
            "appid": appid,
            "secret_env": "HLWJR_NO_SUCH_ENV",
            "secret_file": "secret",
            "backoff_base": 0.01,
        },
    }
    project = load_project(write_project(tmp_path / "proj", cfg))
    (tmp_path / "proj" / "secret").write_text(secret, encoding="utf-8")
    argv = [sys.executable, "-c", WORKER, str(project.root), org, str(Path(__file__).parent), str(N_VISITS)]
    env = {k: v for k, v in os.environ.items() if k != "HLWJR_NO_SUCH_ENV"}
    rng = random.Random(20261125)
    sandbox.set_faults(latency_ms=40)  # ~2 s of sending, so that every kill lands mid-run
    kills = 0
    progress: list[tuple[int, int]] = []  # (accepted so far, unanswered batches) after each kill
    for _ in range(10):
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            line = proc.stdout.readline()  # the first batch was answered: now kill at a random point
            assert line.startswith(("SENDING", "DONE")), proc.stderr.read()
            time.sleep(rng.uniform(0.0, 0.3))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
        finally:
            proc.wait(30)
            proc.stdout.close()
            proc.stderr.close()
        if project.ledger_path.exists():
            with Ledger(project.ledger_path) as led:
                progress.append(
                    (sum(c.get("accepted", 0) for c in led.counts().values()), len(led.unresolved_batches()))
                )
    sandbox.set_faults(reset=True)
    final = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert final.returncode == 0, final.stderr[-3000:]
    assert kills >= 5, "the run finished before most kills: make it longer"
    # the kills landed mid-run: progress was made between them and some left unanswered batches
    assert len({a for a, _ in progress}) >= 8 and progress[-1][0] < 2 * N_VISITS, progress
    assert sum(1 for _, u in progress if u) >= 3, progress
    print("progress after kills:", progress)

    log = None
    from hlwjr.upload._client import PlatformClient

    with PlatformClient.from_project(project) as c:
        log = c.verify_log()
    days = log["days"]
    assert sum(d["success"] for d in days) == 2 * N_VISITS
    assert sum(d["duplicate"] for d in days) == 0 and sum(d["failed"] for d in days) == 0
    assert sum(d["uploaded"] for d in days) == 2 * N_VISITS  # each record reached the platform once
    with Ledger(project.ledger_path) as led:
        assert led.counts() == {"visit": {"accepted": N_VISITS}, "recipe": {"accepted": N_VISITS}}
        assert led.unresolved_batches() == []
    r = compute_readiness(project, platform_log=log)
    assert r.disagreements == []
