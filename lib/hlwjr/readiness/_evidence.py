"""The evidence pack (达标证据包): an HTML page and an Excel workbook holding the per-day counts,
the acceptance log with batch numbers, masked sample records, the mapping and code maps with
their versions, the daily sign-ins and a chart of the streak. Owner-only files (0600)."""

from __future__ import annotations

import base64
import hashlib
import html
import json
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError, HlwjrError
from .._files import atomic_write
from .._privacy import mask_key, mask_kind, mask_value
from .._sheets import excel_writer
from ..upload._ledger import Ledger
from ._frames import _ds_label, _empty_log, pack_frames  # noqa: F401
from ._readiness import Readiness

__all__ = ["write_evidence_pack"]


# --------------------------------------------------------------------------- evidence pack


def _body_decoder(project):
    """How to read the batch bodies the ledger kept: ``None`` for JSON, else the profile's body
    codec (an SM4-encrypted body needs the project's secret, an AES one its body key); ``None``
    when it cannot be built."""
    if project is None:
        return None
    try:
        from ..upload._profile import PlatformProfile
        from ..upload.profiles import CODECS, body_codec

        ref = project.platform.profile
        profile = PlatformProfile.load(str(project.resolve(ref)) if ref.endswith((".yaml", ".yml")) else ref)
        if profile.codec_name == "json":
            return None
        body_key = project.body_key() if CODECS[profile.codec_name].needs_body_key else None
        return body_codec(profile.codec_name, project.secret(), body_key=body_key).decode
    except HlwjrError:
        return None


def _masked_samples(ledger: Ledger, spec, per_dataset: int = 3, decode=None):
    import pandas as pd

    rows = []
    events = ledger.events()
    taken: dict[str, int] = {}
    for e in events:
        if e["status"] != "accepted" or taken.get(e["dataset"], 0) >= per_dataset:
            continue
        body = ledger.batch_body(e["batch_no"])
        if not body:
            continue
        try:
            data = json.loads(decode(body) if decode is not None else body)
        except ValueError:  # an encrypted body without its key (UnicodeDecodeError is a ValueError)
            continue
        if not isinstance(data, (list, dict)):
            continue
        recs = data if isinstance(data, list) else next((v for v in data.values() if isinstance(v, list)), [])
        from ..upload._ledger import content_hash, record_json

        for rec in recs:
            if content_hash(record_json(rec)) != e["hash"]:
                continue
            ds = None
            try:
                ds = spec.dataset(e["dataset"]) if spec is not None else None
            except HlwjrError:
                ds = None
            masked = {}
            for k, v in rec.items():
                if isinstance(v, (list, dict)):
                    masked[k] = f"[{len(v)} 项明细]"
                    continue
                kind = ds.mask_of(k, v) if ds is not None else mask_kind(k, "", v)
                masked[k] = mask_value(v, kind)
            rows.append(
                {
                    "dataset": e["dataset"],
                    "batch_no": e["batch_no"],
                    "key": mask_key(e["key"]),
                    "record": json.dumps(masked, ensure_ascii=False),
                }
            )
            taken[e["dataset"]] = taken.get(e["dataset"], 0) + 1
            break
    return pd.DataFrame(rows, columns=["dataset", "batch_no", "key", "record"])


def _mapping_versions(project):
    import pandas as pd

    rows = []
    revisions: dict[Path, str] = {}
    if project is not None and project.mapping_dir is not None and project.mapping_dir.exists():
        revisions = _git_revisions(project.mapping_dir)
        for p in sorted(project.mapping_dir.rglob("*")):
            if p.is_file() and p.suffix.lower() in (".yaml", ".yml", ".csv"):
                data = p.read_bytes()
                version = ""
                if p.suffix.lower() in (".yaml", ".yml"):
                    for line in data.decode("utf-8", "replace").splitlines():
                        if line.startswith("version:"):
                            version = line.split(":", 1)[1].strip()
                            break
                rows.append(
                    {
                        "file": str(p.relative_to(project.root)) if p.is_relative_to(project.root) else str(p),
                        "version": version,
                        "revision": revisions.get(p.resolve(), ""),
                        "sha256": hashlib.sha256(data).hexdigest()[:16],
                        "bytes": len(data),
                    }
                )
    return pd.DataFrame(rows, columns=["file", "version", "revision", "sha256", "bytes"])


