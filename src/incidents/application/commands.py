"""Commands as pydantic models: the shape of every request the application accepts.

The web layer and the CLI build these; validation errors name the field and say what is wrong.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Callable, ClassVar, Literal, TypeVar
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, create_model

from ..domain.accounts import acceptable_password
from ..domain.incident import Fact, Incident
from ..domain.kinds import INCIDENT_KINDS
from ..domain.values import NOTE_MAX_CHARS, SHORT_TEXT_MAX_CHARS, DomainError, past_time, safe_text

T = TypeVar("T")


def _choice(allowed: dict[str, str], what: str):
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"Choose {what.lower()}")
        return value

    return AfterValidator(check)


def _field_error(check: Callable[[T], T]) -> Callable[[T], T]:
    """A domain check as a pydantic validator: its error names the field like any other."""

    def validate(value: T) -> T:
        try:
            return check(value)
        except DomainError as error:
            raise ValueError(str(error)) from None

    return validate


def _normalised(transform: Callable[[str], str]) -> BeforeValidator:
    return BeforeValidator(lambda v: transform(v.strip()) if isinstance(v, str) else v)


SafeText = AfterValidator(_field_error(safe_text))
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=NOTE_MAX_CHARS), SafeText]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=SHORT_TEXT_MAX_CHARS), SafeText]
PastTime = Annotated[datetime, AfterValidator(_field_error(past_time))]
# The forms mint these as hexadecimal UUIDs; letters, digits, - and _ leave room for other clients.
SubmissionKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Report(Command):
    """Report an incident: one model per kind (see report_command), with a field per fact."""

    incident_class: ClassVar[type[Incident]]
    submission_key: SubmissionKey
    note: Note = ""


def _fact_field(fact: Fact) -> Any:
    """A fact checked as the domain checks it; a missing one too, so its error says what to do."""
    kind = datetime if fact.entry == "time" else str
    return Annotated[kind, AfterValidator(_field_error(fact.parse)), Field(default="", validate_default=True)]


def report_command(incident_class: type[Incident]) -> type[Report]:
    fields: Any = {fact.name: _fact_field(fact) for fact in incident_class.FACTS}
    model = create_model(f"Report{incident_class.KIND.title()}", __base__=Report, **fields)
    model.incident_class = incident_class
    return model


REPORTS: dict[str, type[Report]] = {kind: report_command(k) for kind, k in INCIDENT_KINDS.items()}
ReportFilming, ReportRecording = REPORTS["filming"], REPORTS["recording"]


class RecordResponse(Command):
    incident_id: UUID
    submission_key: SubmissionKey
    response: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    occurred_at: PastTime
    reference: ShortText = ""
    note: Note = ""


class AddNote(Command):
    incident_id: UUID
    submission_key: SubmissionKey
    text: Annotated[Note, StringConstraints(min_length=1)]


class CorrectIncident(Command):
    incident_id: UUID
    field: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    new_value: ShortText  # as the fact's parser reads it: a choice's code, text, or a time (ISO, or a UK clock time)
    reason: Annotated[Note, StringConstraints(min_length=1)]


class ReviewIncident(Command):
    incident_id: UUID
    comment: Note = ""


class CloseIncident(Command):
    incident_id: UUID
    outcome: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    note: Note = ""


class ReopenIncident(Command):
    incident_id: UUID
    reason: Annotated[Note, StringConstraints(min_length=1)]


Password = Annotated[str, AfterValidator(_field_error(acceptable_password))]
Role = Literal["reception", "manager", "governance"]
Roles = Annotated[tuple[Role, ...], Field(min_length=1)]


class RegisterAccount(Command):
    username: Annotated[str, _normalised(str.lower), StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")]
    display_name: Annotated[ShortText, StringConstraints(min_length=1)]
    practice: Annotated[str, _normalised(str.upper), StringConstraints(pattern=r"^[A-Z0-9]{3,10}$")]
    roles: Roles
    password: Password
    one_time: bool = False  # a generated password handed to the person: it signs in once, in time, to choose their own



# Staff accounts, managed by governance in their own practice ------------------------------

Username = Annotated[str, _normalised(str.lower), StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")]


class AddStaff(Command):
    username: Username
    display_name: Annotated[ShortText, StringConstraints(min_length=1)]
    roles: Roles


class ChangeRoles(Command):
    account_id: UUID
    roles: Roles


class ResetPassword(Command):
    account_id: UUID


class DisableAccount(Command):
    account_id: UUID
    reason: ShortText = ""


class EnableAccount(Command):
    account_id: UUID


class ChoosePassword(Command):
    password: Password
