"""The call recording policy's rules, on the record itself: every caller or none, a message on
the line always, purposes and listeners from their lists, retention in range; versions and the
end as events; a listening only under a policy in force, by a role it names, for one of its
purposes, each one kept with who, when, which call and why."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from incidents.domain.acting import acting_as
from incidents.domain.call_recording import (
    CallInvalid,
    CallRecordingPolicy,
    InvalidRetention,
    ListenerNotAllowed,
    MessageOnLineRequired,
    NoListeners,
    NoPurpose,
    NothingChanged,
    NumberInvalid,
    PolicyEnded,
    PolicyNotInForce,
    PurposeNotInPolicy,
    SinglesOutCallers,
    Terms,
    check_routine,
)
from incidents.domain.values import InvalidValue

TERMS = dict(
    scope="all_calls", only_callers="", purposes=["training", "complaints_and_claims"], listeners=["manager", "governance"],
    retention_months=36, system="Surgery Connect", told_by=["telephone_message", "website"], in_force_from=date(2026, 1, 5),
)
TODAY = date(2026, 12, 1)
CALL = datetime(2026, 11, 20, 10, 15, tzinfo=timezone.utc)


def terms(**changes) -> Terms:
    return Terms.checked(**{**TERMS, **changes})


@pytest.fixture(autouse=True)
def someone_acting():
    with acting_as("mo.manager", "Mo Manager"):
        yield


@pytest.fixture
def policy() -> CallRecordingPolicy:
    return CallRecordingPolicy.adopt("a81001", terms())


@pytest.mark.parametrize("scope, only", [("selected_callers", ""), ("selected_callers", "07700 900123"), ("all_calls", "the difficult ones"), ("difficult_callers", "")])
def test_a_policy_that_singles_out_callers_is_refused(scope, only):
    with pytest.raises(SinglesOutCallers, match="must not single out conversations with individual callers"):
        check_routine(scope, only)
    with pytest.raises(SinglesOutCallers):
        terms(scope=scope, only_callers=only)


def test_callers_are_always_told_by_a_message_on_the_line():
    with pytest.raises(MessageOnLineRequired, match="message on the line"):
        terms(told_by=["practice_leaflet", "waiting_room_poster", "website"])
    with pytest.raises(MessageOnLineRequired):
        terms(told_by=[])
    with pytest.raises(InvalidValue):
        terms(told_by=["telephone_message", "carrier_pigeon"])
    assert terms(told_by=["website", "telephone_message"]).told_by == ("telephone_message", "website")  # in the list's order


def test_purposes_listeners_retention_and_system_are_checked():
    with pytest.raises(NoPurpose):
        terms(purposes=[])
    with pytest.raises(InvalidValue):
        terms(purposes=["marketing"])
    with pytest.raises(NoListeners):
        terms(listeners=[])
    with pytest.raises(InvalidValue):
        terms(listeners=["locum"])
    for months in (0, -1, 361, True):
        with pytest.raises(InvalidRetention):
            terms(retention_months=months)
    with pytest.raises(InvalidValue, match="system or supplier"):
        terms(system="  ")


def test_one_policy_per_practice_versioned_by_events(policy):
    assert policy.id == CallRecordingPolicy.create_id("A81001") and policy.practice == "A81001"
    with pytest.raises(InvalidValue, match="Say why"):
        policy.change(terms(retention_months=24), "")
    with pytest.raises(NothingChanged):
        policy.change(terms(), "the same again")
    with pytest.raises(InvalidValue, match="before 05 Jan 2026"):
        policy.change(terms(in_force_from=date(2025, 12, 1)), "backdated")
    policy.change(terms(retention_months=24, in_force_from=date(2026, 6, 1)), "The supplier keeps two years")
    assert [v.retention_months for v in policy.versions] == [36, 24]
    names = [type(e).__name__ for e in policy.collect_events()]
    assert names == ["Adopted", "Changed"]


def test_ending_and_adopting_again(policy):
    with pytest.raises(InvalidValue, match="Say why"):
        policy.end(date(2026, 11, 1), " ")
    with pytest.raises(InvalidValue, match="cannot end before"):
        policy.end(date(2025, 11, 1), "too early")
    policy.end(date(2026, 11, 1), "The new phone system does not record")
    assert not policy.in_force_on(date(2026, 11, 1)) and policy.in_force_on(date(2026, 10, 31))
    with pytest.raises(PolicyEnded):
        policy.end(date(2026, 11, 2), "again")
    with pytest.raises(PolicyNotInForce):
        policy.listen(("manager",), CALL, "", "training", "why", TODAY)
    policy.change(terms(in_force_from=date(2026, 12, 1)), "Recording again with the new supplier")
    assert policy.status == "active" and policy.in_force_on(TODAY)


def test_listening_by_a_role_the_policy_does_not_name_is_refused_with_the_reason(policy):
    with pytest.raises(ListenerNotAllowed, match="lets only these listen to recordings: Practice manager, Governance lead. You are signed in as Reception"):
        policy.listen(("reception",), CALL, "0113 496 0000", "complaints_and_claims", "Complaint C-17", TODAY)
    with pytest.raises(PurposeNotInPolicy, match="not recorded for safety of staff"):
        policy.listen(("manager",), CALL, "", "staff_safety", "An abusive call", TODAY)
    assert policy.listenings == []


def test_a_listening_is_kept_with_who_when_which_call_and_why(policy):
    policy.listen(("reception", "governance"), CALL, "0113 496 0000", "complaints_and_claims", "Complaint C-17", TODAY)
    [heard] = policy.listenings
    assert (heard.actor, heard.actor_name, heard.call_at, heard.caller, heard.purpose, heard.reason) == (
        "mo.manager", "Mo Manager", CALL, "0113 496 0000", "complaints_and_claims", "Complaint C-17"
    )
    assert heard.listened_at.tzinfo is not None


def test_the_same_form_sent_twice_is_logged_once(policy):
    assert policy.listen(("manager",), CALL, "", "training", "Induction of a new receptionist", TODAY, submission_key="k1")
    assert not policy.listen(("manager",), CALL, "", "training", "Induction of a new receptionist", TODAY, submission_key="k1")
    assert policy.listen(("manager",), CALL, "", "training", "Induction of a new receptionist", TODAY, submission_key="k2")
    assert len(policy.listenings) == 2


def test_a_listening_names_a_real_call(policy):
    with pytest.raises(CallInvalid, match="future"):
        policy.listen(("manager",), datetime.now(timezone.utc) + timedelta(days=3), "", "training", "why", TODAY)
    with pytest.raises(NumberInvalid):
        policy.listen(("manager",), CALL, "ring me", "training", "why", TODAY)
    with pytest.raises(InvalidValue, match="Say why you are listening"):
        policy.listen(("manager",), CALL, "", "training", "", TODAY)
    with pytest.raises(InvalidValue, match="Choose why"):
        policy.listen(("manager",), CALL, "", "gossip", "why", TODAY)


def test_a_policy_not_yet_in_force_admits_no_listening():
    later = CallRecordingPolicy.adopt("A81001", terms(in_force_from=date(2027, 1, 1)))
    with pytest.raises(PolicyNotInForce):
        later.listen(("manager",), CALL, "", "training", "why", TODAY)
