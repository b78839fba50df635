"""Static files and pages for a tablet on practice Wi-Fi: each static file is named by its content,
compressed and kept a long time; pages are compressed, except for requests another site started."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from incidents.settings import ConfigurationError
from incidents.web import app as web_app_module
from tests.web.test_sign_in_security import SECURITY_HEADERS

YEAR = 365 * 24 * 3600


def static_addresses(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_a_page_names_each_static_file_by_its_content_and_the_file_is_kept_a_year(client_for):
    client = client_for("sue.reception")
    addresses = static_addresses(client.get("/").text)
    assert {re.sub(r"\.[0-9a-f]{12}\.", ".", a).rsplit("/", 1)[-1] for a in addresses} >= {"app.css", "app.js", "htmx.min.js", "favicon.svg"}
    for address in addresses:
        assert re.search(r"\.[0-9a-f]{12}\.\w+$", address), address
        answer = client.get(address, headers={"accept-encoding": "br, gzip"})
        assert answer.status_code == 200, address
        cache = answer.headers["cache-control"]
        assert "immutable" in cache and int(re.search(r"max-age=(\d+)", cache).group(1)) >= YEAR, (address, cache)
        assert not [h for h in SECURITY_HEADERS if h not in answer.headers], address
        assert "access-control-allow-origin" not in answer.headers  # no other site reads them
        if address.endswith((".css", ".js", ".svg")):
            assert answer.headers["content-encoding"] == "br", address
            assert "accept-encoding" in answer.headers["vary"].lower()


def test_a_static_file_comes_gzipped_or_plain_to_a_browser_without_brotli(client_for):
    client = client_for("sue.reception")
    stylesheet = next(a for a in static_addresses(client.get("/").text) if a.endswith(".css"))
    gzipped = client.get(stylesheet, headers={"accept-encoding": "gzip"})
    plain = client.get(stylesheet, headers={"accept-encoding": "identity"})
    assert gzipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert gzipped.content == plain.content and b".nhsuk-button" in plain.content


def test_an_unknown_static_address_is_the_service_s_own_not_found_page(client_for):
    answer = client_for().get("/static/app.000000000000.css")
    assert answer.status_code == 404 and "Page not found" in answer.text
    assert answer.headers["cache-control"] == "no-store"


def test_pages_are_compressed_except_for_requests_another_site_started(client_for):
    client = client_for("mo.manager")
    for fetch_site in ("same-origin", "none", None):  # a link or form of this service, an address typed in, a non-browser
        headers = {"accept-encoding": "gzip"} | ({"sec-fetch-site": fetch_site} if fetch_site else {})
        answer = client.get("/incidents?q=x", headers=headers)
        assert answer.headers.get("content-encoding") == "gzip", fetch_site
    for fetch_site in ("cross-site", "same-site"):
        # A page that echoes what another site sent, compressed beside the CSRF token, would leak it (BREACH).
        answer = client.get("/incidents?q=x", headers={"accept-encoding": "gzip", "sec-fetch-site": fetch_site})
        assert answer.status_code == 200 and "content-encoding" not in answer.headers, fetch_site


def test_the_service_will_not_serve_styles_and_scripts_older_than_their_sources(tmp_path: Path, monkeypatch):
    web = tmp_path / "web"
    shutil.copytree(web_app_module.WEB_DIR / "static", web / "static", ignore=shutil.ignore_patterns("build"))
    shutil.copytree(web_app_module.WEB_DIR / "styles", web / "styles")
    shutil.copy(web_app_module.WEB_DIR / "package-lock.json", web)
    monkeypatch.setattr(web_app_module, "WEB_DIR", web)
    monkeypatch.setattr(web_app_module, "STATIC_BUILT", web / "static" / "dist")
    built = (web / "static" / "dist" / "staticfiles.json").stat().st_mtime
    for source in [*web.glob("styles/*"), *web.glob("static/*.*"), web / "package-lock.json"]:
        os.utime(source, (built - 60, built - 60))
    assert web_app_module.built_assets()["app.css"].startswith("app.")

    os.utime(web / "static" / "app.js", (built + 60, built + 60))  # edited after the last build
    with pytest.raises(ConfigurationError, match=r"static/app\.js changed .* run `make install`"):
        web_app_module.built_assets()
    shutil.rmtree(web / "static" / "dist")
    with pytest.raises(ConfigurationError, match="not built"):
        web_app_module.built_assets()
