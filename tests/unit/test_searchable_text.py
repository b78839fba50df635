"""What the search index is given of free text: identifiers blanked (summaries.searchable). It
looks for an address only where there is an @, and for dates and numbers only where there is a
digit; it blanks exactly what the three substitutions always did."""

from __future__ import annotations

from hypothesis import example, given, strategies as st

from incidents.domain.values import has_nhs_check_digit, nhs_number
from incidents.projections.summaries import _DATE, _EMAIL, _LONG_NUMBER, _blank_nhs_numbers, searchable


def every_substitution(text: str) -> str:
    text = _EMAIL.sub(" ", text or "")
    text = _DATE.sub(" ", _blank_nhs_numbers(text))
    return _LONG_NUMBER.sub(" ", text).strip()


pieces = st.sampled_from(["a@b.nhs.uk", "@", "12/03/2026", "943 476 5919", "401.023.2137", "401_023_2137", "401\u00a0023\u00a02137", "07700-900-123", "٣٤٥٦٧٨٩", " ", "\n", "-", "/", "Ward 7"])


@given(st.lists(st.one_of(st.text(max_size=12), pieces), max_size=8).map("".join))
@example("Spoke to the patient again; they were calm.")
@example("Rang 0161 496 0000 on 12/03/2026, email jo@example.com")
@example("   ")
def test_blanks_what_the_three_substitutions_blank(text):
    assert searchable(text) == every_substitution(text)


def test_identifiers_are_blanked():
    assert searchable("NHS 943 476 5919 seen 12/03/2026 by jo@example.com today") == "NHS   seen   by   today"
    assert searchable("") == searchable(None) == ""  # type: ignore[arg-type]


def valid_nhs_numbers():
    def with_check_digit(nine: list[int]) -> str | None:
        check = 11 - sum(d * w for d, w in zip(nine, range(10, 1, -1))) % 11
        check = 0 if check == 11 else check
        return None if check == 10 else "".join(map(str, nine)) + str(check)

    return st.lists(st.integers(0, 9), min_size=9, max_size=9).map(with_check_digit).filter(bool)


separators = st.text(alphabet=" .-_/\u00a0\u2009,:|()", max_size=3)


@given(valid_nhs_numbers(), st.lists(separators, min_size=9, max_size=9), st.text(alphabet="abc xyz.", max_size=6), st.text(alphabet="abc xyz.", max_size=6))
@example("4010232137", ["."] * 9, "", "")
def test_an_nhs_number_is_blanked_whatever_separates_its_digits(number, between, before, after):
    # Any ten digits with a check digit are blanked, whether or not their range is issued yet.
    assert has_nhs_check_digit([int(d) for d in number])
    typed = number[0] + "".join(sep + digit for sep, digit in zip(between, number[1:]))
    kept = searchable(f"{before} {typed} {after}")
    assert sum(ch.isdigit() for ch in kept) == 0, kept


def test_the_formats_seen_in_notes_are_blanked():
    for typed in ("401.023.2137", "401_023_2137", "401/023/2137", "401\u00a0023\u00a02137", "401 - 023 - 2137", "4010232137"):
        assert searchable(f"patient {typed} rang") == "patient   rang", typed
    assert searchable("rooms 1, 2 and 3") == "rooms 1, 2 and 3"
