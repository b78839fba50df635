"""Turning posted forms into commands, and validation errors into words for people."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from incidents.domain.incident import Incident
from incidents.domain.values import DomainError, uk_local_time

UK = ZoneInfo("Europe/London")
M = TypeVar("M", bound=BaseModel)

REQUIRED = {
    "response": "Choose what was done",
    "text": "Enter the note",
    "reason": "Enter the reason",
    "field": "Choose what to correct",
    "outcome": "Choose the outcome",
    "occurred_at": "Enter the date and time it happened",
    "submission_key": "This form is out of date: reload the page and try again",
    "incident_id": "No such incident",
    "username": "Enter a username",
    "password": "Enter a password",
}


class FormInvalid(Exception):
    """The form's errors by field name, in the order the fields appear."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def uk_moment(day: str, clock: str) -> datetime:
    """A date and time entered in UK local time, as an aware datetime (see uk_local_time for the
    hour the clocks skip in spring and the hour they repeat in autumn)."""
    try:
        wall_clock = datetime.combine(date.fromisoformat(day.strip()), time.fromisoformat(clock.strip()))
    except (ValueError, AttributeError):
        raise ValueError("Enter the date and time it happened, like 25/11/2026 and 14:05") from None
    if wall_clock.tzinfo is not None:
        raise ValueError("Enter the time as the clock showed it, like 14:05")
    try:
        return uk_local_time(wall_clock)
    except DomainError as error:
        raise ValueError(str(error)) from None


def fact_values(incident: Incident) -> dict[str, str]:
    """An incident's facts as its form's fields hold them: a time as a UK date and clock time."""
    values = {}
    for fact in type(incident).FACTS:
        value = getattr(incident, fact.name)
        if fact.entry == "time":
            local, stem = value.astimezone(UK), fact.name.removesuffix("_at")
            values |= {f"{stem}_date": f"{local:%Y-%m-%d}", f"{stem}_time": f"{local:%H:%M}"}
        else:
            values[fact.name] = fact.stored(value)
    return values


def correction(form: dict[str, str]) -> dict[str, str]:
    """The correction form's answer as the command takes it: the chosen fact's own field, or its
    date and time as a UK clock time (the domain reads '2026-11-25 14:05' so)."""
    name = form.get("field", "")
    stem = name.removesuffix("_at")
    if f"{stem}_date" in form:
        return {**form, "new_value": f"{form[f'{stem}_date']} {form.get(f'{stem}_time', '')}".strip()}
    return {**form, "new_value": form.get(name, "")}


def message(field: str, error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind in ("missing", "string_too_short", "too_short", "datetime_type", "datetime_parsing") or (kind == "string_pattern_mismatch" and field == "submission_key"):
        return REQUIRED.get(field, f"Enter {field.replace('_', ' ')}")
    if kind == "string_too_long":
        limit = error.get("ctx", {}).get("max_length")
        return f"This can be at most {limit} characters"
    text = str(error.get("msg", "Check this answer"))
    return text.removeprefix("Value error, ")


def parse(model: type[M], data: dict[str, Any], with_time: bool = False) -> M:
    """Validate the form as the command model, raising FormInvalid with every problem at once."""
    errors: dict[str, str] = {}
    values = {k: v for k, v in data.items() if k in model.model_fields}
    if with_time:
        try:
            values["occurred_at"] = uk_moment(data.get("occurred_date", ""), data.get("occurred_time", ""))
        except ValueError as error:
            errors["occurred_at"] = str(error)
    try:
        command = model.model_validate(values)
    except ValidationError as error:
        for e in error.errors():
            field = str(e["loc"][0]) if e["loc"] else "_"
            errors.setdefault(field, message(field, e))
        raise FormInvalid(errors) from None
    if errors:
        raise FormInvalid(errors)
    return command
