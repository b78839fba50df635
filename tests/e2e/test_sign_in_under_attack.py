"""A real `incidents serve` under a burst of failed sign-ins: simultaneous guesses at one account
are checked no more often than the limit, and other people's pages stay quick meanwhile."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.conftest import LiveServer, csrf_from, run_in_own_loop

pytestmark = pytest.mark.slow

LIMIT = 10  # web/throttle.py LOCK_AFTER


async def ready_forms(server: LiveServer, count: int) -> list[tuple[httpx.AsyncClient, str]]:
    """Clients each with its own session and CSRF token, ready to post at the same moment."""
    clients = [httpx.AsyncClient(base_url=server.url, timeout=60) for _ in range(count)]
    pages = await asyncio.gather(*(client.get("/sign-in") for client in clients))
    return [(client, csrf_from(page.text)) for client, page in zip(clients, pages)]


async def simultaneous_guesses(server: LiveServer, usernames: list[str]) -> list[int]:
    forms = await ready_forms(server, len(usernames))
    try:
        responses = await asyncio.gather(*(
            client.post("/sign-in", data={"username": name, "password": "wrong guess", "csrf_token": token})
            for (client, token), name in zip(forms, usernames)
        ))
        return [response.status_code for response in responses]
    finally:
        await asyncio.gather(*(client.aclose() for client, _ in forms))


def test_simultaneous_guesses_at_one_account_are_checked_no_more_than_the_limit(live_server_factory):
    server = live_server_factory()
    server.start()
    server.add_account("sue.reception", "reception")
    statuses = run_in_own_loop(simultaneous_guesses, server, ["sue.reception"] * 25)
    checked = statuses.count(401)
    print(f"\n25 simultaneous wrong passwords for one account: {checked} checked, {statuses.count(429)} refused")
    assert checked <= LIMIT
    assert statuses.count(429) == 25 - checked


async def latency_during_burst(server: LiveServer) -> tuple[list[float], list[int]]:
    names = [f"guess{n % 8}" for n in range(40)]
    burst = asyncio.create_task(simultaneous_guesses(server, names))
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as visitor:
        await asyncio.sleep(0.3)  # the burst's sign-in pages are fetched, its posts under way
        while not burst.done():
            started = time.perf_counter()
            response = await visitor.get("/sign-in")
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200
            await asyncio.sleep(0.1)
    return latencies, await burst


def test_a_burst_of_failed_sign_ins_does_not_hold_up_other_pages(live_server_factory):
    server = live_server_factory()
    server.start()
    quiet = []
    for _ in range(5):  # the first also compiles the template
        started = time.perf_counter()
        response = httpx.get(server.url + "/sign-in", timeout=10)
        quiet.append(time.perf_counter() - started)
        assert response.status_code == 200
        assert "server" not in response.headers  # uvicorn does not name itself
    quiet_latency = sorted(quiet)[2]
    latencies, statuses = run_in_own_loop(latency_during_burst, server)
    print(
        f"\nGET /sign-in alone: median {quiet_latency:.3f} s; during a burst of 40 failed sign-ins "
        f"({statuses.count(401)} answered 401, {statuses.count(429)} 429): {len(latencies)} requests, "
        f"median {sorted(latencies)[len(latencies) // 2]:.3f} s, max {max(latencies):.3f} s"
    )
    assert set(statuses) <= {401, 429}
    assert latencies and max(latencies) < 1.0
