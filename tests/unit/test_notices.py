"""The notice register through the application on the in-memory store: publishing, revising and
withdrawing, which wording was in force on a day, the required notices, roles and practices."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from incidents.application.notices import (
    NoticeNotFound,
    PublishNotice,
    ReviseNotice,
    WithdrawNotice,
)
from incidents.application.service import NotPermitted
from incidents.domain.acting import acting_as
from incidents.domain.notice import (
    Notice,
    NoticeWithdrawn,
    NothingToRevise,
    RevisionOutOfOrder,
    WithdrawalNeedsReason,
    WithdrawalOutOfOrder,
)
from incidents.domain.values import InvalidValue

from .conftest import PRACTICE_A, PRACTICE_B

JAN_1 = date(2026, 1, 1)


@pytest.fixture
def governance_a(sign_up):
    return sign_up("gill.governance", PRACTICE_A, "governance").actor


def publish(log, actor, channel="telephone_message", wording="Calls are recorded for training and safety", day=JAN_1, key=None):
    return log.publish_notice(
        PublishNotice(submission_key=key or uuid.uuid4().hex, channel=channel, wording=wording, in_service_from=day), actor
    )


def revise(log, actor, notice_id, wording, day):
    return log.revise_notice(ReviseNotice(notice_id=notice_id, wording=wording, in_service_from=day), actor)


def withdraw(log, actor, notice_id, day, reason="Replaced by the new phone system"):
    return log.withdraw_notice(WithdrawNotice(notice_id=notice_id, withdrawn_from=day, reason=reason), actor)


def in_force(log, actor, day, channel=None):
    return [(n.channel, n.wording) for n in log.notices_in_force(actor, day, channel)]


def test_a_published_notice_is_listed_and_in_force_from_its_first_day(log, manager_a):
    saved = publish(log, manager_a)
    assert saved.created and saved.notification_id > 0
    assert [n.id for n in log.notices(manager_a)] == [saved.id]
    assert in_force(log, manager_a, JAN_1 - timedelta(days=1)) == []
    assert in_force(log, manager_a, JAN_1) == [("telephone_message", "Calls are recorded for training and safety")]
    notice = log.get_notice(manager_a, saved.id)
    assert (notice.practice, notice.wordings[0].actor, notice.channel_label) == (PRACTICE_A, "mo.manager", "Telephone message")


def test_the_same_form_twice_publishes_one_notice(log, manager_a):
    first = publish(log, manager_a, key="same-key-123")
    again = publish(log, manager_a, key="same-key-123")
    assert again.id == first.id and not again.created
    assert len(log.notices(manager_a)) == 1


def test_dates_come_back_from_the_store_as_dates(log, manager_a):
    saved = publish(log, manager_a, day="2026-02-03")
    notice = log.repository.get(saved.id)
    assert notice.in_service_from == date(2026, 2, 3) and type(notice.in_service_from) is date


def test_a_revision_applies_from_its_day_and_the_old_wording_stays_for_days_before(log, manager_a):
    saved = publish(log, manager_a, wording="Calls may be recorded")
    revise(log, manager_a, saved.id, "Calls are recorded and kept for three years", date(2026, 3, 1))
    assert in_force(log, manager_a, date(2026, 2, 28)) == [("telephone_message", "Calls may be recorded")]
    [later] = log.notices_in_force(manager_a, date(2026, 3, 1))
    assert later.wording == "Calls are recorded and kept for three years"
    assert (later.wording_from, later.in_service_from, later.withdrawn_from) == (date(2026, 3, 1), JAN_1, None)


def test_a_second_revision_on_the_same_day_wins_that_day(log, manager_a):
    saved = publish(log, manager_a, wording="One")
    revise(log, manager_a, saved.id, "Two", date(2026, 3, 1))
    revise(log, manager_a, saved.id, "Three", date(2026, 3, 1))
    assert in_force(log, manager_a, date(2026, 3, 1)) == [("telephone_message", "Three")]


def test_a_revision_cannot_start_before_the_current_wording_or_repeat_it(log, manager_a):
    saved = publish(log, manager_a, wording="One")
    revise(log, manager_a, saved.id, "Two", date(2026, 3, 1))
    with pytest.raises(RevisionOutOfOrder, match="2026-03-01"):
        revise(log, manager_a, saved.id, "Three", date(2026, 2, 28))
    with pytest.raises(NothingToRevise):
        revise(log, manager_a, saved.id, "Two", date(2026, 4, 1))
    assert log.get_notice(manager_a, saved.id).version == 2


def test_a_withdrawn_notice_is_in_force_until_the_day_before_and_takes_no_more_changes(log, manager_a):
    saved = publish(log, manager_a)
    withdraw(log, manager_a, saved.id, date(2026, 6, 1))
    assert in_force(log, manager_a, date(2026, 5, 31)) != []
    assert in_force(log, manager_a, date(2026, 6, 1)) == []
    assert log.get_notice(manager_a, saved.id).withdrawal_reason == "Replaced by the new phone system"
    with pytest.raises(NoticeWithdrawn):
        revise(log, manager_a, saved.id, "New words", date(2026, 7, 1))
    with pytest.raises(NoticeWithdrawn):
        withdraw(log, manager_a, saved.id, date(2026, 7, 1))


def test_a_withdrawal_needs_a_reason_and_cannot_precede_the_current_wording(log, manager_a):
    saved = publish(log, manager_a, day=date(2026, 3, 1))
    with pytest.raises(WithdrawalOutOfOrder):
        withdraw(log, manager_a, saved.id, date(2026, 2, 1))
    with pytest.raises(ValidationError, match="reason"):
        WithdrawNotice(notice_id=saved.id, withdrawn_from=date(2026, 4, 1), reason="  ")
    notice = log.get_notice(manager_a, saved.id)
    with pytest.raises(WithdrawalNeedsReason):
        notice.withdraw(date(2026, 4, 1), " ")


def test_the_commands_refuse_unknown_channels_empty_wording_and_bad_dates():
    with pytest.raises(ValidationError, match="channel"):
        PublishNotice(submission_key="k" * 10, channel="carrier_pigeon", wording="Hello", in_service_from=JAN_1)
    with pytest.raises(ValidationError, match="wording"):
        PublishNotice(submission_key="k" * 10, channel="website", wording="   ", in_service_from=JAN_1)
    for bad, message in (("", "Enter a date"), ("2026-02-30", "real date"), ("tomorrow", "real date")):
        with pytest.raises(ValidationError, match=message):
            PublishNotice(submission_key="k" * 10, channel="website", wording="Hello", in_service_from=bad)
    with pytest.raises(InvalidValue):
        Notice.publish(PRACTICE_A, "k" * 10, "website", "Hello", in_service_from="2026-01-01")  # type: ignore[arg-type]


def test_one_channel_or_all_and_an_unknown_channel_is_refused(log, manager_a):
    publish(log, manager_a, channel="telephone_message", wording="Calls are recorded")
    publish(log, manager_a, channel="website", wording="See our recording policy")
    assert sorted(in_force(log, manager_a, JAN_1)) == [
        ("telephone_message", "Calls are recorded"),
        ("website", "See our recording policy"),
    ]
    assert in_force(log, manager_a, JAN_1, "website") == [("website", "See our recording policy")]
    with pytest.raises(ValueError):
        log.notices_in_force(manager_a, JAN_1, "fax")


def test_missing_required_notices_follow_what_is_in_force_that_day(log, manager_a):
    purposes = lambda day: [r.purpose for r in log.missing_required_notices(manager_a, day)]  # noqa: E731
    assert purposes(JAN_1) == ["Telephone call recording", "The policy on filming in the practice"]
    phone = publish(log, manager_a, channel="telephone_message")
    publish(log, manager_a, channel="website", wording="No filming in the waiting room")  # not a notice in the waiting area
    assert purposes(JAN_1) == ["The policy on filming in the practice"]
    publish(log, manager_a, channel="reception_sign", wording="Please do not film", day=date(2026, 2, 1))
    assert purposes(date(2026, 1, 31)) == ["The policy on filming in the practice"]
    assert purposes(date(2026, 2, 1)) == []
    withdraw(log, manager_a, phone.id, date(2026, 5, 1))
    assert purposes(date(2026, 5, 1)) == ["Telephone call recording"]
    [filming] = [r for r in log.missing_required_notices(manager_a, JAN_1) if r.purpose.startswith("The policy")]
    assert filming.channel_labels == ("Waiting-room poster", "Reception sign")


def test_only_managers_keep_the_register_and_governance_may_read_it(log, manager_a, reception_a, governance_a):
    saved = publish(log, manager_a)
    with pytest.raises(NotPermitted):
        publish(log, reception_a)
    with pytest.raises(NotPermitted):
        publish(log, governance_a)
    with pytest.raises(NotPermitted):
        revise(log, governance_a, saved.id, "New", date(2026, 2, 1))
    with pytest.raises(NotPermitted):
        log.notices_in_force(reception_a, JAN_1)
    assert [n.notice_id for n in log.notices_in_force(governance_a, JAN_1)] == [saved.id]


def test_another_practices_notice_does_not_exist(log, manager_a, manager_b):
    saved = publish(log, manager_a)
    assert log.notices(manager_b) == [] and log.notices_in_force(manager_b, JAN_1) == []
    assert len(log.missing_required_notices(manager_b, JAN_1)) == 2
    with pytest.raises(NoticeNotFound):
        log.get_notice(manager_b, saved.id)
    with pytest.raises(NoticeNotFound):
        revise(log, manager_b, saved.id, "Taken over", date(2026, 2, 1))
    with pytest.raises(NoticeNotFound):
        withdraw(log, manager_b, saved.id, date(2026, 2, 1))
    with pytest.raises(NoticeNotFound):
        log.get_notice(manager_a, uuid.uuid4())
    assert log.get_notice(manager_a, saved.id).version == 1
    assert PRACTICE_B not in {n.practice for n in log.notices(manager_a)}


@settings(max_examples=60, deadline=None)
@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
    gaps=st.lists(st.integers(min_value=0, max_value=90), max_size=6),
    withdrawn_after=st.one_of(st.none(), st.integers(min_value=0, max_value=120)),
    probe=st.integers(min_value=-10, max_value=700),
)
def test_the_wording_on_a_day_is_the_latest_one_started_by_then_and_none_once_withdrawn(start, gaps, withdrawn_after, probe):
    with acting_as("mo", "Mo"):
        notice = Notice.publish(PRACTICE_A, "k" * 10, "website", "wording 0", start)
        starts = [start]
        for n, gap in enumerate(gaps, start=1):
            starts.append(starts[-1] + timedelta(days=gap))
            notice.revise(f"wording {n}", starts[-1])
        withdrawn_from = None if withdrawn_after is None else starts[-1] + timedelta(days=withdrawn_after)
        if withdrawn_from is not None:
            notice.withdraw(withdrawn_from, "gone")
    day = start + timedelta(days=probe)
    started = [n for n, s in enumerate(starts) if s <= day]
    expected = None if not started or (withdrawn_from is not None and day >= withdrawn_from) else f"wording {started[-1]}"
    wording = notice.wording_on(day)
    assert (wording.text if wording else None) == expected
    assert notice.in_force_on(day) is (expected is not None)
