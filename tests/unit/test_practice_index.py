"""The per-practice index that keeps short lists exact: saved with its record, in order, once."""
from eventsourcing.persistence import IntegrityError
import pytest
from incidents.domain.practice_index import PracticeIndex, AlreadyListed
from incidents.domain.accounts import StaffAccount

def test_index_lists_records_in_order(log):
    a = StaffAccount.register("amy.a", "Amy", "A81001", "reception", "h", "admin")
    b = StaffAccount.register("bob.b", "Bob", "A81001", "manager", "h", "admin")
    log.save_listed("A81001", "staff", a)
    log.save_listed("A81001", "staff", b)
    assert log.listed("A81001", "staff") == [a.id, b.id]
    assert log.listed("B82002", "staff") == []
    again = StaffAccount.register("amy.a", "Amy", "A81001", "reception", "h", "admin")
    with pytest.raises(AlreadyListed):
        log.save_listed("A81001", "staff", again)
    unlisted = StaffAccount.register("cat.c", "Cat", "A81001", "reception", "h", "admin")
    log.save(unlisted)
    with pytest.raises(IntegrityError):
        log.save_listed("A81001", "staff", StaffAccount.register("cat.c", "Cat", "A81001", "reception", "h", "admin"))
    assert log.listed("A81001", "staff") == [a.id, b.id]
    index = PracticeIndex(practice="A81001", listing="x")
    index.add(a.id)
    with pytest.raises(AlreadyListed):
        index.add(a.id)
