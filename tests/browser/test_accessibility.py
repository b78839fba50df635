"""WCAG 2.2 AA and more in a real Chromium: axe-core (npm's copy, src/incidents/web/node_modules/axe-core), with
every rule it has but WCAG AAA's, finds no violation on any page, at 768x1024 (touch) and 1280x800, and touch
targets are at least 44x44 CSS px on the tablet. Screenshots of each page at both sizes land in test-artifacts/screenshots/.

The app's CSP allows scripts only with the page's nonce, so axe injected by add_script_tag would be
blocked; this test alone opens its browser contexts with bypass_csp=True. Other browser tests keep
the CSP and report any violation of it.
"""

from __future__ import annotations

import os
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PASSWORD, TABLET, Tablet, screenshot
from incidents.application.service import IncidentLog
from tests.conftest import REPO, Account, LiveServer, csrf_from, field_from, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = REPO / "src" / "incidents" / "web" / "node_modules" / "axe-core" / "axe.min.js"
MIN_TARGET = 44
UK = ZoneInfo("Europe/London")
ROLES = {"reception": "sue.reception", "manager": "mo.manager", "governance": "gill.governance"}

# Everything a person taps: buttons, links styled as buttons, radios and checkboxes (for these two,
# the input and its label together, as the label is what a finger lands on).
TARGETS = """
() => {
  const visible = (r) => r.width > 0 && r.height > 0;
  const out = [];
  const union = (a, b) => {
    const left = Math.min(a.left, b.left), top = Math.min(a.top, b.top);
    return {width: Math.max(a.right, b.right) - left, height: Math.max(a.bottom, b.bottom) - top};
  };
  for (const el of document.querySelectorAll('button, input[type=submit], a.nhsuk-button, a[role=button], .app-big-action, input[type=radio], input[type=checkbox]')) {
    let r = el.getBoundingClientRect();
    if (el.matches('input[type=radio], input[type=checkbox]')) {
      const label = el.id && document.querySelector(`label[for="${el.id}"]`);
      if (label && visible(label.getBoundingClientRect())) r = union(r, label.getBoundingClientRect());
    }
    if (!visible(r) || el.closest('[hidden], details:not([open]) > :not(summary)')) continue;
    if (r.width < 44 || r.height < 44) {
      out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${(el.innerText || el.value || el.name || '').trim().slice(0, 40)}": ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return out;
}
"""


@dataclass
class Site:
    server: LiveServer
    pages: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # role -> [(name, path)]


@contextmanager
def http_client(server: LiveServer, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as client:
        sign_in(client, Account(username, PASSWORD, "", "A81001"))
        yield client


def log_incident_with_responses(client: httpx.Client) -> str:
    form_page = client.get("/incidents/new/filming").text
    now = datetime.now(UK) - timedelta(minutes=5)
    made = client.post("/incidents/new/filming", data={
        "csrf_token": csrf_from(form_page), "submission_key": field_from(form_page, "submission_key"),
        "area": "waiting_area", "filmer": "patient", "people_captured": "staff_and_patients", "children_present": "no",
        "occurred_date": now.strftime("%Y-%m-%d"), "occurred_time": now.strftime("%H:%M"), "note": "Held a phone up at the desk",
    })
    assert made.status_code == 303, made.text
    path = made.headers["location"].split("?")[0]
    for response in ("PolicyExplained", "AskedToStop"):
        page = client.get(path).text
        added = client.post(f"{path}/responses", data={
            "csrf_token": csrf_from(page), "submission_key": field_from(page, "submission_key"), "response": response,
            "occurred_date": now.strftime("%Y-%m-%d"), "occurred_time": now.strftime("%H:%M"),
        })
        assert added.status_code == 303, added.text
    page = client.get(path).text
    noted = client.post(f"{path}/notes", data={"csrf_token": csrf_from(page), "submission_key": field_from(page[page.index(f'action="{path}/notes"'):], "submission_key"), "text": "The patient stopped and apologised"})
    assert noted.status_code == 303, noted.text
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory, chromium_path) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("a11y") / "data"
    data_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_") or k.startswith("INCIDENTS_REQUIRE")}
    env.update(INCIDENTS_DATA_DIR=str(data_dir), INCIDENTS_PRACTICE="A81001")
    server = LiveServer(data_dir, env)
    for role, username in ROLES.items():
        server.add_account(username, role, password=PASSWORD)
    server.start()
    try:
        yield build_site(server)
    finally:
        server.stop()


