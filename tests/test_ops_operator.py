"""Operator mistakes and odd working directories in daily operations."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlwjr.upload._profile import PlatformProfile, list_profiles
from hlwjr.upload._project import load_project


@pytest.mark.parametrize("name", list_profiles())
@pytest.mark.parametrize("kind", ["dir", "file"])
def test_shipped_profile_name_ignores_same_named_entry_in_cwd(tmp_path, monkeypatch, name, kind):
    """`hlwjr run` started in the demo's output folder (which holds a `sandbox/` folder) still finds
    the shipped `sandbox` profile instead of failing with 'Is a directory'."""
    entry = tmp_path / name
    entry.mkdir() if kind == "dir" else entry.write_text("not a profile", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    profile = PlatformProfile.load(name)
    assert profile.source == f"hlwjr/platforms/{name}.yaml"


_PAD = st.text(alphabet=" \t\r\n\u3000", max_size=3)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(left=_PAD, right=_PAD)
def test_pasted_appid_and_url_lose_their_padding(tmp_path, left, right):
    """An appid or URL copied from the platform's page with spaces or a line break around it is
    used as the platform issued it (a padded appid was sent as is: '1001 appid不存在')."""
    values = {"profile": "sandbox", "url": "http://127.0.0.1:1/hlwjr", "appid": "hlw123"}
    lines = [f"{k} = {json.dumps(left + v + right, ensure_ascii=False)}" for k, v in values.items()]
    toml = '[project]\nname = "x"\n[platform]\n' + "\n".join(lines) + "\n"
    (tmp_path / "hlwjr.toml").write_text(toml, encoding="utf-8")
    plat = load_project(tmp_path).platform
    assert (plat.profile, plat.url, plat.appid) == ("sandbox", "http://127.0.0.1:1/hlwjr", "hlw123")
