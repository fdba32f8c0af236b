"""Platform profiles (平台接口描述): the small YAML files in ``hlwjr/platforms/`` that say how a
platform is reached — token or 国密 gateway signing, body codec, upload URL and envelope, batch
limit, how success, per-record results and error codes are read. Sandbox → real platform is a
change of profile and URL, nothing else. Loaded and checked here, used by :mod:`._client`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError
from .._yaml import parse_yaml
from .profiles import AUTH_MODES, CODECS, check_signed_headers

__all__ = ["PlatformProfile", "list_profiles"]

#: how a token request carries appid and secret: a JSON body, a form (application/x-www-form-urlencoded)
#: or query parameters (GET /token?appid=…)
TOKEN_ENCODINGS = ("json", "form", "query")

_METHOD_NAME = re.compile(r"[a-z]+[A-Z][A-Za-z0-9]*")  # lowerCamelCase: uploadRecipeIndicators

# --------------------------------------------------------------------------- profile


def code_key(value: Any) -> Any:
    """An answer code or record status as the platform means it: ``0``, ``"0"``, ``0.0`` and
    ``" 0 "`` are one code, ``"OK"`` and ``"ok"`` one status — gateways written in other
    languages send numbers as text and change case, the profile is written once."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value.strip().lower()
    return value


def _get(data: Any, dotted: str | None, default: Any = None) -> Any:
    """``data["a"]["b"]`` for ``"a.b"``; ``default`` when any step is missing."""
    if not dotted:
        return default
    cur = data
    for part in dotted.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return default
    return cur


#: Profiles that were shipped once and are gone, with what to use instead.
_RETIRED_PROFILES = {
    "ngari-tianjin": "平台接口描述 'ngari-tianjin' 已移除：它按 HMAC-SHA256 签名，真实网关会答 40010 签名不合法；"
    '请改为 profile = "tianjin"（国密 SM3 签名 + SM4 加密，依据官方 SDK）',
}


def list_profiles() -> list[str]:
    """Names of the shipped platform profiles (``hlwjr/platforms/*.yaml``)."""
    base = resources.files("hlwjr") / "platforms"
    return sorted(p.name[:-5] for p in base.iterdir() if p.name.endswith(".yaml"))


def _names_a_file(ref: str) -> bool:
    """A YAML file path (``x.yaml``, ``profiles/x``), not a shipped profile name: a bare name such as
    ``sandbox`` is always the shipped profile, even when the working directory happens to hold a
    file or folder of that name (``hlwjr run`` started in the demo's output folder)."""
    p = Path(ref)
    return p.suffix in (".yaml", ".yml") or (len(p.parts) > 1 and p.is_file())


