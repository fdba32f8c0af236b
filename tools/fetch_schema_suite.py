"""Fetch the official JSON-Schema-Test-Suite (draft 2020-12) into a cache directory.

The suite ships inside the ``jsonschema`` source distribution on PyPI (``json/tests/``); this
downloads that sdist with pip (so pip's index settings apply) for the installed jsonschema
version and unpacks only ``json/tests/draft2020-12``. Nothing of it is committed.

    python tools/fetch_schema_suite.py .cache/json-schema-test-suite
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PART = "json/tests/draft2020-12/"


def main(target: Path) -> int:
    version = importlib.metadata.version("jsonschema")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", "jsonschema"]
        subprocess.run([*cmd, "-d", tmp, f"jsonschema=={version}"], check=True)
        sdist = next(Path(tmp).glob("jsonschema-*.tar.gz"))
        out = Path(tmp) / "suite"
        with tarfile.open(sdist) as tar:
            members = [m for m in tar.getmembers() if PART in m.name and (m.isfile() or m.isdir())]
            tar.extractall(out, members=members, filter="data")
        found = next(out.glob(f"*/{PART}"))
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(found, target / "draft2020-12")
        (target / "VERSION").write_text(f"jsonschema {version} sdist\n", encoding="utf-8")
    print(f"JSON-Schema-Test-Suite (draft 2020-12, from jsonschema {version}) in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
