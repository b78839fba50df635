"""What the search index is given of free text: identifiers blanked (summaries.searchable). It
looks for an address only where there is an @, and for dates and numbers only where there is a
digit; it blanks exactly what the three substitutions always did."""

from __future__ import annotations

from hypothesis import example, given, strategies as st

from incidents.projections.summaries import _DATE, _EMAIL, _LONG_NUMBER, searchable


def every_substitution(text: str) -> str:
    text = _EMAIL.sub(" ", text or "")
    text = _DATE.sub(" ", text)
    return _LONG_NUMBER.sub(" ", text).strip()


pieces = st.sampled_from(["a@b.nhs.uk", "@", "12/03/2026", "943 476 5919", "07700-900-123", "٣٤٥٦٧٨٩", " ", "\n", "-", "/", "Ward 7"])


@given(st.lists(st.one_of(st.text(max_size=12), pieces), max_size=8).map("".join))
@example("Spoke to the patient again; they were calm.")
@example("Rang 0161 496 0000 on 12/03/2026, email jo@example.com")
@example("   ")
def test_blanks_what_the_three_substitutions_blank(text):
    assert searchable(text) == every_substitution(text)


def test_identifiers_are_blanked():
    assert searchable("NHS 943 476 5919 seen 12/03/2026 by jo@example.com today") == "NHS   seen   by   today"
    assert searchable("") == searchable(None) == ""  # type: ignore[arg-type]
