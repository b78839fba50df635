"""The page tells the server someone is there: typing into a long form keeps its session alive."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from incidents.application.service import Actor

from .deps import ALL_ROLES, allow, posted

router = APIRouter()


@router.post("/session/keep-alive", status_code=204)
def keep_alive(
    form: Annotated[dict[str, str], Depends(posted)],
    actor: Annotated[Actor, Depends(allow(*ALL_ROLES))],
) -> Response:
    """Sent by the page (throttled) while a person types or taps: their session's idle time starts again."""
    return Response(status_code=204)
