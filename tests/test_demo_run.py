"""`hlwjr demo run` — the whole job (make demo): demo hospital, sandbox, register, map, validate,
three rehearsal days, readiness agreeing with the sandbox's verification log; plus the `hlwjr
upload` / `hlwjr readiness` commands on the demo project (exit codes, one-line errors)."""

from __future__ import annotations

import io
import os
import re

import pytest

from hlwjr.cli import parse_args, run

pytestmark = pytest.mark.slow


def cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse_args(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    code, text, err = cli("demo", "run", "--out", str(out))
    # the sandbox is stopped after the demo: fail fast in the tests below
    toml = out / "project" / "hlwjr.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("[platform]", "[platform]\nmax_retries = 1\nbackoff_base = 0.05"),
        encoding="utf-8",
    )
    return out, code, text, err


def test_demo_run_may_apply_and_agrees_with_verify_log(demo):
    out, code, text, err = demo
    assert code == 0, text[-3000:] + err
    for step in (
        "1 接口规范",
        "2 生成演示医院",
        "3 启动沙箱平台并注册",
        "5.1 演练第 1 天",
        "5.3 演练第 3 天",
        "6 达标情况",
        "7 停止沙箱",
    ):
        assert step in text
    assert "暂缓" in text and "身份证号校验位错误" in text  # the dirty records held back, with reasons
    assert "可以申请" in text and "平台验证日志与台账一致" in text
    assert "沙箱已停止" in text
    # no secret, no full ID number in the output
    secret = (out / "project" / ".hlwjr" / "secret").read_text(encoding="utf-8").strip()
    assert secret not in text
    assert not re.search(r"(?<!\d)\d{17}[\dX](?!\d)", text)
    assert (out / "evidence" / "readiness.html").exists() and (out / "evidence" / "readiness.xlsx").exists()
    assert secret not in (out / "project" / "hlwjr.toml").read_text(encoding="utf-8")


def test_readiness_cli_after_demo(demo):
    out, *_ = demo
    # the sandbox is stopped now: readiness still answers from the ledger, and says so
    code, text, err = cli("readiness", "--config", str(out / "project"), "--today", "2026-11-03")
    assert code == 1 or code == 0
    assert "连续达标天数: 3" in text and "无法读取平台验证日志" in err
    code, text, _ = cli(
        "readiness", "--config", str(out / "project"), "--today", "2026-11-03", "--no-platform", "--format", "json"
    )
    import json

    data = json.loads(text)
    assert code == 0 and data["may_apply"] is True and data["streak"] == 3
    code, text, _ = cli(
        "readiness",
        "--config",
        str(out / "project"),
        "--today",
        "2026-11-03",
        "--no-platform",
        "--format",
        "html",
        "--out",
        str(out / "ev2"),
    )
    assert code == 0 and (out / "ev2" / "readiness.html").exists()


def test_upload_cli_errors_are_one_line(demo, monkeypatch):
    out, *_ = demo
    proj = str(out / "project")
    # the sandbox is stopped: platform down at start → one clear line, exit 1, nothing marked sent
    from hlwjr import Ledger

    with Ledger(out / "project" / ".hlwjr" / "ledger.sqlite") as led:
        before = led.counts()
    code, text, err = cli("upload", "--config", proj, "--date", "2026-11-04", "--no-progress")
    assert code == 1 and err.startswith("错误: ") and "无法连接平台" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    with Ledger(out / "project" / ".hlwjr" / "ledger.sqlite") as led:
        assert led.counts() == before and led.unresolved_batches() == []
    # dry run needs no platform: maps and validates only
    code, text, err = cli("upload", "--config", proj, "--date", "2026-11-04", "--dry-run", "--no-progress")
    assert "预演" in text and code in (0, 1)
    # usage errors
    code, _, err = cli("upload", "--config", proj, "--date", "04/11/2026")
    assert code == 2 and "YYYY-MM-DD" in err
    code, _, err = cli("upload", "--config", str(out / "nowhere"))
    assert code == 2 and "找不到项目配置文件" in err
    monkeypatch.setenv("HLWJR_DEMO_SECRET", "")
    os.rename(out / "project" / ".hlwjr" / "secret", out / "project" / ".hlwjr" / "secret.bak")
    try:
        code, _, err = cli("upload", "--config", proj, "--date", "2026-11-04")
        assert code == 2 and "密钥" in err
    finally:
        os.rename(out / "project" / ".hlwjr" / "secret.bak", out / "project" / ".hlwjr" / "secret")


