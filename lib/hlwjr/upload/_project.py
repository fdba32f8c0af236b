"""A hospital project (医院接入项目): the ``hlwjr.toml`` file that ties spec, sources, mapping,
platform and readiness rules together.

A project is a directory holding ``hlwjr.toml`` (documented in ``docs/project-config.md``)::

    [project]
    name = "示例互联网医院"
    org_code = "12110000MB0000000X"      # 机构统一社会信用代码 (organID)
    spec = "beijing-reference"
    phase = "test"                        # test (测试阶段, quota planner) | production

    [platform]
    profile = "sandbox"                   # shipped profile name, or a path to a profile YAML
    url = "http://127.0.0.1:8081"
    appid = "APP-…"
    secret_env = "HLWJR_SECRET"           # the secret (密钥) comes from this environment variable
    secret_file = ".hlwjr/secret"         # …or from this git-ignored file; never from hlwjr.toml
    body_key_env = "HLWJR_BODY_KEY"       # a platform's second key (encodingAesKey), when its body is AES
    body_key_file = ".hlwjr/body_key"     # …or from this git-ignored file

The secret is read lazily by :meth:`Project.secret` (the body key by :meth:`Project.body_key`) and
never appears in ``repr`` or messages.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .._exceptions import ConfigError
from .._files import atomic_write
from .._yaml import parse_yaml
from ..sources._read import ENV_REF

__all__ = [
    "PROJECT_FILE",
    "AlertSettings",
    "PlatformSettings",
    "Project",
    "RunSettings",
    "Thresholds",
    "load_project",
    "write_project",
]

PROJECT_FILE = "hlwjr.toml"
DEFAULT_SECRET_ENV = "HLWJR_SECRET"
DEFAULT_BODY_KEY_ENV = "HLWJR_BODY_KEY"
_SECRET_KEYS = {
    "secret",
    "app_secret",
    "appsecret",
    "password",
    "token",
    "body_key",
    "aes_key",
    "encodingaeskey",
    "encoding_aes_key",
}


def refuse_unknown(data, allowed, what: str, where: str) -> None:
    """A setting hlwjr does not know is a typo until shown otherwise: refuse it, naming the
    closest known setting (``urll`` → ``url``) and listing the others."""
    unknown = sorted(set(data) - set(allowed))
    if not unknown:
        return
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(str(name), [str(a) for a in allowed], n=1, cutoff=0.6)
        hints.append(f"{name}（是不是 {close[0]}？）" if close else str(name))
    raise ConfigError(f"{what} {'、'.join(hints)}；可用的有 {', '.join(sorted(map(str, allowed)))}", where=where)


@dataclass(frozen=True)
class Thresholds:
    """The acceptance rule (达标规则) of the test phase; defaults are the manual's:
    ≥ 30 records a day, 100 % success, no duplicates, 3 consecutive days (连续 3 天)."""

    min_records_per_day: int = 30
    success_rate: float = 1.0
    max_duplicates: int = 0
    consecutive_days: int = 3
    per_dataset: bool = False  # ≥ 30 per data set (True) or in total over data sets (False)
    #: per_dataset: another daily quota for some data sets ({evaluation: 10}: 评价、目录 need fewer)
    min_records_by_dataset: dict[str, int] = field(default_factory=dict)
    required_datasets: tuple[str, ...] = ()  # per_dataset: these must each qualify (empty: the project's)
    timezone: str = "Asia/Shanghai"
    margin: float = 0.2  # planner: send quota × (1 + margin) records a day

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "[readiness]") -> Thresholds:
        allowed = {f.name for f in fields(cls)}
        refuse_unknown(data, allowed, "未知的达标设置", where)
        data = dict(data)
        if "required_datasets" in data:
            data["required_datasets"] = tuple(data["required_datasets"])
        by = data.get("min_records_by_dataset", {})
        if not isinstance(by, dict) or not all(type(n) is int and n >= 1 for n in by.values()):
            raise ConfigError("min_records_by_dataset 应为 {数据集代码 = 每日条数}，条数为正整数", where=where)
        if by and not data.get("per_dataset"):
            raise ConfigError("min_records_by_dataset 只在 per_dataset = true（每个数据集各自达标）时有效", where=where)
        data["min_records_by_dataset"] = {str(k): v for k, v in by.items()}
        t = cls(**data)
        if t.min_records_per_day < 1 or t.consecutive_days < 1:
            raise ConfigError("min_records_per_day 和 consecutive_days 必须 ≥ 1", where=where)
        if not 0 < t.success_rate <= 1:
            raise ConfigError("success_rate 必须在 (0, 1] 之间，例如 1.0 表示 100%", where=where)
        if t.max_duplicates < 0 or t.margin < 0:
            raise ConfigError("max_duplicates 和 margin 不能为负数", where=where)
        return t

    def quota(self, dataset: str = "*") -> int:
        """The records a day ``dataset`` needs ("*": the total, or a data set without its own)."""
        return self.min_records_by_dataset.get(dataset, self.min_records_per_day)

    def target(self, dataset: str = "*") -> int:
        """Records the planner sends per day of ``dataset``: its quota plus the safety margin."""
        import math

        return math.ceil(self.quota(dataset) * (1 + self.margin))

    @property
    def daily_target(self) -> int:
        """Records the planner sends per day and data set (the default quota plus the margin)."""
        return self.target()


@dataclass(frozen=True)
class RunSettings:
    """The production run (日常运行, ``[run]``): which business days a run collects.

    The run for business day D collects the ``window_days`` days ending with D (records that
    became final late are picked up by a later night; what was accepted is skipped). Without
    ``--date`` D is the last closed day: a day closes at ``cutoff_hour`` (Beijing time) of the
    next day — ``cutoff_hour = 2`` means the run at 01:30 still collects the day before yesterday."""

    window_days: int = 1
    cutoff_hour: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "[run]") -> RunSettings:
        allowed = {f.name for f in fields(cls)}
        refuse_unknown(data, allowed, "[run] 中未知的设置", where)
        for k in allowed & set(data):
            if not isinstance(data[k], int) or isinstance(data[k], bool):
                raise ConfigError(f"[run] {k} 必须是整数，现在是 {data[k]!r}", where=where)
        r = cls(**data)
        if not 1 <= r.window_days <= 31:
            raise ConfigError(f"[run] window_days 必须在 1 到 31 之间（天），现在是 {r.window_days}", where=where)
        if not 0 <= r.cutoff_hour <= 23:
            raise ConfigError(
                f"[run] cutoff_hour 必须在 0 到 23 之间（北京时间的小时），现在是 {r.cutoff_hour}", where=where
            )
        return r


@dataclass(frozen=True)
class AlertSettings:
    """Alerts (告警, ``[alerts]``): a command to run and/or a chat-robot webhook (企业微信/钉钉
    style JSON body) called when a run fails, something is refused or unconfirmed, the source is
    empty or the reconciliation disagrees."""

    command: str | None = None
    webhook: str | None = None
    webhook_env: str | None = None  # the webhook URL (it holds the robot's key) from this variable
    timeout: float = 10.0
    after_failures: int = 1  # alert a failed run from the N-th failure in a row on
    interface_failures: int = 3  # alert a data set refused on N runs in a row
    sign_in_deadline: int | None = None  # hour (Beijing): a daily sign-in still missing then is an alert
    unconfirmed_hours: float = 24.0  # an unanswered batch older than this is an alert of its own

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "[alerts]") -> AlertSettings:
        allowed = {f.name for f in fields(cls)}
        refuse_unknown(data, allowed, "[alerts] 中未知的设置", where)
        for k in ("command", "webhook", "webhook_env"):
            if k in data and not isinstance(data[k], str):
                raise ConfigError(f"[alerts] {k} 必须是字符串", where=where)
        hook = data.get("webhook") or None
        if hook and not hook.startswith(("http://", "https://")):
            raise ConfigError(f"[alerts] webhook 必须以 http:// 或 https:// 开头，现在是 {hook!r}", where=where)
        timeout = data.get("timeout", 10.0)
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            raise ConfigError("[alerts] timeout 必须是正数（秒）", where=where)
        return cls(
            command=data.get("command") or None,
            webhook=hook,
            webhook_env=data.get("webhook_env") or None,
            timeout=float(timeout),
            **_alert_thresholds(data, where),
        )

    def webhook_url(self) -> str | None:
        """The webhook URL: ``webhook``, or the value of the ``webhook_env`` variable."""
        return self.webhook or (os.environ.get(self.webhook_env) or None if self.webhook_env else None)

    @property
    def enabled(self) -> bool:
        return bool(self.command or self.webhook or self.webhook_env)


def _alert_thresholds(data: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in ("after_failures", "interface_failures"):
        if k in data:
            v = data[k]
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"[alerts] {k} 必须是正整数（连续几次）", where=where)
            out[k] = v
    if data.get("sign_in_deadline") is not None:
        v = data["sign_in_deadline"]
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 23:
            raise ConfigError("[alerts] sign_in_deadline 必须是 0–23 的整点（北京时间）", where=where)
        out["sign_in_deadline"] = v
    if "unconfirmed_hours" in data:
        v = data["unconfirmed_hours"]
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v <= 0:
            raise ConfigError("[alerts] unconfirmed_hours 必须是正数（小时）", where=where)
        out["unconfirmed_hours"] = float(v)
    return out


@dataclass(frozen=True)
class PlatformSettings:
    """How to reach the platform (平台连接): profile, URL, appid, where the secret comes from,
    proxy / CA bundle for the government network or VPN, timeouts, retries, batch size."""

    profile: str = "sandbox"
    url: str = ""
    appid: str = ""
    secret_env: str = DEFAULT_SECRET_ENV
    secret_file: Path | None = None
    body_key_env: str = DEFAULT_BODY_KEY_ENV
    body_key_file: Path | None = None
    proxy: str | None = None
    ca_bundle: Path | None = None
    verify: bool = True
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_retries: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 120.0  # the longest wait a Retry-After header is obeyed for
    batch_size: int | None = None  # None: the profile's limit
    concurrency: int = 1

    def __repr__(self) -> str:  # never show the secret; there is none here, but be explicit
        return (
            f"PlatformSettings(profile={self.profile!r}, url={self.url!r}, appid={self.appid!r}, "
            f"secret_env={self.secret_env!r}, secret_file={self.secret_file!r})"
        )


@dataclass(frozen=True)
class Project:
    """A hospital's onboarding project (接入项目), loaded from ``hlwjr.toml``."""

    root: Path
    name: str = ""
    org_code: str = ""
    spec: str = "beijing-reference"
    phase: str = "test"
    platform: PlatformSettings = field(default_factory=PlatformSettings)
    sources: dict[str, Any] = field(default_factory=dict)
    mapping_dir: Path | None = None
    work_dir: Path = Path(".hlwjr")
    datasets: tuple[str, ...] = ()
    readiness: Thresholds = field(default_factory=Thresholds)
    config_file: Path | None = None
    run: RunSettings = field(default_factory=RunSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)

    @property
    def runs_dir(self) -> Path:
        """Run records (运行记录) of ``hlwjr run``: ``<work_dir>/runs/<timestamp>.json``."""
        return self.work_dir / "runs"

    @property
    def ops_dir(self) -> Path:
        """The monitor page (运行监控): ``<work_dir>/ops/index.html``."""
        return self.work_dir / "ops"

    @property
    def ledger_path(self) -> Path:
        """The upload ledger (上传台账): ``<work_dir>/ledger.sqlite``."""
        return self.work_dir / "ledger.sqlite"

    def secret(self) -> str:
        """The platform secret (密钥), from ``secret_env`` or ``secret_file``; raises if absent."""
        env, sf = self.platform.secret_env, self.platform.secret_file
        value = self._credential(env, sf, "密钥", "secret")
        if value:
            return value
        raise ConfigError(
            f"没有平台密钥 (secret)：请设置环境变量 {env}"
            + (f"，或在密钥文件 {sf} 中写入" if sf else "，或在 [platform] 中用 secret_file 指定一个 git 忽略的文件"),
            where=str(self.config_file or self.root),
        )

    def body_key(self, *, required: bool = False) -> str | None:
        """The platform's second key for an encrypted body (encodingAesKey), from ``body_key_env``
        or ``body_key_file``; None when neither holds one, unless ``required`` (then the error says
        where this project reads it from)."""
        env, path = self.platform.body_key_env, self.platform.body_key_file
        key = self._credential(env, path, "请求体密钥", "encodingAesKey")
        if key or not required:
            return key or None
        from .profiles import missing_body_key

        raise ConfigError(missing_body_key(env, path), where=str(self.config_file or self.root))

    def _credential(self, env: str, path: Path | None, label: str, name: str) -> str:
        """A credential from environment variable ``env``, else from the git-ignored file ``path``
        ("" when neither has one; a named file that is missing is an error)."""
        value = os.environ.get(env) if env else None
        if value:
            return _pasted_key(value, f"环境变量 {env}", str(self.config_file or self.root))
        if path is None:
            return ""
        try:
            return _pasted_key(path.read_text(encoding="utf-8-sig"), f"{label}文件", str(path))
        except FileNotFoundError:
            raise ConfigError(
                f"找不到{label}文件 {path}；请把平台发放的 {name} 写入该文件（该文件须被 git 忽略），"
                f"或设置环境变量 {env}",
                where=str(self.config_file or self.root),
            ) from None
        except OSError as exc:
            raise ConfigError(f"无法读取{label}文件 {path}: {exc.strerror}", where=str(path)) from exc

    def resolve(self, path: str | Path) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.root / p


