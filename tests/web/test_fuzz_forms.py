"""Every form and every query string of the app, found from its routes, sent hostile values as each
role: dates far in the past and future, NUL and other control characters, bidi overrides, lone
surrogates, 100,000 characters, numbers out of range, bodies that are not UTF-8. No answer may be
a 5xx or show a traceback, and afterwards the views still run: a normal incident reaches the list.

The number of hostile requests is printed (run with -s) and kept in FUZZ_COUNT for the report.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.routing import Route

from incidents.settings import Settings
from incidents.web.throttle import SignInThrottle
from tests.conftest import csrf_from, field_from
from tests.web.test_disclosures_web import receive
from tests.web.test_reception_slice import log_filming, recording_form

UK = ZoneInfo("Europe/London")
ROLES = ("sue.reception", "mo.manager", "gill.governance")
# Leaving these would end the session the rest of the fuzz runs in; sign-in is fuzzed signed out.
SKIPPED_POSTS = {"/sign-out"}
SIGNED_OUT_POSTS = {"/sign-in"}  # the same form whoever sends it: sent once, signed out
HOSTILE = [
    "0001-01-01", "9999-12-31", "0026-11-25", "0001-01-01T00:01+23:59", "9999-12-31T23:59-23:59",
    "hello\x00world", "\x00", "\x1b[31mred", "\u202egnp.exe", "\u2066isolate\u2069", "\ud800", "a\udfffb",
    "x" * 100_000, "9" * 40, "-1", "1e309", "NaN", "²", "①", "１２", "", "   ",
    "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd", "\r\n\r\nX-Injected: 1",
]
BAD_BODIES = [b"note=Zo\xeb", b"\xff\xfe\x00\x01=\xc3", b"note=%FF%FE", b"note=%ED%A0%80", b"a=%%%&=&&=="]
QUERY_VALUES = HOSTILE[:6] + HOSTILE[12:21]  # the dates, and the values a number or a short filter meets
# Per route and role, a turn of the values each (starting further on for each route, so that
# across the routes and roles every value meets every kind of form): about a minute in all.
# PostgreSQL (where a NUL in text once stopped the views) gets a smaller set: each request there is slower.
EACH = {"sqlite": (15, 26, 10), "postgres": (4, 8, 3)}
FUZZ_COUNT: dict[str, int] = {}


def rotation(turn: int, values: list[str]) -> list[str]:
    """Every value, starting from a different one for each route."""
    start = turn % len(values)
    return values[start:] + values[:start]


def encoded(value: str) -> str:
    """A value %-escaped the way a form would send it; a lone surrogate goes as its (invalid) UTF-8 bytes."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def body_of(form: dict[str, str]) -> bytes:
    return "&".join(f"{encoded(k)}={encoded(v)}" for k, v in form.items()).encode()


def declared_routes(routes, prefix: str = "") -> Iterator[tuple[str, str, Any]]:
    for route in routes:
        if isinstance(route, (APIRoute, Route)) and getattr(route, "methods", None):
            for method in route.methods:
                if method in ("GET", "POST"):
                    yield method, prefix + route.path, route
        elif hasattr(route, "original_router"):  # FastAPI keeps an included router whole
            yield from declared_routes(route.original_router.routes, prefix + route.include_context.prefix)


def query_names(route: Any) -> list[str]:
    """The query parameters a route declares, a pydantic query model's fields among them."""
    names: list[str] = []
    for param in getattr(getattr(route, "dependant", None), "query_params", []):
        annotation = getattr(param.field_info, "annotation", None)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += [f.alias or n for n, f in annotation.model_fields.items()]
        else:
            names.append(param.alias)
    return names


class Forms(HTMLParser):
    """The forms of a page: action -> the fields it would post, filled as the page fills them
    (the first radio button, ticked boxes' values, something typed in empty text fields)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self.current: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self.current = self.forms.setdefault(a.get("action", ""), {})
        elif self.current is not None and tag in ("input", "textarea", "select") and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                self.current.setdefault(a["name"], a.get("value", "on"))
            elif kind == "date" and not a.get("value"):
                self.current[a["name"]] = datetime.now(UK).strftime("%Y-%m-%d")
            else:
                self.current[a["name"]] = a.get("value") or "Fuzz text"

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None


def concrete(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), path)


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request, tmp_path: Path) -> Settings:
    """The app on a SQLite file, and on a fresh PostgreSQL database."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else ""
    return Settings(data_dir=tmp_path / "data", practice="A81001", projections="inline", **({"database_url": url} if url else {}))


@pytest.fixture
def world(client_for, web_app) -> dict[str, Any]:
    """Something of every kind to aim at: incidents of both kinds, a disclosure request, a
    notice, a practice recording, and a staff account for the staff pages (not one the fuzz signs in as)."""
    sue, mo, gill = (client_for(name) for name in ROLES)
    filming = log_filming(sue).rsplit("/", 1)[1]
    page = sue.get("/incidents/new/recording")
    assert sue.post("/incidents/new/recording", data=recording_form(page.text)).status_code == 303
    request_id = receive(gill).rsplit("/", 1)[1]
    page = mo.get("/notices/new")
    notice = mo.post("/notices", data={"csrf_token": csrf_from(page.text), "submission_key": field_from(page.text, "submission_key"), "channel": "website", "wording": "We may record calls", "in_service_from": "2026-01-01"})
    notice_id = notice.headers["location"].split("?")[0].rsplit("/", 1)[1]
    page = gill.get("/staff/new")
    assert gill.post("/staff", data={"csrf_token": csrf_from(page.text), "username": "fuzz.target", "display_name": "Target", "roles": "reception"}).status_code == 200
    staff_pages = set(re.findall(r"/staff/([0-9a-f-]{36})", gill.get("/staff").text))
    target = next(i for i in staff_pages if "fuzz.target" in gill.get(f"/staff/{i}").text)
    page = sue.get("/recordings/new")
    made = sue.post("/recordings", data={"csrf_token": csrf_from(page.text), "submission_key": field_from(page.text, "submission_key"), "nhs_number": "9434765919", "clinician": "Dr Reg", "recorded_on": "2026-01-01", "purpose": "training", "medium": "audio"})
    recording_id = made.headers["location"].rsplit("/", 1)[1]
    ids = {"recording_id": recording_id, "incident_id": filming, "record_id": filming, "request_id": request_id, "notice_id": notice_id, "account_id": str(target), "kind": "filming"}
    return {"ids": ids, "clients": {name: client_for(name) for name in ROLES}, "anonymous": client_for()}


