"""The shipped reference spec (beijing-reference) and its example records, for tests."""

from __future__ import annotations

import json
from pathlib import Path

import hlwjr


def reference_examples(spec=None) -> dict[str, list]:
    """Example records of every data set that has them: ``{dataset code: [record, ...]}``."""
    spec = spec or hlwjr.load_spec()
    out = {}
    for f in sorted((Path(spec.path) / "examples").glob("*.json")):
        data = json.loads(f.read_text(encoding="utf-8"))
        out[f.stem] = data["records"] if isinstance(data, dict) and "records" in data else data
    return out
