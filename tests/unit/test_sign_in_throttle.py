"""The sign-in throttle: slower after a few failures, locked after many, per key."""

from incidents.web.throttle import SignInThrottle


def test_no_delay_until_the_slow_threshold():
    throttle = SignInThrottle(slow_after=3, lock_after=10)
    for _ in range(2):
        throttle.failed("user:a")
    assert throttle.delay_for("user:a") == 0
    throttle.failed("user:a")
    assert throttle.delay_for("user:a") == 0.5
    throttle.failed("user:a")
    assert throttle.delay_for("user:a") == 1.0


def test_locked_after_the_lock_threshold_and_only_that_key():
    throttle = SignInThrottle(slow_after=3, lock_after=4)
    for _ in range(4):
        throttle.failed("user:a", "addr:1")
    assert throttle.locked_for("user:a") > 0
    assert throttle.locked_for("user:b", "addr:1") == 0  # a shared address gets five times the room
    for _ in range(16):
        throttle.failed("addr:1")
    assert throttle.locked_for("user:b", "addr:1") > 0
    assert throttle.locked_for("user:b", "addr:2") == 0


def test_success_clears_the_name_but_not_the_address():
    throttle = SignInThrottle(slow_after=1, lock_after=2)
    for _ in range(5):
        throttle.failed("user:a", "addr:1")
    throttle.succeeded("user:a")
    assert throttle.delay_for("user:a") == 0
    assert throttle.delay_for("addr:1") == 0.5


def test_failures_expire_after_the_window():
    throttle = SignInThrottle(window=0.0, slow_after=1, lock_after=1)
    throttle.failed("user:a")
    assert throttle.locked_for("user:a") == 0
