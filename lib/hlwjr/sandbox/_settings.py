"""Settings of the sandbox platform (沙箱平台): limits, token lifetime, verification rule, faults.

Everything a hospital analyst may want to rehearse differently from the defaults is a field of
:class:`SandboxSettings`; ``hlwjr sandbox serve`` exposes each as a flag.  The defaults follow the
onboarding manual (监管平台对接操作手册): 单日上传测试数据量不少于30条、成功上传率100%、数据不得重复、
至少三天连续上传.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from .._exceptions import ConfigError
from ..validation._numbers import number_text

__all__ = ["ADMIN_TOKEN_ENV", "Faults", "SandboxSettings", "VerifyRule"]

#: Environment variable holding the admin token that protects registration and rehearsal controls.
ADMIN_TOKEN_ENV = "HLWJR_SANDBOX_ADMIN_TOKEN"

_ERROR_KINDS = ("http503", "http500", "busy")
_MAX_LATENCY_MS = 60_000
_MAX_NEXT = 1_000_000
_MAX_TOKEN_SECONDS = 3653 * 86400.0


@dataclass
class VerifyRule:
    """The 验证日志 qualification rule (达标规则): when a day counts, and how many days in a row.

    ``per_dataset=False`` (default) applies the volume rule to the day's total over all data sets;
    ``per_dataset=True`` applies it to every data set separately (as the Tianjin platform counts
    per interface); then ``required_datasets`` lists the data sets that must each reach the streak
    (empty = every data set uploaded in the period).
    """

    min_daily_records: int = 30
    min_success_rate: float = 1.0
    allow_duplicates: bool = False
    consecutive_days: int = 3
    per_dataset: bool = False
    required_datasets: tuple[str, ...] = ()

    def validate(self) -> None:
        if self.min_daily_records < 0:
            raise ConfigError("验证规则 min_daily_records 不能为负数")
        if not 0.0 <= self.min_success_rate <= 1.0:
            raise ConfigError("验证规则 min_success_rate 应在 0 到 1 之间（1 表示 100%）")
        if self.consecutive_days < 1:
            raise ConfigError("验证规则 consecutive_days 至少为 1")
        self.required_datasets = tuple(self.required_datasets)

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["required_datasets"] = list(self.required_datasets)
        return d


@dataclass
class Faults:
    """Fault injection (故障注入) for rehearsing a client's retry logic.

    * ``latency_ms`` — every API answer is delayed this long;
    * ``error_rate`` / ``error_next`` — a random share of API calls, or the next N calls, fail
      before anything is processed, as ``error_kind``: ``http503`` (HTTP 503 + code 5001),
      ``http500`` (HTTP 500 + code 5000) or ``busy`` (HTTP 200 + code 5001 系统繁忙);
    * ``drop_rate`` / ``drop_next`` — an upload is committed, then the connection is closed without
      an answer (the client sees ``RemoteProtocolError``; a naive retry creates duplicates);
    * ``token_expire_after`` — tokens die after this many seconds although ``expires_in`` says
      more (早失效的令牌);
    * ``seed`` — makes the random faults reproducible.
    """

    latency_ms: int = 0
    error_rate: float = 0.0
    error_kind: str = "http503"
    error_next: int = 0
    drop_rate: float = 0.0
    drop_next: int = 0
    token_expire_after: float | None = None
    seed: int | None = None

    def validate(self) -> None:
        if self.latency_ms < 0:
            raise ConfigError("故障注入 latency_ms 不能为负数")
        if self.latency_ms > _MAX_LATENCY_MS:
            raise ConfigError(
                f"故障注入 latency_ms 最大 {_MAX_LATENCY_MS}（1 分钟），实际 {number_text(self.latency_ms)}"
            )
        for name in ("error_rate", "drop_rate"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ConfigError(f"故障注入 {name} 应在 0 到 1 之间，实际 {v}")
        if self.error_kind not in _ERROR_KINDS:
            raise ConfigError(f"故障注入 error_kind 应为 {'/'.join(_ERROR_KINDS)} 之一，实际 {self.error_kind!r}")
        for name in ("error_next", "drop_next"):
            if getattr(self, name) < 0:
                raise ConfigError(f"故障注入 {name} 不能为负数")
            if getattr(self, name) > _MAX_NEXT:
                raise ConfigError(f"故障注入 {name} 最大 {_MAX_NEXT}")
        t = self.token_expire_after
        if t is not None and not 0 <= t <= _MAX_TOKEN_SECONDS:  # (NaN fails too)
            raise ConfigError(f"故障注入 token_expire_after 应在 0 到 {_MAX_TOKEN_SECONDS:.0f} 秒（10 年）之间")
        if self.seed is not None and not -(2**63) <= self.seed < 2**63:
            raise ConfigError("故障注入 seed 应为 64 位以内的整数")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def update(self, values: dict) -> None:
        """Change some faults from a JSON object (unknown names are a ConfigError)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(f"未知的故障注入项: {', '.join(unknown)}；可用: {', '.join(sorted(names))}")
        trial = dataclasses.replace(self)
        for k, v in values.items():
            current = getattr(trial, k)
            try:
                if k == "error_kind":
                    v = str(v)
                elif k == "token_expire_after" or k == "seed":
                    v = None if v is None else (int(v) if k == "seed" else float(v))
                elif isinstance(current, bool):
                    v = bool(v)
                elif isinstance(current, int):
                    if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
                        raise ValueError(v)
                    v = int(v)
                elif isinstance(current, float):
                    if isinstance(v, bool):
                        raise ValueError(v)
                    v = float(v)
            except (TypeError, ValueError, OverflowError) as exc:
                raise ConfigError(f"故障注入 {k} 的值 {v!r} 类型不对（应为 {type(current).__name__}）") from exc
            setattr(trial, k, v)
        trial.validate()
        for k in values:
            setattr(self, k, getattr(trial, k))