def test_upload_cli_wrong_secret_url_proxy(demo, tmp_path, monkeypatch):
    """Wrong secret, wrong URL, proxy unreachable: one clear line each, exit code ≠ 0, nothing lost."""
    import socket

    from hlwjr import Ledger
    from hlwjr.sandbox import Sandbox

    out, *_ = demo
    toml = out / "project" / "hlwjr.toml"
    original = toml.read_text(encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    with Ledger(out / "project" / ".hlwjr" / "ledger.sqlite") as led:
        before = led.counts()
    with Sandbox(tmp_path / "sb") as sb:
        url = re.search(r'url = "([^"]+)"', original).group(1)
        cases = {
            "secret": (original.replace(url, sb.url), "appid", 1),  # this sandbox never issued our appid
            "url": (original.replace(url, sb.url.replace("/hlwjr", "/nope")), "平台地址不正确", 2),
            "proxy": (
                original.replace(url, sb.url).replace(
                    "[platform]", f'[platform]\nproxy = "http://127.0.0.1:{dead_port}"'
                ),
                "代理",
                1,
            ),
        }
        try:
            for name, (cfg, text, want) in cases.items():
                toml.write_text(cfg, encoding="utf-8")
                code, _, err = cli("upload", "--config", str(out / "project"), "--date", "2026-11-04", "--no-progress")
                assert code == want, (name, err)
                assert err.startswith("错误: ") and text in err and len(err.strip().splitlines()) == 1, (name, err)
                secret = (out / "project" / ".hlwjr" / "secret").read_text(encoding="utf-8").strip()
                assert secret not in err
        finally:
            toml.write_text(original, encoding="utf-8")
    with Ledger(out / "project" / ".hlwjr" / "ledger.sqlite") as led:
        assert led.counts() == before and led.unresolved_batches() == []


# ------------------------------------------------------------- nothing unmasked leaves the tool

_AT_REST = {".sqlite", ".sqlite-wal", ".sqlite-shm", ".png", ".lock"}  # record stores (0600), images, locks


def _identifying_values(hospital) -> set[str]:
    """Every ID-card and mobile number in the demo hospital's export (all tables, all columns)."""
    import csv

    from hlwjr._privacy import check_id_number

    found = set()
    for path in (hospital / "csv").glob("*.csv"):
        with open(path, encoding="gb18030", newline="") as fh:
            for row in csv.reader(fh):
                found.update(v for v in row if check_id_number(v) or re.fullmatch(r"1[3-9]\d{9}", v))
    return found


def _readable_text(path) -> str:
    import zipfile

    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    return path.read_bytes().decode("utf-8", "replace")


def test_no_output_of_make_demo_shows_a_full_id_or_phone_number(demo):
    out, code, text, err = demo
    assert code == 0
    secrets_ = _identifying_values(out / "hospital")
    assert len(secrets_) > 100  # the export really holds them
    outputs = [p for p in out.rglob("*") if p.is_file() and "hospital" not in p.parts and p.suffix not in _AT_REST]
    assert any(p.name == "readiness.html" for p in outputs) and any(p.suffix == ".xlsx" for p in outputs)
    for name, body in [("stdout", text + err)] + [(str(p), _readable_text(p)) for p in outputs]:
        shown = [s for s in secrets_ if s in body]
        assert not shown, f"{name} shows {len(shown)} full ID/phone numbers"


def test_files_holding_records_are_owner_only(demo):
    import stat

    out = demo[0]
    holders = [
        *(out / "hospital").rglob("*.csv"),
        out / "hospital" / "his.sqlite",
        *(out / "project" / ".hlwjr").rglob("*.sqlite"),
        out / "project" / ".hlwjr" / "secret",
        out / "sandbox" / "sandbox.sqlite",
        *(out / "evidence").iterdir(),
    ]
    loose = [str(p) for p in holders if p.is_file() and stat.S_IMODE(p.stat().st_mode) & 0o077]
    assert not loose, loose
    for d in (out / "project" / ".hlwjr", out / "sandbox", out / "evidence"):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d


def test_demo_run_on_the_tianjin_gateway(tmp_path):
    """`hlwjr demo run --protocol tianjin`: the same rehearsal over the 国密 gateway (SM3/SM4),
    readiness agreeing with the sandbox's verification log, samples decrypted into the evidence."""
    code, text, err = cli("demo", "run", "--out", str(tmp_path), "--protocol", "tianjin")
    assert code == 0, text[-3000:] + err
    assert "/openapi/api" in text and "可以申请" in text and "平台验证日志与台账一致" in text
    secret = (tmp_path / "project" / ".hlwjr" / "secret").read_text(encoding="utf-8").strip()
    assert len(secret) == 32 and secret not in text + err
    toml = (tmp_path / "project" / "hlwjr.toml").read_text(encoding="utf-8")
    assert "tianjin-rehearsal.yaml" in toml and secret not in toml
    import pandas as pd

    samples = pd.read_excel(tmp_path / "evidence" / "readiness.xlsx", sheet_name="样例记录(脱敏)")
    assert len(samples) > 10


def test_demo_run_on_the_gateways_earlier_format(tmp_path):
    """`hlwjr demo run --protocol gateway-hmac`: the rehearsal over the same gateway before 国密
    (HmacSHA256, AES body under encodingAesKey), both keys in git-ignored 0600 files, never shown."""
    import stat

    code, text, err = cli("demo", "run", "--out", str(tmp_path), "--protocol", "gateway-hmac", "--days", "3")
    assert code == 0, text[-3000:] + err
    assert "/openapi/api" in text and "可以申请" in text and "平台验证日志与台账一致" in text
    keys = tmp_path / "project" / ".hlwjr"
    secret = (keys / "secret").read_text(encoding="utf-8").strip()
    body_key = (keys / "body_key").read_text(encoding="utf-8").strip()
    assert len(body_key) == 16 and stat.S_IMODE((keys / "body_key").stat().st_mode) == 0o600
    toml = (tmp_path / "project" / "hlwjr.toml").read_text(encoding="utf-8")
    assert "gateway-hmac-rehearsal.yaml" in toml and "body_key_file" in toml
    assert not any(k in text + err + toml for k in (secret, body_key))
    import pandas as pd

    samples = pd.read_excel(tmp_path / "evidence" / "readiness.xlsx", sheet_name="样例记录(脱敏)")
    assert len(samples) > 10  # the AES bodies the ledger kept, decrypted with the body key


def test_validate_with_the_project_agrees_with_upload_about_accepted_records(demo, tmp_path):
    """`validate --config P` checks references against the project's ledger, as `upload` does,
    and counts records the platform already accepted instead of reporting them."""
    import json as _json

    from hlwjr.upload._ledger import Ledger

    out = demo[0]
    project = out / "project"
    with Ledger(project / ".hlwjr" / "ledger.sqlite") as ledger:
        batch = next(e for e in ledger.events() if e["status"] == "accepted" and e["dataset"] == "recipe")
        body = _json.loads(ledger.batch_body(batch["batch_no"]))
    records = body if isinstance(body, list) else next(v for v in body.values() if isinstance(v, list))
    f = tmp_path / "recipes.jsonl"
    f.write_text("\n".join(_json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    code, text, err = cli("validate", "-d", "recipe", str(f))  # alone: what they reference is unknown
    assert code == 0 and "未检查" in text, text[-2000:] + err
    code, text, err = cli("validate", "-d", "recipe", str(f), "--config", str(project))
    assert code == 0 and "未检查" not in text and "[reference]" not in text, text[-2000:] + err  # the ledger knows
    assert f"平台已接收（上传台账）：recipe {len(records)} 条" in text and "already_accepted" not in text