def build_site(server: LiveServer) -> Site:
    with http_client(server, ROLES["reception"]) as reception:
        incident = log_incident_with_responses(reception)
    pages = {
        "reception": [
            ("home", "/"),
            ("report-filming", "/incidents/new/filming"),
            ("report-recording", "/incidents/new/recording"),
            ("incident", incident),
            ("error-404", f"/incidents/{uuid.uuid4()}"),
        ],
        "manager": [("dashboard", "/dashboard"), ("incident-list", "/incidents"), ("monthly-report", "/reports/monthly"),
                    ("notices", "/notices"), ("notice-new", "/notices/new"), ("incident-manager", incident),
                    ("call-recording", "/call-recording"), ("call-listen", "/call-recording/listenings/new")],
        "governance": [("staff", "/staff"), ("staff-new", "/staff/new"), ("staff-account", f"/staff/{IncidentLog.account_id(ROLES['reception'])}"),
                       ("disclosures", "/disclosures"), ("disclosure-new", "/disclosures/new"), ("practice-settings", "/practice")],
    }
    with http_client(server, ROLES["manager"]) as manager:
        page = manager.get("/notices/new").text
        published = manager.post("/notices", data={
            "csrf_token": csrf_from(page), "submission_key": field_from(page, "submission_key"), "channel": "waiting_room_poster",
            "wording": "Filming is not allowed in the waiting area", "in_service_from": date.today().isoformat(),
        })
        assert published.status_code == 303, published.text
        pages["manager"].append(("notice", published.headers["location"].split("?")[0]))
    with http_client(server, ROLES["governance"]) as governance:
        page = governance.get("/disclosures/new").text
        received = governance.post("/disclosures", data={
            "csrf_token": csrf_from(page), "submission_key": field_from(page, "submission_key"), "requester_type": "subject_access",
            "requester": "Zoë Łukasz", "reference": "SAR/2026/7", "received_on": date.today().isoformat(), "due_on": "",
        })
        assert received.status_code == 303, received.text
        request_path = received.headers["location"].split("?")[0]
        pages["governance"] += [("disclosure", request_path), ("disclosure-scope", f"{request_path}/scope")]
    return Site(server, pages)


# Every rule axe has (WCAG A and AA, its best practices such as landmarks and heading order, its
# experimental ones) but those of WCAG AAA, whose contrast the NHS colours do not aim for.
EVERY_RULE_BUT_AAA = "axe.getRules().filter((rule) => !rule.tags.some((tag) => /aaa$/.test(tag))).map((rule) => rule.ruleId)"


def run_axe(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(f"() => axe.run(document, {{runOnly: {{type: 'rule', values: {EVERY_RULE_BUT_AAA}}}, resultTypes: ['violations']}})")
    assert result["passes"], "axe ran no rule: is axe-core loaded?"
    found = []
    for v in result["violations"]:
        for node in v["nodes"]:
            found.append(f"[{v['impact']}] {v['id']}: {v['help']}\n      at {' '.join(node['target'])}\n      {node['failureSummary'].replace(chr(10), ' ')}")
    return found


# The build keeps only the NHS.UK frontend components the pages use (web/styles/app.scss,
# web/static/nhsuk.mjs in src/incidents): a page using one left out shows classes the whole frontend would style and
# this one does not, or a component its script never started.
FULL_FRONTEND_CSS = REPO / "src" / "incidents" / "web" / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk" / "nhsuk-frontend.min.css"
COMPONENTS_LEFT_OUT = """
() => {
  const styled = new Set();
  const collect = (rules) => {
    for (const rule of rules) {
      for (const match of (rule.selectorText || '').matchAll(/\\.(nhsuk-[\\w-]+)/g)) styled.add(match[1]);
      if (rule.cssRules) collect(rule.cssRules);
    }
  };
  for (const sheet of document.styleSheets) collect(sheet.cssRules);
  const used = new Set([...document.querySelectorAll('[class]')].flatMap((e) => [...e.classList]));
  return {
    unstyled: [...used].filter((name) => name.startsWith('nhsuk-') && !styled.has(name)),
    notStarted: [...document.querySelectorAll('[data-module]')].filter((e) => !e.hasAttribute(`data-${e.dataset.module}-init`)).map((e) => e.dataset.module),
  };
}
"""


def components_left_out(page: Page) -> list[str]:
    found = page.evaluate(COMPONENTS_LEFT_OUT)
    frontend_styles = set(re.findall(r"\.(nhsuk-[\w-]+)", FULL_FRONTEND_CSS.read_text()))
    unstyled = sorted(name for name in found["unstyled"] if name in frontend_styles)
    return [*(f"class {name} is not in the built stylesheet" for name in unstyled), *(f"component {m} was not started by app.js" for m in sorted(set(found["notStarted"])))]


def open_as(new_tablet, server: LiveServer, role: str | None, viewport: dict) -> Tablet:
    tablet = new_tablet(viewport=viewport, has_touch=viewport == TABLET, bypass_csp=True)
    tablet.watch.expected_page_statuses.update({404, 422})
    if role:
        page = tablet.page
        page.goto(server.url + "/sign-in")
        page.get_by_label("Username").fill(ROLES[role])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("Signed in as")).to_be_visible()
    return tablet


