"""Signing in and sessions under attack: failures from one address do not lock others out, a
session has an absolute lifetime, a GET signs nobody out, every response carries the security
headers, /healthz tells strangers only its status, and a trusted proxy alone names the client."""

from __future__ import annotations

import re
import time
from dataclasses import replace

from fastapi.testclient import TestClient

from incidents.web.app import MAX_BODY_BYTES, create_app
from incidents.bootstrap import open_log
from tests.conftest import csrf_from
from tests.web.conftest import PASSWORD

SECURITY_HEADERS = ("x-content-type-options", "x-frame-options", "referrer-policy", "content-security-policy")


def stylesheet_of(html: str) -> str:
    return re.search(r'<link rel="stylesheet" href="([^"]+)"', html).group(1)


def test_failures_with_random_names_from_one_address_do_not_stop_a_right_password(web_app, client_for):
    web_app.state.sign_in_throttle.address_slow_after = 10_000  # no delays: the test is about refusals
    attacker = client_for()
    token = csrf_from(attacker.get("/sign-in").text)
    statuses = {
        attacker.post("/sign-in", data={"username": f"guess{n}", "password": "wrong", "csrf_token": token}).status_code
        for n in range(60)
    }
    assert statuses == {401}
    colleague = client_for()  # the same address, as behind the practice's proxy
    page = colleague.get("/sign-in")
    response = colleague.post("/sign-in", data={"username": "sue.reception", "password": PASSWORD, "csrf_token": csrf_from(page.text)})
    assert response.status_code == 303


def test_a_locked_account_is_told_when_to_try_again(web_app, client_for):
    web_app.state.sign_in_throttle.lock_after = 2
    web_app.state.sign_in_throttle.slow_after = 100
    client = client_for()
    token = csrf_from(client.get("/sign-in").text)
    for _ in range(2):
        client.post("/sign-in", data={"username": "sue.reception", "password": "wrong", "csrf_token": token})
    locked = client.post("/sign-in", data={"username": "sue.reception", "password": "wrong", "csrf_token": token})
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60


def test_a_busy_session_still_ends_after_its_maximum_lifetime(settings, web_app, client_for):
    client = client_for("sue.reception")
    web_app.state.settings = replace(settings, session_max_hours=1 / 3600, idle_timeout_minutes=10)
    for _ in range(3):
        assert client.get("/").status_code == 200  # busy all along
        time.sleep(0.4)
    time.sleep(1)
    response = client.get("/")
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in?reason=ended")
    assert client.get("/").headers["location"].startswith("/sign-in")


def test_a_link_to_the_sign_in_page_signs_nobody_out(client_for):
    tablet = client_for("sue.reception")
    for reason in ("inactive", "switch", "signed-out"):
        assert tablet.get(f"/sign-in?reason={reason}").status_code == 200
        assert tablet.get("/").status_code == 200, reason


def test_the_idle_sign_out_is_a_post_that_ends_this_session_only(client_for):
    tablet, desktop = client_for("sue.reception"), client_for("sue.reception")
    token = csrf_from(tablet.get("/").text)
    response = tablet.post("/sign-out", data={"csrf_token": token, "reason": "inactive"})
    assert response.headers["location"] == "/sign-in?reason=inactive"
    assert tablet.get("/").status_code == 303
    assert desktop.get("/").status_code == 200


def test_every_kind_of_response_carries_the_security_headers(client_for):
    client = client_for("mo.manager")
    responses = {
        "page": client.get("/"),
        "redirect": client_for().get("/"),
        "static": client.get(stylesheet_of(client.get("/").text)),
        "not found": client.get("/no-such-page"),
        "healthz": client.get("/healthz"),
        "csv": client.get("/reports/monthly.csv"),
        "too large": client.post("/sign-in", content=b"x" * (MAX_BODY_BYTES + 1), headers={"content-type": "application/x-www-form-urlencoded"}),
    }
    assert responses["too large"].status_code == 413
    for name, response in responses.items():
        missing = [h for h in SECURITY_HEADERS if h not in response.headers]
        assert not missing, f"{name} ({response.status_code}) lacks {missing}"
        assert "server" not in response.headers
        assert "strict-transport-security" not in response.headers  # plain HTTP here
    assert responses["redirect"].headers["cache-control"] == "no-store"
    assert "nonce-" in responses["page"].headers["content-security-policy"]


def test_hsts_when_cookies_are_secure(settings):
    opened = open_log(settings)
    app = create_app(replace(settings, secure_cookies=True), opened)
    try:
        with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
            for path in ("/healthz", "/sign-in", "/", stylesheet_of(client.get("/sign-in").text)):
                assert client.get(path).headers["strict-transport-security"].startswith("max-age="), path
    finally:
        for stop in app.state.on_shutdown:
            stop()
        opened.log.close()


def test_healthz_tells_only_a_signed_in_manager_more_than_its_status(web_app, client_for):
    web_app.state.projections.waiting = lambda: "pid 1"
    web_app.state.projections.stopped = lambda: ["incident_summaries"]
    for who in (None, "sue.reception", "gill.governance", "other.reception"):
        response = client_for(who).get("/healthz")
        assert (response.status_code, response.json()) == (503, {"status": "views stopped"}), who
    detailed = client_for("mo.manager").get("/healthz")
    assert detailed.status_code == 503 and detailed.json()["views"] == ["incident_summaries"]


def counted_addresses(web_app) -> set[str]:
    store = web_app.state.sign_in_throttle.store
    return {key for (key,) in store._run("SELECT key FROM sign_in_attempts") if key.startswith("addr:")}


def test_a_forwarded_address_counts_only_from_a_trusted_proxy(settings):
    for n, (trusted, expected) in enumerate((("", "addr:10.9.8.7"), ("10.9.8.0/24", "addr:203.0.113.5"))):
        deployment = replace(settings, data_dir=settings.data_dir / str(n), trusted_proxies=trusted)
        opened = open_log(deployment)
        app = create_app(deployment, opened)
        try:
            client = TestClient(app, follow_redirects=False, client=("10.9.8.7", 40000))
            token = csrf_from(client.get("/sign-in").text)
            client.post("/sign-in", data={"username": "x.y", "password": "wrong", "csrf_token": token}, headers={"X-Forwarded-For": "203.0.113.5"})
            assert counted_addresses(app) == {expected}, trusted
        finally:
            for stop in app.state.on_shutdown:
                stop()
            opened.log.close()
