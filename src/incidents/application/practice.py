"""The practice's own details (name, address, beside its ODS code): governance keeps them, in
the web's settings page or with `incidents practice set`; exports name the practice by them."""

from __future__ import annotations

from typing import Annotated

from eventsourcing.application import AggregateNotFoundError
from pydantic import AfterValidator, StringConstraints

from ..domain.practice import PracticeDetails, practice_address, practice_name
from . import commands as c
from .records import Actor, Records, Saved

PRACTICE_KEEPERS = ("governance",)


class DescribePractice(c.Command):
    """Checked as the record checks them, so each refusal names its field."""

    name: Annotated[str, StringConstraints(min_length=1), AfterValidator(c._field_error(practice_name))]
    address: Annotated[str, StringConstraints(min_length=1), AfterValidator(c._field_error(practice_address))]


class PracticeSettings(Records):
    def practice_details(self, practice: str) -> PracticeDetails | None:
        """The practice's details, None until someone has given them."""
        try:
            return self.repository.get(PracticeDetails.create_id(practice))
        except AggregateNotFoundError:
            return None

    def describe_practice(self, cmd: DescribePractice, actor: Actor) -> Saved:
        """The actor's practice's name and address, made or changed."""
        actor.require(*PRACTICE_KEEPERS)

        def attempt() -> tuple:
            details = self.practice_details(actor.practice)
            if details is None:
                details = PracticeDetails.describe(actor.practice, cmd.name, cmd.address)
                return details.id, [details]
            return details.id, [details] if details.redescribe(cmd.name, cmd.address) else []

        return self.saving(actor, attempt)
