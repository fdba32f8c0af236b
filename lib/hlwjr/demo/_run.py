"""The whole job on the demo hospital (演示：完整流程), as ``make demo`` runs it.

1. a short tour of the interface spec (接口规范);
2. generate the demo hospital (演示医院 HIS: SQLite + CSV, with planted dirt);
3. start the sandbox platform on a free loopback port and register the hospital (appid + secret);
4. write a demo project (``hlwjr.toml``; the secret goes to a git-ignored file, never the config);
5. for three rehearsal days, set the sandbox clock to that day, then map → validate (showing the
   dirty records held back) → upload;
6. print the readiness verdict, compared with the sandbox's verification log (验证日志), and
   write the evidence pack;
7. stop the sandbox.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .._exceptions import ConfigError
from .._files import write_key
from .._privacy import mask_value
from ..sandbox import Sandbox

__all__ = ["DemoRun", "find_demo_mapping", "run_demo", "spec_tour"]


@dataclass
class DemoRun:
    """What ``run_demo`` did: the project, the per-day upload summaries and the readiness."""

    out_dir: Path
    project_dir: Path
    sandbox_url: str = ""
    days: list[str] = field(default_factory=list)
    summaries: list[Any] = field(default_factory=list)
    readiness: Any = None
    evidence: dict[str, Path] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        r = self.readiness
        return bool(r is not None and r.may_apply and not r.disagreements and r.platform is not None)


def find_demo_mapping() -> Path:
    """The demo hospital's mapping directory (``mapping/demo`` of the repository, or the copy
    shipped as package data)."""
    here = Path(__file__).resolve()
    candidates = [
        here.parents[3] / "mapping" / "demo",
        here.parents[1] / "data" / "mapping" / "demo",
        Path.cwd() / "mapping" / "demo",
    ]
    for c in candidates:
        if (c / "mapping.yaml").exists():
            return c
    raise ConfigError(
        "找不到演示医院的对照配置 mapping/demo/mapping.yaml；请在仓库根目录运行 `make demo`", where=str(candidates[0])
    )


def spec_tour(spec, out: TextIO) -> None:
    """A short tour of the spec (接口规范): what it is, the data sets in upload order, code sets."""
    print(f"接口规范: {spec.title}（{spec.id} v{spec.version}）", file=out)
    if getattr(spec, "notice", None):
        print(f"  {spec.notice}", file=out)
    tops = spec.top_level()
    print(
        f"  {len(spec.datasets)} 个数据集（{len(tops)} 个上传接口），{len(spec.code_sets)} 个代码集；上传顺序：",
        file=out,
    )
    for i, ds in enumerate(tops, 1):
        children = [c.name for c in spec.children(ds.code)]
        extra = f"，含明细 {'、'.join(children)}" if children else ""
        deps = f"；先传 {', '.join(ds.depends_on)}" if ds.depends_on else ""
        print(
            f"  {i:>2}. {ds.code:<14}{ds.name}（{len(ds.fields)} 个字段，业务主键 {'+'.join(ds.key)}{extra}{deps}）",
            file=out,
        )


def show_profile(url: str, table: str, out: TextIO) -> None:
    """Print a compact column profile of one source table (values masked by the profiler)."""
    from ..sources._profile import profile_source

    frame = profile_source(url, table=table).to_frame()
    keep = [c for c in frame.columns if not str(c).startswith(("最小", "最大"))]
    print(frame[keep].fillna("").to_string(index=False, max_colwidth=36), file=out)


def show_mapped(mapping_dir: Path, dataset: str, url: str, day: str, out: TextIO, *, spec=None, n: int = 3) -> None:
    """Print the first ``n`` mapped records of ``dataset`` for ``day``, with personal data masked."""
    from ..mapping._config import load_mapping
    from ..mapping._engine import apply_mapping

    result = apply_mapping(load_mapping(mapping_dir), dataset, sources={"his": url}, date=day, limit=n, spec=spec)
    if spec is None:
        from ..spec._load import load_spec

        spec = load_spec()
    ds = spec.dataset(dataset)
    for i, record in enumerate(result.to_dicts()[:n], 1):
        shown = []
        for key, value in record.items():
            kind = ds.mask_of(key)
            text = mask_value(value, kind) if kind not in (None, "plain") and value is not None else value
            shown.append(f"{key}={text}")
        print(
            f"  记录 {i}: " + "，".join(shown[:14]) + (f" …（共 {len(shown)} 个字段）" if len(shown) > 14 else ""),
            file=out,
        )
    print("  " + result.summary().replace("\n", "\n  "), file=out)


def _clear_previous_demo(out: Path, stdout: TextIO) -> None:
    """Start from a clean rehearsal: drop the sandbox data and the ledger of an earlier demo run
    in the same directory (only those two, and only when they are what the demo wrote)."""
    import shutil

    cleared = []
    sandbox_dir = out / "sandbox"
    if sandbox_dir.is_dir() and any(sandbox_dir.glob("*.sqlite*")):
        shutil.rmtree(sandbox_dir)
        cleared.append("沙箱数据")
    work = out / "project" / ".hlwjr"
    if (work / "ledger.sqlite").exists():
        shutil.rmtree(work)
        cleared.append("上传台账")
    if cleared:
        print(f"（已清除上次演示的{'与'.join(cleared)}，从头演练）", file=stdout)


def _rule(text: str, out: TextIO) -> None:
    print("\n" + "─" * 8 + f" {text} " + "─" * 8, file=out)


#: The rehearsal copy of a gateway profile (``tianjin``, ``gateway-hmac``): the real gateway has no
#: clock, the sandbox's rehearsal days need one (so that the ledger counts each upload for the
#: sandbox's day).
_REHEARSAL_CLOCK = """
# Rehearsal only (hlwjr demo run --protocol tianjin | gateway-hmac): the sandbox's settable clock,
# so that the ledger counts each rehearsal day as the sandbox does. The real gateway has no clock
# endpoint.
clock:
  path: /hlwjr/sandbox/health
  field: data.clock.now
  success_codes: [0]               # the sandbox's own envelope, not the gateway's