#: what a key copied from a web page, an e-mail or Notepad brings along at its ends: white space,
#: line breaks, a byte order mark, zero-width spaces and joiners (never part of a key)
_PASTED_EDGES = " \t\r\n\f\v\u00a0\u3000\ufeff\u200b\u200c\u200d\u2060"


#: characters no key holds, that a copy can slip inside one (named in the refusal)
_INVISIBLE = {
    "\ufeff": "字节顺序标记",
    "\u200b": "零宽空格",
    "\u200c": "零宽非连接符",
    "\u200d": "零宽连接符",
    "\u2060": "字连接符",
}


def _pasted_key(value: str, what: str, where: str) -> str:
    """A key as issued, without what copying it added at its ends (the platform compares it exactly);
    an invisible character inside it is refused by position (the key itself is never shown)."""
    v = value.strip().strip(_PASTED_EDGES)
    at = next((i for i, c in enumerate(v) if c in _INVISIBLE), None)
    if at is not None:
        c = v[at]
        raise ConfigError(
            f"{what} 的第 {at + 1} 个字符是看不见的{_INVISIBLE[c]}（U+{ord(c):04X}），"
            "多半是从网页或聊天记录复制带来的：请删除后重新输入，或从平台页面重新复制",
            where=where,
        )
    return v


