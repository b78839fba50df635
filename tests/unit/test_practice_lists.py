"""A practice's short lists stay exact: a record and its entry are saved together, in order, once."""

from __future__ import annotations

import threading
from datetime import date

from incidents.application.notices import NOTICES
from incidents.domain.acting import acting_as
from incidents.domain.notice import Notice

from .conftest import PRACTICE_A, PRACTICE_B


def notice(key: str) -> Notice:
    return Notice.publish(PRACTICE_A, key, "website", "We may record calls", date(2026, 1, 1))


def test_a_list_holds_its_records_in_order_once(log, manager_a):
    first = log.add_listed(manager_a, NOTICES, lambda: notice("first-key-1"))
    second = log.add_listed(manager_a, NOTICES, lambda: notice("second-key"))
    again = log.add_listed(manager_a, NOTICES, lambda: notice("first-key-1"))
    assert (first.created, second.created, again.created) == (True, True, False)
    assert again.id == first.id
    assert log.listed(PRACTICE_A, NOTICES) == [first.id, second.id]
    assert log.listed(PRACTICE_B, NOTICES) == []
    with acting_as("someone"):
        unlisted = notice("unlisted-1")
    log.save(unlisted)
    assert not log.add_listed(manager_a, NOTICES, lambda: notice("unlisted-1")).created  # made already: not listed twice
    assert log.listed(PRACTICE_A, NOTICES) == [first.id, second.id]


def test_records_added_at_once_are_each_listed(log, manager_a):
    saved = []

    def add(n: int) -> None:
        saved.append(log.add_listed(manager_a, NOTICES, lambda: notice(f"together-{n:04d}")).id)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(log.listed(PRACTICE_A, NOTICES)) == sorted(saved) and len(saved) == 8
