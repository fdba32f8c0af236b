"""Project config (hlwjr.toml): loading, defaults, secrets never from the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlwjr import ConfigError, load_project
from hlwjr.upload._project import Thresholds, write_project


def _write(tmp_path, text: str):
    (tmp_path / "hlwjr.toml").write_text(text, encoding="utf-8")
    return tmp_path


BASIC = """
datasets = ["doctor", "revisit", "recipe"]
mapping_dir = "mapping"
[project]
name = "测试医院"
org_code = "12110000DEMO00001X"
[platform]
profile = "sandbox"
url = "http://127.0.0.1:8081"
appid = "APP1"
secret_file = "secret.txt"
read_timeout = 12.5
[readiness]
min_records_per_day = 40
consecutive_days = 3
"""


def test_load_basic(tmp_path):
    p = load_project(_write(tmp_path, BASIC))
    assert p.name == "测试医院" and p.org_code == "12110000DEMO00001X"
    assert p.datasets == ("doctor", "revisit", "recipe")
    assert p.mapping_dir == tmp_path.resolve() / "mapping"
    assert p.work_dir == tmp_path.resolve() / ".hlwjr"
    assert p.ledger_path.name == "ledger.sqlite"
    assert p.platform.read_timeout == 12.5 and p.platform.appid == "APP1"
    assert p.readiness.min_records_per_day == 40 and p.readiness.success_rate == 1.0
    assert p.readiness.daily_target == 48  # 40 × 1.2
    assert p.phase == "test"


def test_secret_from_env_then_file(tmp_path, monkeypatch):
    p = load_project(_write(tmp_path, BASIC))
    monkeypatch.delenv("HLWJR_SECRET", raising=False)
    with pytest.raises(ConfigError, match="secret.txt"):
        p.secret()
    (tmp_path / "secret.txt").write_text("s3cr3t\n", encoding="utf-8")
    assert p.secret() == "s3cr3t"
    monkeypatch.setenv("HLWJR_SECRET", "from-env")
    assert p.secret() == "from-env"
    assert "s3cr3t" not in repr(p) and "from-env" not in repr(p)


def test_secret_in_config_is_refused(tmp_path):
    _write(tmp_path, BASIC.replace('appid = "APP1"', 'appid = "APP1"\nsecret = "oops"'))
    with pytest.raises(ConfigError, match="密钥不得出现在配置文件里") as e:
        load_project(tmp_path)
    assert "oops" not in str(e.value)


@pytest.mark.parametrize(
    "bad, message",
    [
        ('[platform]\nurl = "ftp://x"\nappid = "a"', "http://"),
        ("[platform]\nbogus = 1", "未知的设置"),
        ("[readiness]\nsuccess_rate = 2", "success_rate"),
        ("[readiness]\nmin_per_day = 2", "未知的达标设置"),
        ('[project]\nphase = "live"', "phase"),
        ('datasets = "recipe"', "datasets 必须是"),
        ("[platform\nurl=1", "TOML 格式错误"),
        ('[platform]\nca_bundle = "nope.pem"', "CA 证书"),
        ("[platform]\nconnect_timeout = 0", "connect_timeout"),
    ],
)
def test_bad_config_names_the_problem(tmp_path, bad, message):
    _write(tmp_path, bad)
    with pytest.raises(ConfigError, match=message) as e:
        load_project(tmp_path)
    assert str(tmp_path) in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="找不到项目配置文件"):
        load_project(tmp_path / "nowhere")


def test_write_project_round_trips_and_refuses_secrets(tmp_path):
    path = write_project(
        tmp_path,
        {
            "datasets": ["unit"],
            "project": {"name": "演示", "org_code": "X"},
            "platform": {"url": "http://127.0.0.1:9", "appid": "A", "proxy": None},
            "readiness": {"per_dataset": True, "required_datasets": ["unit"]},
        },
    )
    p = load_project(path)
    assert p.datasets == ("unit",) and p.readiness.per_dataset and p.readiness.required_datasets == ("unit",)
    with pytest.raises(ConfigError):
        write_project(tmp_path / "b", {"platform": {"secret": "x"}})


def test_thresholds_defaults_follow_the_manual():
    t = Thresholds()
    assert (t.min_records_per_day, t.success_rate, t.max_duplicates, t.consecutive_days) == (30, 1.0, 0, 3)
    assert t.timezone == "Asia/Shanghai" and t.daily_target == 36


def test_yaml_project_same_structure(tmp_path):
    (tmp_path / "hlwjr.yaml").write_text(
        "datasets: [visit]\nproject: {name: 亚姆医院, org_code: X}\nplatform: {url: 'http://127.0.0.1:9/hlwjr', "
        "appid: A}\n"
        "readiness: {consecutive_days: 4}\n",
        encoding="utf-8",
    )
    p = load_project(tmp_path)
    assert p.name == "亚姆医院" and p.readiness.consecutive_days == 4 and p.config_file.name == "hlwjr.yaml"
    (tmp_path / "hlwjr.yaml").write_text("platform: {secret: x}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="密钥"):
        load_project(tmp_path)
    (tmp_path / "hlwjr.yaml").write_text("platform: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="YAML"):
        load_project(tmp_path)


def test_ca_bundle_and_proxy_reach_the_client(tmp_path, monkeypatch):
    import certifi

    from hlwjr import PlatformClient

    (tmp_path / "ca.pem").write_bytes(Path(certifi.where()).read_bytes())
    _write(
        tmp_path,
        BASIC.replace(
            "read_timeout = 12.5", 'read_timeout = 12.5\nca_bundle = "ca.pem"\nproxy = "http://127.0.0.1:3128"'
        ),
    )
    monkeypatch.setenv("HLWJR_SECRET", "s")
    p = load_project(tmp_path)
    assert p.platform.ca_bundle == tmp_path.resolve() / "ca.pem"
    with PlatformClient.from_project(p) as c:
        assert c.proxy == "http://127.0.0.1:3128" and c._http.timeout.read == 12.5


def test_write_project_quotes_keys_and_escapes_strings(tmp_path):
    """Source names are the hospital's (门诊库, his.db) and names may hold quotes, backslashes or a
    newline: what write_project writes must load back the same, never a TOML error or a nested table."""
    sources = {"门诊库": "sqlite:///his.db", "his.db": "data\\his.csv", "plain_name-1": "x.csv"}
    name = '北京"示例"医院\n第二行\t\x7f'
    path = write_project(
        tmp_path,
        {
            "project": {"name": name, "org_code": "X"},
            "platform": {"url": "http://127.0.0.1:9", "appid": "A"},
            "sources": sources,
        },
    )
    p = load_project(path)
    assert p.name == name
    assert set(p.sources) == set(sources)
    assert "\nplain_name-1 = " in path.read_text(encoding="utf-8")  # bare keys stay bare


# ------------------------------------------------------- a secret is refused in every table

SECRET_KEYS = st.sampled_from(
    ["secret", "Secret", "app_secret", "appSecret", "password", "db_password", "token", "access_token", "pwd_x_pwd"]
)
TABLES = st.sampled_from(["sources", "mapping", "work", "readiness", "project", "platform"])


@settings(max_examples=40, deadline=None)
@given(
    table=TABLES,
    key=SECRET_KEYS,
    nested=st.booleans(),
    value=st.text(
        st.characters(codec="utf-8", exclude_categories=["C", "Z"], exclude_characters='"\\'), min_size=4, max_size=12
    ).map(lambda v: "密值" + v),  # never a part of the path or the message itself (hlwj, secret_file…)
)
def test_a_secret_in_any_table_is_refused_without_showing_it(tmp_path_factory, table, key, nested, value):
    where = f"[{table}.inner]" if nested else f"[{table}]"
    d = _write(tmp_path_factory.mktemp("p"), f'datasets = ["doctor"]\n{where}\n{key} = "{value}"\n')
    with pytest.raises(ConfigError, match="密钥不得出现在配置文件里") as e:
        load_project(d)
    assert value not in str(e.value)
    assert e.value.message.startswith(f"{where} 中不能写 {key}")  # the table as the file spells it


def test_secret_env_and_secret_file_stay_allowed(tmp_path):
    _write(tmp_path, BASIC.replace('appid = "APP1"', 'appid = "APP1"\nsecret_env = "MY_SECRET"'))
    assert load_project(tmp_path).platform.secret_env == "MY_SECRET"


def test_a_password_in_a_source_url_is_refused_and_env_references_are_used(tmp_path, monkeypatch):
    from hlwjr import SourceError, read_source
    from hlwjr.sources._read import expand_env

    _write(tmp_path, BASIC + '\n[sources]\nhis = "postgresql://hlwjr:Sup3r-s3cret@db.local/his#visits"\n')
    with pytest.raises(ConfigError, match=r"地址里写了密码") as e:
        load_project(tmp_path)
    assert "Sup3r-s3cret" not in str(e.value)
    _write(tmp_path, BASIC + '\n[sources]\nhis = "postgresql://hlwjr:${HIS_DB_PASSWORD}@db.local/his#visits"\n')
    assert load_project(tmp_path).sources["his"].endswith("${HIS_DB_PASSWORD}@db.local/his#visits")  # kept unexpanded
    with pytest.raises(SourceError, match="HIS_DB_PASSWORD 没有设置") as e:
        expand_env("postgresql://hlwjr:${HIS_DB_PASSWORD}@db.local/his")
    monkeypatch.setenv("HIS_DB_PASSWORD", "pw")
    assert expand_env("postgresql://hlwjr:${HIS_DB_PASSWORD}@db.local/his") == "postgresql://hlwjr:pw@db.local/his"
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "v.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    monkeypatch.setenv("EXPORT_DIR", str(tmp_path / "exports"))
    assert read_source("${EXPORT_DIR}/v.csv")["a"].tolist() == ["1"]


@pytest.mark.parametrize(
    "table, typo, meant",
    [("platform", "urll", "url"), ("platform", "max_retry", "max_retries"), ("run", "window_day", "window_days")],
)
def test_a_mistyped_setting_names_the_setting_meant(tmp_path, table, typo, meant):
    (tmp_path / "hlwjr.toml").write_text(f"[{table}]\n{typo} = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_project(tmp_path)
    assert f"{typo}（是不是 {meant}？）" in exc.value.message


@given(
    host=st.sampled_from(["http://114.255.159.129:8081", "https://hlwjr.example.gov.cn", "http://10.1.2.3"]),
    path=st.lists(st.sampled_from(["hlwjr", "jgpt", "web", "api"]), max_size=3),
    page=st.sampled_from(["index.jsp", "login.html", "Index.HTM", "main.php", "default.aspx", "home.asp"]),
    tail=st.sampled_from(["", "/", "?from=manual", "#top"]),
)
def test_a_url_copied_with_its_web_page_is_refused_naming_the_base(host, path, page, tail):
    """The manual gives the platform as http://114.255.159.129:8081/hlwjr/index.jsp: a URL that ends
    with a page cannot take the interface paths; the message says which base to write."""
    from hlwjr import ConfigError, PlatformClient
    from hlwjr.upload._project import refuse_page_url

    base = "/".join([host, *path])
    url = f"{base}/{page}{tail}"
    for attempt in (lambda: refuse_page_url(url), lambda: PlatformClient("sandbox", url, "appid", "s")):
        with pytest.raises(ConfigError) as exc:
            attempt()
        assert page in str(exc.value) and f"写成 {base}（" in str(exc.value)
    refuse_page_url(base)  # the base itself is fine


_IN_TOML = " \t\u00a0\u3000\ufeff\u200b\u200d\u2060"  # what a TOML string can hold literally
_EDGES = st.text(st.sampled_from(_IN_TOML), max_size=4)
_FILE_EDGES = st.text(st.sampled_from(_IN_TOML + "\r\n"), max_size=4)


@given(before=_EDGES, after=_EDGES, file_after=_FILE_EDGES, bom=st.booleans())
def test_keys_and_config_saved_by_notepad_or_pasted_from_a_page_read_as_issued(
    tmp_path_factory, before, after, file_after, bom
):
    """Windows Notepad saves a byte order mark; a key copied from a web page or a chat brings spaces,
    line breaks and zero-width characters at its ends. hlwjr.toml, the appid and both key files
    read as issued."""
    from hlwjr.upload._project import load_project

    root = tmp_path_factory.mktemp("pasted")
    (root / ".hlwjr").mkdir()
    head = "\ufeff" if bom else ""
    (root / "hlwjr.toml").write_text(
        f'{head}[platform]\nprofile = "gateway-hmac"\nurl = "http://127.0.0.1:1"\nappid = "{before}hlw123{after}"\n'
        'secret_file = ".hlwjr/secret"\nbody_key_file = ".hlwjr/body_key"\nsecret_env = ""\nbody_key_env = ""\n',
        encoding="utf-8",
    )
    (root / ".hlwjr" / "secret").write_text(f"{head}{before}s3cret{file_after}", encoding="utf-8")
    (root / ".hlwjr" / "body_key").write_text(f"{head}1234567890123456{file_after}", encoding="utf-8")
    project = load_project(root)
    assert (project.platform.appid, project.secret(), project.body_key()) == ("hlw123", "s3cret", "1234567890123456")


@pytest.mark.parametrize("char", ["\u200b", "\ufeff", "\u200d"])
def test_an_invisible_character_inside_a_key_is_refused_by_position_unshown(tmp_path, char):
    from hlwjr import ConfigError
    from hlwjr.upload._project import load_project

    (tmp_path / ".hlwjr").mkdir()
    (tmp_path / "hlwjr.toml").write_text(
        '[platform]\nurl = "http://127.0.0.1:1"\nappid = "a"\nsecret_file = ".hlwjr/secret"\nsecret_env = ""\n'
    )
    (tmp_path / ".hlwjr" / "secret").write_text(f"abc{char}defsecret", encoding="utf-8")
    with pytest.raises(ConfigError, match="第 4 个字符是看不见的") as exc:
        load_project(tmp_path).secret()
    assert "defsecret" not in str(exc.value) and f"U+{ord(char):04X}" in str(exc.value)


def test_a_config_saved_as_gbk_says_how_to_save_it_as_utf8(tmp_path):
    from hlwjr import ConfigError
    from hlwjr.upload._project import load_project

    (tmp_path / "hlwjr.toml").write_bytes('[project]\nname = "示例互联网医院"\n'.encode("gbk"))
    with pytest.raises(ConfigError, match="另存为，编码选 UTF-8"):
        load_project(tmp_path)
