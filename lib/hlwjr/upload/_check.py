"""``hlwjr platform check``: verify the set-up before any data is sent (对接前自检) — the platform
profile, the secret's shape, reachability through the configured proxy and CA, the clock against
the platform's ``Date`` header, and one authenticated call where the platform allows one without
data (a token, or the daily sign-in's empty array) — each with a Chinese line saying what to fix.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from .._exceptions import AuthError, ConfigError, HlwjrError

__all__ = ["PlatformCheck", "check_platform"]

#: Clock skew (seconds) above which signed requests are refused as expired (40011: ±5 minutes).
MAX_SKEW = 300.0


@dataclass
class PlatformCheck:
    """One check: ``name``, ``ok`` (True / False; None = not applicable) and the message."""

    name: str
    ok: bool | None
    message: str

    def line(self) -> str:
        mark = {True: "通过", False: "失败", None: "跳过"}[self.ok]
        return f"[{mark}] {self.name}：{self.message}"


def check_platform(project, *, transport: httpx.BaseTransport | None = None) -> list[PlatformCheck]:
    """Run the checks in order; a failed step that makes the later ones meaningless stops there."""
    from ._client import PlatformClient
    from ._profile import PlatformProfile

    checks: list[PlatformCheck] = []
    try:
        profile = PlatformProfile.load(_profile_ref(project))
    except ConfigError as exc:
        return [PlatformCheck("平台接口描述", False, exc.message)]
    checks.append(PlatformCheck("平台接口描述", True, f"{profile.id}（{profile.name}）"))
    try:
        secret = project.secret()
        client = PlatformClient.from_project(project, transport=transport, spec=_spec(project))
    except ConfigError as exc:
        checks.append(PlatformCheck("密钥", False, exc.message))
        return checks
    checks.append(PlatformCheck("密钥", True, _secret_shape(profile, secret)))
    with client:
        client.max_retries = 0
        reach, response = _reachability(client)
        checks.append(reach)
        if response is None:
            return checks
        checks.append(_clock(response))
        checks.append(_signed_call(client))
    return checks


def _spec(project):
    """The project's spec (method names come from its aliases); None when it cannot be loaded."""
    from ..spec._load import load_spec

    try:
        return load_spec(project.spec)
    except HlwjrError:
        return None


def _profile_ref(project) -> str:
    ref = project.platform.profile
    return str(project.resolve(ref)) if ref.endswith((".yaml", ".yml")) else ref


def _secret_shape(profile, secret: str) -> str:
    if profile.auth.get("mode") == "sm3-gateway" or profile.codec_name == "sm4-cbc-hex":
        return "32 位十六进制（SM4 密钥），格式正确（密钥内容不显示）"
    if profile.codec_name == "aes-ecb-base64":  # the client was built: the body key's length is right
        return f"appSecret 已读取（{len(secret)} 个字符），encodingAesKey 长度正确（AES 密钥；内容均不显示）"
    return f"已读取（{len(secret)} 个字符，内容不显示）"


def _reachability(client) -> tuple[PlatformCheck, httpx.Response | None]:
    """Any HTTP answer from the platform URL, through the configured proxy and CA."""
    name = "网络连通"
    try:
        response = client.probe()
    except httpx.ProxyError as exc:
        return PlatformCheck(name, False, f"代理拒绝或不可用（{exc}）：请检查 [platform] proxy"), None
    except httpx.ConnectError as exc:
        text = str(exc)
        if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
            msg = f"TLS 证书校验失败（{text[:120]}）：请在 [platform] ca_bundle 指定平台或代理的 CA 证书"
        elif client.proxy:
            msg = f"无法经代理连接平台（{text[:120]}）：请检查 [platform] proxy 和代理是否放行平台地址"
        else:
            msg = (
                f"无法连接 {client.url}（{text[:120]}）：请核对 [platform] url、DNS 和防火墙；内网需经代理时设置 proxy"
            )
        return PlatformCheck(name, False, msg), None
    except httpx.TimeoutException as exc:
        return PlatformCheck(name, False, f"连接超时（{exc.__class__.__name__}）：请检查网络、代理或防火墙"), None
    except httpx.HTTPError as exc:
        return PlatformCheck(name, False, f"与平台通信失败（{exc.__class__.__name__}: {exc}）"), None
    via = f"，经代理 {client.proxy.rpartition('@')[2]}" if client.proxy else ""
    return PlatformCheck(name, True, f"{client.url} 有应答（HTTP {response.status_code}{via}）"), response


def _clock(response: httpx.Response) -> PlatformCheck:
    name = "本机时间"
    date = response.headers.get("date")
    if not date:
        return PlatformCheck(name, None, "平台应答没有 Date 头，无法比较；请确认本机已开启 NTP 自动校时")
    try:
        skew = time.time() - parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return PlatformCheck(name, None, f"平台的 Date 头无法解析（{date!r}）")
    if abs(skew) > MAX_SKEW:
        return PlatformCheck(
            name,
            False,
            f"本机时间比平台{'快' if skew > 0 else '慢'} {abs(skew) / 60:.0f} 分钟：签名请求会被拒"
            "（40011 请求已过期），请检查本机时间（开启 NTP 自动校时）",
        )
    return PlatformCheck(name, True, f"与平台相差 {skew:+.0f} 秒（允许 ±{MAX_SKEW:.0f} 秒）")


def _signed_call(client) -> PlatformCheck:
    """A token (token auth) or a signed empty call to a ``sign_in: daily`` data set (gateway)."""
    from ._client import TokenAuth

    name = "身份验证"
    try:
        if isinstance(client.auth, TokenAuth):
            client.check_auth()
            return PlatformCheck(name, True, f"appid {client.appid} 获取令牌成功")
        sign_in = [code for code, opts in client.profile.datasets.items() if opts.get("sign_in") == "daily"]
        if not sign_in:
            return PlatformCheck(name, None, "该平台没有可以不带数据调用的接口：首次上传时验证")
        dataset = sign_in[0]
        body = client.encode_batch("check", [])
        result = client.send_batch(dataset, "check", body, 0, ledger=False)
    except AuthError as exc:
        return PlatformCheck(name, False, exc.message)
    except HlwjrError as exc:
        return PlatformCheck(name, False, exc.message)
    return PlatformCheck(
        name,
        True,
        f"签名调用 {client.service_method(dataset)}（空数组，即当天签到）被平台接受：{result.code} {result.message}",
    )
