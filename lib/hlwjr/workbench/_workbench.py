"""Helpers the guided notebooks call (工作台笔记本辅助), so that every cell is prose, one library
call and a displayed result.

* readable errors (``_errors.setup_notebook``, installed by :func:`open_workbench`, so the first
  code cell of every notebook turns a 40-line traceback into 错误 / 位置 / 怎么办);
* :func:`open_workbench` — the project a notebook works on (医院接入项目): on the demo hospital it
  writes everything that is missing (synthetic HIS, a copy of the demo mapping, a sandbox
  registration, ``hlwjr.toml`` with the secret in a git-ignored file); on a real hospital it only
  loads ``hlwjr.toml`` and checks the secret and the connection;
* :class:`Workbench` — what the notebooks call afterwards: ``spec``, ``mapping()``,
  ``source_frame()``, ``profile()``, ``map_records()``, ``check()``, ``connectivity()``,
  ``rehearse()``, ``readiness()``.

The sandbox (沙箱平台) is found in this order: the notebook's ``SANDBOX_URL`` parameter, the
environment variable ``HLWJR_SANDBOX_URL`` (set by ``hlwjr lab``, with the admin token in
``HLWJR_SANDBOX_ADMIN_TOKEN``), else a sandbox is started for the life of the kernel with its data
in ``<project>/.hlwjr/sandbox``.
"""

from __future__ import annotations

import contextlib
import html
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .._exceptions import (
    ConfigError,
    HlwjrError,
    SourceError,
)
from .._files import write_key
from ..sandbox import Sandbox
from ._errors import setup_notebook

__all__ = [
    "DEFAULT_PROJECT_DIR",
    "SANDBOX_URL_ENV",
    "Workbench",
    "open_workbench",
]

SANDBOX_URL_ENV = "HLWJR_SANDBOX_URL"
DEFAULT_PROJECT_DIR = "../demo-out/workbench"
_SECRET_FILE = ".hlwjr/secret"


def _display(obj: Any) -> None:
    try:
        from IPython.display import display
    except ImportError:  # pragma: no cover
        print(obj)
        return
    display(obj)


# --------------------------------------------------------------------------------------------
# the workbench


def _attach_sandbox(url: str, protocol: str = "token"):
    """A :class:`hlwjr.sandbox.Sandbox` handle for an already running sandbox at ``url``."""
    from ..sandbox._settings import ADMIN_TOKEN_ENV

    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or not parts.port:
        raise ConfigError(f"沙箱地址 {url!r} 不对，应形如 http://127.0.0.1:端口/hlwjr", where="SANDBOX_URL")
    token = os.environ.get(ADMIN_TOKEN_ENV)
    if not token:
        raise ConfigError(
            f"连接已运行的沙箱需要管理令牌：请设置环境变量 {ADMIN_TOKEN_ENV}（`hlwjr lab` 会自动设置），"
            "或把 SANDBOX_URL 设为 None 让笔记本自己启动沙箱",
            where="SANDBOX_URL",
        )
    sb = Sandbox(
        Path(os.environ.get("TMPDIR", "/tmp")),
        port=parts.port,
        host=parts.hostname,
        admin_token=token,
        protocol=protocol,
    )
    return sb


_KERNEL_SANDBOXES: dict[str, Any] = {}


