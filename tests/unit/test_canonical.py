"""Canonical JSON as RFC 8785 writes it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_a_document_spliced_from_canonical_items_is_the_canonical_document():
    from incidents.evidence.canonical import canonical_with_array

    items = [{"z": "Zoë", "a": [1, "\n"]}, {"n": None}, {"\U0001f600": "x", "\ue000": "y"}]
    document = {"zeta": 1, "events": items, "alpha": {"b": "李雷", "a": "محمد"}, "\ue000": 0, "\U0001f600": 1}
    assert canonical_with_array(document, "events", [canonical(i) for i in items]) == canonical(document)
    assert canonical_with_array({"events": []}, "events", []) == b'{"events":[]}'


text = st.text(st.characters(exclude_categories=("Cs",)))  # any Unicode but lone surrogates
plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(st.characters(max_codepoint=127), max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(plain)
def test_the_fast_form_of_plain_values_is_byte_for_byte_rfc_8785(value):
    from incidents.evidence.canonical import canonical_plain

    assert canonical_plain(value) == canonical(value)


def test_the_fast_form_of_every_escape_and_separator_is_rfc_8785():
    from incidents.evidence.canonical import canonical_plain

    every_control = "".join(chr(c) for c in range(0x20)) + '"\\\x7f\u2028\u2029\ufeff'
    value = {"note": every_control, "who": {"display_name": "محمد", "username": "m"}, "n": -(2**53) + 1, "x": [None, True, False]}
    assert canonical_plain(value) == canonical(value)
