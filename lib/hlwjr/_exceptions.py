"""The one exception tree of hlwjr.

Every error hlwjr raises on purpose is an :class:`HlwjrError`; catch that to catch them all.
The tree separates *what the user must fix*::

    HlwjrError
    ├── ConfigError              project config, platform profile, secrets, CLI usage
    │   ├── SpecError            interface spec (接口规范): malformed file, unknown data set/code set
    │   │   ├── SpecImportError  a Word/Excel interface document that cannot be imported
    │   │   └── SchemaUnsupported  a JSON Schema keyword/regex the fast validator does not support
    │   └── MappingError         mapping config (指标对照) inconsistent with the spec or the source
    ├── DataError                the hospital's data
    │   ├── SourceError          unreadable source: encoding, ragged rows, empty file, SQL error
    │   └── RecordsInvalid       records break mandatory checks (强制校验); carries ``.report``
    └── UploadError              talking to the platform
        ├── TransportError       network, timeout, 5xx, 系统繁忙 — transient, retried before raised
        ├── AuthError            appid/secret refused, token not renewable
        ├── PlatformRejected     the platform answered and refused the data; never retried
        └── LedgerError          the upload ledger is lost, emptied, replaced, older or damaged

Errors carry a ``where`` string (file, table/sheet, row, column or field) when one is known, and
their message says what to fix.  Low-level exceptions (``httpx``, ``sqlite3``, ``yaml``,
``UnicodeDecodeError``...) are translated at one place each, with ``raise ... from``.
"""

from __future__ import annotations

from ._privacy import mask_text  # the one owner of masking (it imports nothing of ours)

__all__ = [
    "AuthError",
    "ConfigError",
    "DataError",
    "HlwjrError",
    "LedgerError",
    "MappingError",
    "PlatformRejected",
    "RecordsInvalid",
    "SchemaUnsupported",
    "SourceError",
    "SpecError",
    "SpecImportError",
    "TransportError",
    "UploadError",
]


class HlwjrError(Exception):
    """Base of every error hlwjr raises on purpose."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = _shown(message)
        self.where = _shown(where)
        super().__init__(f"{self.where}: {self.message}" if self.where else self.message)


def _shown(text: str | None) -> str | None:
    """A message or a location as every error shows it: the last line of defence for patient data
    — a file named after a patient (``复诊_110101199003074574.csv``), a value quoted whole — shows
    no full ID-card or phone number (values are masked where they are quoted, too)."""
    return mask_text(str(text)) if text else text


class ConfigError(HlwjrError):
    """Configuration the user wrote (project config, platform profile, CLI arguments) is wrong."""


class SpecError(ConfigError):
    """The interface spec (接口规范) is malformed, or names an unknown data set / code set."""


class SpecImportError(SpecError):
    """A Word/Excel interface document could not be imported (nothing was written)."""


class SchemaUnsupported(SpecError):
    """``fast_validate`` met a JSON Schema keyword or regex feature it does not implement."""


class MappingError(ConfigError):
    """A mapping config (指标对照) does not fit the spec or its source."""


class DataError(HlwjrError):
    """The hospital's data cannot be read or does not satisfy the spec."""


class SourceError(DataError):
    """A source (CSV, Excel, database) cannot be read as given."""


class RecordsInvalid(DataError):
    """Records break mandatory checks (强制校验). ``report`` holds every problem found."""

    def __init__(self, message: str, *, report=None, where: str | None = None) -> None:
        super().__init__(message, where=where)
        self.report = report


class UploadError(HlwjrError):
    """Something went wrong between hlwjr and the platform."""


class TransportError(UploadError):
    """Network failure, timeout, HTTP 5xx or 系统繁忙 that persisted through the retries."""


class AuthError(UploadError):
    """The platform refused the appid/secret or the token (获取令牌失败)."""


class PlatformRejected(UploadError):
    """The platform answered and rejected the request or its data; never retried."""

    def __init__(self, message: str, *, code=None, errors=None, where: str | None = None) -> None:
        super().__init__(message, where=where)
        self.code = code
        self.errors = errors or []


class LedgerError(UploadError):
    """The upload ledger (上传台账) is not the one the last run left behind — lost, emptied,
    replaced by another, an older copy, or damaged. Nothing is sent until it is rebuilt."""