@dataclass
class Workbench:
    """The project a notebook works on (医院接入项目) and the calls the notebooks make.

    Attributes: ``project_dir``, ``project`` (:class:`~hlwjr.Project`), ``spec``
    (:class:`~hlwjr.Spec`), ``sandbox`` (:class:`hlwjr.sandbox.Sandbox` or None for the real
    platform), ``demo`` (the demo hospital is used), ``hospital`` (its :class:`DemoHospital`).
    """

    project_dir: Path
    project: Any
    spec: Any
    sandbox: Any = None
    demo: bool = False
    protocol: str = "token"  # the demo's wire protocol: token API, 国密 gateway (tianjin) or gateway-hmac
    hospital: Any = None
    notes: list[str] = field(default_factory=list)
    last_records: dict = field(default_factory=dict)  # the records the last check() mapped
    last_accepted: dict = field(default_factory=dict)  # … of which the platform already accepted (per data set)

    # -- what is where --------------------------------------------------------------------
    def _repr_html_(self) -> str:
        p = self.project
        plat = "沙箱平台（本机演练）" if self.sandbox is not None else f"真实平台（{p.platform.profile}）"
        rows = [
            ("项目 project", p.name),
            ("机构代码 organID", p.org_code),
            ("目录", str(self.project_dir)),
            ("接口规范 spec", f"{self.spec.title}（{self.spec.id} v{self.spec.version}）"),
            ("平台 platform", f"{plat} {p.platform.url}"),
            ("appid", p.platform.appid or "（未设置）"),
            ("密钥 secret", f"环境变量 {p.platform.secret_env} 或 {p.platform.secret_file}（不显示）"),
            ("对照配置 mapping", str(p.mapping_dir)),
            (
                "数据源 sources",
                ", ".join(f"{k}: {_mask_url(str(v))}" for k, v in (p.sources or {}).items()) or "（见对照配置）",
            ),
            ("上传台账 ledger", str(p.ledger_path)),
        ]
        rows += [("提示", n) for n in self.notes]
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
            f"{html.escape(str(v))}</td></tr>"
            for k, v in rows
        )
        return f"<table class='hlwjr-workbench'>{body}</table>"

    def __repr__(self) -> str:
        return f"<Workbench {self.project.name} {self.project_dir}>"

    def sources(self) -> dict[str, Any] | None:
        """The project's ``[sources]`` resolved against the project directory (name → URL/path),
        as the daily upload reads them."""
        from ..upload._mapped import _project_sources

        return _project_sources(self.project)

    def mapping(self):
        """The project's mapping config (指标对照配置), freshly loaded from its directory."""
        from ..mapping._config import load_mapping

        if self.project.mapping_dir is None:
            raise ConfigError(
                "项目没有配置对照目录 mapping_dir：在 hlwjr.toml 中设置", where=str(self.project.config_file)
            )
        return load_mapping(self.project.mapping_dir)

    # -- 01 spec ---------------------------------------------------------------------------
    def spec_overview(self):
        """The spec's data sets in upload order (上传顺序) as a table."""
        import pandas as pd

        rows = []
        for i, ds in enumerate(self.spec.top_level(), 1):
            rows.append(
                {
                    "序号": i,
                    "代码 code": ds.code,
                    "名称 name": ds.name,
                    "字段数 fields": len(ds.fields),
                    "必填 required": len(ds.required_fields),
                    "业务主键 key": " + ".join(ds.key),
                    "先传 depends on": ", ".join(ds.depends_on),
                    "明细 children": ", ".join(c.name for c in self.spec.children(ds.code)),
                }
            )
        return pd.DataFrame(rows)

    def fields(self, dataset: str):
        """The fields of a data set (字段表): key, 中文名, type, length, required, code set."""
        import pandas as pd

        ds = self.spec.dataset(dataset)
        rows = []
        for f in ds.fields.values():
            rows.append(
                {
                    "字段 key": f.key,
                    "名称 name": f.name,
                    "类型 type": f.type_zh,
                    "长度 length": f.max_length,
                    "必填 required": "是" if f.is_required else (f"条件（{f.required}）" if f.required else ""),
                    "值域 code set": f.code_set or "",
                    "说明 description": (f.description or "")[:60],
                }
            )
        return pd.DataFrame(rows)

    def code_set(self, name: str):
        """A code set (值域代码表) as a table."""
        return self.spec.code_set(name).to_frame()

    def import_document(self, path: str | os.PathLike | None = None):
        """Import the official interface document (互联网医院数据接口文档, .docx/.xlsx) into
        ``<project>/specs/<name>`` and return the import report (what to check by hand).

        Without ``path`` on the demo, the reference spec is first exported as a Word document and
        that document imported — the same steps as with the official one."""
        from ..spec._export import export_spec
        from ..spec.importing._importer import import_spec

        if path is None:
            if not self.demo:
                raise ConfigError(
                    "请在参数单元格中给出官方接口文档的路径 OFFICIAL_DOC（.docx 或 .xlsx）", where="OFFICIAL_DOC"
                )
            path = export_spec(self.spec, self.project_dir / "specs" / "参考规范_reference.docx")
        src = Path(path)
        if not src.exists():
            raise ConfigError(
                f"找不到接口文档 {src}：检查 OFFICIAL_DOC 的路径（相对于本笔记本所在目录）", where="OFFICIAL_DOC"
            )
        out = self.project_dir / "specs" / f"imported-{src.stem}"
        result = import_spec(src, out, overwrite=True)
        self.imported = result.spec
        return result.report

    def diff_editions(self, old=None, new=None):
        """Differences between two spec editions (规范版本差异) as a table (one row per change,
        breaking ones flagged): ``old`` defaults to the project's spec, ``new`` to the document
        imported last."""
        from ..spec._diff import diff_specs

        new = new if new is not None else getattr(self, "imported", None)
        if new is None:
            raise ConfigError(
                "还没有要比较的新版本：先运行上面的导入单元格，或在参数中给出 NEW_SPEC（规范目录）", where="NEW_SPEC"
            )
        import pandas as pd

        d = diff_specs(old if old is not None else self.spec, new)
        frame = d.to_frame()
        if len(frame) == 0:
            return pd.DataFrame(
                [{"结果 result": f"两个版本没有差异：{d.to_text().splitlines()[0] if d.to_text() else ''}"}]
            )
        return frame

    # -- 02 sources --------------------------------------------------------------------------
    def source_tables(self):
        """Where each data set's rows come from in the mapping (数据源表) as a table."""
        import pandas as pd

        m = self.mapping()
        rows = [
            {
                "数据集 dataset": code,
                "名称": self.spec.dataset(code).name,
                "表 table": dm.source.label,
                "关联 joins": ", ".join(j.name for j in dm.source.joins),
                "业务时间列 business_time": dm.source.business_time or "",
            }
            for code, dm in m.datasets.items()
        ]
        return pd.DataFrame(rows)

    def source_frame(self, table: str, *, source: str | None = None, limit: int | None = None):
        """Rows of one source table (数据源表), read as the mapping reads it."""
        from ..mapping._context import _Context
        from ..mapping._model import SourceRef

        ctx = _Context(self.mapping(), self.sources())
        src = ctx.open(SourceRef(table=table, source=source))
        if limit is None:
            return src.read()
        for chunk in src.iter_chunks(limit):
            return chunk
        raise SourceError(f"数据源表 {table} 是空的：没有任何数据行", where=table)

    def profile(self, table: str, *, source: str | None = None, min_count: int = 5):
        """Profile a source table (数据探查): types, null share, distinct values, masked top values."""
        from ..sources._profile import profile_frame

        df = self.source_frame(table, source=source)
        if len(df) == 0:
            raise SourceError(f"数据源表 {table} 是空的：没有任何数据行，请检查导出或查询条件", where=table)
        return profile_frame(df, source=table, min_count=min_count)

    # -- 03/04 mapping --------------------------------------------------------------------
    def mapping_editor(self, dataset: str, **kw):
        """The :class:`hlwjr.widgets.MappingEditor` for a data set of this project."""
        from ..widgets import MappingEditor

        return MappingEditor(self.mapping(), dataset, sources=self.sources(), spec=self.spec, **kw)

    def code_map_editor(self, code_map: str, **kw):
        """The :class:`hlwjr.widgets.CodeMapEditor` for a code map of this project's mapping."""
        from ..widgets import CodeMapEditor

        return CodeMapEditor.from_mapping(self.mapping(), code_map, sources=self.sources(), spec=self.spec, **kw)

    def mapping_check(self):
        """Problems in the mapping config (对照配置检查) as a table (empty: none)."""
        import pandas as pd

        mapping = self.mapping()
        issues = mapping.check(spec=self.spec, sources=self.sources())
        base = f"{mapping.directory}{os.sep}" if mapping.directory is not None else None
        return pd.DataFrame(
            [
                {
                    "级别": "错误" if i.severity == "error" else "提醒",
                    "位置 where": i.where.replace(base, "", 1) if base else i.where,
                    "问题 message": i.message,
                }
                for i in issues
            ],
            columns=["级别", "位置 where", "问题 message"],
        )

    def map_records(self, dataset: str, *, date: str | None = None):
        """Run the mapping for one data set (and business day) → :class:`MappingResult`.
        Master data without a business time (机构、科室、人员) is mapped whole for any day."""
        from ..mapping._engine import apply_mapping

        mapping = self.mapping()
        dm = mapping.dataset(dataset)
        day = date if dm.source.business_time else None
        return apply_mapping(mapping, dataset, date=day, sources=self.sources(), spec=self.spec)

    def master_data_template(self, out: str | os.PathLike | None = None):
        """The master-data workbook (基础数据模板: 机构、科室、人员备案 … — the data sets business
        records refer to, read from the spec) → a table of what it holds. Default file:
        ``<project>/基础数据.xlsx``; fill it in, then register it as a source (``hlwjr template
        --mapping``) or hand it to the colleagues who keep those records."""
        import pandas as pd

        from ..mapping._template import write_template

        path = Path(out) if out is not None else self.project_dir / "基础数据.xlsx"
        sheets = write_template(self.spec, path)
        rows = [
            {"数据集": c, "名称": self.spec.dataset(c).name, "工作表": s, "文件": str(path)} for c, s in sheets.items()
        ]
        return pd.DataFrame(rows)

    # -- 05 validation ----------------------------------------------------------------------
    def check(self, datasets: list[str] | None = None, *, date: str | None = None):
        """Map and validate data sets together as one batch (强制校验) → :class:`~hlwjr.Report`.

        References between the data sets are checked within the batch and against what the
        upload ledger says the platform already accepted.  Records the platform already accepted
        are no problem (the upload skips them): they are counted in ``last_accepted`` instead.
        The mapped records are kept in ``last_records`` (for the drill-down)."""
        from ..upload._ledger import Ledger, accepted_counts
        from ..validation._engine import check

        codes = [self.spec.dataset(c).code for c in (datasets or list(self.mapping().datasets))]
        self.last_records = {code: self.map_records(code, date=date).records for code in codes}
        lookup = Ledger(self.project.ledger_path) if self.project.ledger_path.exists() else None
        try:
            self.last_accepted = accepted_counts(self.spec, self.last_records, lookup)
            return check(self.last_records, spec=self.spec, lookup=lookup, skip=("already_accepted",))
        finally:
            if lookup is not None:
                lookup.close()

    def validation_report(self, datasets: list[str] | None = None, *, date: str | None = None):
        """The :class:`hlwjr.widgets.ValidationReport` of :meth:`check` (with drill-down records)."""
        from ..widgets import ValidationReport

        report = self.check(datasets, date=date)
        return ValidationReport(report, records=self.last_records, accepted=self.last_accepted)

    # -- 00 connectivity, 06 upload, 07 readiness ------------------------------------------------
    def connectivity(self):
        """Check the platform: reachable, appid/secret accepted (获取令牌), the platform's clock."""
        import pandas as pd

        from ..upload._client import PlatformClient

        rows = []
        with PlatformClient.from_project(self.project) as client:
            client.check_auth()
            rows.append(
                {"检查 check": "获取令牌 token", "结果 result": "成功", "说明": f"appid {self.project.platform.appid}"}
            )
            now = client.server_now()
            rows.append(
                {
                    "检查 check": "平台时间 clock",
                    "结果 result": now or "（平台未提供）",
                    "说明": "达标按平台日（北京时间）统计",
                }
            )
        return pd.DataFrame(rows)

    def demo_days(self) -> list[str]:
        """The business days of the demo hospital (演示数据的业务日期)."""
        return list(self.hospital.days) if self.hospital is not None else []

    def upload_panel(self, **kw):
        """The :class:`hlwjr.widgets.UploadPanel` for this project."""
        from ..widgets import UploadPanel

        return UploadPanel(self.project, sandbox=self.sandbox, **kw)

    def rehearse(self, days: int = 3, **kw):
        """Sandbox only: upload ``days`` demo business days, the sandbox clock set to each day
        (演练连续上传); returns the upload summaries as a table."""
        panel = self.upload_panel(**kw)
        panel.rehearse(self.demo_days()[:days])
        if panel.last_error is not None:  # e.g. the platform refused the token: stop "Run All" here
            raise panel.last_error
        return panel

    def upload(self, rehearsal_days: int = 3, *, date: str | None = None, confirm: bool = False):
        """The upload step (测试上传) of notebook 06 → the :class:`UploadPanel` after the run.

        Demo on the sandbox: rehearse the first ``rehearsal_days`` demo business days.  Otherwise
        (real platform, or the hospital's own data on the sandbox): upload business day ``date``
        (default today, Beijing time) once. To the real platform only with ``confirm=True``
        (``CONFIRM = True`` in the notebook): without it "Run All" makes a dry run (预演) and says so."""
        if self.sandbox is not None and self.demo:
            return self.rehearse(rehearsal_days)
        from ..upload._ledger import now_shanghai

        panel = self.upload_panel()
        day = date or now_shanghai().strftime("%Y-%m-%d")
        panel.date.value = day
        real = self.project.platform.profile != "sandbox"
        dry = real and not confirm
        panel.dry_run.value = dry
        panel.run(day, dry_run=dry)
        if dry:  # said where the analyst looks: above the panel's result
            panel.result.value = (
                "<p style='background:#fff3e0;padding:6px'><b>这是预演，未发送到真实平台。</b>核对无误后在参数单元格设 "
                "<code>CONFIRM = True</code> 再运行，或取消“预演”后点“上传”。</p>" + panel.result.value
            )
        if panel.last_error is not None:
            raise panel.last_error
        return panel

    @contextlib.contextmanager
    def platform_day(self, day: str | None) -> Iterator[None]:
        """Sandbox only: hold the sandbox clock at ``day`` 20:00 (Beijing time), then reset it."""
        if self.sandbox is None or day is None:
            yield
            return
        self.sandbox.set_clock(f"{day} 20:00:00")
        try:
            yield
        finally:
            self.sandbox.set_clock(reset=True)

    def last_upload_day(self) -> str | None:
        """The last platform day in the upload ledger (台账中最近的平台日), or None."""
        from ..upload._ledger import Ledger

        if not self.project.ledger_path.exists():
            return None
        led = Ledger(self.project.ledger_path)
        try:
            days = [e["platform_day"] for e in led.events()]
        finally:
            led.close()
        return max(days) if days else None

    def readiness(self, *, platform_log: bool = True):
        """The readiness verdict (达标结论), compared with the platform's 验证日志.

        On the sandbox the clock is held at the last rehearsed day while computing, so that a
        rehearsal done earlier still counts as "today"."""
        from ..readiness._readiness import compute_readiness

        day = self.last_upload_day() if self.sandbox is not None else None
        log = platform_log or None
        if log and self.protocol != "token" and self.sandbox is not None:  # the gateway has no log API
            from ..demo._run import _sandbox_verify_log

            log = _sandbox_verify_log(self.protocol, self.sandbox, self.project.platform.appid, self.project.secret())
        with self.platform_day(day):
            return compute_readiness(self.project, platform_log=log)

    def status(self, days: int = 30, *, today: str | None = None):
        """The daily-run status (日常运行情况, as ``hlwjr status``) of the ``days`` business days up
        to ``today`` — default the last closed business day; for the demo, the last day uploaded."""
        from ..operations._status import compute_status

        return compute_status(self.project, days=days, today=today or self._last_demo_day())

    def operations_panel(self, days: int = 30, *, today: str | None = None, **kw):
        """The :class:`hlwjr.widgets.OperationsPanel` (日常运行) for this project: status, the
        refused list with the mapping rule of each refused field, mark fixed, resend."""
        from ..widgets import OperationsPanel

        mapping = self.mapping() if self.project.mapping_dir is not None else None
        today = today or self._last_demo_day()
        return OperationsPanel(self.project, days=days, today=today, mapping=mapping, **kw)

    def _last_demo_day(self) -> str | None:
        """The demo hospital lives in November 2026: show the last business day it uploaded."""
        if not self.demo or not self.project.ledger_path.exists():
            return None
        from ..upload._ledger import Ledger

        with Ledger(self.project.ledger_path) as ledger:
            rows = ledger._query("SELECT max(data_date) FROM records WHERE data_date IS NOT NULL")
        return rows[0][0] if rows and rows[0][0] else None

    def readiness_dashboard(self, **kw):
        """The :class:`hlwjr.widgets.ReadinessDashboard` for this project."""
        from ..widgets import ReadinessDashboard

        return ReadinessDashboard(
            self.readiness(), project=self.project, spec=self.spec, out_dir=self.project.work_dir / "evidence", **kw
        )


