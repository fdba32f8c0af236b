"""What is derived from an object once and kept while the object lives: a code set's indexes (the
validation engine's membership set and hints, the code suggestions' index). Code sets are frozen
dataclasses holding dicts, so they cannot be dictionary keys themselves; they are kept by identity,
and their entries go when they do."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["derived"]

T = TypeVar("T")

_KEPT: dict[tuple[int, Callable], tuple[weakref.ref, Any]] = {}


def derived(obj: object, build: Callable[[Any], T]) -> T:
    """``build(obj)``, built once per object and dropped with it."""
    key = (id(obj), build)
    got = _KEPT.get(key)
    if got is None or got[0]() is not obj:
        ref = weakref.ref(obj, lambda _, key=key: _KEPT.pop(key, None))
        got = _KEPT[key] = (ref, build(obj))
    return got[1]
