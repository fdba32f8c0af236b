"""A file named after a patient (``复诊_110101199003074574.csv``, ``张三13812345678.xlsx`` — staff
name exports that way) shows no full ID-card or phone number in any message, whatever the
command and whatever goes wrong with the file: the error's location and text are masked where
errors are made, and a source's label where it is made."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlwjr import cli
from hlwjr._privacy import id_check_char

MAPPING = Path(__file__).resolve().parents[1] / "mapping" / "demo"


def _id(region: str, birth: str, seq: int) -> str:
    body = f"{region}{birth}{seq:03d}"
    return body + id_check_char(body)


ids = st.builds(
    _id,
    st.sampled_from(["110101", "310104", "440305", "120102"]),
    st.sampled_from(["19900307", "20011231", "19751015"]),
    st.integers(0, 999),
)
mobiles = st.builds(lambda p, n: f"1{p}{n:09d}", st.sampled_from("3456789"), st.integers(0, 10**9 - 1))
names = st.tuples(
    st.sampled_from(["复诊_", "患者", "", "export-", "张三_"]),
    ids | mobiles,
    st.sampled_from(["", "_v2", "-2026-11-01"]),
)
contents = st.sampled_from(["", "a,b\n", "bussID\n1\n", "\x00\x01binary", "{not json"])


def _run(*argv) -> str:
    out, err = io.StringIO(), io.StringIO()
    cli.run(cli.parse_args([str(a) for a in argv]), out, err)
    return out.getvalue() + err.getvalue()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, suffix=st.sampled_from([".csv", ".jsonl", ".xlsx", ".docx"]), content=contents, exists=st.booleans())
def test_no_command_shows_the_number_in_a_file_name(tmp_path, name, suffix, content, exists):
    head, number, tail = name
    path = tmp_path / f"{head}{number}{tail}{suffix}"
    if exists:
        path.write_bytes(content.encode("utf-8"))
    commands = [
        ("profile", path),
        ("validate", "-d", "revisit", path),
        ("spec", "import", path),
        ("map", "import", "--mapping", MAPPING, "--in", path),
    ]
    for argv in commands:
        text = _run(*argv)
        assert number not in text, (argv, text[-500:])
        assert "Traceback" not in text
