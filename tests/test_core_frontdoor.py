"""The package's front door: ``__all__`` is exactly what resolves, and the error tree holds."""

from __future__ import annotations

import subprocess
import sys

import hlwjr


def test_every_public_name_resolves():
    missing = []
    for name in hlwjr.__all__:
        try:
            getattr(hlwjr, name)
        except (AttributeError, ImportError) as exc:
            missing.append(f"{name}: {exc}")
    assert not missing, missing


def test_all_is_sorted_out_of_private_modules():
    assert all(not n.startswith("_") or n == "__version__" for n in hlwjr.__all__)
    assert len(set(hlwjr.__all__)) == len(hlwjr.__all__)


def test_exception_tree():
    assert issubclass(hlwjr.SpecError, hlwjr.ConfigError)
    assert issubclass(hlwjr.MappingError, hlwjr.ConfigError)
    assert issubclass(hlwjr.SourceError, hlwjr.DataError)
    assert issubclass(hlwjr.RecordsInvalid, hlwjr.DataError)
    for cls in (hlwjr.TransportError, hlwjr.AuthError, hlwjr.PlatformRejected):
        assert issubclass(cls, hlwjr.UploadError)
    for cls in (hlwjr.ConfigError, hlwjr.DataError, hlwjr.UploadError):
        assert issubclass(cls, hlwjr.HlwjrError)
    err = hlwjr.SourceError("无法解码", where="his.csv 第 3 行")
    assert str(err) == "his.csv 第 3 行: 无法解码" and err.where == "his.csv 第 3 行"


def test_import_is_lazy_and_fast():
    code = "import sys, hlwjr; print(sorted(m for m in ('pandas','fastapi','httpx') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
