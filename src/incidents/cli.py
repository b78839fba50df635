"""The `incidents` command: serve the app, manage staff accounts, load sample data."""

from __future__ import annotations

import copy
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Callable, NoReturn, Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress

from .application import commands as c
from .application.service import Actor, IncidentLog, UsernameTaken
from .domain.values import DomainError
from .bootstrap import Opened, open_log
from .postgres_store import connection_advice, out_of_connections
from .settings import ConfigurationError, Settings
from eventsourcing.persistence import InterfaceError, OperationalError

app = typer.Typer(help="Incidents: an event-sourced incident log for GP practices.", no_args_is_help=True)
users = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(users, name="users")
practice_app = typer.Typer(help="The practice's own details.", no_args_is_help=True)
app.add_typer(practice_app, name="practice")
projections_app = typer.Typer(help="Read models kept from the events.", no_args_is_help=True)
app.add_typer(projections_app, name="projections")
keys_app = typer.Typer(help="The deployment's keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
# soft_wrap: a path is printed whole even when output goes to a pipe or a log, so it can be copied.
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def settings_or_exit() -> Settings:
    try:
        return Settings.from_env()
    except ConfigurationError as error:
        err.print(f"[bold red]Cannot start:[/] {error}", markup=True, highlight=False)
        raise typer.Exit(2) from None


def database_failed(settings: Settings, error: Exception) -> NoReturn:
    err.print(f"[bold red]Cannot start:[/] cannot open the event store: {error}", highlight=False)
    if out_of_connections(error):
        err.print(connection_advice(settings.db_pool_size, settings.db_max_overflow), highlight=False)
    raise typer.Exit(2) from None


def open_or_exit(settings: Settings) -> Opened:
    try:
        opened = open_log(settings)
    except ConfigurationError as error:
        err.print(f"[bold red]Cannot start:[/] {error}", highlight=False)
        raise typer.Exit(2) from None
    except (OperationalError, InterfaceError, OSError) as error:
        database_failed(settings, error)
    if opened.new_key_file:
        console.print(
            f"[bold]Created the encryption key[/] {opened.new_key_file} (readable only by you).\n"
            "  Back it up somewhere safe and separate from the data: without it the stored "
            "incidents cannot be read."
        )
    return opened


def ensure_first_account(log: IncidentLog, settings: Settings) -> None:
    if log.has_accounts():
        return
    password = IncidentLog.new_password()
    try:
        saved = log.register_account(
            c.RegisterAccount(
                username="manager", display_name="Practice manager", practice=settings.practice,
                # Governance too: whoever sets the service up must be able to add staff from its pages.
                roles=("manager", "governance"), password=password, one_time=True,
            ),
            actor="first-run",
        )
    except UsernameTaken:  # another process starting on the same empty store made it first
        console.print("The first account (manager) was made by another process starting at the same time: its output shows the password.")
        return
    console.print(
        f"[bold]Created the first account[/] for practice {settings.practice}, username [bold]manager[/]: "
        "its one-time password is shown on the terminal only (or on standard error), never in this log."
    )
    tell_operator(
        f"[bold]First account[/] for practice {settings.practice}:\n"
        f"  username: [bold]manager[/]\n  password: [bold]{password}[/]\n"
        f"  {one_time_terms(log, saved.id)} Add staff on its Staff page, or with `incidents users add`."
    )


def give_earlier_records_references(log: IncidentLog, settings: Settings) -> None:
    """Incidents and requests saved before there were short references get theirs, once: a file
    in the data folder says it was done (another host's first start does it again, finding none)."""
    done = settings.data_dir / "references-given"
    if done.exists():
        return
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("Giving earlier records their short references", total=None)
        given = log.give_missing_references(lambda at, last: progress.update(task, completed=at, total=last))
    if given:
        err.print(f"Gave {given} incidents and requests saved before short references existed their references.")
    done.touch()


def one_time_terms(log: IncidentLog, account_id) -> str:
    expires_at = log.one_time_password_expires_at(account_id)
    when = expires_at.astimezone().strftime("%d %b %Y %H:%M %Z") if expires_at else "?"
    return (
        f"This password is shown only once, signs in once (the person then chooses their own) and "
        f"expires at {when} (INCIDENTS_ONE_TIME_PASSWORD_HOURS)."
    )


def tell_operator(text: str) -> None:
    """A secret for the person who started the command, never the server's log: written to the
    controlling terminal when there is one, else to standard error."""
    try:
        with open("/dev/tty", "w") as tty:
            Console(file=tty, soft_wrap=True).print(text)
            return
    except OSError:
        err.print(text)


class PathWithoutQuery(logging.Filter):
    """The access log keeps a request's path, never its query: search words name people."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def uvicorn_log_config() -> dict:
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["path_without_query"] = {"()": PathWithoutQuery}
    config["handlers"]["access"]["filters"] = ["path_without_query"]
    return config


def say_where_the_key_came_from(key) -> None:
    if key.made:
        console.print(f"[bold]Made the deployment's signing key[/] and kept it in the event store (encrypted): keep its fingerprint {key.fingerprint()} on paper.")
    elif key.adopted_from:
        console.print(f"[bold]Adopted the signing key[/] {key.adopted_from} into the event store: every process of this deployment now signs with it ({key.fingerprint()}).")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
) -> None:
    """Run the web app, and its projections in a process of its own (INCIDENTS_PROJECTIONS)."""
    import uvicorn

    from incidents.web.app import create_app

    settings = settings_or_exit()
    opened = open_or_exit(settings)
    ensure_first_account(opened.log, settings)
    give_earlier_records_references(opened.log, settings)
    try:
        web_app = create_app(settings, opened)
    except ConfigurationError as error:
        err.print(f"[bold red]Cannot start:[/] {error}", highlight=False)
        raise typer.Exit(2) from None
    except (OperationalError, InterfaceError) as error:
        database_failed(settings, error)
    say_where_the_key_came_from(web_app.state.signing_key)
    console.print(f"Serving on http://{host}:{port}  (events: {opened.store.location})")
    # The app reads a trusted proxy's headers itself (INCIDENTS_TRUSTED_PROXIES), and says nothing of its server.
    uvicorn.run(web_app, host=host, port=port, log_level="info", proxy_headers=False, server_header=False, log_config=uvicorn_log_config())


@app.command()
def project() -> None:
    """Run the projections in this process until stopped (for PostgreSQL deployments). While
    another process runs them, stand by, and take over when it stops, dies or freezes."""
    import threading

    from incidents.application.checkpoint_timer import CheckpointSchedule
    from incidents.projections.running.runner import LostTheLock, ProjectionFailed, start_projections
    from incidents.projections.running.standby import when_free

    settings = settings_or_exit()
    opened = open_or_exit(settings)
    opened.log.close()  # the store is made and its key checked: a standby keeps no idle connections
    stopping = threading.Event()

    def start():
        return start_projections(opened.store, opened.env, CheckpointSchedule.from_settings(settings))

    def say(text: str) -> None:
        err.print(text, highlight=False, markup=False)

    # `docker stop` and systemd send SIGTERM: stop as Ctrl-C does, signing the final checkpoint.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        while True:
            try:
                projections = when_free(start, stopping, say)
            except ConfigurationError as error:
                err.print(f"[bold red]Cannot start:[/] {error}", highlight=False)
                raise typer.Exit(2) from None
            except (OperationalError, InterfaceError) as error:
                database_failed(settings, error)
            if projections is None:
                return
            console.print(f"Projecting events from {opened.store.location}; Ctrl-C to stop")
            try:
                projections.run_forever()
                return
            except LostTheLock as lost:  # another worker writes the views now: wait for our turn again
                say(f"{lost}; standing by")
            except ProjectionFailed as failed:  # the other views were kept up to date until now
                err.print(f"[bold red]Stopped:[/] {failed}. Start the worker again to resume each view from its position.", highlight=False)
                raise typer.Exit(1) from None
            finally:
                projections.stop()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)  # run in-process (tests), later forks must not inherit it


@projections_app.command("status")
def projections_status(
    max_behind: Annotated[
        Optional[int], typer.Option("--max-behind", help="Exit 1 if a view is more events behind than this (a health check)")
    ] = None,
) -> None:
    """Each view's position in the event log, and how far behind the latest event it is."""
    from rich.table import Table

    from incidents.projections.running.runner import open_views

    settings = settings_or_exit()
    opened = open_or_exit(settings)
    try:
        views = open_views(opened.store, opened.env)
    except Exception as error:  # the in-memory store, or a view that cannot be opened
        err.print(f"[bold red]No views:[/] {error}", highlight=False)
        raise typer.Exit(2) from None
    latest = opened.log.recorder.max_notification_id() or 0
    table = Table(title=f"Projections of {opened.store.location}")
    for column in ("view", "position", "latest event", "behind by"):
        table.add_column(column, justify="left" if column == "view" else "right")
    lagging = []
    for name, view in views.views.items():
        position = view.max_tracking_id(opened.log.name) or 0
        table.add_row(name, str(position), str(latest), f"{latest - position} events")
        if max_behind is not None and latest - position > max_behind:
            lagging.append(name)
    console.print(table)
    opened.log.close()
    if lagging:
        err.print(f"[bold red]Behind:[/] {', '.join(lagging)} more than {max_behind} events behind the store: is a worker running?", highlight=False)
        raise typer.Exit(1)


@projections_app.command("rebuild")
def projections_rebuild(
    names: Annotated[Optional[list[str]], typer.Argument(help="Views to rebuild; all when none is named")] = None,
) -> None:
    """Rebuild the views from every stored event, then swap them in whole (app stopped)."""
    from incidents.projections.catalogue import CATALOGUE
    from incidents.projections.running.rebuild import rebuild

    chosen = list(names or [])
    known = {spec.name for spec in CATALOGUE}
    unknown = [name for name in chosen if name not in known]
    if unknown:
        err.print(f"[bold red]Not rebuilt:[/] no view called {', '.join(unknown)}; there are: {', '.join(sorted(known))}", highlight=False)
        raise typer.Exit(2)
    label = ", ".join(chosen or sorted(known))
    settings = settings_or_exit()
    opened = open_or_exit(settings)
    started = time.perf_counter()
    try:
        with Progress(console=console) as progress:
            task = progress.add_task(f"Rebuilding {label}", total=None)

            def advance(position: int, last: int) -> None:
                progress.update(task, completed=position, total=last)

            count = rebuild(opened.store, opened.env, chosen, advance)
    except ConfigurationError as error:
        err.print(f"[bold red]Not rebuilt:[/] {error}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        opened.log.close()
    seconds = time.perf_counter() - started
    console.print(f"Rebuilt {label} from {count} events in {seconds:.1f} s ({count / max(seconds, 1e-9):,.0f} events/s).")


@projections_app.command("quarantine")
def projections_quarantine(
    retry: Annotated[bool, typer.Option("--retry", help="Apply them to their views again (app stopped); those that now succeed are cleared")] = False,
) -> None:
    """The events the views set aside because they could not write them, and why."""
    from rich.markup import escape

    from incidents.projections.catalogue import ViewsUnavailable
    from incidents.projections.running.retry import list_quarantined, retry_quarantined

    settings = settings_or_exit()
    opened = open_or_exit(settings)
    try:
        if retry:
            results = retry_quarantined(opened.store, opened.env)
            for result in results:
                entry = result.entry
                outcome = f"[red]still fails:[/] {escape(result.error)}" if result.error else "[green]applied[/]"
                console.print(f"{entry.view} event {entry.notification_id}: {outcome}", highlight=False)
            left = sum(1 for result in results if result.error)
            console.print(f"Retried {len(results)} events: {len(results) - left} applied, {left} still set aside.")
            if left:
                raise typer.Exit(1)
            return
        entries = list_quarantined(opened.store, opened.env)
    except (ConfigurationError, ViewsUnavailable) as error:
        err.print(f"[bold red]Not done:[/] {error}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        opened.log.close()
    if not entries:
        console.print("No view has set aside any event.")
        return
    # A block per event rather than a table: ids and errors stay whole in a narrow terminal or a log.
    console.print(f"{len(entries)} events set aside:")
    for entry in entries:
        console.print(
            f"{entry.view}: notification {entry.notification_id}, {escape(entry.topic)} of {entry.originator_id} "
            f"version {entry.originator_version}, set aside {entry.at}\n  {escape(entry.error)}",
            highlight=False,
        )
    console.print("After a fix, stop the app (or worker) and run `incidents projections quarantine --retry`, "
                  "or `incidents projections rebuild`.", highlight=False)


def normal_fingerprint(value: Optional[str]) -> Optional[str]:
    """A fingerprint as given, in its normal form; one that is not a fingerprint is a usage error."""
    from .evidence.signing import normalise_fingerprint

    try:
        return None if value is None else normalise_fingerprint(value)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


PracticeFingerprint = Annotated[
    Optional[str],
    typer.Option("--fingerprint", help="The practice's own copy of its signing key's fingerprint (64 hex digits)", callback=normal_fingerprint),
]


@app.command()
def verify(
    bundle: Annotated[Path, typer.Argument(help="The evidence bundle's zip (or the folder it was unpacked into)")],
    fingerprint: PracticeFingerprint = None,
) -> None:
    """Check an evidence bundle offline, and name anything that is wrong with it."""
    from rich.markup import escape

    from .evidence.verify import check_bundle

    result = check_bundle(bundle, fingerprint)
    if result.problems:
        console.print(f"[bold red]NOT verified:[/] {escape(str(bundle))} has {len(result.problems)} problem(s):")
        for problem in result.problems:
            console.print(f"  - {escape(problem)}")
        raise typer.Exit(1)
    request = result.request
    console.print(
        f"[bold green]verified[/] {escape(str(bundle))}: {result.event_count} events of "
        f"{len(result.incidents)} incident(s) ({escape(', '.join(result.incidents))}) for request "
        f"{escape(str(request.get('id')))}, reference {escape(str(request.get('reference')))}; "
        f"legal basis {escape(str(request.get('legal_basis')))}.\n"
        + (f"  {result.redacted_fields} field(s) redacted for this disclosure, each checked by its digest alone\n" if result.redacted_fields else "")
        + f"  Merkle root {result.merkle_root}\n  signed by the key {result.fingerprint}"
        + (" (the practice's key)" if fingerprint else "")
    )
    for note in result.notes:
        console.print(f"  [yellow]Note:[/] {escape(note)}")


@app.command()
def checkpoint() -> None:
    """Sign a checkpoint of the event store now, covering every event recorded since the last one."""
    from .application.checkpoints import CheckpointChainBroken
    from .application.signing_key import deployment_key
    from .evidence.checkpoint_head import head_file, remember

    settings = settings_or_exit()
    opened = open_or_exit(settings)
    try:
        key = deployment_key(opened.log, settings)
        recorded = opened.log.record_checkpoint(key)
        remember(head_file(settings.effective_signing_key_file), recorded)
    except CheckpointChainBroken as error:
        err.print(f"[bold red]Not signed:[/] {error}", highlight=False)
        raise typer.Exit(1) from None
    except ConfigurationError as error:
        err.print(f"[bold red]Cannot start:[/] {error}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        opened.log.close()
    say_where_the_key_came_from(key)
    if not recorded:
        console.print("Nothing to sign: no event was recorded since the last checkpoint.")
    for done in recorded:
        console.print(
            f"Signed checkpoint {done.number}: events #{done.after + 1}–#{done.last} ({done.count} events) "
            f"at {done.signed_at}; chain hash {done.chain_hash}"
        )


@app.command("verify-store")
def verify_store(
    fingerprint: PracticeFingerprint = None,
) -> None:
    """Check every stored event against the signed checkpoints; name each changed, missing or inserted one."""
    from rich.markup import escape

    from .application.signing_key import deployment_key
    from .evidence.checkpoint_head import compare_head, head_file, recall
    from .evidence.signing import SigningKeyError

    settings = settings_or_exit()
    key_file = settings.effective_signing_key_file
    opened = open_or_exit(settings)
    try:
        key = deployment_key(opened.log, settings, record=False)  # a check writes nothing
    except SigningKeyError as error:
        opened.log.close()
        err.print(f"[bold red]Cannot start:[/] {error}", highlight=False)
        raise typer.Exit(2) from None
    if fingerprint is not None and key.fingerprint() != fingerprint:
        older = next((kept for kept in opened.log.signing_keys() if kept.fingerprint == fingerprint), None)
        opened.log.close()
        console.print(f"[bold red]NOT verified:[/] this deployment's signing key is {key.fingerprint()}, not the practice's key {fingerprint}: it was replaced.")
        if older is not None and older.valid_until is not None:
            console.print(f"  {fingerprint} is an earlier key of this deployment, rotated out at {older.valid_until:%Y-%m-%d %H:%M:%S UTC} (`incidents keys rotate-signing`): give the newest fingerprint the practice keeps.")
        raise typer.Exit(1)
    try:
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("Checking stored events", total=None)

            def advance(position: int, last: int) -> None:
                progress.update(task, completed=position, total=last)

            result = opened.log.verify_store(key.public, advance)
        disposals = opened.log.disposals()
    except (OperationalError, InterfaceError) as error:
        err.print(f"[bold red]Cannot check:[/] the event store could not be read: {error}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        opened.log.close()
    noted = recall(head_file(key_file))
    if noted is not None:
        result.problems.extend(compare_head(noted, result.chain, result.last_number))
    location = escape(opened.store.location)
    if result.problems:
        console.print(f"[bold red]NOT verified:[/] {location} has {len(result.problems)} problem(s):")
        for problem in result.problems:
            console.print(f"  - {escape(problem.message)}")
    else:
        console.print(
            f"[bold green]verified[/] {location}: {result.checked} events match {result.checkpoints} signed checkpoint(s)"
            + (" (the practice's key)" if fingerprint else f", key {result.key}")
            + "."
        )
    if result.last is not None:
        console.print(
            f"  Last checkpoint {result.last.number} signed at {result.last.signed_when}, up to event #{result.last.last}; "
            f"chain hash {result.last.chain_hash}"
        )
        if noted is None:
            console.print("  (no note of the newest checkpoint signed on this machine: compare these with an earlier run, as a store cut back would show an earlier checkpoint)")
        else:
            console.print(f"  This machine noted checkpoint {noted.number} as the newest it signed ({head_file(key_file)}).")
    if disposals:
        console.print(f"  {len(disposals)} record(s) disposed of: their events stay, covered by the checkpoints, and nobody can read them (their keys are destroyed):", highlight=False)
        for d in disposals:
            console.print(
                f"  - {escape(d.ref)} ({escape(d.kind)}), disposed of on {d.disposed_at:%Y-%m-%d %H:%M UTC} by {escape(d.disposed_by)}, "
                f"by the decision of {d.decision.decided_at:%Y-%m-%d} authorised by {escape(d.decision.authorised_by)}: {escape(d.decision.reason)}",
                highlight=False,
            )
    for adoption in result.adoptions:
        console.print(
            f"  Re-encryption {adoption.number} signed at {adoption.signed_when} by {adoption.key}, after checkpoint {adoption.after_checkpoint}: "
            f"{len(adoption.events)} event(s) of {adoption.records} record(s) stored before record keys were re-encrypted under keys of their own; "
            "the checkpoints signed before hold their earlier bytes, as the statement says.",
            highlight=False,
        )
    if result.uncovered:
        console.print(
            f"  [yellow]Not yet covered:[/] {result.uncovered} event(s) from #{result.uncovered_from} on, recorded after the last "
            "checkpoint (the next checkpoint will cover them; `incidents checkpoint` signs one now)."
        )
    if result.problems:
        raise typer.Exit(1)


def bar_progress(progress: Progress, description: str) -> Callable[[int, int], None]:
    task = progress.add_task(description, total=None)

    def advance(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total or None)

    return advance


@app.command()
def backup(
    dest: Annotated[Path, typer.Argument(help="A new (or empty) folder for the copy and its manifest")],
    keys_file: Annotated[
        Optional[Path], typer.Option("--keys-file", help="Also write the keys, into this new file of their own (keep it apart from the backup)")
    ] = None,
) -> None:
    """Copy the event store while the app runs (a consistent snapshot), with a manifest of what was
    copied, its checksums and the keys it needs (their fingerprints, never the keys themselves)."""
    from rich.markup import escape

    from .backup import BackupError
    from .backup import backup as make_backup

    settings = settings_or_exit()
    try:
        with Progress(console=err) as progress:
            made = make_backup(settings, dest, bar_progress(progress, "Copying the event store"), keys_file)
    except ConfigurationError as error:  # BackupError and a missing key among them
        err.print(f"[bold red]Not backed up:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None
    except (OperationalError, InterfaceError, OSError) as error:
        err.print(f"[bold red]Not backed up:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None
    manifest = made.manifest
    keys = manifest["keys"]
    console.print(f"[bold green]Backed up[/] {escape(manifest['store']['location'])} into {escape(str(dest))}:", highlight=False)
    for entry in manifest["files"]:
        console.print(f"  {entry['name']}: {entry['bytes']:,} bytes, SHA-256 {entry['sha256']}", highlight=False)
    if "last_event" in manifest:
        console.print(f"  events up to #{manifest['last_event']}", highlight=False)
    checkpoint = manifest.get("last_checkpoint")
    if checkpoint:
        console.print(f"  last checkpoint {checkpoint['number']} (up to event #{checkpoint['last_event']}), chain hash {checkpoint['chain_hash']}", highlight=False)
    console.print(
        f"  It needs the encryption key {', '.join(keys['cipher_key']['fingerprints'])} ({escape(keys['cipher_key']['from'])}), not in the backup.",
        highlight=False,
    )
    if made.keys_file:
        console.print(f"  The keys are in {escape(str(made.keys_file))} (readable only by you): keep it apart from the backup.", highlight=False)
    else:
        console.print("  Keep the key backed up apart from this copy: without it the copy cannot be read.", highlight=False)


@app.command()
def restore(
    src: Annotated[Path, typer.Argument(help="A folder made by `incidents backup`")],
    keys_file: Annotated[
        Optional[Path], typer.Option("--keys-file", help="The keys file `incidents backup --keys-file` wrote, if the keys are not in place already")
    ] = None,
) -> None:
    """Restore a backup into an empty data folder (or empty PostgreSQL database), then rebuild the
    views from its events. Run `incidents verify-store` after it."""
    from rich.markup import escape

    from .backup import restore as restore_backup
    from .projections.running.rebuild import rebuild

    settings = settings_or_exit()
    try:
        with Progress(console=err) as progress:
            restored = restore_backup(settings, src, bar_progress(progress, "Checking and copying the backup"), keys_file)
    except ConfigurationError as error:
        err.print(f"[bold red]Not restored:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None
    except (OperationalError, InterfaceError, OSError) as error:
        err.print(f"[bold red]Not restored:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None
    for path in restored.wrote_keys:
        console.print(f"Put the key {escape(str(path))} back from the keys file.", highlight=False)
    opened = open_or_exit(settings)
    try:
        shredded = opened.log.apply_disposals(opened.log.disposal_register)
        with Progress(console=err) as progress:
            count = rebuild(opened.store, opened.env, [], bar_progress(progress, "Rebuilding the views"))
    except ConfigurationError as error:
        err.print(f"[bold red]Restored, but the views were not rebuilt:[/] {escape(str(error))}; run `incidents projections rebuild`", highlight=False)
        raise typer.Exit(1) from None
    finally:
        opened.log.close()
    manifest = restored.manifest
    console.print(
        f"[bold green]Restored[/] the backup made at {manifest['made_at']} into {escape(restored.store.location)} "
        f"({count} events), and rebuilt the views.",
        highlight=False,
    )
    if shredded:
        console.print(f"  {len(shredded)} record(s) disposed of since the backup, or in it, had their keys destroyed again: they stay unreadable.", highlight=False)
    checkpoint = manifest.get("last_checkpoint")
    if checkpoint:
        console.print(f"  Its last checkpoint is {checkpoint['number']}, chain hash {checkpoint['chain_hash']}.", highlight=False)
    console.print("  Check it now: `incidents verify-store`. Everyone signs in again (sessions are not in the backup).", highlight=False)


@keys_app.command("rotate")
def rotate_cipher_key() -> None:
    """Make a new encryption key for the events written from now on, keeping the older keys (in the
    key file, after it) to read what they wrote. Stop the app and workers first."""
    from rich.markup import escape

    from .projections.running.locks import holding_lock
    from .storage import cipher_key_fingerprints, rotate_cipher_key as rotate

    settings = settings_or_exit()
    opened = open_or_exit(settings)  # proves the keys in use read the store
    opened.log.close()
    try:
        # Held so that no process of this deployment is running: one started before would keep
        # the old keys and could not read what is written with the new one.
        with holding_lock(opened.store, "a rotation of the encryption key"):
            rotated = rotate(settings)
    except ConfigurationError as error:  # the lock's refusal (naming who holds it) among them
        err.print(f"[bold red]Not rotated:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None
    reopened = open_or_exit(settings)  # the new ring reads the store's first and last events
    try:
        rewrapped = reopened.log.mapper.cipher.record_keys.rewrap_all()
    finally:
        reopened.log.close()
    fingerprints = cipher_key_fingerprints(rotated.ring)
    console.print(
        f"[bold green]Rotated[/] the encryption key in {escape(str(rotated.path))}: events written from now on use the key "
        f"{fingerprints[0]}; the {len(fingerprints) - 1} older key(s) stay after it in the file, to read the events they wrote "
        f"(events are not re-encrypted: the signed checkpoints cover their stored bytes). {rewrapped} record key(s) are now wrapped by the new key.",
        highlight=False,
    )
    console.print("  Back the key file up again now, and give it to every process of this deployment before starting them.", highlight=False)


@keys_app.command("rotate-signing")
def rotate_signing_key() -> None:
    """Make a new signing key for checkpoints and bundles from now on; the store keeps the older
    keys and when each was in use, so what they signed still verifies. Stop the app and workers first."""
    from rich.markup import escape

    from .application.checkpoints import CheckpointChainBroken
    from .application.signing_key import deployment_key, rotate_signing_key as rotate
    from .evidence.checkpoint_head import head_file, remember
    from .projections.running.locks import holding_lock

    settings = settings_or_exit()
    opened = open_or_exit(settings)
    try:
        # Held so that no process signs with the old key after it was replaced.
        with holding_lock(opened.store, "a rotation of the signing key"):
            old = deployment_key(opened.log, settings)
            # The events so far are covered by the old key's checkpoint: the new key starts clean.
            recorded = opened.log.record_checkpoint(old)
            remember(head_file(settings.effective_signing_key_file), recorded)
            replaced, new = rotate(opened.log)
    except (ConfigurationError, CheckpointChainBroken) as error:  # the lock's refusal, or no key to rotate
        err.print(f"[bold red]Not rotated:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        opened.log.close()
    for done in recorded:
        console.print(f"Signed checkpoint {done.number} with the old key, up to event #{done.last}.", highlight=False)
    console.print(
        f"[bold green]Rotated[/] the signing key: checkpoints and bundles are signed from now on with {new.fingerprint()}; "
        f"the store keeps {replaced.fingerprint()} and when it was in use, so what it signed still verifies.",
        highlight=False,
    )
    console.print("  Keep the new fingerprint on paper beside the old one (bundles name the key that signed them).", highlight=False)


@keys_app.command("adopt-record-keys")
def adopt_record_keys() -> None:
    """Give the records stored before record keys keys of their own (re-encrypting their events in
    place, with a signed statement of each event's bytes before and after), so they can be
    disposed of. Stop the app and workers first."""
    from rich.markup import escape

    from .application.checkpoints import CheckpointChainBroken
    from .application.signing_key import deployment_key
    from .evidence.checkpoint_head import head_file, remember
    from .key_adoption import adopt_record_keys as adopt
    from .projections.running.locks import holding_lock

    settings = settings_or_exit()
    opened = open_or_exit(settings)
    if opened.store.kind == "memory":
        opened.log.close()
        err.print("[bold red]Not done:[/] an in-memory store holds no records of an earlier release.", highlight=False)
        raise typer.Exit(2)
    try:
        # Held so that no process of this deployment runs: one would keep in memory that an older
        # record has no key and write its next event under the deployment key.
        with holding_lock(opened.store, "a re-encryption of older records under keys of their own"):
            key = deployment_key(opened.log, settings)
            head = head_file(settings.effective_signing_key_file)
            before = opened.log.record_checkpoint(key)  # every event covered before any is rewritten
            remember(head, before)
            last = opened.log.last_checkpoint(key.public)
            if last is None:
                raise CheckpointChainBroken("The store holds no event to re-encrypt")
            adopted = adopt(opened.log, key, opened.store.location if opened.store.kind == "sqlite" else None, last)
            opened.log.close()
            opened = open_or_exit(settings)  # a fresh cache of which records have keys
            after = opened.log.record_checkpoint(key)  # covers the statement
            remember(head, after)
    except (ConfigurationError, CheckpointChainBroken) as error:
        err.print(f"[bold red]Not done:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        opened.log.close()
    if adopted.statement is None:
        console.print("Nothing to re-encrypt: every record has a key of its own.", highlight=False)
    else:
        console.print(
            f"[bold green]Re-encrypted[/] {adopted.events} event(s) of {adopted.records} record(s) stored before record keys under "
            f"keys of their own; statement {adopted.statement.number}, signed with {adopted.statement.key}, after checkpoint "
            f"{adopted.statement.after_checkpoint}. They can now be disposed of. Check the store: `incidents verify-store`.",
            highlight=False,
        )
        console.print("  Take a backup now: older backups hold these records under the deployment key.", highlight=False)
    if adopted.skipped:
        console.print(f"  {adopted.skipped} record(s) without a key that the deployment key cannot read (disposed of) were left as they are.", highlight=False)


@users.command("add")
def add_user(
    username: Annotated[str, typer.Argument(help="Sign-in name, e.g. sue.patel")],
    name: Annotated[str, typer.Option("--name", help="Full name as shown on the timeline")],
    role: Annotated[Optional[list[str]], typer.Option("--role", help="reception, manager or governance; give it again for each further role")] = None,
    practice: Annotated[Optional[str], typer.Option("--practice", help="ODS code; defaults to INCIDENTS_PRACTICE")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input")] = False,
) -> None:
    """Add a member of staff. Prints a generated one-time password once, unless one is piped in."""
    settings = settings_or_exit()
    opened = open_or_exit(settings)
    password = sys.stdin.readline().rstrip("\n") if password_stdin else IncidentLog.new_password()
    try:
        command = c.RegisterAccount(
            username=username, display_name=name, practice=practice or settings.practice, roles=tuple(role or ["reception"]), password=password,  # type: ignore[arg-type]
            one_time=not password_stdin,
        )
        saved = opened.log.register_account(command, actor="cli")
        terms = "" if password_stdin else one_time_terms(opened.log, saved.id)
    except UsernameTaken as error:
        err.print(f"[bold red]{error}[/]")
        raise typer.Exit(1) from None
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        err.print(f"[bold red]Not added:[/] {error}")
        raise typer.Exit(1) from None
    finally:
        opened.log.close()
    console.print(f"Added [bold]{command.username}[/] ({', '.join(command.roles)}, {command.practice}).")
    if not password_stdin:
        console.print(f"  password: [bold]{password}[/]\n  {terms}")


@practice_app.command("set")
def set_practice(
    name: Annotated[str, typer.Option("--name", help="The practice's name, e.g. Riverside Surgery")],
    address: Annotated[str, typer.Option("--address", help="Its postal address, with the postcode (\\n between lines)")],
    practice: Annotated[Optional[str], typer.Option("--practice", help="ODS code; defaults to INCIDENTS_PRACTICE")] = None,
) -> None:
    """Give the practice's name and address, as evidence bundles and their certificate name it."""
    from .application.practice import DescribePractice

    settings = settings_or_exit()
    opened = open_or_exit(settings)
    try:
        command = DescribePractice(name=name, address=address.replace("\\n", "\n"))
        actor = Actor.process("cli", (practice or settings.practice).strip().upper(), "governance")
        saved = opened.log.describe_practice(command, actor)
        details = opened.log.practice_details(actor.practice)
    except ValidationError as error:
        err.print("[bold red]Not saved:[/] " + "; ".join(f"--{e['loc'][0]}: {e['msg'].removeprefix('Value error, ')}" for e in error.errors()))
        raise typer.Exit(1) from None
    except DomainError as error:  # a bad ODS code
        err.print(f"[bold red]Not saved:[/] {error}")
        raise typer.Exit(1) from None
    finally:
        opened.log.close()
    assert details is not None
    console.print(f"{'Saved' if saved.created else 'Unchanged'}: {details.title}, {details.address.replace(chr(10), ', ')}")


@app.command()
def demo(
    months: Annotated[int, typer.Option(help="How many months of history")] = 6,
    per_week: Annotated[int, typer.Option(help="Incidents per week, on average")] = 3,
) -> None:
    """Load realistic sample data, with demo.reception and demo.manager accounts (password printed)."""
    from .application.practice import DescribePractice
    from .demo import DemoPlan, load_demo, planned_count

    settings = settings_or_exit()
    opened = open_or_exit(settings)
    log = opened.log
    actors: dict[str, Actor] = {}
    password = IncidentLog.new_password()
    for role in ("reception", "manager"):
        username = f"demo.{role}"
        try:
            log.register_account(
                c.RegisterAccount(username=username, display_name=f"Demo {role}", practice=settings.practice, roles=(role,), password=password),  # type: ignore[arg-type]
                actor="demo",
            )
            console.print(f"Added {username} with password [bold]{password}[/]")
        except UsernameTaken:
            console.print(f"{username} already exists; its password is unchanged")
        account = log.repository.get(log.account_id(username))
        actors[role] = IncidentLog._actor(account)
    if log.practice_details(settings.practice) is None:  # a practice's own name is never overwritten
        named = DescribePractice(name="Riverside Surgery", address="1 River Road\nLeeds\nLS1 4AP")
        log.describe_practice(named, Actor.process("demo", settings.practice, "governance"))
        console.print(f"Named the practice {named.name}")
    plan = DemoPlan(months=months, per_week=per_week)
    with Progress(console=console) as progress:
        task = progress.add_task("Logging sample incidents", total=planned_count(plan))
        count = load_demo(log, actors["reception"], actors["manager"], plan, lambda: progress.advance(task))
    log.close()
    console.print(f"Logged {count} sample incidents for practice {settings.practice}.")


if __name__ == "__main__":
    app()
