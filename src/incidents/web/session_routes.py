"""The page tells the server someone is there: typing into a long form keeps its session alive."""

from __future__ import annotations

from fastapi import APIRouter, Response

from .deps import Anyone, Form

router = APIRouter(prefix="/session", tags=["session"])


@router.post("/keep-alive", status_code=204)
def keep_alive(form: Form, actor: Anyone) -> Response:
    """Sent by the page (throttled) while a person types or taps: their session's idle time starts again."""
    return Response(status_code=204)