def _mask_url(url: str) -> str:
    """A source URL without its password (``user:***@host``)."""
    parts = urlsplit(url) if "://" in url else None
    if parts is None or not parts.password:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def _resolve_sandbox(project_dir: Path, sandbox_url: str | None, protocol: str = "token"):
    url = sandbox_url or os.environ.get(SANDBOX_URL_ENV)
    if url:
        return _attach_sandbox(url, protocol)
    # the kernel's own sandbox serves the token API and one gateway format: the 国密 one, or for
    # gateway-hmac the earlier one (a sandbox of its own, with its own store)
    fmt = "gateway-hmac" if protocol == "gateway-hmac" else "tianjin"
    key = f"{project_dir.resolve()}\n{fmt}"
    sb = _KERNEL_SANDBOXES.get(key)
    if sb is not None and sb.process is not None and sb.process.poll() is None:
        return sb
    data_dir = project_dir / ".hlwjr" / ("sandbox" if fmt == "tianjin" else "sandbox-gateway-hmac")
    sb = Sandbox(data_dir, protocol=fmt).start()
    _KERNEL_SANDBOXES[key] = sb
    return sb


def _write_secret(project_dir: Path, secret: str, name: str = _SECRET_FILE) -> None:
    path = project_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    gi = path.parent / ".gitignore"
    if not gi.exists():
        gi.write_text("*\n", encoding="utf-8")  # nothing of the work dir (secret, ledger) goes to git
    write_key(path, secret)


