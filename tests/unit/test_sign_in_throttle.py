"""The sign-in throttle's rules, over an in-memory SQLite store: per account, an attempt is
counted before its password is checked; per address, failures only slow the failed answers."""

import threading

from incidents.web.throttle import SignInThrottle, SqliteAttemptStore


def throttle(**rules) -> SignInThrottle:
    return SignInThrottle(SqliteAttemptStore(":memory:"), **rules)


def test_an_account_is_refused_unchecked_once_its_attempts_reach_the_limit():
    t = throttle(lock_after=3)
    reservations = [t.reserve("sue", "10.0.0.1") for _ in range(4)]
    assert [r.refused_for == 0 for r in reservations] == [True, True, True, False]
    assert 0 < reservations[-1].refused_for <= t.window
    assert t.reserve("Sue ", "10.0.0.2").refused_for > 0  # the same account, typed otherwise, from anywhere
    assert t.reserve("nobody.here", "10.0.0.1").refused_for == 0


def test_simultaneous_attempts_for_one_account_reserve_no_more_than_the_limit():
    t = throttle(lock_after=10)
    admitted: list[bool] = []
    start = threading.Barrier(25)

    def attempt() -> None:
        start.wait()
        admitted.append(t.reserve("sue", "10.0.0.1").refused_for == 0)

    threads = [threading.Thread(target=attempt) for _ in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 10


def test_failures_from_one_address_never_refuse_another_account():
    t = throttle(lock_after=10, address_slow_after=5)
    for n in range(200):
        t.failed(t.reserve(f"random{n}", "10.0.0.1"))
    reservation = t.reserve("sue", "10.0.0.1")
    assert reservation.refused_for == 0
    t.succeeded(reservation)


def test_failed_answers_are_slowed_per_account_and_per_address():
    t = throttle(lock_after=100, slow_after=3, address_slow_after=1000)
    delays = [t.failed(t.reserve("sue", "10.0.0.1")) for _ in range(4)]
    assert delays == [0.0, 0.0, 0.5, 1.0]
    t2 = throttle(lock_after=100, slow_after=100, address_slow_after=10)
    delays = [t2.failed(t2.reserve(f"name{n}", "10.0.0.1")) for n in range(30)]
    assert delays[0] == 0 and 0 < delays[-1] <= 4.0


def test_a_right_password_clears_the_account():
    t = throttle(lock_after=3)
    for _ in range(2):
        t.failed(t.reserve("sue", "10.0.0.1"))
    t.succeeded(t.reserve("sue", "10.0.0.1"))
    assert all(t.reserve("sue", "10.0.0.1").refused_for == 0 for _ in range(3))


def test_attempts_expire_with_the_window():
    t = throttle(window=0.0, lock_after=1)
    t.reserve("sue", "10.0.0.1")
    assert t.reserve("sue", "10.0.0.1").refused_for == 0
