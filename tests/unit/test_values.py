"""Value types: NHS numbers, ODS practice codes, past times, bounded text and choices."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from incidents.domain.values import (
    CLOCK_SKEW,
    NOTE_MAX_CHARS,
    SHORT_TEXT_MAX_CHARS,
    InvalidNHSNumber,
    InvalidPractice,
    InvalidValue,
    OccurredInFuture,
    TextTooLong,
    bounded_text,
    choice,
    format_nhs_number,
    nhs_number,
    past_time,
    practice_code,
)

UK = ZoneInfo("Europe/London")


def reference_check_digit(prefix: str) -> int | None:
    """The NHS modulus 11 check digit, computed independently; None when the prefix has none (10)."""
    weights = [10, 9, 8, 7, 6, 5, 4, 3, 2]
    remainder = sum(int(d) * w for d, w in zip(prefix, weights)) % 11
    check = (11 - remainder) % 11
    return None if check == 10 else check


# NHS numbers ------------------------------------------------------------------

# Nine digits in the ranges England, Wales and the Isle of Man issue from (4..., 6... and 7...).
ENGLAND_WALES_PREFIXES = st.from_regex(r"[467][0-9]{8}", fullmatch=True)


@pytest.mark.parametrize("valid", ["9434765919", "9434765870", "4010232137", "9990001235"])
def test_nhs_number_accepts_a_number_with_the_right_check_digit(valid):
    assert nhs_number(valid) == valid


@pytest.mark.parametrize(
    "written",
    ["943 476 5919", "943-476-5919", " 9434765919 ", "943 - 476 - 5919", "943\t476 5919"],
)
def test_nhs_number_ignores_spaces_and_dashes_and_returns_bare_digits(written):
    assert nhs_number(written) == "9434765919"


@pytest.mark.parametrize("wrong", ["9434765918", "9434765910", "9434765871", "1234567890"])
def test_nhs_number_rejects_a_wrong_check_digit(wrong):
    with pytest.raises(InvalidNHSNumber, match="not a valid NHS number"):
        nhs_number(wrong)


def test_nhs_number_rejects_a_prefix_whose_check_digit_would_be_ten():
    # 100000001: weighted sum 10 + 2 = 12, remainder 1, 11 - 1 = 10, so no digit can be valid.
    prefix = "100000001"
    assert reference_check_digit(prefix) is None
    for last in "0123456789":
        with pytest.raises(InvalidNHSNumber):
            nhs_number(prefix + last)


def test_a_remainder_of_zero_gives_check_digit_zero():
    # 400000002: weighted sum 4 * 10 + 2 * 2 = 44, remainder 0, 11 - 0 = 11, which is written as 0.
    assert nhs_number("4000000020") == "4000000020"
    with pytest.raises(InvalidNHSNumber):
        nhs_number("4000000021")


@pytest.mark.parametrize("wrong_length", ["943476591", "94347659190", "", "   ", "9"])
def test_nhs_number_rejects_the_wrong_number_of_digits(wrong_length):
    with pytest.raises(InvalidNHSNumber, match="10 digits"):
        nhs_number(wrong_length)


@pytest.mark.parametrize("with_letters", ["943476591A", "NHS9434765919", "943.476.5919", "943_476_5919", "0x94347659"])
def test_nhs_number_rejects_letters_and_other_punctuation(with_letters):
    with pytest.raises(InvalidNHSNumber):
        nhs_number(with_letters)


def test_nhs_number_rejects_none():
    with pytest.raises(InvalidNHSNumber):
        nhs_number(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("foreign_digits", ["٩٤٣٤٧٦٥٩١٩", "９４３４７６５９１９"])
def test_nhs_number_accepts_only_ascii_digits(foreign_digits):
    # Either rejecting the input or normalising it to "9434765919" is acceptable; storing
    # non-ASCII digits as a patient identifier is not (lookups and exports would not match).
    try:
        result = nhs_number(foreign_digits)
    except InvalidNHSNumber:
        return
    assert result == "9434765919"


def test_format_nhs_number_groups_three_three_four():
    assert format_nhs_number("9434765919") == "943 476 5919"
    assert format_nhs_number("") == ""


@given(ENGLAND_WALES_PREFIXES)
def test_every_prefix_has_at_most_one_valid_check_digit_and_it_is_the_computed_one(prefix):
    accepted = []
    for last in "0123456789":
        try:
            accepted.append(nhs_number(prefix + last))
        except InvalidNHSNumber:
            pass
    expected = reference_check_digit(prefix)
    if expected is None:
        assert accepted == []
    else:
        assert accepted == [prefix + str(expected)]


@given(
    ENGLAND_WALES_PREFIXES,
    st.lists(st.sampled_from([" ", "-", "  ", " - "]), min_size=10, max_size=10),
)
def test_separators_anywhere_do_not_change_a_valid_number(prefix, separators):
    check = reference_check_digit(prefix)
    assume(check is not None)
    digits = prefix + str(check)
    written = "".join(sep + d for sep, d in zip(separators, digits))
    assert nhs_number(written) == digits


# ODS practice codes ----------------------------------------------------------


@pytest.mark.parametrize("code", ["A81001", "B82002", "Y00001", "RXX", "ABCDE12345"])
def test_practice_code_accepts_ods_codes(code):
    assert practice_code(code) == code


def test_practice_code_is_upper_cased_and_trimmed():
    assert practice_code("  a81001 ") == "A81001"


@pytest.mark.parametrize("bad", ["", "   ", "A8", "A81-001", "A81 001", "ABCDEFGHIJK", "A81001!", "É81001", None])
def test_practice_code_rejects_what_is_not_an_ods_code(bad):
    with pytest.raises(InvalidPractice):
        practice_code(bad)  # type: ignore[arg-type]


# Past times ------------------------------------------------------------------


def test_past_time_accepts_a_time_in_the_past_and_keeps_the_instant():
    then = datetime(2024, 3, 1, 9, 30, tzinfo=timezone.utc)
    assert past_time(then) == then


def test_past_time_converts_uk_local_time_to_utc():
    summer = datetime(2024, 7, 1, 14, 5, tzinfo=UK)  # BST, UTC+1
    result = past_time(summer)
    assert result.tzinfo == timezone.utc
    assert result == datetime(2024, 7, 1, 13, 5, tzinfo=timezone.utc)

    winter = datetime(2024, 1, 15, 14, 5, tzinfo=UK)  # GMT, UTC+0
    assert past_time(winter) == datetime(2024, 1, 15, 14, 5, tzinfo=timezone.utc)
    assert past_time(winter).utcoffset() == timedelta(0)


def test_past_time_allows_five_minutes_of_clock_skew():
    now = datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)
    assert CLOCK_SKEW == timedelta(minutes=5)
    assert past_time(now + timedelta(minutes=4, seconds=59), now=now) == now + timedelta(minutes=4, seconds=59)
    assert past_time(now + CLOCK_SKEW, now=now) == now + CLOCK_SKEW


@pytest.mark.parametrize("ahead", [timedelta(minutes=5, seconds=1), timedelta(hours=1), timedelta(days=365)])
def test_past_time_rejects_a_time_beyond_five_minutes_ahead(ahead):
    now = datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)
    with pytest.raises(OccurredInFuture, match="future"):
        past_time(now + ahead, now=now)


def test_past_time_uses_the_real_clock_by_default():
    past_time(datetime.now(timezone.utc))
    with pytest.raises(OccurredInFuture):
        past_time(datetime.now(timezone.utc) + timedelta(minutes=10))


def test_past_time_compares_instants_not_wall_clock_readings():
    now = datetime(2025, 7, 1, 12, 0, tzinfo=timezone.utc)
    # 13:03 in London during BST is 12:03 UTC: within the skew, even though the wall clock says 13:03.
    assert past_time(datetime(2025, 7, 1, 13, 3, tzinfo=UK), now=now) == datetime(2025, 7, 1, 12, 3, tzinfo=timezone.utc)


def test_past_time_rejects_a_naive_time():
    with pytest.raises(InvalidValue, match="time zone"):
        past_time(datetime(2024, 3, 1, 9, 30))


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2030, 1, 1),
        timezones=st.sampled_from([timezone.utc, UK, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]),
    )
)
def test_past_time_returns_the_same_instant_in_utc(moment):
    now = datetime(2030, 6, 1, tzinfo=timezone.utc)
    result = past_time(moment, now=now)
    # Compare instants by timestamp: == between zones is False for ambiguous local times (PEP 495).
    assert result.timestamp() == moment.timestamp()
    assert result.tzinfo == timezone.utc


# Bounded text ----------------------------------------------------------------


def test_bounded_text_trims_whitespace():
    assert bounded_text("  a note \n") == "a note"


def test_bounded_text_treats_none_as_empty():
    assert bounded_text(None) == ""


def test_bounded_text_accepts_exactly_the_limit():
    assert len(bounded_text("x" * NOTE_MAX_CHARS)) == NOTE_MAX_CHARS


def test_bounded_text_rejects_one_over_the_limit_and_says_how_long_it_was():
    with pytest.raises(TextTooLong, match=r"at most 5000 characters \(this one has 5001\)"):
        bounded_text("x" * (NOTE_MAX_CHARS + 1))


def test_bounded_text_counts_after_trimming():
    assert bounded_text("   " + "x" * NOTE_MAX_CHARS + "   ") == "x" * NOTE_MAX_CHARS


def test_bounded_text_uses_the_given_limit_and_name():
    assert bounded_text("x" * SHORT_TEXT_MAX_CHARS, SHORT_TEXT_MAX_CHARS, "A reference") == "x" * SHORT_TEXT_MAX_CHARS
    with pytest.raises(TextTooLong, match="^A reference can be at most 200"):
        bounded_text("x" * (SHORT_TEXT_MAX_CHARS + 1), SHORT_TEXT_MAX_CHARS, "A reference")


@given(st.text(st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), max_size=300), st.integers(min_value=0, max_value=300))
def test_bounded_text_returns_the_trimmed_text_or_refuses_it(text, limit):
    trimmed = text.strip()
    if len(trimmed) <= limit:
        assert bounded_text(text, limit) == trimmed
    else:
        with pytest.raises(TextTooLong):
            bounded_text(text, limit)


# Choices ---------------------------------------------------------------------

COLOURS = {"red": "Red", "green": "Green"}


def test_choice_returns_an_allowed_key():
    assert choice("red", COLOURS, "The colour") == "red"


@pytest.mark.parametrize("bad", ["blue", "Red", " red", "", "RED"])
def test_choice_rejects_anything_else_and_lists_the_labels(bad):
    with pytest.raises(InvalidValue, match="The colour must be one of: Red, Green"):
        choice(bad, COLOURS, "The colour")


def test_choice_matches_keys_not_labels():
    with pytest.raises(InvalidValue):
        choice("Green", COLOURS, "The colour")