"""

#: The wire protocols the demo rehearses: the sandbox's token API, or one of its gateway formats
#: (the profile of the same name).
DEMO_PROTOCOLS = ("token", "tianjin", "gateway-hmac")


def _platform_config(protocol: str, sandbox, appid: str, project_dir: Path) -> dict:
    """``[platform]`` of the demo project: the sandbox's token API, or its gateway (a rehearsal
    copy of the profile; the gateway-hmac format's second key in a git-ignored file too)."""
    cfg = {"appid": appid, "secret_env": "HLWJR_DEMO_SECRET", "secret_file": ".hlwjr/secret"}
    if protocol == "token":
        return {"profile": "sandbox", "url": sandbox.url, **cfg}
    from importlib import resources

    text = (resources.files("hlwjr") / "platforms" / f"{protocol}.yaml").read_text(encoding="utf-8")
    profile = project_dir / f"{protocol}-rehearsal.yaml"
    rehearsal = text.replace(f"id: {protocol}", f"id: {protocol}-rehearsal") + _REHEARSAL_CLOCK
    profile.write_text(rehearsal, encoding="utf-8")
    if protocol == "gateway-hmac":
        cfg |= {"body_key_env": "HLWJR_DEMO_BODY_KEY", "body_key_file": ".hlwjr/body_key"}
    return {"profile": profile.name, "url": sandbox.gateway_url, **cfg}


def _sandbox_verify_log(protocol: str, sandbox, appid: str, secret: str):
    """The sandbox's verification log: through the project's client (token), or — the gateway
    has no log API — through the sandbox's token API with the same appid and secret."""
    if protocol == "token":
        return True
    from ..upload._client import PlatformClient

    with PlatformClient("sandbox", sandbox.url, appid, secret) as client:
        return client.verify_log()