def open_workbench(
    project_dir: str | os.PathLike = DEFAULT_PROJECT_DIR,
    *,
    sandbox: bool = True,
    sandbox_url: str | None = None,
    demo: bool = True,
    org_code: str | None = None,
    org_name: str | None = None,
    demo_days: int = 5,
    check: bool = True,
    hospital: dict | None = None,
    protocol: str = "token",
) -> Workbench:
    """Open (and on the demo, create) the project a notebook works on.

    ``sandbox``: rehearse against the local sandbox platform (沙箱) instead of the real one;
    ``demo``: use the demo hospital (演示医院, synthetic data) — its HIS, a copy of the demo mapping
    in ``<project>/mapping`` and a registration with the sandbox are created when missing.
    With ``demo=False`` the project's ``hlwjr.toml`` must exist (write it with 00_开始_setup or by
    hand); ``hospital`` (the arguments of :func:`write_hospital_project`: name, org_code,
    platform_url, appid, mapping_dir, sources, profile) writes it first.  ``check`` verifies that
    the secret is there (never shown). ``protocol``: the demo rehearses the sandbox's token API
    (``"token"``), its 国密 gateway (``"tianjin"``: SM4-encrypted bodies, SM3 signatures) or the same
    gateway's earlier format (``"gateway-hmac"``: AES bodies, HmacSHA256 signatures).
    """
    from ..demo._run import DEMO_PROTOCOLS
    from ..spec._load import load_spec
    from ..upload._project import PROJECT_FILE, load_project, write_project

    setup_notebook()
    if protocol not in DEMO_PROTOCOLS:
        raise ConfigError(
            "PROTOCOL 只能是 'token'、'tianjin'（国密网关）或 'gateway-hmac'（HmacSHA256 + AES 网关），"
            f"现在是 {protocol!r}",
            where="parameters",
        )
    pdir = Path(project_dir).expanduser()
    config = pdir / PROJECT_FILE
    notes: list[str] = []
    hospital_config, demo_hospital, sb = hospital, None, None
    if demo:
        from ..demo._hospital import DEMO_ORGAN_ID, DEMO_ORGAN_NAME, generate_demo_hospital
        from ..demo._run import _platform_config, find_demo_mapping

        if not sandbox:
            raise ConfigError(
                "演示医院只能在沙箱中演练：请设 USE_SANDBOX = True，或设 DEMO = False 使用本院数据", where="parameters"
            )
        pdir.mkdir(parents=True, exist_ok=True)
        demo_hospital = generate_demo_hospital(pdir / "hospital", days=demo_days)  # deterministic, cheap (<1 s)
        mapping_dir = pdir / "mapping"
        if not (mapping_dir / "mapping.yaml").exists():
            shutil.copytree(find_demo_mapping(), mapping_dir, dirs_exist_ok=True)
            notes.append(f"已把演示对照配置复制到 {mapping_dir}（在 03/04 中修改并保存到这里）")
        sb = _resolve_sandbox(pdir, sandbox_url, protocol)
        code, name = org_code or DEMO_ORGAN_ID, org_name or DEMO_ORGAN_NAME
        appid, secret = sb.register(code, name)
        _write_secret(pdir, secret)
        if protocol == "gateway-hmac":
            _write_secret(pdir, sb.body_key(secret), ".hlwjr/body_key")
        write_project(
            pdir,
            {
                "mapping_dir": "mapping",
                "project": {"name": name, "org_code": code, "spec": "beijing-reference", "phase": "test"},
                "platform": _platform_config(protocol, sb, appid, pdir),
                "sources": {"his": demo_hospital.sqlite_url},
                "readiness": {"min_records_per_day": 30, "consecutive_days": 3},
            },
        )
    else:
        if hospital_config:
            write_hospital_project(pdir, **hospital_config)
        if not config.exists():
            raise ConfigError(
                f"项目目录 {pdir} 中没有 {PROJECT_FILE}：请在 00_开始_setup 的参数 HOSPITAL 中填写本院信息"
                "并运行，或设 DEMO = True 用演示医院练习",
                where=str(pdir),
            )
    if not demo and sandbox:
        sb, config = _sandbox_project(pdir, config, sandbox_url, notes)
    project = load_project(config)
    spec = load_spec(project.spec)
    if check:
        project.secret()  # raises ConfigError naming the env var / file when the secret is missing
    return Workbench(pdir, project, spec, sandbox=sb, demo=demo, hospital=demo_hospital, notes=notes, protocol=protocol)


