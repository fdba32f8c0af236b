"""Operator mistakes and odd working directories in daily operations."""

from __future__ import annotations

import http.server
import json
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlwjr import AuthError, PlatformClient
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


class _Answer(http.server.BaseHTTPRequestHandler):
    """A proxy or wrong host on the platform's URL: HTTP 200 with something not the platform's."""

    body = b""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("answer", [b"", b"OK", b"<html>portal login</html>", b"[1, 2]", b'{"status": "ok"}'])
def test_token_answer_not_from_the_platform_is_not_a_refused_appid(answer):
    """A 200 with an empty body, a page or JSON of another shape says the URL or proxy is wrong, not
    that the platform refused appid and secret (the operator was sent to check the wrong thing)."""
    handler = type("H", (_Answer,), {"body": answer})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hlwjr"
        c = PlatformClient("sandbox", url, "APP", "good", sleep=lambda s: None)
        with pytest.raises(AuthError) as err:
            c.send_batch("recipe", "B1", c.encode_batch("B1", ['{"recipeID": "R1"}']), 1)
    finally:
        server.shutdown()
        server.server_close()
    assert "不是平台令牌接口的应答" in str(err.value) and "平台拒绝了" not in str(err.value)
