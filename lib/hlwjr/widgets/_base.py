"""What every workbench widget shares: an ``errors`` Output where callback errors are shown as
readable Chinese messages (never swallowed), and small HTML helpers."""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..workbench._errors import error_html, error_text

__all__ = ["ErrorsMixin", "badge", "esc", "guarded"]


def esc(v: Any) -> str:
    return "" if v is None else html.escape(str(v))


def badge(text: str, color: str) -> str:
    return (
        f"<span style='background:{color};color:white;border-radius:3px;padding:0 4px;"
        f"font-size:11px'>{esc(text)}</span>"
    )


class ErrorsMixin:
    """``errors`` (an Output showing callback errors) and ``last_error`` (the exception, or None)."""

    def _init_errors(self) -> None:
        self.errors = widgets.Output(layout=widgets.Layout(width="100%"))
        self.errors.add_class("hlwjr-errors")
        self.last_error: BaseException | None = None

    def _report_error(self, exc: BaseException) -> None:
        from IPython.display import HTML

        self.last_error = exc
        self.errors.outputs = ()
        self.errors.append_display_data(HTML(error_html(exc)))

    def _clear_errors(self) -> None:
        self.last_error = None
        if self.errors.outputs:
            self.errors.outputs = ()

    @property
    def error_message(self) -> str | None:
        """The last callback error as text (None when the last action succeeded)."""
        return None if self.last_error is None else error_text(self.last_error)


def guarded(method: Callable) -> Callable:
    """Decorate a widget callback: clear old errors, run, show any exception in ``self.errors``.

    Exceptions are not re-raised (ipywidgets would only log them to the browser console, where an
    analyst never looks); they are shown, kept in ``last_error``, and returned as None."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        self._clear_errors()
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            self._report_error(exc)
            return None

    return wrapper
