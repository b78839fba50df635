"""Staff accounts on every store: the practice's staff list is exact the moment an account is made
(also when several are added at once), and it and a disabled account survive a restart."""

from __future__ import annotations

import threading

from incidents.application import commands as c
from incidents.bootstrap import open_log
from incidents.settings import Settings
from tests.conftest import FAST_HASHER

PRACTICE = "A81001"


def test_staff_list_is_exact_under_concurrent_additions_and_after_a_restart(settings: Settings):
    opened = open_log(settings)
    log = opened.log
    log.password_hasher = FAST_HASHER
    log.register_account(c.RegisterAccount(username="gill.governance", display_name="Gill", practice=PRACTICE, roles=("governance",), password="a long enough password"), actor="test")  # type: ignore[arg-type]
    gill, _ = log.authenticate("gill.governance", "a long enough password")  # type: ignore[misc]
    errors: list[BaseException] = []

    def add(n: int) -> None:
        try:
            log.add_staff(c.AddStaff(username=f"person.{n}", display_name=f"Person {n}", roles=("reception",)), gill)  # type: ignore[arg-type]
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    names = sorted(a.username for a in log.staff(gill))
    assert names == sorted(["gill.governance", *(f"person.{n}" for n in range(8))])

    target = log.account_id("person.0")
    log.disable_account(c.DisableAccount(account_id=target, reason="Left"), gill)
    log.close()

    reopened = open_log(settings).log
    try:
        assert sorted(a.username for a in reopened.staff(gill)) == names
        assert reopened.staff_account(gill, target).disabled
        assert [type(e).__name__ for e in reopened.account_history(gill, target)][-1] == "Disabled"
    finally:
        reopened.close()
