"""Short references people can say on the phone: given on saving, said on the page, shown in the
list and its CSV, found however typed; a request's reference opens the request."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from incidents.application.records import UK
from tests.web.test_disclosures_web import receive
from tests.web.test_reception_slice import log_filming

YEAR = datetime.now(UK).year


def test_an_incident_is_given_its_reference_on_saving_and_the_page_says_it(client_for):
    reception = client_for("sue.reception")
    first, second = log_filming(reception), log_filming(reception)
    saved = reception.get(first + "?saved=new").text
    assert f"The incident is logged as <strong>F-{YEAR}-0001</strong>." in saved
    assert re.search(rf"<title>[^<]*F-{YEAR}-0001", saved)
    assert f"F-{YEAR}-0002" in reception.get(second).text


def test_the_list_shows_references_finds_one_however_typed_and_the_csv_carries_them(client_for):
    reception, manager = client_for("sue.reception"), client_for("mo.manager")
    first, second = log_filming(reception), log_filming(reception)
    listed = manager.get("/incidents").text
    assert f"F-{YEAR}-0001" in listed and f"F-{YEAR}-0002" in listed
    for typed in (f"F-{YEAR}-0002", f"f {YEAR} 2", f"f-{YEAR}-002"):
        found = manager.get("/incidents", params={"q": typed}).text
        assert second in found and first not in found, typed
    assert "0 incidents found" in manager.get("/incidents", params={"q": f"F-{YEAR}-0009"}).text
    rows = list(csv.DictReader(io.StringIO(manager.get("/incidents.csv").content.decode("utf-8-sig"))))
    assert sorted(row["reference"] for row in rows) == [f"F-{YEAR}-0001", f"F-{YEAR}-0002"]


def test_a_request_has_its_own_reference_and_searching_it_opens_the_request(client_for):
    governance = client_for("gill.governance")
    location = receive(governance)
    assert f"D-{YEAR}-0001" in governance.get(location).text
    assert f"D-{YEAR}-0001" in governance.get("/disclosures").text
    opened = governance.get("/incidents", params={"q": f"d {YEAR} 1"}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == location
    from_htmx = governance.get("/incidents", params={"q": f"D-{YEAR}-0001"}, headers={"HX-Request": "true"})
    assert from_htmx.headers["HX-Redirect"] == location
    # A manager who does not handle requests searches it as words, and is shown no request.
    assert client_for("mo.manager").get("/incidents", params={"q": f"D-{YEAR}-0001"}, follow_redirects=False).status_code == 200
