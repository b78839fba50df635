"""One record's page (an incident, a notice, a disclosure request, a staff account): loading it
for the signed-in actor (a record they may not see is not found: 404 by the app's handler),
rendering it with what was typed and why it was refused, and changing it: POST, then 303 to
the page, or for HTMX the page's block."""

from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Callable
from uuid import UUID

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from incidents.application.service import Actor, IncidentLog
from incidents.domain.values import DomainError, InvalidValue

from .deps import REFUSED, Form, Log, page
from .forms import FormInvalid, parse


# The field each kind of refusal is shown beside.
Refusals = tuple[tuple[type[DomainError] | tuple[type[DomainError], ...], str], ...]


def as_sent(invalid: FormInvalid) -> dict[str, str]:
    return invalid.errors


@dataclass(frozen=True)
class RecordPage:
    template: str
    address: str  # the page's address, formatted with the record's id and what was saved
    id_field: str  # the commands' field naming the record
    load: Callable[[IncidentLog, Actor, UUID], Any]  # the application's getter: raises its not-found error
    describe: Callable[..., dict[str, Any]]  # (request, actor, log, record, shown): the page's own context, over `shown`
    saved_texts: dict[str, str] | None = None  # what was saved, in words; None passes the name to the template
    worded: Callable[[FormInvalid], dict[str, str]] = as_sent
    conflict: int = 422  # the status of a change the record refuses (an invalid value is always 422)
    error_field: str = "_"  # where the record's refusal is shown
    block: str | None = None  # the block an HTMX request gets, also after a change

    def show(
        self,
        request: Request,
        actor: Actor,
        log: IncidentLog,
        record_id: UUID,
        *,
        form_name: str = "",
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        saved: str = "",
        status: int = 200,
    ) -> Response:
        record = self.load(log, actor, record_id)
        shown = {
            "form_name": form_name,
            "errors": errors or {},
            "values": values or {},
            "saved": saved if self.saved_texts is None else self.saved_texts.get(saved, ""),
        }
        shown.update(self.describe(request, actor, log, record, shown))
        return request.app.state.render(request, self.template, page(request, actor, **shown), block=self.block, status_code=status)

    def change(
        self,
        request: Request,
        actor: Actor,
        log: IncidentLog,
        record_id: UUID,
        form_name: str,
        form: dict[str, Any],
        model: type,
        call: Callable[[Any, Actor], Any],
        with_time: bool = False,
        refusals: Refusals = (),
    ) -> Response:
        """The form as the command, given to the application; refused, the page again (422 or the
        record's conflict status) with what was typed, the refusal beside the field `refusals`
        names for it, else where the record shows its refusals."""
        self.load(log, actor, record_id)
        again = lambda errors, status: self.show(request, actor, log, record_id, form_name=form_name, values=form, errors=errors, status=status)  # noqa: E731
        try:
            call(parse(model, {**form, self.id_field: str(record_id)}, with_time=with_time), actor)
        except FormInvalid as invalid:
            return again(self.worded(invalid), 422)
        except REFUSED:
            raise
        except DomainError as error:
            field = next((name for kinds, name in refusals if isinstance(error, kinds)), self.error_field)
            return again({field: str(error)}, 422 if isinstance(error, InvalidValue) or field != self.error_field else self.conflict)
        if self.block and request.headers.get("HX-Request") == "true":
            return self.show(request, actor, log, record_id, saved=form_name)
        return RedirectResponse(self.address.format(record_id, form_name), status_code=303)

    def change_routes(self, router: APIRouter, role: Any, changes: dict[str, tuple[str, type, Callable[..., Any]]]) -> None:
        """A POST route for each change, at its path under the record's address: the form's name
        (also what was saved), the command, and the IncidentLog method given it, for the role."""
        for path, (form_name, model, method) in changes.items():
            router.post(f"/{{{self.id_field}}}/{path}", name=form_name)(self.change_route(role, form_name, model, method))

    def change_route(self, role: Any, form_name: str, model: type, method: Callable[..., Any]) -> Callable[..., Response]:
        def change(request: Request, record_id: Annotated[UUID, Path(alias=self.id_field)], actor: role, form: Form, log: Log) -> Response:  # type: ignore[valid-type]
            return self.change(request, actor, log, record_id, form_name, form, model, partial(method, log))

        return change


@dataclass(frozen=True)
class NewRecordForm:
    """The form that makes a record: blank, again with what was typed and why it was refused
    (422), or once made, the new record's page (303) or what `made` answers."""

    template: str
    address: str  # the new record's page, formatted with its id
    offers: Callable[[], dict[str, Any]]  # what the form offers to choose from
    blank: Callable[[], dict[str, Any]] = dict  # the values of a fresh form
    worded: Callable[[FormInvalid], dict[str, str]] = as_sent
    fields: Refusals = ()  # the field each refusal is shown beside, else at the top
    made: Callable[[Request, Actor, IncidentLog, Any], Response] | None = None
    prepare: Callable[[dict[str, Any]], dict[str, Any]] = dict  # the form as the command reads it (fields the page splits, joined)

    def show(self, request: Request, actor: Actor, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status: int = 200) -> Response:
        context = page(request, actor, values=self.blank() if values is None else values, errors=errors or {}, **self.offers())
        return request.app.state.render(request, self.template, context, status_code=status)

    def make(self, request: Request, actor: Actor, log: IncidentLog, form: dict[str, Any], model: type, call: Callable[[Any, Actor], Any]) -> Response:
        try:
            saved = call(parse(model, self.prepare(form)), actor)
        except FormInvalid as invalid:
            return self.show(request, actor, form, self.worded(invalid), 422)
        except REFUSED:
            raise
        except DomainError as error:
            field = next((name for kinds, name in self.fields if isinstance(error, kinds)), "_")
            return self.show(request, actor, form, {field: str(error)}, 422)
        if self.made is not None:
            return self.made(request, actor, log, saved)
        return RedirectResponse(self.address.format(saved.id), status_code=303)

    def routes(self, router: APIRouter, role: Any, model: type, method: Callable[..., Any]) -> None:
        """The blank form at /new and the POST making the record (the command, the IncidentLog method), for the role."""

        def new(request: Request, actor: role) -> Response:  # type: ignore[valid-type]
            return self.show(request, actor)

        def make(request: Request, actor: role, form: Form, log: Log) -> Response:  # type: ignore[valid-type]
            return self.make(request, actor, log, form, model, partial(method, log))

        router.get("/new")(new)
        router.post("")(make)
