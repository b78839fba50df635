"""Canonical JSON as RFC 8785 writes it."""

from __future__ import annotations

import pytest

from incidents.evidence.canonical import canonical, is_canonical, parse


def test_keys_are_sorted_by_utf16_code_units_and_there_is_no_whitespace():
    # RFC 8785 3.2.3 sorts by UTF-16 code units: U+E000 (one unit) before U+1F600 (a surrogate pair
    # starting 0xD83D) would be wrong; the surrogate sorts first.
    value = {"b": 1, "a": [True, None, "x"], "\ue000": 2, "\U0001f600": 3}
    assert canonical(value) == '{"a":[true,null,"x"],"b":1,"\U0001f600":3,"\ue000":2}'.encode()


def test_names_in_any_script_stay_as_utf8_not_escapes():
    assert canonical({"who": "Zoë Łukasz 李雷 محمد"}) == '{"who":"Zoë Łukasz 李雷 محمد"}'.encode()


def test_control_characters_and_quotes_are_escaped_as_the_rfc_says():
    assert canonical("a\"b\\c\n\u001f") == b'"a\\"b\\\\c\\n\\u001f"'


def test_numbers_are_written_as_ecmascript_does():
    assert canonical([1, 10**15, -0, 1.5]) == b"[1,1000000000000000,0,1.5]"


def test_the_same_value_gives_the_same_bytes_whatever_order_it_was_built_in():
    assert canonical({"x": 1, "y": {"b": 2, "a": 1}}) == canonical({"y": {"a": 1, "b": 2}, "x": 1})


def test_parsing_refuses_what_has_no_canonical_form():
    with pytest.raises(ValueError, match="duplicate"):
        parse(b'{"a":1,"a":2}')
    with pytest.raises(ValueError):
        parse(b"[NaN]")
    assert is_canonical(b'{"a":1}')
    assert not is_canonical(b'{ "a": 1 }')
