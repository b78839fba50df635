"""The call recording policy through the application, on a SQLite file and on PostgreSQL: adopted
only for every caller, changed and ended as events, each listening checked against the policy
and kept; a request for a copy of a call recording keeps its call. Everything reads back the same
after the application is opened again on the same store."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from incidents.application.call_recording import EndCallPolicy, LogListening, PolicyNotAdopted, SetCallPolicy
from incidents.application.disclosures import ReceiveRequest
from incidents.application.records import uk_today
from incidents.application.service import Actor, NotPermitted
from incidents.bootstrap import open_log
from incidents.domain.call_recording import ListenerNotAllowed, SinglesOutCallers
from incidents.domain.disclosure import CallTimeInvalid
from incidents.settings import Settings

PRACTICE, OTHER = "A81001", "B82002"
MANAGER = Actor(uuid.uuid4(), "mo.manager", "Mo Manager", PRACTICE, ("manager",))
GOVERNANCE = Actor(uuid.uuid4(), "gill.governance", "Gill Governance", PRACTICE, ("governance",))
RECEPTION = Actor(uuid.uuid4(), "sue.reception", "Sue Reception", PRACTICE, ("reception",))
OTHER_MANAGER = Actor(uuid.uuid4(), "oz.manager", "Oz Manager", OTHER, ("manager",))
CALL = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=4)


def policy(**changes) -> SetCallPolicy:
    return SetCallPolicy(**{
        "scope": "all_calls", "purposes": ("complaints_and_claims", "training"), "listeners": ("governance",),
        "retention_months": 36, "system": "Surgery Connect", "told_by": ("telephone_message", "waiting_room_poster"),
        "in_force_from": date(2026, 1, 5), **changes,
    })


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request, tmp_path) -> Settings:
    if request.param == "sqlite":
        return Settings(data_dir=tmp_path)
    return Settings(data_dir=tmp_path, database_url=request.getfixturevalue("postgres_url"))


def test_the_policy_its_listenings_and_a_call_request_are_kept(settings):
    opened = open_log(settings)
    log = opened.log
    try:
        with pytest.raises(SinglesOutCallers):
            log.set_call_policy(policy(scope="selected_callers", only_callers="07700 900123"), MANAGER)
        with pytest.raises(NotPermitted):
            log.set_call_policy(policy(), RECEPTION)
        with pytest.raises(PolicyNotAdopted):
            log.log_listening(LogListening(submission_key=uuid.uuid4().hex, call_at=CALL, purpose="training", reason="why"), GOVERNANCE)
        assert log.call_policy(MANAGER) is None

        log.set_call_policy(policy(), MANAGER)
        log.set_call_policy(policy(retention_months=24, reason="The supplier keeps two years"), GOVERNANCE)
        with pytest.raises(ListenerNotAllowed, match="Governance lead"):
            log.log_listening(LogListening(submission_key=uuid.uuid4().hex, call_at=CALL, caller="0113 496 0000", purpose="complaints_and_claims", reason="Complaint C-17"), MANAGER)
        heard = LogListening(submission_key=uuid.uuid4().hex, call_at=CALL, caller="0113 496 0000", purpose="complaints_and_claims", reason="Complaint C-17")
        assert log.log_listening(heard, GOVERNANCE).created
        assert not log.log_listening(heard, GOVERNANCE).created  # the same form sent twice: logged once
        missing = log.missing_required_notices(MANAGER, uk_today())
        assert {m.purpose for m in missing} >= {"Telephone call recording (message on the line)", "Telephone call recording (waiting-room poster)"}
        assert "Telephone call recording" not in {m.purpose for m in missing}  # the policy's own warnings replace the general one

        saved = log.receive_request(ReceiveRequest(
            submission_key=uuid.uuid4().hex, requester_type="call_recording", requester="Ms A Caller", reference="Her call",
            received_on=uk_today(), call_at=CALL, caller_number="0113 496 0001",
        ), GOVERNANCE)
        with pytest.raises(CallTimeInvalid):
            log.receive_request(ReceiveRequest(
                submission_key=uuid.uuid4().hex, requester_type="call_recording", requester="Mr B", reference="x", received_on=uk_today(),
            ), GOVERNANCE)
    finally:
        log.close()

    opened = open_log(settings)  # read back from the store alone
    log = opened.log
    try:
        kept = log.call_policy(GOVERNANCE)
        assert kept is not None and [v.retention_months for v in kept.versions] == [36, 24]
        [heard] = kept.listenings
        assert (heard.actor, heard.call_at, heard.caller, heard.reason) == ("gill.governance", CALL, "0113 496 0000", "Complaint C-17")
        assert [e.title for e in log.call_policy_history(MANAGER)] == ["Recording listened to", "Policy changed", "Policy adopted"]
        log.end_call_policy(EndCallPolicy(ended_from=uk_today(), reason="No longer recording"), MANAGER)
        assert log.call_policy(MANAGER).status == "ended"
        assert log.missing_caller_notices(MANAGER, uk_today()) is None

        request = log.get_request(GOVERNANCE, saved.id)
        assert (request.requester_type, request.call_at, request.caller_number) == ("call_recording", CALL, "0113 496 0001")
        assert "right_of_access" in request.legal_bases()
        details = dict(log.request_history(GOVERNANCE, saved.id)[0].details)
        assert details["Caller's number"] == "0113 496 0001" and "Call" in details

        assert log.call_policy(OTHER_MANAGER) is None  # another practice has none of it
    finally:
        log.close()
