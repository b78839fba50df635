"""docker-compose.yml and the Dockerfile, read as a container runtime would read them (none can
run here): the data and keys survive down/up, every process shares them, two workers run, each
service has a health check, and the image's data folder belongs to its non-root user."""

from __future__ import annotations

import re

import yaml

from tests.conftest import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())  # safe_load resolves the << merges
SERVICES = COMPOSE["services"]
INCIDENTS = {name: service for name, service in SERVICES.items() if service.get("build") == "."}


def command_of(service: dict) -> str:
    return " ".join(service.get("command") or ["serve"])


def test_every_process_mounts_one_named_volume_on_data():
    assert set(INCIDENTS) >= {"app", "worker"}
    for name, service in INCIDENTS.items():
        assert "incidents-data:/data" in service.get("volumes", []), name
    assert "incidents-data" in COMPOSE["volumes"], "a named volume outlives `docker compose down`"


def test_two_workers_and_an_app_each_with_a_health_check():
    workers = [name for name, service in INCIDENTS.items() if command_of(service).endswith("incidents project")]
    assert len(workers) == 2, workers
    for name in [*workers, "app"]:
        test = SERVICES[name].get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), name
    assert any("/healthz" in part for part in SERVICES["app"]["healthcheck"]["test"])
    for name in workers:
        assert "--max-behind" in SERVICES[name]["healthcheck"]["test"]
        assert SERVICES[name].get("stop_grace_period"), "time to sign the final checkpoint after SIGTERM"


def test_the_database_password_is_a_setting_of_its_own_not_part_of_a_url():
    for name, service in INCIDENTS.items():
        env = service["environment"]
        assert "INCIDENTS_DATABASE_URL" not in env, name
        assert env["INCIDENTS_DB_PASSWORD"].startswith("${POSTGRES_PASSWORD"), name
        assert env["INCIDENTS_DB_HOST"] == "db" and env["INCIDENTS_PROJECTIONS"] == "worker"


def test_the_image_makes_data_for_its_non_root_user():
    lines = [line.strip() for line in (REPO / "Dockerfile").read_text().splitlines()]
    user_at = next(i for i, line in enumerate(lines) if line.startswith("USER "))
    made = " ".join(lines[:user_at])
    assert re.search(r"mkdir (-p )?/data", made) and "chown incidents:incidents /data" in made
    assert lines[user_at] == "USER incidents"
    assert any(line.startswith("VOLUME") and "/data" in line for line in lines[user_at:])
