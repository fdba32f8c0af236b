"""A platform slower than the read timeout, on the real sandbox over loopback (fault latency_ms):
the run stops with one Chinese message saying the batch's outcome is unknown and what the ledger
does with it; the next run replays the batch under its own batchNo — nothing duplicated, nothing
lost. A platform without batch replay keeps the batch for the analyst's ``--resolve``."""

from __future__ import annotations

import json

import httpx
import pytest
from test_upload_sandbox import make_records, new_project

from hlwjr import Ledger, PlatformClient, TransportError, compute_readiness
from hlwjr.upload._uploader import upload_records

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("fresh_faults")]


class SlowFrom(httpx.HTTPTransport):
    """A real HTTP transport that turns the sandbox's latency on when the ``slow_from``-th upload
    goes out (the token and clock requests before it are answered at once), off at ``fast_from``."""

    def __init__(self, sandbox, slow_from: int = 1, fast_from: int | None = None) -> None:
        super().__init__()
        self.sandbox, self.slow_from, self.fast_from = sandbox, slow_from, fast_from
        self.uploads: list[bytes] = []

    def handle_request(self, request):
        if "/api/upload/" in request.url.path:
            self.uploads.append(request.read())
            if len(self.uploads) == self.slow_from:
                self.sandbox.set_faults(latency_ms=2500)
            if len(self.uploads) == self.fast_from:
                self.sandbox.set_faults(latency_ms=0)
        return super().handle_request(request)


def test_read_timeout_is_an_unknown_outcome_replayed_next_run(sandbox, tmp_path, monkeypatch):
    project, org = new_project(tmp_path, sandbox, monkeypatch, read_timeout=1.0, max_retries=0)
    records = make_records(org, 5)
    with PlatformClient.from_project(project, transport=SlowFrom(sandbox)) as client:
        with pytest.raises(TransportError) as err:
            upload_records(project, records, client=client)
    message = str(err.value)
    assert "等待平台应答超过 1 秒（[platform] read_timeout）" in message and "是否已收到未知" in message
    assert "同一批次号" in message and "不会重复" in message and err.value.ambiguous
    with Ledger(project.ledger_path) as led:
        (batch,) = led.unresolved_batches()
    assert batch.batch_no in message and batch.n == 5
    sandbox.set_faults(reset=True)
    with PlatformClient.from_project(project) as client:
        client._http.timeout = httpx.Timeout(30.0, connect=5.0)  # the next day: a platform in good health
        again = upload_records(project, make_records(org, 5), client=client)
    assert again.recovered == 5 and again.total("accepted") + again.total("already_accepted") == 10
    with Ledger(project.ledger_path) as led:
        assert led.unresolved_batches() == [] and led.counts() == {"visit": {"accepted": 5}, "recipe": {"accepted": 5}}
    r = compute_readiness(project, platform_log=True)
    assert r.disagreements == [] and int(r.per_day["duplicate"].sum()) == 0


def test_read_timeout_retried_under_the_same_batch_no(sandbox, tmp_path, monkeypatch):
    """With retries left, the same bytes go again (the platform answers a replayed batchNo without
    counting it twice); once the platform is fast again the batch is answered in the same run."""
    project, org = new_project(tmp_path, sandbox, monkeypatch, read_timeout=1.0, max_retries=3)
    transport = SlowFrom(sandbox, slow_from=1, fast_from=2)
    with PlatformClient.from_project(project, transport=transport) as client:
        s = upload_records(project, {"visit": make_records(org, 3)["visit"]}, client=client)
    seen = transport.uploads
    assert s.total("accepted") == 3 and s.total("duplicate") == 0
    assert len(seen) >= 2 and len(set(seen)) == 1  # byte-identical replays
    r = compute_readiness(project, platform_log=True)
    assert r.disagreements == [] and int(r.per_day["duplicate"].sum()) == 0


def test_read_timeout_on_a_platform_without_replay_asks_for_resolve():
    """The tianjin gateway has no batch replay: one request, no automatic re-send, the analyst's
    ``--resolve`` named with the batch (no server stalls on demand for this profile's gateway)."""
    requests = []

    def slow(request):
        requests.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    secret = "0123456789abcdef0123456789abcdef"
    with PlatformClient(
        "tianjin", "http://gw.test", "APP", secret, transport=httpx.MockTransport(slow), read_timeout=2
    ) as c:
        body = c.encode_batch("T-1", [json.dumps({"organID": "X"})])
        with pytest.raises(TransportError) as err:
            c.send_batch("unit", "T-1", body, 1)
    message = str(err.value)
    assert len(requests) == 1 and err.value.ambiguous
    assert "等待平台应答超过 2 秒" in message and "--resolve T-1=accepted" in message and "不会自动重发" in message
