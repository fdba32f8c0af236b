"""The world of the gateway end-to-end tests (``test_upload_tianjin_e2e.py``,
``test_upload_gateway_hmac_e2e.py``): the demo hospital's HIS, ``hlwjr sandbox serve --protocol
<gateway format>`` in its own process with the hospital registered, a project per key set, and what
the sandbox stored (read through its token API: same store, same verification log)."""

from __future__ import annotations

import contextlib
import io

from hlwjr import PlatformClient
from hlwjr.cli import parse_args, run


def cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse_args([str(a) for a in argv]), out, err)
    return code, out.getvalue(), err.getvalue()


@contextlib.contextmanager
def gateway_world(base, protocol: str, per_day: int):
    from hlwjr.demo._hospital import DEMO_ORGAN_ID, DEMO_ORGAN_NAME, generate_demo_hospital
    from hlwjr.demo._run import find_demo_mapping
    from hlwjr.sandbox import Sandbox

    hospital = generate_demo_hospital(base / "hospital", days=1, per_day=per_day)
    sb = Sandbox(base / "sandbox", protocol=protocol)
    sb.start()
    try:
        appid, secret = sb.register(DEMO_ORGAN_ID, DEMO_ORGAN_NAME)
        yield {
            "base": base,
            "protocol": protocol,
            "hospital": hospital,
            "sandbox": sb,
            "appid": appid,
            "secret": secret,
            "body_key": sb.body_key(secret),
            "mapping": find_demo_mapping(),
            "org": (DEMO_ORGAN_ID, DEMO_ORGAN_NAME),
        }
    finally:
        sb.stop()


def gateway_project(world, name: str, monkeypatch, *, secret: str, body_key: str | None = None):
    """A project of the world's gateway format, its keys in environment variables of its own
    (``body_key=None``: none set)."""
    from hlwjr.upload._project import write_project

    env, key_env = f"HLWJR_E2E_SECRET_{name.upper()}", f"HLWJR_E2E_BODY_KEY_{name.upper()}"
    monkeypatch.setenv(env, secret)
    if body_key is None:
        monkeypatch.delenv(key_env, raising=False)
    else:
        monkeypatch.setenv(key_env, body_key)
    org_code, org_name = world["org"]
    platform = {
        "profile": world["protocol"],
        "url": world["sandbox"].gateway_url,
        "appid": world["appid"],
        "secret_env": env,
        "body_key_env": key_env,
        "max_retries": 1,
        "backoff_base": 0.05,
    }
    return write_project(
        world["base"] / name,
        {
            "mapping_dir": str(world["mapping"]),
            "project": {"name": org_name, "org_code": org_code, "phase": "test"},
            "platform": platform,
            "sources": {"his": world["hospital"].sqlite_url},
        },
    ).parent


def platform_counts(world) -> dict[str, int]:
    """Records the sandbox stored as accepted, per data set."""
    sb = world["sandbox"]
    with PlatformClient("sandbox", sb.url, world["appid"], world["secret"]) as c:
        data = c.verify_log_records(limit=10000)
    counts: dict[str, int] = {}
    for r in data["records"]:
        if r["status"] == "ok":
            counts[r["dataset"]] = counts.get(r["dataset"], 0) + 1
    return counts
