"""A small hospital for the production-run tests: CSV exports of a HIS (visits, prescriptions with
lines, evaluations) over several business days, a mapping with ``final_when``, and a project on
the sandbox. The sandbox serves a stricter copy of the spec (patient name ≤ 4 characters), so a
record can pass pre-flight and still be refused by the platform — as real platforms do."""

from __future__ import annotations

import csv
import io
import os
import shutil
from datetime import date, timedelta
from pathlib import Path

from hlwjr._privacy import id_check_char
from hlwjr.upload._project import load_project, write_project

MINISPEC = Path(__file__).parent / "data" / "upload_minispec"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_counter = [0]
LONG_NAME = "王试超长名字"  # passes the project's spec (≤ 32), refused by the strict sandbox (≤ 4)


def uscc(n: int) -> str:
    first17 = f"9211010{n:010d}"
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return first17 + _USCC_CHARS[(31 - total % 31) % 31]


def id_number(n: int) -> str:
    first17 = f"11010119800307{n % 1000:03d}"
    return first17 + id_check_char(first17)


def strict_spec(root: Path) -> Path:
    """The minispec with ``visit.patientName`` at most 4 characters (the platform's stricter rule)."""
    out = root / "strict_spec"
    if not out.exists():
        shutil.copytree(MINISPEC, out)
        p = out / "datasets" / "visit.yaml"
        text = p.read_text(encoding="utf-8")
        text = text.replace(
            "{key: patientName, name: 患者姓名, max_length: 32", "{key: patientName, name: 患者姓名, max_length: 4"
        )
        assert "max_length: 4" in text
        p.write_text(text, encoding="utf-8")
    return out


def days_from(first: str, n: int) -> list[str]:
    d0 = date.fromisoformat(first)
    return [(d0 + timedelta(days=i)).isoformat() for i in range(n)]


def hospital_rows(days: list[str], per_day: int) -> dict[str, list[dict]]:
    """HIS rows: per day ``per_day`` visits (all 已完成), a prescription each (已审核) with one line,
    and an evaluation for every second visit."""
    visits, rx, lines, evals = [], [], [], []
    for d in days:
        stamp = d.replace("-", "")
        for i in range(per_day):
            vid = f"FZ{stamp}{i:04d}"
            visits.append(
                {
                    "FZID": vid,
                    "XM": f"李试{i % 10}",
                    "SFZH": id_number(i),
                    "XB": "M" if i % 2 else "F",
                    "KSSJ": f"{d} {8 + i % 10:02d}:{i % 60:02d}:00",
                    "ZT": "已完成",
                }
            )
            rx.append(
                {"CFBH": f"CF{stamp}{i:04d}", "FZID": vid, "JE": "12.50", "KFSJ": f"{d} 18:00:00", "SHZT": "已审核"}
            )
            lines.append({"CFBH": f"CF{stamp}{i:04d}", "XH": "1", "YPMC": "阿莫西林胶囊", "SL": "2"})
            if i % 2 == 0:
                evals.append({"PJID": f"PJ{stamp}{i:04d}", "FZID": vid, "PF": "5", "PJSJ": f"{d} 20:00:00"})
    return {"visits": visits, "rx": rx, "rx_lines": lines, "evals": evals}


def write_tables(src: Path, tables: dict[str, list[dict]]) -> None:
    src.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        cols = (
            list(rows[0])
            if rows
            else {"visits": ["FZID"], "rx": ["CFBH"], "rx_lines": ["CFBH"], "evals": ["PJID"]}[name]
        )
        tmp = src / f".{name}.csv.tmp"
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            w.writerows(rows)
        os.replace(tmp, src / f"{name}.csv")


