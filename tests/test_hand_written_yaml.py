"""Every YAML file a person writes — a platform profile written from a gateway's document, a
project configuration in YAML — is read by the one strict loader (``hlwjr._yaml``): a key written
twice is refused naming both lines (PyYAML kept the last one silently); a tab in the indentation is
named as the cause."""

from __future__ import annotations

from importlib import resources

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlwjr import ConfigError
from hlwjr.upload._profile import PlatformProfile
from hlwjr.upload._project import load_project

_SHIPPED = (resources.files("hlwjr") / "platforms" / "sandbox.yaml").read_text(encoding="utf-8")
_SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _top_level_lines(text: str) -> list[int]:
    return [i for i, line in enumerate(text.splitlines()) if line and line[0].isalpha() and ":" in line]


@given(data=st.data())
@_SETTINGS
def test_a_platform_profile_with_a_key_written_twice_is_refused(tmp_path_factory, data):
    lines = _SHIPPED.splitlines()
    i = data.draw(st.sampled_from(_top_level_lines(_SHIPPED)))
    key = lines[i].split(":")[0]
    path = tmp_path_factory.mktemp("p") / "gateway.yaml"
    path.write_text(_SHIPPED + f"\n{key}: again\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"键 '{key}' 重复（第 {i + 1} 行已写过）") as info:
        PlatformProfile.load(path)
    assert str(path) in info.value.where
    PlatformProfile.load(resources.files("hlwjr") / "platforms" / "sandbox.yaml")  # the original is fine


@pytest.mark.parametrize("twice", ["org_code", "phase"])
def test_a_yaml_project_configuration_with_a_key_written_twice_is_refused(tmp_path, twice):
    lines = {"org_code": "12110000MB0T12345N", "spec": "beijing-reference", "phase": "test"}
    body = "".join(f"  {k}: {v}\n" for k, v in lines.items()) + f"  {twice}: {lines[twice]}\n"
    (tmp_path / "hlwjr.yaml").write_text(f"project:\n{body}platform:\n  url: http://x\n  appid: A\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"键 '{twice}' 重复"):
        load_project(tmp_path / "hlwjr.yaml")


def test_a_tab_in_a_profile_is_named(tmp_path):
    path = tmp_path / "gateway.yaml"
    path.write_text(_SHIPPED.replace("\n  ", "\n\t", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="制表符 Tab"):
        PlatformProfile.load(path)