#: Wire protocols the sandbox can speak (``hlwjr sandbox serve --protocol``).
PROTOCOLS = ("token", "tianjin", "gateway-hmac")


@dataclass
class SandboxSettings:
    """How the sandbox behaves. All limits are per request unless said otherwise.

    * ``token_ttl`` — seconds a token lives (令牌有效期, default 7200);
    * ``token_rate_per_minute`` — token requests per appid per minute before code 1005;
    * ``max_batch`` — records per upload (单次上传上限, default 100);
    * ``max_body_bytes`` — request body limit (HTTP 413 above it);
    * ``whole_batch`` — reject the whole batch when one record fails (整批拒收, code 2010);
    * ``rule`` — the 验证日志 rule; ``faults`` — injected faults;
    * ``clock`` — start the sandbox clock at this Beijing time (``YYYY-MM-DD HH:MM:SS``);
    * ``protocol`` — ``token`` (the sandbox API only), ``tianjin`` (also the 国密 gateway
      ``/openapi/api``: SM3 signature, SM4-CBC body; see ``docs/profiles/sandbox.md``) or
      ``gateway-hmac`` (the same gateway in its earlier format: HmacSHA256 signature, AES body);
    * ``admin_token`` — protects registration and rehearsal controls; None = read
      ``HLWJR_SANDBOX_ADMIN_TOKEN`` (unset: admin registration disabled, controls open on loopback).
    """

    token_ttl: int = 7200
    token_rate_per_minute: int = 30
    max_batch: int = 100
    max_body_bytes: int = 8 * 1024 * 1024
    whole_batch: bool = False
    rule: VerifyRule = field(default_factory=VerifyRule)
    faults: Faults = field(default_factory=Faults)
    clock: str | None = None
    admin_token: str | None = None
    protocol: str = "token"

    def validate(self) -> SandboxSettings:
        if self.protocol not in PROTOCOLS:
            raise ConfigError(f"沙箱协议只能是 {' 或 '.join(PROTOCOLS)}，现在是 {self.protocol!r}", where="--protocol")
        if self.token_ttl <= 0:
            raise ConfigError("token_ttl 必须大于 0 秒")
        if self.token_rate_per_minute <= 0:
            raise ConfigError("token_rate_per_minute 必须大于 0")
        if self.max_batch <= 0:
            raise ConfigError("max_batch 必须大于 0")
        if self.max_body_bytes < 1024:
            raise ConfigError("max_body_bytes 至少 1024 字节")
        if isinstance(self.rule, dict):
            self.rule = VerifyRule(**self.rule)
        if isinstance(self.faults, dict):
            self.faults = Faults(**self.faults)
        self.rule.validate()
        self.faults.validate()
        return self

    def resolved_admin_token(self) -> str | None:
        token = self.admin_token if self.admin_token is not None else os.environ.get(ADMIN_TOKEN_ENV)
        return token or None

    @classmethod
    def from_kwargs(cls, **kwargs) -> SandboxSettings:
        """Build settings from flat keyword arguments: any field of this class, of
        :class:`VerifyRule` or of :class:`Faults` (as ``Sandbox(..., whole_batch=True, latency_ms=50)``)."""
        own = {f.name for f in dataclasses.fields(cls)}
        rule_names = {f.name for f in dataclasses.fields(VerifyRule)}
        fault_names = {f.name for f in dataclasses.fields(Faults)}
        top, rule, faults = {}, {}, {}
        for k, v in kwargs.items():
            if k in own:
                top[k] = v
            elif k in rule_names:
                rule[k] = v
            elif k in fault_names:
                faults[k] = v
            else:
                raise ConfigError(f"未知的沙箱设置 {k!r}；可用: {', '.join(sorted(own | rule_names | fault_names))}")
        settings = cls(**top)
        if rule:
            base = settings.rule if isinstance(settings.rule, VerifyRule) else VerifyRule(**settings.rule)
            settings.rule = dataclasses.replace(base, **rule)
        if faults:
            base = settings.faults if isinstance(settings.faults, Faults) else Faults(**settings.faults)
            settings.faults = dataclasses.replace(base, **faults)
        return settings.validate()
