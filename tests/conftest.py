"""Shared pytest fixtures.

Sandbox platform (owner: sandbox area) — the real server, never a mock:

* ``sandbox_spec`` — the spec the sandbox serves (None = the reference spec); override it in a
  test module to serve another spec directory;
* ``sandbox_settings`` — :class:`hlwjr.sandbox.SandboxSettings` (defaults; override per module);
* ``sandbox_dir`` — an empty data directory (tmp_path);
* ``sandbox_app`` — the in-process FastAPI app (``app.state.sandbox`` is the service);
* ``sandbox_client`` — a plain *synchronous* ``httpx.Client`` driving ``sandbox_app`` in-process
  through :class:`hlwjr.sandbox.SyncASGITransport` (``httpx.ASGITransport`` run on a private event
  loop thread: ``httpx.ASGITransport`` itself is async-only, and Starlette's ``TestClient`` warns
  about httpx), base URL ``http://sandbox.test`` — request ``/hlwjr/api/...``.  Use
  ``SyncASGITransport(sandbox_app)`` as the transport seam of your own client.  App exceptions
  propagate, so an injected "drop after commit" arrives as ``httpx.RemoteProtocolError``, as on a
  socket;
* ``sandbox_credentials`` — a registered hospital: ``(appid, secret, org_code, org_name)``
  (a NamedTuple) in ``sandbox_app``'s store;
* ``sandbox_server`` — session-scoped :class:`hlwjr.sandbox.Sandbox`: ``hlwjr sandbox serve`` as a
  separate process on a free 127.0.0.1 port (``.url`` = ``http://127.0.0.1:PORT/hlwjr``), reference
  spec, stopped by PID at the end of the session.  Register your own org with
  ``sandbox_server.register(org_code, org_name)``; don't leave faults or the clock changed
  (``set_faults(reset=True)``, ``set_clock(reset=True)``) — other tests share it.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

#: 统一社会信用代码 and name of the fixtures' hospital: the organID of the reference spec examples
#: (lib/hlwjr/specs/beijing-reference/examples/*.json), so those records upload as they are.
SANDBOX_ORG_CODE = "12110000MB0T12345N"
SANDBOX_ORG_NAME = "北京市测试互联网医院"


class SandboxCredentials(NamedTuple):
    appid: str
    secret: str
    org_code: str
    org_name: str


@pytest.fixture
def sandbox_spec():
    return None


@pytest.fixture
def sandbox_settings():
    from hlwjr.sandbox import SandboxSettings

    return SandboxSettings()


@pytest.fixture
def sandbox_dir(tmp_path):
    return tmp_path / "sandbox"


@pytest.fixture
def sandbox_app(sandbox_dir, sandbox_spec, sandbox_settings):
    from hlwjr.sandbox import create_app

    app = create_app(sandbox_dir, spec=sandbox_spec, settings=sandbox_settings)
    yield app
    app.state.sandbox.store.close()


@pytest.fixture
def sandbox_client(sandbox_app):
    import httpx

    from hlwjr.sandbox import SyncASGITransport

    with httpx.Client(transport=SyncASGITransport(sandbox_app), base_url="http://sandbox.test") as client:
        yield client


@pytest.fixture
def sandbox_credentials(sandbox_app) -> SandboxCredentials:
    appid, secret, _ = sandbox_app.state.sandbox.store.register(SANDBOX_ORG_CODE, SANDBOX_ORG_NAME)
    return SandboxCredentials(appid, secret, SANDBOX_ORG_CODE, SANDBOX_ORG_NAME)


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory):
    from hlwjr.sandbox import Sandbox

    sb = Sandbox(tmp_path_factory.mktemp("sandbox-server"))
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """The upload tests' sandbox (one per module): a real server on loopback serving the mini spec of
    tests/data/upload_minispec, stopped by PID at the end; modules needing another spec define their own."""
    from hlwjr.sandbox import Sandbox

    sb = Sandbox(tmp_path_factory.mktemp("sandbox"), spec=str(Path(__file__).parent / "data" / "upload_minispec"))
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture
def fresh_faults(sandbox):
    """Each test of a module starts without the faults an earlier test set (``usefixtures``)."""
    yield
    sandbox.set_faults(reset=True)


@pytest.fixture(scope="module")
def strict_sandbox(tmp_path_factory):
    """The operations tests' sandbox (one per module): the strict spec of tests/ops_helpers.py
    (names ≤ 4 characters), stopped by PID at the end."""
    from ops_helpers import strict_spec

    from hlwjr.sandbox import Sandbox

    root = tmp_path_factory.mktemp("ops-sandbox")
    sb = Sandbox(root / "data", spec=str(strict_spec(root)))
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture
def offline_project(tmp_path, monkeypatch):
    """A production project of the reference spec whose platform is a closed port: for dry runs."""
    from hlwjr.upload._project import load_project, write_project

    monkeypatch.setenv("HLWJR_SECRET", "s")
    config = {
        "project": {"org_code": SANDBOX_ORG_CODE, "spec": "beijing-reference", "phase": "production"},
        "platform": {"url": "http://127.0.0.1:9/hlwjr", "appid": "A"},
    }
    return load_project(write_project(tmp_path / "p", config))