def _table(data: dict, name: str, where: str) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] 必须是一个表 (table)", where=where)
    return value


_SECRET_SUFFIXES = ("_secret", "_password", "_passwd", "_pwd", "_token", "secretkey", "accesskey")
_URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@:\s]*:([^/@\s]+)@", re.IGNORECASE)


def _is_secret_key(key: str) -> bool:
    k = str(key).lower().replace("-", "_")
    return k in _SECRET_KEYS or k.endswith(_SECRET_SUFFIXES)


def _check_no_secret(table: Any, section: str, where: str) -> None:
    """Refuse a secret anywhere in the file: a secret-like key in any table (nested tables and
    arrays of tables included), or a password written into a URL (use ``${ENV_VAR}`` there)."""
    items = table.items() if isinstance(table, dict) else enumerate(table) if isinstance(table, list) else ()
    for key, value in items:
        here = (f"{section}.{key}" if section else key) if isinstance(key, str) else f"{section}[{key}]"
        if isinstance(key, str) and _is_secret_key(key):
            table_name = f"[{section}]" if section else "文件顶层"
            raise ConfigError(
                f"{table_name} 中不能写 {key}：密钥不得出现在配置文件里。请删除它，改用环境变量 "
                f"(secret_env，默认 {DEFAULT_SECRET_ENV}) 或 git 忽略的 secret_file",
                where=where,
            )
        if isinstance(value, (dict, list)):
            _check_no_secret(value, here, where)
        elif isinstance(value, str) and (m := _URL_PASSWORD.match(value)) and not ENV_REF.fullmatch(m.group(1)):
            raise ConfigError(
                f"{here} 的地址里写了密码：密码不得出现在配置文件里。请改写为 ${{环境变量}}，"
                "例如 postgresql://hlwjr:${HIS_DB_PASSWORD}@db/his，并在运行环境中设置该变量",
                where=where,
            )