def run_demo(
    out_dir: str | Path, *, stdout: TextIO = sys.stdout, days: int = 3, seed: int = 20261101, protocol: str = "token"
) -> DemoRun:
    """Run the whole job on the demo hospital into ``out_dir`` (see the module docstring);
    ``protocol="tianjin"`` rehearses the 国密 gateway (profile ``tianjin``) instead of the token API,
    ``protocol="gateway-hmac"`` the same gateway's earlier format (HmacSHA256, AES body)."""
    from ..readiness._evidence import write_evidence_pack
    from ..readiness._readiness import compute_readiness
    from ..spec._load import load_spec
    from ..upload._project import load_project, write_project
    from ..upload._uploader import run_upload
    from ._hospital import DEMO_ORGAN_ID, DEMO_ORGAN_NAME, generate_demo_hospital

    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    _clear_previous_demo(out, stdout)
    spec = load_spec()
    _rule("1 接口规范", stdout)
    spec_tour(spec, stdout)

    _rule("2 生成演示医院", stdout)
    hospital = generate_demo_hospital(out / "hospital", days=max(days, 3) + 2, seed=seed)
    print(f"  {hospital.database}（{sum(hospital.tables.values())} 行，{len(hospital.tables)} 张表）", file=stdout)
    if hospital.dirt:
        print("  预埋的脏数据: " + "，".join(f"{k} {v}" for k, v in hospital.dirt.items()), file=stdout)
    mapping_dir = find_demo_mapping()

    _rule("2.1 数据源概况（profile：病人表 patients，敏感值已脱敏）", stdout)
    show_profile(hospital.sqlite_url, "patients", stdout)
    _rule("2.2 指标对照结果预览（mapping/demo → 在线复诊 revisit，前 3 条，敏感值已脱敏）", stdout)
    show_mapped(mapping_dir, "revisit", hospital.sqlite_url, hospital.days[0], stdout, spec=spec)

    _rule("3 启动沙箱平台并注册", stdout)
    sandbox = Sandbox(out / "sandbox", protocol=protocol)
    sandbox.start()
    run = DemoRun(out, out / "project", sandbox_url=sandbox.url)
    try:
        gateway = f"，网关（{protocol}）{sandbox.gateway_url}/openapi/api" if protocol != "token" else ""
        print(f"  沙箱: {sandbox.url}{gateway}（进程 {sandbox.pid}）", file=stdout)
        appid, secret = sandbox.register(DEMO_ORGAN_ID, DEMO_ORGAN_NAME)
        keys = (
            "secret 和 encodingAesKey 已写入 git 忽略的 project/.hlwjr/secret、body_key"
            if protocol == "gateway-hmac"
            else "secret 已写入 git 忽略的 project/.hlwjr/secret"
        )
        print(f"  appid: {appid}；{keys}（不显示）", file=stdout)

        _rule("4 项目配置", stdout)
        write_key(run.project_dir / ".hlwjr" / "secret", secret)
        if protocol == "gateway-hmac":
            write_key(run.project_dir / ".hlwjr" / "body_key", sandbox.body_key(secret))
        config = write_project(
            run.project_dir,
            {
                "mapping_dir": str(mapping_dir),
                "project": {"name": DEMO_ORGAN_NAME, "org_code": DEMO_ORGAN_ID, "spec": spec.id, "phase": "test"},
                "platform": _platform_config(protocol, sandbox, appid, run.project_dir),
                "sources": {"his": hospital.sqlite_url},
                "readiness": {"min_records_per_day": 30, "consecutive_days": 3},
            },
        )
        print(f"  {config}", file=stdout)
        project = load_project(config)

        for i, day in enumerate(hospital.days[:days], 1):
            _rule(f"5.{i} 演练第 {i} 天 {day}：映射 → 校验 → 上传", stdout)
            sandbox.set_clock(f"{day} 20:00:00")
            summary = run_upload(project, date=day, progress=False)
            run.days.append(day)
            run.summaries.append(summary)
            print(summary.to_text(), file=stdout)

        _rule("6 达标情况（与平台验证日志核对）", stdout)
        r = compute_readiness(project, platform_log=_sandbox_verify_log(protocol, sandbox, appid, secret))
        run.readiness = r
        print(r.to_text(), file=stdout)
        run.evidence = write_evidence_pack(r, out / "evidence", project=project, spec=spec)
        print(f"  证据包: {run.evidence['html']}", file=stdout)
        print(f"  平台验证日志页面（沙箱运行时，用 appid 和 secret 登录）: {sandbox.url}/verify-log", file=stdout)
    finally:
        _rule("7 停止沙箱", stdout)
        code = sandbox.stop()
        print(f"  沙箱已停止（退出码 {code}）", file=stdout)
    return run
