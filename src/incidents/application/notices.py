"""The notice register in the application: managers keep it; anyone preparing evidence asks which
notices were in force on a day, and the dashboard asks which required ones are missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated
from uuid import UUID

from pydantic import StringConstraints

from ..domain.notice import CHANNELS, Notice
from . import commands as c
from .days import Day
from .records import Actor, NoticeNotFound, Records, Saved, uk_today

NOTICES = "notices"  # the practice's list
NOTICE_KEEPERS = ("manager",)
NOTICE_READERS = ("manager", "governance")


@dataclass(frozen=True)
class RequiredNotice:
    """A purpose the practice must tell people about, and the channels any one of which does."""

    purpose: str
    channels: tuple[str, ...]
    why: str

    @property
    def channel_labels(self) -> tuple[str, ...]:
        return tuple(CHANNELS[ch] for ch in self.channels)


# From the practice guidance this project follows (/work/shared/seed/recording-in-practice.txt):
# - call recording: "You must ensure that all callers know they are being recorded – this would
#   normally be in the form of a message for all callers to the practice, information in the
#   practice leaflet, and a poster in the waiting room"; only a message reaches every caller, and
#   the licence conditions require "a record of the means by which callers have been informed".
# - filming: "raise awareness of any such policy via your website and a notice in the waiting
#   area" (ICO advice quoted there): a waiting-room poster or a reception sign is that notice.
REQUIRED_NOTICES: tuple[RequiredNotice, ...] = (
    RequiredNotice(
        "Telephone call recording",
        ("telephone_message",),
        "Every caller must be told that calls are recorded, before the call is answered.",
    ),
    RequiredNotice(
        "The policy on filming in the practice",
        ("waiting_room_poster", "reception_sign"),
        "Filming in the waiting area breaches the practice's policy only if people are told of it there.",
    ),
)


@dataclass(frozen=True)
class NoticeInForce:
    """A notice as it stood on one day: its channel and the wording in force that day."""

    notice_id: UUID
    channel: str
    channel_label: str
    wording: str
    wording_from: date  # the day this wording came into service
    in_service_from: date  # the day the notice was first in service
    withdrawn_from: date | None  # a withdrawal already recorded, even if still to come


class PublishNotice(c.Command):
    submission_key: c.SubmissionKey
    channel: Annotated[str, c._choice(CHANNELS, "the channel")]
    wording: Annotated[c.Note, StringConstraints(min_length=1)]
    in_service_from: Day


class ReviseNotice(c.Command):
    notice_id: UUID
    wording: Annotated[c.Note, StringConstraints(min_length=1)]
    in_service_from: Day


class WithdrawNotice(c.Command):
    notice_id: UUID
    withdrawn_from: Day
    reason: Annotated[c.Note, StringConstraints(min_length=1)]


class NoticeRegister(Records):
    def publish_notice(self, cmd: PublishNotice, actor: Actor) -> Saved:
        actor.require(*NOTICE_KEEPERS)
        return self.add_listed(
            actor,
            NOTICES,
            lambda: Notice.publish(actor.practice, cmd.submission_key, cmd.channel, cmd.wording, cmd.in_service_from),
        )

    def revise_notice(self, cmd: ReviseNotice, actor: Actor) -> Saved:
        actor.require(*NOTICE_KEEPERS)
        return self.change(actor, lambda: self.get_notice(actor, cmd.notice_id), lambda n: n.revise(cmd.wording, cmd.in_service_from))

    def withdraw_notice(self, cmd: WithdrawNotice, actor: Actor) -> Saved:
        actor.require(*NOTICE_KEEPERS)
        return self.change(actor, lambda: self.get_notice(actor, cmd.notice_id), lambda n: n.withdraw(cmd.withdrawn_from, cmd.reason))

    # Queries --------------------------------------------------------------

    def get_notice(self, actor: Actor, notice_id: UUID) -> Notice:
        actor.require(*NOTICE_READERS)
        return self.get(actor, notice_id, Notice, NoticeNotFound)

    def notices(self, actor: Actor) -> list[Notice]:
        """Every notice of the actor's practice, withdrawn ones too, in the order they were published."""
        actor.require(*NOTICE_READERS)
        return list(self.listed_records(actor, NOTICES))

    def notices_in_force(self, actor: Actor, on: date, channel: str | None = None) -> list[NoticeInForce]:
        """The notices in force on that day (all channels, or one), with the wording of that day."""
        if channel is not None and channel not in CHANNELS:
            raise ValueError(f"{channel!r} is not a channel of the notice register")
        in_force = []
        for notice in self.notices(actor):
            wording = notice.wording_on(on)
            if wording is None or (channel is not None and notice.channel != channel):
                continue
            in_force.append(
                NoticeInForce(
                    notice_id=notice.id,
                    channel=notice.channel,
                    channel_label=notice.channel_label,
                    wording=wording.text,
                    wording_from=wording.in_service_from,
                    in_service_from=notice.in_service_from,
                    withdrawn_from=notice.withdrawn_from,
                )
            )
        return in_force

    def missing_required_notices(self, actor: Actor, today: date | None = None) -> list[RequiredNotice]:
        """The required purposes no notice in force today serves (today in UK local time)."""
        channels = {n.channel for n in self.notices_in_force(actor, today or uk_today())}
        return [r for r in REQUIRED_NOTICES if not channels.intersection(r.channels)]