def load_project(path: str | Path) -> Project:
    """Load a project (接入项目) from a directory holding ``hlwjr.toml`` (or ``hlwjr.yaml`` with
    the same structure) or from the file itself.

    Relative paths in the file are relative to the project directory. Raises ``ConfigError``
    naming the file and the key when something is wrong.
    """
    p = Path(path).expanduser()
    config_file = p / PROJECT_FILE if p.is_dir() else p
    if p.is_dir() and not config_file.exists():
        for alt in ("hlwjr.yaml", "hlwjr.yml"):
            if (p / alt).exists():
                config_file = p / alt
    if not config_file.exists():
        raise ConfigError(
            f"找不到项目配置文件 {config_file}；用 `hlwjr demo data` 生成示例，或参照 docs/project-config.md 新建",
            where=str(config_file),
        )
    where = str(config_file)
    try:
        text = config_file.read_text(encoding="utf-8-sig")  # Windows Notepad's byte order mark is no TOML
        if config_file.suffix.lower() in (".yaml", ".yml"):
            data = parse_yaml(text, ConfigError, where) or {}
            if not isinstance(data, dict):
                raise ConfigError("YAML 项目配置必须是一个映射（与 hlwjr.toml 的表结构相同）", where=where)
        else:
            data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"TOML 格式错误: {exc}", where=where) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            "配置文件必须是 UTF-8 编码（Windows 记事本保存为 ANSI/GBK 时：另存为，编码选 UTF-8）", where=where
        ) from exc
    root = config_file.parent.resolve()

    known_top = {
        "project",
        "platform",
        "sources",
        "mapping",
        "work",
        "readiness",
        "datasets",
        "mapping_dir",
        "work_dir",
        "run",
        "alerts",
    }
    refuse_unknown(data, known_top, "未知的配置项", where)
    _check_no_secret(data, "", where)  # every table, however deep

    proj = _table(data, "project", where)
    plat = _table(data, "platform", where)

    def rel(v: Any) -> Path | None:
        if v in (None, ""):
            return None
        q = Path(str(v)).expanduser()
        return q if q.is_absolute() else root / q

    phase = proj.get("phase", "test")
    if phase not in ("test", "production"):
        raise ConfigError(
            f"[project] phase 只能是 test（测试阶段）或 production（正式）；现在是 {phase!r}", where=where
        )
    channels = {k: plat[k] for k in PHASES if k in plat}
    settings = _platform_settings(_channel(plat, channels, phase, where), where, rel)

    datasets = data.get("datasets", proj.get("datasets", ()))
    if isinstance(datasets, str) or not all(isinstance(d, str) for d in datasets):
        raise ConfigError('datasets 必须是数据集代码的列表，例如 ["doctor", "revisit", "recipe"]', where=where)

    mapping = data.get("mapping", {})
    mapping_dir = data.get("mapping_dir") or (mapping.get("dir") if isinstance(mapping, dict) else mapping)
    work = data.get("work", {})
    work_dir = data.get("work_dir") or (work.get("dir") if isinstance(work, dict) else work) or ".hlwjr"
    if channels:  # test and production apart: each phase its own ledger, runs, logs and backups
        work_dir = Path(str(work_dir)) / phase

    spec = str(proj.get("spec", "beijing-reference"))
    if "/" in spec or (root / spec).is_dir():  # a spec directory, relative to the project
        spec = str(rel(spec))

    return Project(
        root=root,
        name=str(proj.get("name", root.name)),
        org_code=str(proj.get("org_code", "")),
        spec=spec,
        phase=phase,
        platform=settings,
        sources=_table(data, "sources", where),
        mapping_dir=rel(mapping_dir) if mapping_dir else None,
        work_dir=rel(work_dir),
        datasets=tuple(datasets),
        readiness=Thresholds.from_dict(_table(data, "readiness", where), where=f"{where} [readiness]"),
        config_file=config_file,
        run=RunSettings.from_dict(_table(data, "run", where), where=f"{where} [run]"),
        alerts=AlertSettings.from_dict(_table(data, "alerts", where), where=f"{where} [alerts]"),
    )