def check(page: Page, name: str, viewport: dict, problems: list[str], shoot: bool) -> None:
    size = f"{viewport['width']}x{viewport['height']}"
    for violation in run_axe(page):
        problems.append(f"{name} at {size}: {violation}")
    for missing in components_left_out(page):
        problems.append(f"{name} at {size}: {missing}")
    if viewport == TABLET:
        for small in page.evaluate(TARGETS):
            problems.append(f"{name} at {size}: touch target under {MIN_TARGET}px: {small}")
        if shoot:
            screenshot(page, f"a11y-{name}")
            page.set_viewport_size(viewport)


@pytest.mark.parametrize("viewport", [TABLET, DESKTOP], ids=["tablet", "desktop"])
def test_no_axe_violations_and_big_enough_targets_on_every_page(site: Site, new_tablet, viewport):
    server = site.server
    problems: list[str] = []
    shoot = viewport == TABLET

    signed_out = open_as(new_tablet, server, None, viewport)
    signed_out.page.goto(server.url + "/sign-in")
    check(signed_out.page, "sign-in", viewport, problems, shoot)
    signed_out.page.get_by_role("button", name="Sign in").click()  # nothing typed: the error summary
    expect(signed_out.page.locator(".nhsuk-error-summary")).to_be_visible()
    check(signed_out.page, "sign-in-error", viewport, problems, shoot)

    for role, pages in site.pages.items():
        tablet = open_as(new_tablet, server, role, viewport)
        for name, path in pages:
            tablet.page.goto(server.url + path)
            check(tablet.page, name, viewport, problems, shoot)
        tablet.watch.assert_clean()

    # Forms sent with errors, and the staff pages that show a one-time password and use it.
    gov = open_as(new_tablet, server, "governance", viewport)
    page = gov.page
    page.goto(server.url + "/staff/new")
    page.get_by_role("button", name="Add account").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    check(page, "staff-new-errors", viewport, problems, shoot)
    username = f"nell.{viewport['width']}"
    page.get_by_label("Full name").fill("Nell Nurse")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Practice manager").check()
    page.get_by_role("button", name="Add account").click()
    expect(page.get_by_role("heading", name="Account created")).to_be_visible()
    check(page, "staff-password", viewport, problems, shoot)
    password = page.locator("#one-time-password").inner_text().strip()
    page.goto(server.url + "/practice")
    page.get_by_role("button", name="Save practice details").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    check(page, "practice-settings-errors", viewport, problems, shoot)

    newcomer = open_as(new_tablet, server, None, viewport)
    newcomer.page.goto(server.url + "/sign-in")
    newcomer.page.get_by_label("Username").fill(username)
    newcomer.page.get_by_label("Password").fill(password)
    newcomer.page.get_by_role("button", name="Sign in").click()
    expect(newcomer.page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    check(newcomer.page, "choose-password", viewport, problems, shoot)
    newcomer.page.get_by_role("button", name="Save password and continue").click()
    expect(newcomer.page.locator(".nhsuk-error-summary")).to_be_visible()
    check(newcomer.page, "choose-password-errors", viewport, problems, shoot)

    report = open_as(new_tablet, server, "reception", viewport)
    report.page.goto(server.url + "/incidents/new/recording")
    report.page.get_by_role("button", name="Save incident").click()
    expect(report.page.locator(".nhsuk-error-summary")).to_be_visible()
    check(report.page, "report-recording-errors", viewport, problems, shoot)

    assert not problems, f"{len(problems)} accessibility problem(s):\n" + "\n".join(problems)