def check(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}"
    assert "Traceback" not in response.text and "Sorry, there is a problem with the service" not in response.text, what


def test_every_form_and_query_string_under_hostile_values_as_each_role(web_app, world, client_for):
    # Failed sign-ins are slowed down and then locked (tests/unit/test_sign_in_throttle.py): here they would only
    # make the fuzz wait, so this app's throttle lets every attempt through at once.
    web_app.state.sign_in_throttle = SignInThrottle(
        web_app.state.sign_in_throttle.store, slow_after=10**9, lock_after=10**9, address_slow_after=10**9
    )
    engine = web_app.state.store.kind
    queries_each, one_field_each, all_fields_each = EACH[engine]
    started = time.monotonic()
    rng = random.Random(14)
    routes = sorted(set((m, p) for m, p, _ in declared_routes(web_app.routes)))
    route_objects = {(m, p): r for m, p, r in declared_routes(web_app.routes)}
    ids = world["ids"]
    sent = turn = 0

    for name, client in list(world["clients"].items()) + [("anonymous", world["anonymous"])]:
        forms: dict[str, dict[str, str]] = {}
        for method, path in routes:  # each page as this role, for its forms
            if method == "GET" and "{" not in path or method == "GET" and set(re.findall(r"\{(\w+)", path)) <= set(ids):
                page = client.get(concrete(path, ids))
                check(page, f"GET {path} as {name}")
                parser = Forms()
                parser.feed(page.text)
                forms.update(parser.forms)
        token = csrf_from(client.get("/sign-in" if name == "anonymous" else "/").text)

        for method, path in routes:
            turn += 1
            url = concrete(path, ids)
            if method == "GET":
                names = query_names(route_objects[(method, path)])
                for value in rotation(turn, QUERY_VALUES)[:queries_each] if names else []:
                    chosen = rng.sample(names, k=min(len(names), 2))
                    # A server refuses a request line much over 8 KB before the app sees it.
                    query = "&".join(f"{n}={encoded(value[:8000])}" for n in chosen)
                    check(client.get(f"{url}?{query}"), f"GET {path}?{chosen}={value[:30]!r} as {name}")
                    sent += 1
                if "{" in path:  # an id that is not one
                    check(client.get(re.sub(r"\{\w+(:\w+)?\}", encoded("\x00²"), path)), f"GET {path} (bad id) as {name}")
                    sent += 1
                continue
            if path in SKIPPED_POSTS or (path in SIGNED_OUT_POSTS) != (name == "anonymous"):
                continue
            base = {**forms.get(url, {}), "csrf_token": token}
            fields = [f for f in base if f != "csrf_token"] or ["note", "reason", "text"]

            def post(form: dict[str, str], what: str):
                if "submission_key" in form and form["submission_key"] == base.get("submission_key"):
                    form = {**form, "submission_key": uuid.uuid4().hex}
                response = client.post(url, content=body_of(form), headers={"content-type": "application/x-www-form-urlencoded"})
                check(response, f"POST {path} {what} as {name}")
                return response

            first = post(dict(base), "as the page fills it")
            permitted = first.status_code != 403 and "/sign-in" not in first.headers.get("location", "")
            sent += 1
            values = rotation(turn, HOSTILE)
            for i, value in enumerate(values[:one_field_each] if permitted else values[:3]):
                field = fields[(turn + i) % len(fields)]  # one field hostile, the rest as the page fills them
                post({**base, field: value}, f"{field}={value[:30]!r}")
                sent += 1
            for value in values[:all_fields_each] if permitted else []:  # every field hostile at once
                post({**{f: value for f in fields}, "csrf_token": token}, f"all={value[:30]!r}")
                sent += 1
            raw = BAD_BODIES[turn % len(BAD_BODIES)]
            check(client.post(url, content=f"csrf_token={token}&".encode() + raw, headers={"content-type": "application/x-www-form-urlencoded"}), f"POST {path} body {raw!r} as {name}")
            multipart = client.post(url, data={"csrf_token": token, fields[0]: "hello\x00world"}, files={"upload": ("x.txt", b"\xff\xfe", "text/plain")})
            check(multipart, f"POST {path} multipart as {name}")
            sent += 2

    elapsed = time.monotonic() - started
    FUZZ_COUNT[engine] = sent
    print(f"\nfuzz: {sent} hostile requests on {engine} in {elapsed:.1f} s")
    assert sent > (1000 if engine == "sqlite" else 400)

    # The views still run: the health check is green and a normal incident reaches the list.
    assert client_for().get("/healthz").status_code == 200
    location = log_filming(world["clients"]["sue.reception"], note="After the fuzz")  # fuzzing sign-in throttled new sign-ins
    listed = world["clients"]["mo.manager"].get("/incidents?q=fuzz")
    assert listed.status_code == 200 and location in listed.text
    assert web_app.state.projections.stopped() == []