PHASES = ("test", "production")


def _channel(plat: dict, channels: dict, phase: str, where: str) -> dict:
    """The platform settings of ``phase``: ``[platform]`` with ``[platform.<phase>]`` over it.
    Once channels are declared, the phase in use must have one (no silent fall-back from
    production to the test platform or the other way round)."""
    base = {k: v for k, v in plat.items() if k not in PHASES}
    if not channels:
        return base
    for name, table in channels.items():
        if not isinstance(table, dict):
            raise ConfigError(f"[platform.{name}] 必须是一个表 (table)", where=where)
    if phase not in channels:
        raise ConfigError(
            f"项目阶段是 {phase}，但只配置了 "
            + "、".join(f"[platform.{n}]" for n in channels)
            + f"：请添加 [platform.{phase}]（地址、appid、密钥来源），测试与正式不混用",
            where=where,
        )
    return {**base, **channels[phase]}


_PASTED = ("profile", "url", "appid", "secret_env", "body_key_env", "proxy")


def _strip_pasted(plat: dict, where: str) -> dict:
    """The platform's values without the spaces, tabs or line breaks a copy from the platform's
    page or an e-mail brings along: the gateway compares the appid exactly, and a padded appid
    answers 'appid不存在' with the spaces invisible in the message."""
    return {
        k: _pasted_key(v, f"[platform] {k}", where) if k in _PASTED and isinstance(v, str) else v
        for k, v in plat.items()
    }


