"""Operator mistakes and odd working directories in daily operations."""

from __future__ import annotations

import pytest

from hlwjr.upload._profile import PlatformProfile, list_profiles


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
