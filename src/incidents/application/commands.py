"""Commands as pydantic models: the shape of every request the application accepts.

The web layer and the CLI build these; validation errors name the field and say what is wrong.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Callable, Literal, TypeVar
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StringConstraints

from ..domain.accounts import acceptable_password
from ..domain.filming import AREAS, CHILDREN_PRESENT, FILMERS, PEOPLE_CAPTURED
from ..domain.recording import MEDIA, OPENNESS, SETTINGS

T = TypeVar("T")
from ..domain.values import NOTE_MAX_CHARS, SHORT_TEXT_MAX_CHARS, DomainError, nhs_number, past_time, safe_text


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


def _nhs_number_or_blank(value: str) -> str:
    return nhs_number(value) if value.strip() else ""


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


class ReportFilming(Command):
    submission_key: SubmissionKey
    occurred_at: PastTime
    area: Annotated[str, _choice(AREAS, "where it happened")]
    filmer: Annotated[str, _choice(FILMERS, "who was filming")]
    people_captured: Annotated[str, _choice(PEOPLE_CAPTURED, "who was filmed")]
    children_present: Annotated[str, _choice(CHILDREN_PRESENT, "whether children were present")]
    note: Note = ""


class ReportRecording(Command):
    submission_key: SubmissionKey
    occurred_at: PastTime
    clinician: Annotated[ShortText, StringConstraints(min_length=1)]
    setting: Annotated[str, _choice(SETTINGS, "the setting")]
    openness: Annotated[str, _choice(OPENNESS, "how it came to light")]
    media: Annotated[str, _choice(MEDIA, "what was recorded")]
    nhs_number: Annotated[str, AfterValidator(_field_error(_nhs_number_or_blank))] = ""
    note: Note = ""


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
    new_value: ShortText
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


class RegisterAccount(Command):
    username: Annotated[str, _normalised(str.lower), StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")]
    display_name: Annotated[ShortText, StringConstraints(min_length=1)]
    practice: Annotated[str, _normalised(str.upper), StringConstraints(pattern=r"^[A-Z0-9]{3,10}$")]
    role: Literal["reception", "manager", "governance"]
    password: Password
    one_time: bool = False  # a generated password handed to the person: it signs in once, in time, to choose their own



# Staff accounts, managed by governance in their own practice ------------------------------

Username = Annotated[str, _normalised(str.lower), StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")]
Role = Literal["reception", "manager", "governance"]


class AddStaff(Command):
    username: Username
    display_name: Annotated[ShortText, StringConstraints(min_length=1)]
    role: Role


class ResetPassword(Command):
    account_id: UUID


class DisableAccount(Command):
    account_id: UUID
    reason: ShortText = ""


class EnableAccount(Command):
    account_id: UUID


class ChoosePassword(Command):
    password: Password
