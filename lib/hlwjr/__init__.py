"""hlwjr — the workbench that gets a hospital's data onto the Beijing internet-hospital
supervision platform (北京市医疗服务与执业监管平台 — 互联网医院接入平台).

The steps, each one a notebook and a CLI command, each backed by what this module exports::

    spec        load_spec, Spec, Dataset, Field, CodeSet, import_spec, diff_specs, export_spec
    sources     read_source, profile_source
    mapping     load_mapping, Mapping, apply_mapping, suggest_fields, suggest_codes (指标对照)
    validation  check, iter_problems, validate, is_valid, fast_validate, Problem, Report (强制校验)
    upload      load_project, Project, PlatformClient, Ledger, run_upload (测试数据上传)
    readiness   compute_readiness, Readiness (验证日志 / 达标)
    operations  run_production, compute_status, refused_list, resend_refused, backfill (日常运行)
    sandbox     create_app, Sandbox (a local stand-in for the platform)
    notebooks   open_workbench, Workbench (guided notebooks; widgets in hlwjr.widgets)

Names are imported lazily so that ``import hlwjr`` (and the CLI) start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._exceptions import (
    AuthError,
    ConfigError,
    DataError,
    HlwjrError,
    LedgerError,
    MappingError,
    PlatformRejected,
    RecordsInvalid,
    SchemaUnsupported,
    SourceError,
    SpecError,
    SpecImportError,
    TransportError,
    UploadError,
)

__version__ = "0.1.0"

# public name -> private module that defines it
_LAZY: dict[str, str] = {
    # spec (接口规范)
    "Spec": ".spec._model",
    "Dataset": ".spec._model",
    "Field": ".spec._model",
    "CodeSet": ".spec._model",
    "load_spec": ".spec._load",
    "list_specs": ".spec._load",
    "import_spec": ".spec.importing._importer",
    "diff_specs": ".spec._diff",
    "export_spec": ".spec._export",
    # identity numbers and masking
    "check_id_number": "._privacy",
    "mask_value": "._privacy",
    # validation (强制校验)
    "Problem": ".validation._report",
    "Report": ".validation._report",
    "RULES": ".validation._rules",
    "check": ".validation._engine",
    "iter_problems": ".validation._engine",
    "validate": ".validation._engine",
    "is_valid": ".validation._engine",
    "fast_validate": ".validation._fastschema",
    # sources, profiling, mapping (指标对照)
    "read_source": ".sources._read",
    "profile_source": ".sources._profile",
    "Mapping": ".mapping._config",
    "load_mapping": ".mapping._config",
    "apply_mapping": ".mapping._engine",
    "suggest_fields": ".mapping._suggest",
    "suggest_codes": ".mapping._suggest",
    "generate_demo_hospital": ".demo._hospital",
    # platform, upload, readiness
    "Project": ".upload._project",
    "load_project": ".upload._project",
    "PlatformProfile": ".upload._profile",
    "PlatformClient": ".upload._client",
    "TokenAuth": ".upload._client",
    "Ledger": ".upload._ledger",
    "run_upload": ".upload._uploader",
    "Readiness": ".readiness._readiness",
    "compute_readiness": ".readiness._readiness",
    # operations (日常运行)
    "run_production": ".operations._run",
    "compute_status": ".operations._status",
    "refused_list": ".operations._refused",
    "resend_refused": ".operations._refused",
    "backfill": ".operations._backfill",
    # sandbox
    "create_app": ".sandbox",
    "Sandbox": ".sandbox",
    # notebooks (工作台笔记本)
    "open_workbench": ".workbench._workbench",
    "Workbench": ".workbench._workbench",
}

__all__ = [
    "__version__",
    "HlwjrError",
    "LedgerError",
    "ConfigError",
    "SpecError",
    "SpecImportError",
    "SchemaUnsupported",
    "MappingError",
    "DataError",
    "SourceError",
    "RecordsInvalid",
    "UploadError",
    "TransportError",
    "AuthError",
    "PlatformRejected",
    *_LAZY,
]


def __getattr__(name: str):
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'hlwjr' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover - for editors and type checkers only
    from .spec._load import list_specs, load_spec  # noqa: F401
    from .spec._model import CodeSet, Dataset, Field, Spec  # noqa: F401
