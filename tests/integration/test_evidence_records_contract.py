"""The records an evidence bundle is made from (notices, disclosure requests, the access audit),
on a SQLite file and on PostgreSQL: written, read back after the application is opened again,
with calendar dates still dates, and concurrent views of one incident all kept, in order."""

from __future__ import annotations

import threading
import uuid
from datetime import date


from incidents.application.disclosures import ReceiveRequest, RecordExport, RecordLegalBasis, SetRequestScope
from incidents.application.notices import PublishNotice, ReviseNotice
from incidents.application.service import Actor
from incidents.bootstrap import open_log
from tests.reports import report_filming

PRACTICE = "A81001"
BUNDLE = "9e" * 32
MANAGER = Actor(uuid.uuid4(), "mo.manager", "Mo Manager", PRACTICE, ("manager",))
GOVERNANCE = Actor(uuid.uuid4(), "gill.governance", "Gill Governance", PRACTICE, ("governance",))
RECEPTION = Actor(uuid.uuid4(), "sue.reception", "Sue Reception", PRACTICE, ("reception",))


def test_notices_requests_and_custody_survive_a_restart(settings):
    opened = open_log(settings)
    log = opened.log
    try:
        notice = log.publish_notice(
            PublishNotice(submission_key=uuid.uuid4().hex, channel="telephone_message", wording="Calls are recorded", in_service_from=date(2026, 1, 1)),
            MANAGER,
        ).id
        log.revise_notice(ReviseNotice(notice_id=notice, wording="Calls are recorded for 3 years", in_service_from=date(2026, 3, 1)), MANAGER)
        incident = report_filming(log, RECEPTION)
        request = log.receive_request(
            ReceiveRequest(submission_key=uuid.uuid4().hex, requester_type="subject_access", requester="Pat", reference="SAR-9", received_on=date(2024, 1, 31)),
            GOVERNANCE,
        ).id
        log.set_request_scope(SetRequestScope(request_id=request, incident_ids=[incident], period_from=date(2024, 1, 1)), GOVERNANCE)
        log.record_legal_basis(RecordLegalBasis(request_id=request, basis="required_by_law"), GOVERNANCE)

        errors: list[BaseException] = []

        def view(actor: Actor) -> None:
            try:
                for _ in range(5):
                    log.record_view(actor, incident)
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=view, args=(a,)) for a in (RECEPTION, MANAGER, GOVERNANCE, RECEPTION)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        log.record_export(RecordExport(request_id=request, fingerprint=BUNDLE), GOVERNANCE)
    finally:
        log.close()

    again = open_log(settings).log
    try:
        [before, after] = [again.notices_in_force(MANAGER, d) for d in (date(2026, 2, 28), date(2026, 3, 1))]
        assert [n.wording for n in before] == ["Calls are recorded"]
        assert [(n.wording, n.wording_from) for n in after] == [("Calls are recorded for 3 years", date(2026, 3, 1))]
        disclosure = again.get_request(GOVERNANCE, request)
        assert (disclosure.received_on, disclosure.due_on, disclosure.period_from) == (date(2024, 1, 31), date(2024, 2, 29), date(2024, 1, 1))
        assert type(disclosure.due_on) is date and disclosure.exports == [BUNDLE]
        chain = again.custody_chain(GOVERNANCE, incident)
        assert [a.action for a in chain] == ["viewed"] * 20 + ["exported"]
        assert [a.at for a in chain] == sorted(a.at for a in chain)
        assert chain[-1].request_id == request and chain[-1].fingerprint == BUNDLE
    finally:
        again.close()
