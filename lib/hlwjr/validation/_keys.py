"""Business keys as comparable tuples: from records, from accepted sets given as records or key
tuples — one place for the engine and the small-batch path.
"""

from __future__ import annotations


def _keys_from(acc, fields) -> set[tuple]:
    """Key tuples from an ``accepted`` entry: a DataFrame, a list of dicts or of key tuples."""
    import pandas as pd

    if isinstance(acc, pd.DataFrame):
        if not all(f in acc.columns for f in fields):
            return set()
        sub = acc[list(fields)].dropna()
        return {tuple(_key_str(v) for v in row) for row in sub.itertuples(index=False, name=None)}
    out = set()
    for item in acc:
        if isinstance(item, dict):
            if all(item.get(f) not in (None, "") for f in fields):
                out.add(tuple(_key_str(item[f]) for f in fields))
        elif isinstance(item, (tuple, list)):
            out.add(tuple(_key_str(v) for v in item))
        else:
            out.add((_key_str(item),))
    return out


def _key_str(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