def _git_revisions(directory: Path) -> dict[Path, str]:
    """The revision (修订) of each file under ``directory`` when it is in a git work tree — the
    last commit that changed it (short hash and date), "未提交的修改" when the working copy differs —
    since mappings are reviewed and committed like code. Empty when git or the repository is absent."""
    import subprocess

    def git(*args: str) -> str | None:
        try:
            r = subprocess.run(
                ["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=20, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout if r.returncode == 0 else None

    top = git("rev-parse", "--show-toplevel")
    if not top:
        return {}
    root = Path(top.strip())
    out: dict[Path, str] = {}
    log = git("log", "--format=%x00%h %cs", "--name-only", "--", ".") or ""
    current = ""
    for line in log.splitlines():
        if line.startswith("\0"):
            current = line[1:]
        elif line.strip() and current:
            out.setdefault((root / line.strip()).resolve(), current)
    for line in (git("status", "--porcelain", "--untracked-files=all", "--", ".") or "").splitlines():
        name = line[3:].split(" -> ")[-1].strip().strip('"')
        if not name:
            continue
        path = (root / name).resolve()
        out[path] = f"{out[path]}，有未提交的修改" if path in out else "未提交（不在版本库中）"
    return out


def write_evidence_pack(
    readiness: Readiness, out_dir: str | Path, *, project=None, ledger: Ledger | None = None, spec=None
) -> dict[str, Path]:
    """Write the evidence pack (达标证据包) into ``out_dir``: ``readiness.html`` (with the streak
    chart embedded), ``readiness.xlsx`` and ``streak.png``. Returns the paths by kind."""
    import pandas as pd

    out = Path(out_dir)
    try:
        out.mkdir(mode=0o700, parents=True, exist_ok=True)  # the pack holds (masked) records: owner-only
    except OSError as exc:
        raise ConfigError(
            f"无法创建证据包目录 {out}（{exc.strerror or exc}）：请换一个可写的目录（--out）", where=str(out)
        ) from exc
    if spec is None and project is not None:  # before the ledger is opened: a bad spec leaks nothing
        from ..spec._load import load_spec

        spec = load_spec(project.spec)
    own = False
    if ledger is None and project is not None and project.ledger_path.exists():
        ledger, own = Ledger(project.ledger_path), True
    try:
        log = pd.DataFrame(
            ledger.events() if ledger else [],
            columns=["at", "platform_day", "dataset", "key", "hash", "batch_no", "status", "errors"],
        )
        log = log.drop(columns=["hash"])
        log["key"] = log["key"].map(mask_key)
        log["errors"] = log["errors"].map(_mask_text)  # a platform may echo a value in its reason
        samples = _masked_samples(ledger, spec, decode=_body_decoder(project)) if ledger else pd.DataFrame()
    finally:
        if own and ledger is not None:
            ledger.close()
    versions = _mapping_versions(project)
    png = readiness.chart_png()
    paths = {"png": out / "streak.png", "xlsx": out / "readiness.xlsx", "html": out / "readiness.html"}
    try:
        return _write_pack(readiness, paths, png, project, log, samples, versions, spec)
    except OSError as exc:  # each file is written atomically: nothing half-written is left
        raise ConfigError(
            f"无法写出证据包到 {out}（{exc.strerror or exc}）：请确认目录可写、"
            f"readiness.xlsx 没有在 Excel 中打开，或换一个目录（--out）",
            where=str(out),
        ) from exc


_HTML_LOG_ROWS = 2000


def _write_pack(
    readiness: Readiness, paths: dict[str, Path], png: bytes, project, log, samples, versions, spec
) -> dict[str, Path]:
    import pandas as pd

    atomic_write(paths["png"], lambda tmp: tmp.write_bytes(png), private=True)
    per_day, log, samples, versions, disagree = pack_frames(readiness, log, samples, versions, spec)
    verdict = pd.DataFrame(
        [
            {
                "项目": project.name if project else "",
                "平台日": readiness.today,
                "结论": readiness.verdict,
                "可以申请": readiness.may_apply,
                "连续达标天数": readiness.streak,
                "今天": readiness.gap_text,
            }
        ]
    )

    signed = [(d, _ds_label(ds, spec)) for d, names in sorted(readiness.sign_ins.items()) for ds in names]
    sign_ins = pd.DataFrame(signed, columns=["平台日", "数据集"])

    def write_workbook(tmp: Path) -> None:
        with excel_writer(tmp) as xw:
            verdict.to_excel(xw, sheet_name="达标结论", index=False)
            per_day.to_excel(xw, sheet_name="每日统计", index=False)
            log.to_excel(xw, sheet_name="上传日志", index=False)
            samples.to_excel(xw, sheet_name="样例记录(脱敏)", index=False)
            versions.to_excel(xw, sheet_name="对照版本", index=False)
            disagree.to_excel(xw, sheet_name="平台对比", index=False)
            if len(sign_ins):
                sign_ins.to_excel(xw, sheet_name="每日签到", index=False)

    atomic_write(paths["xlsx"], write_workbook, private=True)
    b64 = base64.b64encode(png).decode()
    esc = html.escape
    banner = "#2e7d32" if readiness.may_apply else "#c62828"
    parts = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>达标证据包</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:3px 6px}.no{color:#c62828}</style></head><body>",
        f"<h1>达标证据包 — {esc(project.name if project else '')}</h1>",
        f"<p style='background:{banner};color:white;padding:8px'>{esc(readiness.verdict)}</p>",
        f"<p>平台日 {esc(readiness.today)}；今天：{esc(readiness.gap_text)}</p>",
        f"<img alt='连续达标趋势' src='data:image/png;base64,{b64}'>",
        "<h2>每日统计</h2>",
        per_day.to_html(index=False, escape=True, formatters={"成功率": lambda v: f"{v:.1%}"}),
        "<h2>与平台验证日志对比</h2>",
        (
            disagree.to_html(index=False)
            if len(disagree)
            else ("<p>一致</p>" if readiness.platform is not None else "<p>未对比（平台未提供验证日志）</p>")
        ),
        "<h2>上传日志（批次号）</h2>",
        (
            f"<p>共 {len(log)} 条，此处只列最近 {_HTML_LOG_ROWS} 条；完整日志见 readiness.xlsx 的“上传日志”表</p>"
            if len(log) > _HTML_LOG_ROWS
            else ""
        ),
        log.tail(_HTML_LOG_ROWS).to_html(index=False),
        *(["<h2>每日签到（当天无记录，已发送空数组）</h2>", sign_ins.to_html(index=False)] if len(sign_ins) else []),
        "<h2>样例记录（已脱敏）</h2>",
        samples.to_html(index=False),
        "<h2>映射与代码对照版本</h2>",
        versions.to_html(index=False),
        "</body></html>",
    ]
    atomic_write(paths["html"], lambda tmp: tmp.write_text("\n".join(parts), encoding="utf-8"), private=True)
    return paths


def _mask_text(text: Any) -> Any:

    return mask_value(text) if isinstance(text, str) and text else text