def _sandbox_project(pdir: Path, config: Path, sandbox_url: str | None, notes: list[str]):
    """The hospital's own data on the sandbox → ``(sandbox handle or None, project file)``.

    A project whose ``hlwjr.toml`` already points at a sandbox (registered with ``hlwjr sandbox
    register``) is used as it is: notebooks and CLI share one project, one registration, one
    ledger — never re-registered. A project configured for the real platform rehearses in a
    separate project (``<project>/.hlwjr/rehearsal``), registered once and reused afterwards; the
    real ``hlwjr.toml``, secret and ledger are never touched."""
    from ..upload._project import load_project, write_project

    real = load_project(config)
    if real.platform.profile == "sandbox" and real.platform.appid:
        notes.append("本院项目已配置为沙箱：笔记本与命令行使用同一个项目、同一份上传台账（不重新注册）")
        return _optional_sandbox(sandbox_url or os.environ.get(SANDBOX_URL_ENV)), config
    sb = _resolve_sandbox(pdir, sandbox_url)
    if not real.org_code:
        raise ConfigError(
            "hlwjr.toml 的 [project] 中缺少 org_code（统一社会信用代码），无法在沙箱中注册", where=str(config)
        )
    rdir = pdir / ".hlwjr" / "rehearsal"
    if not _registered_there(rdir, sb.url):
        appid, secret = sb.register(real.org_code, real.name or real.org_code)
        _write_secret(rdir, secret)
        data = _project_dict(real)
        data["platform"] = {
            "profile": "sandbox",
            "url": sb.url,
            "appid": appid,
            "secret_env": "HLWJR_SANDBOX_SECRET",
            "secret_file": _SECRET_FILE,
        }
        write_project(rdir, data)
    notes.append(f"沙箱演练使用单独的演练项目 {rdir}（不改动本院的 hlwjr.toml、密钥和上传台账）")
    return sb, rdir / "hlwjr.toml"


