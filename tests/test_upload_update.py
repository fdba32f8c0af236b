"""Corrections (更正): a changed record that the platform already accepted is reported and not
re-sent, unless the user asks for an update and the platform profile declares how to mark one."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from hlwjr import ConfigError, PlatformClient
from hlwjr.upload._project import load_project, write_project
from hlwjr.upload._uploader import upload_records

MINISPEC = Path(__file__).parent / "data" / "upload_minispec"
SANDBOX_PROFILE = Path(__file__).parents[1] / "lib" / "hlwjr" / "platforms" / "sandbox.yaml"


class UpdatingPlatform:
    """An in-memory platform that accepts a repeated key only when it carries updateOrSave=1."""

    def __init__(self):
        self.store: dict[str, dict] = {}
        self.updates = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/api/token"):
            return httpx.Response(200, json={"code": 0, "data": {"access_token": "t", "expires_in": 7200}})
        if request.method == "GET":  # no clock, no verification log on this platform
            return httpx.Response(404, text="Not Found")
        body = json.loads(request.content)
        results = []
        for i, r in enumerate(body["records"]):
            key = f"{r['organID']}|{r.get('bussID') or r.get('recipeID')}"
            if key in self.store and r.get("updateOrSave") != "1":
                results.append({"index": i, "status": "duplicate", "errors": [{"rule": "duplicate", "msg": "重复"}]})
                continue
            self.updates += key in self.store
            self.store[key] = r
            results.append({"index": i, "status": "ok", "errors": []})
        return httpx.Response(200, json={"code": 0, "msg": "成功", "data": {"results": results}})


def _project(tmp_path, profile: Path, monkeypatch):
    monkeypatch.setenv("HLWJR_UPD_SECRET", "s")
    cfg = {
        "project": {"org_code": "O", "spec": str(MINISPEC), "phase": "production"},
        "platform": {
            "profile": str(profile),
            "url": "http://platform.test",
            "appid": "A",
            "secret_env": "HLWJR_UPD_SECRET",
        },
    }
    return load_project(write_project(tmp_path / "p", cfg))


def _visits(name="王试一"):
    return [
        {
            "organID": "O",
            "bussID": f"V{i}",
            "patientName": name,
            "patientCertID": "11010119900307123X",
            "sex": "1",
            "visitTime": "2026-11-01 09:00:00",
        }
        for i in range(3)
    ]


def test_update_only_where_the_profile_declares_it(tmp_path, monkeypatch):
    profile = tmp_path / "with-update.yaml"
    profile.write_text(
        SANDBOX_PROFILE.read_text(encoding="utf-8").replace(
            "  replay: batch", '  replay: batch\n  update: {field: updateOrSave, value: "1"}'
        ),
        encoding="utf-8",
    )
    project = _project(tmp_path, profile, monkeypatch)
    platform = UpdatingPlatform()
    with PlatformClient.from_project(project, transport=httpx.MockTransport(platform)) as c:
        first = upload_records(project, {"visit": _visits()}, client=c, validate=False)
        assert first.total("accepted") == 3
        changed = upload_records(project, {"visit": _visits("王试二")}, client=c, validate=False)
        assert changed.total("changed") == 3 and changed.total("sent") == 0 and "--update" in changed.to_text()
        fixed = upload_records(project, {"visit": _visits("王试二")}, client=c, validate=False, update=True)
        assert fixed.total("updated") == 3 and fixed.total("accepted") == 3 and platform.updates == 3
        assert platform.store["O|V0"]["updateOrSave"] == "1" and platform.store["O|V0"]["patientName"] == "王试二"
        again = upload_records(project, {"visit": _visits("王试二")}, client=c, validate=False)
        assert again.total("already_accepted") == 3 and again.total("sent") == 0


def test_update_refused_without_a_declared_correction(tmp_path, monkeypatch):
    project = _project(tmp_path, SANDBOX_PROFILE, monkeypatch)
    with PlatformClient.from_project(project, transport=httpx.MockTransport(UpdatingPlatform())) as c:
        upload_records(project, {"visit": _visits()}, client=c, validate=False)
        with pytest.raises(ConfigError, match="更正方式"):
            upload_records(project, {"visit": _visits("王试二")}, client=c, validate=False, update=True)
