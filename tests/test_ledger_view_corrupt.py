"""A damaged ledger seen by `hlwjr status`: a clear message that says how to recover."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlwjr._exceptions import ConfigError
from hlwjr.operations._ledger_view import open_view


@settings(max_examples=20, deadline=None)
@given(junk=st.binary(min_size=1, max_size=4096))
def test_status_on_a_damaged_ledger_says_to_rebuild(tmp_path_factory, junk):
    path = tmp_path_factory.mktemp("ledger") / "ledger.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + junk)
    with pytest.raises(ConfigError) as info, open_view(SimpleNamespace(ledger_path=path)):
        pass
    assert "hlwjr ledger rebuild" in str(info.value)