def _registered_there(rdir: Path, url: str) -> bool:
    """The rehearsal project exists for this very sandbox, with its secret: reuse it."""
    from ..upload._project import load_project

    if not (rdir / "hlwjr.toml").exists() or not (rdir / _SECRET_FILE).exists():
        return False
    try:
        return load_project(rdir).platform.url.rstrip("/") == url.rstrip("/")
    except HlwjrError:
        return False


def _optional_sandbox(url: str | None):
    """A handle on the sandbox the project uses, for its clock — or None (uploads work without)."""
    if not url:
        return None
    try:
        return _attach_sandbox(url)
    except ConfigError:
        return None  # no admin token: the rehearsal clock stays the sandbox's own


def write_hospital_project(
    project_dir: str | os.PathLike,
    *,
    name: str,
    org_code: str,
    platform_url: str,
    appid: str,
    mapping_dir: str,
    sources: dict[str, str],
    profile: str = "sandbox",
    secret_env: str = "HLWJR_SECRET",
    datasets: list[str] | None = None,
) -> Path:
    """Write ``hlwjr.toml`` for a real hospital (the secret is NOT written: it comes from
    ``secret_env`` or the git-ignored ``.hlwjr/secret``).  ``profile`` names the platform profile
    (``lib/hlwjr/platforms/<name>.yaml``, or a path to one written from the official document)."""
    from ..upload._project import write_project

    data: dict[str, Any] = {
        "mapping_dir": mapping_dir,
        "project": {"name": name, "org_code": org_code, "spec": "beijing-reference", "phase": "test"},
        "platform": {
            "profile": profile,
            "url": platform_url,
            "appid": appid,
            "secret_env": secret_env,
            "secret_file": _SECRET_FILE,
        },
        "sources": dict(sources),
        "readiness": {"min_records_per_day": 30, "consecutive_days": 3},
    }
    if datasets:
        data["datasets"] = list(datasets)
    return write_project(project_dir, data)


def _project_dict(project) -> dict[str, Any]:
    """A loaded project as the dict :func:`write_project` takes, with absolute paths (for the
    sandbox rehearsal project written elsewhere)."""
    plat = project.platform
    sources = {}
    for name, v in (project.sources or {}).items():
        if isinstance(v, dict):
            v = v.get("url") or v.get("path")
        if v is not None:
            v = str(v)
            sources[name] = v if "://" in v else str(project.resolve(v))
    d: dict[str, Any] = {
        "project": {"name": project.name, "org_code": project.org_code, "spec": project.spec, "phase": project.phase},
        "platform": {"profile": plat.profile, "url": plat.url, "appid": plat.appid, "secret_env": plat.secret_env},
        "sources": sources,
    }
    if project.mapping_dir is not None:
        d["mapping_dir"] = str(project.mapping_dir.resolve())
    if project.datasets:
        d["datasets"] = list(project.datasets)
    t = project.readiness
    d["readiness"] = {"min_records_per_day": t.min_records_per_day, "consecutive_days": t.consecutive_days}
    return d