@dataclass(frozen=True)
class PlatformProfile:
    """What hlwjr knows about one platform's interface (平台接口描述), read from YAML."""

    id: str
    name: str
    token: dict[str, Any] | None
    auth: dict[str, Any]
    upload: dict[str, Any]
    response: dict[str, Any]
    verify_log: dict[str, Any] | None = None
    clock: dict[str, Any] | None = None
    source: str = ""
    body: dict[str, Any] = field(default_factory=dict)  # body.codec: json | sm4-cbc-hex | aes-ecb-base64
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)  # per data set options (sign_in)

    @classmethod
    def load(cls, name_or_path: str | Path) -> PlatformProfile:
        """A shipped profile by name (``sandbox``, ``tianjin``) or a YAML file path."""
        text: str
        src = str(name_or_path)
        p = Path(src)
        if _names_a_file(src):
            try:
                text = p.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"无法读取平台接口描述文件: {exc.strerror}", where=src) from exc
        else:
            res = resources.files("hlwjr") / "platforms" / f"{src}.yaml"
            if src in _RETIRED_PROFILES:
                raise ConfigError(_RETIRED_PROFILES[src], where="[platform] profile")
            if not res.is_file():
                raise ConfigError(
                    f"未知的平台接口描述 {src!r}；内置的有 {list_profiles()}，也可以写一个 YAML 文件的路径",
                    where="[platform] profile",
                )
            text = res.read_text(encoding="utf-8")
            src = f"hlwjr/platforms/{src}.yaml"
        data = parse_yaml(text, ConfigError, src)  # a key written twice is refused, with both lines
        return cls.from_dict(data, source=src)

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> PlatformProfile:
        if not isinstance(data, dict) or data.get("kind") != "hlwjr/platform":
            raise ConfigError("平台接口描述必须是 kind: hlwjr/platform 的 YAML 映射", where=source)
        for section in ("auth", "upload", "response"):
            if not isinstance(data.get(section), dict):
                raise ConfigError(f"平台接口描述缺少 {section}: 段", where=source)
        auth = data["auth"]
        mode = auth.get("mode", "token")
        if mode == "signature":
            raise ConfigError(
                "auth.mode: signature（HMAC-SHA256）已移除：省级监管网关用国密 SM3 签名，请改为 auth.mode: sm3-gateway"
                " 并加 body: {codec: sm4-cbc-hex}（见内置的 tianjin 平台接口描述）；同一网关国密之前的 HmacSHA256 + AES"
                " 格式是 auth.mode: hmac-gateway（见内置的 gateway-hmac 平台接口描述）",
                where=source,
            )
        if mode not in AUTH_MODES:
            raise ConfigError(f"auth.mode 只能是 {' 或 '.join(AUTH_MODES)}，现在是 {mode!r}", where=source)
        if mode == "signed-headers":
            check_signed_headers(auth, source)
        body = data.get("body") or {}
        if not isinstance(body, dict):
            raise ConfigError("body: 段应为映射，如 body: {codec: sm4-cbc-hex}", where=source)
        if body.get("codec", "json") not in CODECS:
            raise ConfigError(f"body.codec 只能是 {' 或 '.join(CODECS)}，现在是 {body.get('codec')!r}", where=source)
        datasets = data.get("datasets") or {}
        if not isinstance(datasets, dict) or not all(isinstance(v, dict) for v in datasets.values()):
            raise ConfigError("datasets: 段应为 数据集编码 → 选项 的映射，如 complaint: {sign_in: daily}", where=source)
        if mode == "token" and not isinstance(data.get("token"), dict):
            raise ConfigError("auth.mode 为 token 时需要 token: 段（令牌地址、字段名）", where=source)
        if mode == "token" and data["token"].get("encoding", "json") not in TOKEN_ENCODINGS:
            raise ConfigError(
                f"token.encoding 只能是 {' / '.join(TOKEN_ENCODINGS)}（JSON 请求体 / 表单 / 查询参数），"
                f"现在是 {data['token'].get('encoding')!r}",
                where=source,
            )
        up = data["upload"]
        if "path" not in up:
            raise ConfigError("upload.path 缺失（上传地址模板，如 /api/upload/{dataset}）", where=source)
        if up.get("body", "envelope") not in ("envelope", "array"):
            raise ConfigError("upload.body 只能是 envelope 或 array", where=source)
        mb = up.get("max_batch", 100)
        if not isinstance(mb, int) or mb < 1:
            raise ConfigError("upload.max_batch 必须是正整数", where=source)
        return cls(
            id=str(data.get("id", Path(source).stem)),
            name=str(data.get("name", "")),
            token=data.get("token"),
            auth=auth,
            upload=up,
            response=data["response"],
            verify_log=data.get("verify_log"),
            clock=data.get("clock"),
            source=source,
            body=body,
            datasets=datasets,
        )

    # convenient views
    @property
    def max_batch(self) -> int:
        return int(self.upload.get("max_batch", 100))

    @property
    def replay_safe(self) -> bool:
        """True when re-sending the same batchNo with the same content is answered, not re-counted."""
        return self.upload.get("replay") == "batch"

    @property
    def names_the_service(self) -> bool:
        """Does every upload carry the gateway's service id and method headers (X-Service-Id /
        X-Service-Method)? The gateway modes, whose signature covers them."""
        return self.auth.get("mode") in ("sm3-gateway", "hmac-gateway")

    @property
    def codec_name(self) -> str:
        return str(self.body.get("codec") or "json")

    def dataset_option(self, dataset: str, name: str, default: Any = None) -> Any:
        """A per data set option of the profile (``datasets: {complaint: {sign_in: daily}}``)."""
        return (self.datasets.get(dataset) or {}).get(name, default)

    def code_message(self, code: Any) -> str | None:
        """The profile's Chinese explanation and fix for an answer code (``response.code_messages``)."""
        messages = {code_key(k): v for k, v in (self.response.get("code_messages") or {}).items()}
        return messages.get(code_key(code))

    @property
    def envelope(self) -> bool:
        return self.upload.get("body", "envelope") == "envelope"

    def codes(self, kind: str) -> set:
        """The answer codes of one meaning (``busy``, ``auth``, ``token_expired``, ``whole_batch``),
        as :func:`code_key` values."""
        return {code_key(c) for c in self.response.get("codes", {}).get(kind, ()) or ()}

    def has_code(self, kind: str, code: Any) -> bool:
        """Whether ``code`` (number or text) is one of the profile's codes of ``kind``."""
        return code is not None and code_key(code) in self.codes(kind)

    def is_success(self, code: Any, field: str = "success_codes", default: tuple = (0,)) -> bool:
        """Whether ``code`` is one of ``response.<field>`` (``success_codes`` unless told)."""
        return code_key(code) in {code_key(c) for c in self.response.get(field, default) or ()}

    @property
    def status_map(self) -> dict:
        """``response.status_map`` keyed by :func:`code_key` (a record's status as the platform
        writes it → accepted / rejected / duplicate)."""
        smap = self.response.get("status_map", {"ok": "accepted", "fail": "rejected", "duplicate": "duplicate"})
        return {code_key(k): v for k, v in smap.items()}