def write_mapping(mdir: Path, org: str) -> None:
    (mdir / "datasets").mkdir(parents=True, exist_ok=True)
    (mdir / "codes").mkdir(exist_ok=True)
    (mdir / "codes" / "sex.csv").write_text(
        "local,local_name,code,name,status,comment\nM,男,1,男性,accepted,\nF,女,2,女性,accepted,\n", encoding="utf-8"
    )
    (mdir / "mapping.yaml").write_text(
        "kind: hlwjr/mapping\nversion: 1\nspec:\n  id: upload-mini\n  version: '0.1'\nhospital: 运行测试医院\n"
        "sources:\n  his:\n    path: src\ncode_maps:\n  sex:\n    file: codes/sex.csv\n    code_set: sex\n",
        encoding="utf-8",
    )
    (mdir / "datasets" / "visit.yaml").write_text(
        f"""kind: hlwjr/mapping-dataset
version: 1
dataset: visit
source:
  table: visits
  business_time: KSSJ
  final_when: {{column: ZT, in: [已完成]}}
fields:
  organID: {{const: '{org}'}}
  bussID: {{column: FZID}}
  patientName: {{column: XM}}
  patientCertID: {{column: SFZH}}
  sex: {{column: XB, code_map: sex}}
  visitTime: {{column: KSSJ}}
""",
        encoding="utf-8",
    )
    (mdir / "datasets" / "recipe.yaml").write_text(
        f"""kind: hlwjr/mapping-dataset
version: 1
dataset: recipe
source:
  table: rx
  business_time: KFSJ
  final_when: {{column: SHZT, in: [已审核]}}
fields:
  organID: {{const: '{org}'}}
  recipeID: {{column: CFBH}}
  bussID: {{column: FZID}}
  fee: {{column: JE}}
  orderList:
    children:
      table: rx_lines
      keys: {{CFBH: CFBH}}
      order_by: XH
      fields:
        drugName: {{column: YPMC}}
        quantity: {{column: SL}}
""",
        encoding="utf-8",
    )
    (mdir / "datasets" / "evaluation.yaml").write_text(
        f"""kind: hlwjr/mapping-dataset
version: 1
dataset: evaluation
source:
  table: evals
  business_time: PJSJ
fields:
  organID: {{const: '{org}'}}
  evaluateID: {{column: PJID}}
  bussID: {{column: FZID}}
  score: {{column: PF}}
""",
        encoding="utf-8",
    )


def new_hospital(tmp_path: Path, sandbox, monkeypatch, *, tables=None, run=None, alerts=None, platform=None):
    """A project for a freshly registered hospital: ``(project, org, src_dir)``."""
    _counter[0] += 1
    org = uscc(os.getpid() * 100 + _counter[0])
    appid, secret = sandbox.register(org, f"运行测试医院{_counter[0]}")
    env = f"HLWJR_OPS_SECRET_{_counter[0]}"
    monkeypatch.setenv(env, secret)
    root = tmp_path / f"hospital{_counter[0]}"
    mdir = root / "mapping"
    write_mapping(mdir, org)
    src = mdir / "src"
    write_tables(src, tables if tables is not None else hospital_rows(["2026-11-01"], 3))
    cfg = {
        "datasets": ["visit", "recipe", "evaluation"],
        "mapping_dir": "mapping",
        "project": {"name": "运行测试医院", "org_code": org, "spec": str(MINISPEC), "phase": "production"},
        "platform": {
            "profile": "sandbox",
            "url": sandbox.url,
            "appid": appid,
            "secret_env": env,
            "backoff_base": 0.01,
            "backoff_max": 0.05,
            "max_retries": 1,
            "read_timeout": 10,
            **(platform or {}),
        },
    }
    if run:
        cfg["run"] = run
    if alerts:
        cfg["alerts"] = alerts
    return load_project(write_project(root, cfg)), org, src


def cli(*argv):
    """``hlwjr …`` in-process → (exit code, stdout, stderr)."""
    from hlwjr.cli import parse_args, run

    out, err = io.StringIO(), io.StringIO()
    code = run(parse_args(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()