def _platform_settings(plat: dict, where: str, rel) -> PlatformSettings:
    plat_known = {f.name for f in fields(PlatformSettings)}
    refuse_unknown(plat, plat_known, "[platform] 中未知的设置", where)
    plat = _strip_pasted(plat, where)
    for k in ("secret_file", "body_key_file", "ca_bundle"):
        if k in plat:
            plat[k] = rel(plat[k])
    for k in ("connect_timeout", "read_timeout", "backoff_base", "backoff_max", "retry_after_max"):
        if k in plat and (not isinstance(plat[k], (int, float)) or plat[k] <= 0):
            raise ConfigError(f"[platform] {k} 必须是正数（秒）", where=where)
    for k in ("max_retries", "concurrency", "batch_size"):
        if k in plat and (not isinstance(plat[k], int) or plat[k] < (0 if k == "max_retries" else 1)):
            raise ConfigError(f"[platform] {k} 必须是正整数", where=where)
    if plat.get("ca_bundle") is not None and not plat["ca_bundle"].exists():
        raise ConfigError(f"找不到 CA 证书文件 {plat['ca_bundle']}（[platform] ca_bundle）", where=where)
    settings = PlatformSettings(**plat)
    if settings.url:  # a project may be written before the platform issued its address
        check_platform_url(settings.url, where)
    return settings


_PAGE = re.compile(r"/(?P<page>[^/]+\.(?:jsp|html?|php|aspx?))/*$", re.IGNORECASE)


def check_platform_url(url: str, where: str = "[platform] url") -> None:
    """The one check of a platform URL, for the project and the client: http(s), and not a web page
    (:func:`refuse_page_url`)."""
    if not url or not url.startswith(("http://", "https://")):
        raise ConfigError(f"[platform] url 必须以 http:// 或 https:// 开头，现在是 {url!r}", where=where)
    refuse_page_url(url, where)


def refuse_page_url(url: str, where: str = "[platform] url") -> None:
    """A platform URL copied from the browser or the manual ends with a web page (…/hlwjr/index.jsp,
    the login page): the interface paths go under the base, so say which base to write."""
    m = _PAGE.search(urlsplit(url).path) if url else None
    if m:
        base = url[: url.index(m["page"]) - 1]
        raise ConfigError(
            f"[platform] url 指向平台的网页 {m['page']}（登录/首页），不是接口地址：请去掉末尾的 /{m['page']}，"
            f"写成 {base}（接口路径以平台接口文档为准）",
            where=where,
        )


def _toml_key(k: Any) -> str:
    """A TOML key: bare when it can be (``his``), else quoted (``"门诊库"``, ``"his.db"`` — a bare
    dotted key would make a nested table)."""
    k = str(k)
    return k if k and all(c.isascii() and (c.isalnum() or c in "_-") for c in k) else _toml_value(k)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    # a JSON string is a valid TOML basic string: \\ \" \n \t \uXXXX escapes, CJK kept as is
    return json.dumps(str(v), ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_table(lines: list[str], path: list[str], table: dict) -> None:
    """``[a.b]`` with its keys, then its sub-tables (``[platform.production]``)."""
    lines.append("")
    lines.append("[" + ".".join(_toml_key(p) for p in path) + "]")
    for k, v in table.items():
        if v is not None and not isinstance(v, dict):
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    for k, v in table.items():
        if isinstance(v, dict):
            _toml_table(lines, [*path, k], v)


def write_project(directory: str | Path, config: dict[str, Any]) -> Path:
    """Write ``hlwjr.toml`` into ``directory`` from a nested dict (sections → keys), refusing
    secrets; used by ``hlwjr demo`` and notebooks to create a project. Returns the file path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lines: list[str] = ["# hlwjr 项目配置 — 见 docs/project-config.md。密钥 (secret) 不写在这里。"]
    scalars = {k: v for k, v in config.items() if not isinstance(v, dict)}
    for k, v in scalars.items():
        lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    for section, table in config.items():
        if isinstance(table, dict):
            _check_no_secret(table, section, str(directory / PROJECT_FILE))
            _toml_table(lines, [section], table)

    target = directory / PROJECT_FILE
    atomic_write(target, lambda tmp: tmp.write_text("\n".join(lines) + "\n", encoding="utf-8"))
    load_project(target)  # what we write must load
    return target
