"""Logging an incident over HTTP, against a bare FastAPI endpoint doing one raw INSERT.

DESIGN.md section 8 ("Speed"): logging an incident over HTTP (sign-in session, CSRF, validation,
save, redirect) reaches at least 2/3 of the throughput, and at most 1.5x the median latency, of a
bare FastAPI endpoint doing one raw insert into the same kind of database, both on one uvicorn
worker under the same load.

    .venv/bin/python -m bench.logging_http [--clients 8] [--seconds 20] [--rounds 3] [--profile]

What runs, in one invocation on one machine:

- A, our app: a real uvicorn process (`uvicorn incidents.web.app:create_app --factory`, one
  worker) on a fresh data folder with one reception account, added by `incidents users add`,
  with its projections where the shipped default puts them, in a child process the app starts
  (`--projections inline` or `worker` to measure the others). A's CPU includes that child's.
  Each of N clients signs in with its own session and fetches the filming form once (session
  cookie, CSRF token); each iteration then POSTs /incidents/new/filming with a fresh
  submission_key (uuid4 hex, as the server mints) and must get 303 to the new incident.
- B, the baseline: `create_baseline_app` below, in its own uvicorn process, one plain `def`
  route `POST /insert` doing one INSERT (same table shape as the event store) into a fresh SQLite
  file next to A's, opened with the same sqlite3 settings as eventsourcing's SQLite datastore
  (WAL, autocommit connection with an explicit BEGIN/COMMIT, one writer at a time), answering 303.
  B is sent the very same request bytes as A (form body and cookie), so the HTTP work is alike.
- The load generator runs here, in this process, apart from both servers: N asyncio tasks, each
  with one keep-alive connection, speaking HTTP/1.1 over raw asyncio streams (requests are
  pre-built bytes, so a request costs this process a few tens of microseconds). A short
  phase against a trivial `GET /ping` of the baseline shows the ceiling of this client and
  uvicorn together, and each phase reports this process's CPU use.
- Rounds alternate A and B (ABBA order), each phase a warm-up and then the measured window.
  After each phase of A, the next phase waits until A's views have caught up with its store (how
  far behind they were, and for how long, is reported): their backlog would otherwise run
  during B's phase and slow B down.
  Ratios use the medians across rounds.

Every non-303 answer (or a 303 that does not lead to a new incident) is counted and reported:
it must be 0. After the run, the incidents in A's store are counted against the 303s received.
With --profile, py-spy (pip install py-spy; not a project dependency) samples each server
during one extra phase, and the top costs are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "bench" / "results"
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
USERNAME = "bench.reception"
PASSWORD = "a long enough bench password"
PRACTICE = "A81001"
SESSION_COOKIE = "incidents_session"
THROUGHPUT_TARGET = 0.67  # A/B requests per second, at least
LATENCY_TARGET = 1.5  # A/B median latency, at most
APP_TARGET = "incidents.web.app:create_app"
BASELINE_TARGET = "bench.logging_http:create_baseline_app"
BASELINE_DB_ENV = "BENCH_BASELINE_DB"
# Our stored events are zlib-compressed then AES-GCM encrypted; a filming report's state is about
# this size (the run measures and reports the real average), so the baseline writes as many bytes.
BASELINE_STATE_BYTES = 336
UK = ZoneInfo("Europe/London")


# The baseline: a bare FastAPI app doing one raw INSERT ---------------------------------------


class RawInserts:
    """One INSERT per call, with eventsourcing's SQLiteDatastore settings for a file database:
    sqlite3.connect(uri=True, check_same_thread=False, isolation_level=None,
    cached_statements=True, timeout=SQLITE_LOCK_TIMEOUT), journal_mode=WAL, sqlite3.Row rows,
    an explicit BEGIN then commit(), and writers taking turns on a lock (as the library's
    connection pool does), so they never fall back on SQLite's busy-wait sleeps. The table is
    the shape of the library's stored_events table."""

    CREATE = (
        "CREATE TABLE IF NOT EXISTS stored_events (originator_id TEXT, originator_version INTEGER, "
        "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
    )
    INSERT = "INSERT INTO stored_events VALUES (?,?,?,?)"

    def __init__(self, path: str, lock_timeout: int = 10) -> None:
        self.path = path
        self.lock_timeout = lock_timeout
        self.local = threading.local()
        self.writer = threading.Lock()
        conn = self.connection()
        conn.execute(self.CREATE)

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, uri=True, check_same_thread=False, isolation_level=None,
                cached_statements=True, timeout=self.lock_timeout,
            )
            if conn.execute("PRAGMA journal_mode;").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL;")
            conn.row_factory = sqlite3.Row
            self.local.conn = conn
        return conn

    def insert(self) -> None:
        conn = self.connection()
        params = (uuid.uuid4().hex, 1, "bench.logging_http:Inserted", os.urandom(BASELINE_STATE_BYTES))
        with self.writer:
            cursor = conn.cursor()
            cursor.execute("BEGIN")
            try:
                cursor.execute(self.INSERT, params)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
            cursor.close()


def create_baseline_app():  # -> FastAPI; uvicorn's --factory calls this in the server process
    from fastapi import FastAPI
    from starlette.responses import PlainTextResponse, Response

    store = RawInserts(os.environ[BASELINE_DB_ENV])
    app = FastAPI(title="baseline", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/insert")
    def insert() -> Response:
        store.insert()
        return Response(status_code=303, headers={"location": "/inserted"})

    @app.get("/ping")
    async def ping() -> Response:  # the trivial endpoint: the ceiling of client + uvicorn
        return PlainTextResponse("ok")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


# Servers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process, all threads, and of its child processes
        (A's projections process), from /proc."""
        total = 0.0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(entry.name) == self.process.pid or int(fields[1]) == self.process.pid:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total if total else float("nan")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(name: str, target: str, env: dict[str, str], log_dir: Path, access_log: bool) -> Server:
    """One uvicorn worker in its own process, with the same options for A and B."""
    import httpx

    port = free_port()
    log_path = log_dir / f"server-{name}.log"
    command = [
        sys.executable, "-m", "uvicorn", target, "--factory", "--host", HOST, "--port", str(port),
        "--log-level", "info" if access_log else "warning",
    ]
    if not access_log:
        command.append("--no-access-log")
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    server = Server(name, process, port, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server {name} exited:\n{log_path.read_text()}")
        try:
            if httpx.get(server.url + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server {name} did not start:\n{log_path.read_text()}")


def add_reception_account(env: dict[str, str]) -> None:
    subprocess.run(
        [str(BIN / "incidents"), "users", "add", USERNAME, "--name", "Bench Reception", "--role", "reception",
         "--practice", PRACTICE, "--password-stdin"],
        input=PASSWORD + "\n", env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=True,
    )


# Sessions: signed in once per client, through the real forms -----------------------------------


def _field(html: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


@dataclass
class Session:
    cookie: str
    body_head: bytes  # the urlencoded form up to the submission key
    body_tail: bytes

    def body(self) -> bytes:
        return self.body_head + uuid.uuid4().hex.encode() + self.body_tail


def sign_in(base_url: str) -> Session:
    """Sign in, GET the filming form (as a browser would) and keep its CSRF token and cookie."""
    import httpx

    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=60) as client:
        page = client.get("/sign-in")
        response = client.post(
            "/sign-in", data={"username": USERNAME, "password": PASSWORD, "csrf_token": _field(page.text, "csrf_token"), "next": "/"}
        )
        if response.status_code != 303:
            raise RuntimeError(f"sign-in failed: {response.status_code} {response.text[:500]}")
        form = client.get("/incidents/new/filming")
        if form.status_code != 200:
            raise RuntimeError(f"the filming form failed: {form.status_code}")
        csrf = _field(form.text, "csrf_token")
        _field(form.text, "submission_key")  # the form carries one; we mint our own per POST
        cookie = client.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise RuntimeError("no session cookie after signing in")
    when = datetime.now(UK) - timedelta(minutes=2)
    fields = {
        "csrf_token": csrf,
        "submission_key": "SUBMISSIONKEY",
        "area": "waiting_area",
        "filmer": "patient",
        "people_captured": "staff_and_patients",
        "children_present": "no",
        "occurred_date": when.strftime("%Y-%m-%d"),
        "occurred_time": when.strftime("%H:%M"),
        "note": "Held a phone up at the desk",
    }
    head, tail = urlencode(fields).encode().split(b"SUBMISSIONKEY")
    return Session(cookie, head, tail)


# The load generator: HTTP/1.1 keep-alive over raw asyncio streams -------------------------------


class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    async def request(self, raw: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                value = value.strip()
                headers[name] = headers[name] + b", " + value if name in headers and name != b"set-cookie" else value
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        else:
            length = int(headers.get(b"content-length", b"0"))
            body = await self.reader.readexactly(length) if length else b""
        if headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return status, headers, body


@dataclass
class Target:
    name: str  # "A" or "B" or "ping"
    port: int
    method: str
    path: str
    expect_location: str = ""  # a 303 must point here (prefix), else it is counted as an error

    def request(self, session: Session | None) -> bytes:
        head = f"{self.method} {self.path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
        if session is None:
            return (head + "\r\n").encode()
        body = session.body()
        head += (
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nCookie: {SESSION_COOKIE}={session.cookie}\r\n\r\n"
        )
        return head.encode() + body


@dataclass
class Phase:
    target: str
    seconds: float
    requests: int  # completed inside the measured window
    throughput: float  # requests per second
    median_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    ok: int
    errors: dict[str, int]  # non-303 (by status) or a 303 to the wrong place, in the window
    errors_all: int  # the same, warm-up included
    ok_all: int  # good answers, warm-up included
    server_cpu_pct: float  # of one core, all threads of the server process and of its children
    client_cpu_pct: float  # of one core, this load generator

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


async def load(target: Target, sessions: list[Session | None], server: Server, warmup: float, seconds: float) -> Phase:
    """N clients back to back on keep-alive connections: a warm-up, then the measured window."""
    connections = [Connection(target.port) for _ in sessions]
    await asyncio.gather(*(c.open() for c in connections))
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    totals = {"ok": 0, "errors": 0}
    start = time.perf_counter()
    window_start, window_end = start + warmup, start + warmup + seconds
    cpu: dict[str, float] = {}

    async def client(connection: Connection, session: Session | None) -> None:
        while True:
            t0 = time.perf_counter()
            if t0 >= window_end:
                return
            raw = target.request(session)
            try:
                if connection.writer is None:
                    await connection.open()
                status, headers, _ = await connection.request(raw)
                problem = "" if status == 303 or target.name == "ping" else str(status)
                if status == 303 and target.expect_location:
                    if not headers.get(b"location", b"").decode().startswith(target.expect_location):
                        problem = "303 elsewhere: " + headers.get(b"location", b"").decode()[:40]
                if target.name == "ping" and status != 200:
                    problem = str(status)
                cookie = headers.get(b"set-cookie")
                if session is not None and cookie and cookie.startswith(SESSION_COOKIE.encode() + b"="):
                    session.cookie = cookie.split(b";", 1)[0].split(b"=", 1)[1].decode()
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                connection.close()
                problem = f"connection: {type(error).__name__}"
            t1 = time.perf_counter()
            totals["errors" if problem else "ok"] += 1
            if window_start <= t1 < window_end:
                if problem:
                    errors[problem] += 1
                latencies.append(t1 - t0)

    async def meter() -> None:
        await asyncio.sleep(max(0.0, window_start - time.perf_counter()))
        cpu["server0"], cpu["client0"], cpu["t0"] = server.cpu_seconds(), time.process_time(), time.perf_counter()
        await asyncio.sleep(max(0.0, window_end - time.perf_counter()))
        cpu["server1"], cpu["client1"], cpu["t1"] = server.cpu_seconds(), time.process_time(), time.perf_counter()

    try:
        await asyncio.wait_for(
            asyncio.gather(meter(), *(client(c, s) for c, s in zip(connections, sessions))), warmup + seconds + 120
        )
    finally:
        for connection in connections:
            connection.close()
    elapsed = cpu["t1"] - cpu["t0"]
    ordered = sorted(latencies)
    n = len(ordered)
    bad = sum(errors.values())
    return Phase(
        target=target.name,
        seconds=round(seconds, 3),
        requests=n,
        throughput=n / seconds,
        median_ms=percentile(ordered, 0.5) * 1000,
        p95_ms=percentile(ordered, 0.95) * 1000,
        p99_ms=percentile(ordered, 0.99) * 1000,
        mean_ms=(statistics.fmean(ordered) * 1000) if ordered else float("nan"),
        ok=n - bad,
        errors=dict(errors),
        errors_all=totals["errors"],
        ok_all=totals["ok"],
        server_cpu_pct=100 * (cpu["server1"] - cpu["server0"]) / elapsed,
        client_cpu_pct=100 * (cpu["client1"] - cpu["client0"]) / elapsed,
    )


# Profiling the servers with py-spy ----------------------------------------------------------------
#
# Two py-spy recorders sample the server at once during one extra phase (not counted in the
# figures): one with --idle (wall clock: where a request's time goes, waiting included) and one
# with --gil (only the thread holding the GIL: where the one interpreter's CPU goes, which is
# what caps a single uvicorn worker).


def py_spy() -> str | None:
    local = BIN / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


# (label, substrings of a py-spy frame "function (file:line)"); a sample counts once per label.
HANDLER_BUCKETS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "A": [
        ("wait_for_views (until the projection has the new incident)", ("wait_for_views (",)),
        ("  in eventsourcing TrackingRecorder.wait (sleeps 100 ms, then backs off)", ("TrackingRecorder.wait (",)),
        ("IncidentLog.report_filming", ("report_filming (",)),
        ("  _exists (SELECT before creating)", ("_exists (",)),
        ("  Application.save", ("Application.save (",)),
        ("    waiting for a pooled connection / the writer lock", ("ConnectionPool.get_connection (",)),
        ("    SQLite commit", ("SQLiteConnection.commit (",)),
        ("parse the form into the command (pydantic)", ("parse (web/forms.py",)),
    ],
    "B": [
        ("RawInserts.insert (writer lock, INSERT, commit)", ("RawInserts.insert (",)),
    ],
}
PROCESS_BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    ("route handler thread (all of the route function)", ("report (web/incident_routes.py", ".insert (bench/")),
    ("  wait_for_views polling", ("wait_for_views (",)),
    ("  IncidentLog.report_filming", ("report_filming (",)),
    ("    Application.save", ("Application.save (",)),
    ("signed-in check: load the account (actor_for_session)", ("actor_for_session (",)),
    ("read the form + check CSRF (posted)", ("posted (web/deps.py",)),
    ("session cookie signing / checking", ("itsdangerous/", "send_wrapper (starlette/middleware/sessions.py")),
    ("encryption (AESCipher)", ("AESCipher.",)),
    ("zlib (ZlibCompressor)", ("ZlibCompressor.",)),
    ("JSON transcoding (JSONTranscoder)", ("JSONTranscoder.",)),
    ("pydantic", ("pydantic/", "pydantic_core")),
    ("argon2", ("argon2/",)),
    ("Jinja2", ("jinja2/",)),
    ("projection thread: decode event + write the view", ("_process_events_loop (",)),
    ("subscription threads: pull / poll notifications", ("_loop_on_pull (", "sqlite_subscription.py")),
    ("any SQLite call through eventsourcing", ("eventsourcing/sqlite.py",)),
    ("HTTP protocol (uvicorn h11 parsing and writing)", ("h11/", "H11Protocol.")),
]
BORING = ("<module>", "_bootstrap", "Thread.run (", "_run_code", "_run_module", "click/", "run_until_complete", "run_forever",
          "_run_once", "Handle._run", "Runner.run", "asyncio/runners.py", "uvicorn/main.py", "uvicorn/server.py",
          "WorkerThread.run", "Context.run", "run (asyncio")


def module_of(frame: str) -> str:
    where = frame[frame.rfind("(") + 1 :].rsplit(":", 1)[0]
    if where.startswith("<"):
        return where
    parts = where.split("/")
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def read_stacks(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def bucket_shares(stacks: list[tuple[list[str], int]], buckets: list[tuple[str, tuple[str, ...]]], total: int) -> dict[str, float]:
    counts: Counter[str] = Counter()
    for frames, n in stacks:
        for label, needles in buckets:
            if any(needle in frame for frame in frames for needle in needles):
                counts[label] += n
    return {label: round(100 * counts[label] / total, 1) if total else 0.0 for label, _ in buckets}


def summarise_profiles(name: str, wall: Path, gil: Path, rate: int, seconds: float, top: int = 15) -> dict[str, Any]:
    handler_needle = "report (web/incident_routes.py" if name == "A" else ".insert (bench/"
    summary: dict[str, Any] = {"raw_stacks": {"wall": str(wall), "gil": str(gil)}}
    if wall.exists():
        in_handler = [(f, n) for f, n in read_stacks(wall) if any(handler_needle in frame for frame in f)]
        handler_samples = sum(n for _, n in in_handler)
        summary["handler_wall"] = {
            "samples": handler_samples,
            "mean_busy_handler_threads": round(handler_samples / (rate * seconds), 2),
            "shares_pct": bucket_shares(in_handler, HANDLER_BUCKETS[name], handler_samples),
        }
    if gil.exists():
        stacks = read_stacks(gil)
        total = sum(n for _, n in stacks)
        inclusive: Counter[str] = Counter()
        leaves: Counter[str] = Counter()
        modules: Counter[str] = Counter()
        for frames, n in stacks:
            for frame in set(frames):
                inclusive[frame] += n
            leaves[frames[-1]] += n
            modules[module_of(frames[-1])] += n

        def pct(n: int) -> float:
            return round(100 * n / total, 1) if total else 0.0

        summary["gil"] = {
            "samples": total,
            "gil_held_pct_of_time": round(100 * total / (rate * seconds), 1),
            "shares_pct": bucket_shares(stacks, PROCESS_BUCKETS, total),
            "self_by_module_pct": [(m, pct(n)) for m, n in modules.most_common(top)],
            "top_self_pct": [(f, pct(n)) for f, n in leaves.most_common(top)],
            "top_inclusive_pct": [(f, pct(n)) for f, n in inclusive.most_common(400) if not any(b in f for b in BORING)][:top],
        }
    return summary


async def profiled_load(target: Target, sessions: list[Session | None], server: Server, warmup: float, seconds: float,
                        prefix: Path, rate: int) -> tuple[Phase, dict[str, Any]]:
    tool = py_spy()
    assert tool is not None
    duration = max(1, int(seconds))
    recorders = []
    paths = {mode: prefix.with_name(f"{prefix.name}-{mode}.txt") for mode in ("wall", "gil")}
    phase_task = asyncio.ensure_future(load(target, sessions, server, warmup, seconds))
    await asyncio.sleep(warmup)  # sample the measured window only
    for mode, flag in (("wall", "--idle"), ("gil", "--gil")):
        recorders.append(await asyncio.create_subprocess_exec(
            tool, "record", "--pid", str(server.process.pid), "--rate", str(rate), "--duration", str(duration),
            "--format", "raw", "--output", str(paths[mode]), "--nonblocking", flag,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        ))
    phase = await phase_task
    errors = [(await r.communicate())[1].decode()[-300:] for r in recorders]
    summary = summarise_profiles(target.name, paths["wall"], paths["gil"], rate, duration)
    if not paths["wall"].exists() or not paths["gil"].exists():
        summary["error"] = " | ".join(errors)
    return phase, summary


# Reporting ----------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarise(rounds: list[dict[str, Phase]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("A", "B"):
        phases = [r[name] for r in rounds]
        out[name] = {
            "throughput": median([p.throughput for p in phases]),
            "median_ms": median([p.median_ms for p in phases]),
            "p95_ms": median([p.p95_ms for p in phases]),
            "server_cpu_pct": median([p.server_cpu_pct for p in phases]),
            "client_cpu_pct": median([p.client_cpu_pct for p in phases]),
            "non_303": sum(p.error_count for p in phases),
        }
    a, b = out["A"], out["B"]
    out["throughput_ratio"] = a["throughput"] / b["throughput"] if b["throughput"] else float("nan")
    out["median_latency_ratio"] = a["median_ms"] / b["median_ms"] if b["median_ms"] else float("nan")
    out["throughput_ratio_per_round"] = [r["A"].throughput / r["B"].throughput for r in rounds]
    out["median_latency_ratio_per_round"] = [r["A"].median_ms / r["B"].median_ms for r in rounds]
    out["throughput_target_met"] = out["throughput_ratio"] >= THROUGHPUT_TARGET
    out["latency_target_met"] = out["median_latency_ratio"] <= LATENCY_TARGET
    return out


def print_report(console: Any, result: dict[str, Any], rounds: list[dict[str, Phase]], ceiling: Phase) -> None:
    from rich.table import Table

    table = Table(title="Logging an incident over HTTP (A) vs one raw INSERT (B), per round")
    for column in ("round", "server", "req/s", "median ms", "p95 ms", "p99 ms", "non-303", "server CPU %", "client CPU %"):
        table.add_column(column, justify="right")
    for i, r in enumerate(rounds, 1):
        for name in ("A", "B"):
            p = r[name]
            table.add_row(
                str(i), "A app" if name == "A" else "B baseline", f"{p.throughput:,.1f}", f"{p.median_ms:.2f}", f"{p.p95_ms:.2f}",
                f"{p.p99_ms:.2f}", str(p.error_count), f"{p.server_cpu_pct:.0f}", f"{p.client_cpu_pct:.0f}",
            )
        table.add_row(str(i), "A/B", f"{r['A'].throughput / r['B'].throughput:.2f}", f"{r['A'].median_ms / r['B'].median_ms:.2f}",
                      f"{r['A'].p95_ms / r['B'].p95_ms:.2f}", "", "", "", "", end_section=True)
    console.print(table)

    s = result["summary"]
    overall = Table(title=f"Overall (medians across {len(rounds)} rounds)")
    for column in ("", "A app", "B baseline", "A/B", "target", "verdict"):
        overall.add_column(column, justify="right")

    def verdict(ok: bool) -> str:
        return "[green]met[/]" if ok else "[bold red]missed[/]"

    overall.add_row("throughput (req/s)", f"{s['A']['throughput']:,.1f}", f"{s['B']['throughput']:,.1f}",
                    f"{s['throughput_ratio']:.2f}", f">= {THROUGHPUT_TARGET}", verdict(s["throughput_target_met"]))
    overall.add_row("median latency (ms)", f"{s['A']['median_ms']:.2f}", f"{s['B']['median_ms']:.2f}",
                    f"{s['median_latency_ratio']:.2f}", f"<= {LATENCY_TARGET}", verdict(s["latency_target_met"]))
    overall.add_row("p95 latency (ms)", f"{s['A']['p95_ms']:.2f}", f"{s['B']['p95_ms']:.2f}",
                    f"{s['A']['p95_ms'] / s['B']['p95_ms']:.2f}", "", "")
    overall.add_row("non-303 answers", str(s["A"]["non_303"]), str(s["B"]["non_303"]), "", "0",
                    verdict(s["A"]["non_303"] == 0 and s["B"]["non_303"] == 0))
    overall.add_row("server CPU % (one core)", f"{s['A']['server_cpu_pct']:.0f}", f"{s['B']['server_cpu_pct']:.0f}", "", "", "")
    console.print(overall)
    checks = result["checks"]
    machine = result["machine"]
    console.print(
        f"Machine: {machine['cpus']} CPUs, load average {machine['loadavg_at_start'][0]:.2f} at start, "
        f"{machine['loadavg_at_end'][0]:.2f} at end (other work on the machine skews the figures; rounds alternate to share it out)."
    )
    console.print(
        f"Load generator ceiling (GET /ping on the baseline, {ceiling.seconds:g} s): {ceiling.throughput:,.0f} req/s, "
        f"median {ceiling.median_ms:.2f} ms, client CPU {ceiling.client_cpu_pct:.0f} %, server CPU {ceiling.server_cpu_pct:.0f} %."
    )
    console.print(
        f"A's store: {checks['incidents_stored']} incidents stored for {checks['a_303_received']} 303s received "
        f"({'[green]match[/]' if checks['stored_matches_acknowledged'] else '[bold red]MISMATCH[/]'}); "
        f"average stored event state {checks['a_avg_state_bytes']} bytes (baseline writes {BASELINE_STATE_BYTES})."
    )
    for errors in (p.errors for r in rounds for p in r.values()):
        if errors:
            console.print(f"[bold red]errors:[/] {errors}")
    for name, profile in (result.get("profile") or {}).items():
        print_profile(console, name, profile)


def print_profile(console: Any, name: str, profile: dict[str, Any]) -> None:
    from rich.table import Table

    if "error" in profile:
        console.print(f"[bold red]py-spy failed for {name}:[/] {profile['error']}")
    title = "A (our app)" if name == "A" else "B (baseline)"
    phase = profile.get("phase_under_profiler", {})
    console.print(
        f"\n[bold]Profile of {title}[/] under load ({phase.get('throughput', 0):,.1f} req/s, median "
        f"{phase.get('median_ms', 0):.1f} ms while sampled); raw stacks: {profile['raw_stacks']['wall']}, {profile['raw_stacks']['gil']}"
    )
    wall = profile.get("handler_wall")
    if wall:
        table = Table(title=f"{title}: where the route handler's wall-clock time goes ({wall['samples']} samples, "
                            f"{wall['mean_busy_handler_threads']} handler threads busy on average)")
        table.add_column("inside the route function")
        table.add_column("% of handler time", justify="right")
        for label, value in wall["shares_pct"].items():
            table.add_row(label, f"{value:.1f}")
        console.print(table)
    gil = profile.get("gil")
    if gil:
        table = Table(title=f"{title}: who holds the GIL ({gil['samples']} samples; GIL held {gil['gil_held_pct_of_time']:.0f} % of the time)")
        table.add_column("cost (inclusive)")
        table.add_column("% of GIL", justify="right")
        for label, value in gil["shares_pct"].items():
            if value:
                table.add_row(label, f"{value:.1f}")
        console.print(table)
        hot = Table(title=f"{title}: hottest under the GIL")
        for column in ("function, inclusive", "%", "function, self", "%", "module, self", "%"):
            hot.add_column(column, justify="right" if column == "%" else "left")
        rows = (gil["top_inclusive_pct"], gil["top_self_pct"], gil["self_by_module_pct"])
        for i in range(max(len(r) for r in rows)):
            cells: list[str] = []
            for r in rows:
                cells += [str(r[i][0])[:60], str(r[i][1])] if i < len(r) else ["", ""]
            hot.add_row(*cells)
        console.print(hot)


def count_stored(data_dir: Path) -> tuple[int, int]:
    """Filming incidents in A's event store (topics are stored in clear), and their mean state size."""
    with sqlite3.connect(f"file:{data_dir / 'incidents.sqlite'}?mode=ro", uri=True) as conn:
        n, size = conn.execute(
            "SELECT COUNT(*), AVG(LENGTH(state)) FROM stored_events WHERE topic LIKE '%FilmingIncident%'"
        ).fetchone()
    return int(n), int(size or 0)


def views_behind(data_dir: Path) -> int:
    """How many events A's slowest view still lacks (its tracking table against the store)."""
    with sqlite3.connect(f"file:{data_dir / 'incidents.sqlite'}?mode=ro", uri=True) as conn:
        latest = conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM stored_events").fetchone()[0]
    behind = 0
    for view in sorted(data_dir.glob("view-*.sqlite")):
        try:
            with sqlite3.connect(f"file:{view}?mode=ro", uri=True) as conn:
                position = conn.execute("SELECT COALESCE(MAX(notification_id), 0) FROM tracking").fetchone()[0]
        except sqlite3.Error:  # not made yet
            position = 0
        behind = max(behind, latest - position)
    return behind


def wait_for_views(data_dir: Path, timeout: float = 300.0) -> tuple[int, float]:
    """After A's phase: wait until A's projections have caught up, so that their backlog does
    not run during the next phase (B's, which it would slow down). Returns how far behind they
    were when the phase ended, and how long they took to catch up."""
    started = time.perf_counter()
    behind = first = views_behind(data_dir)
    while behind and time.perf_counter() - started < timeout:
        time.sleep(0.05)
        behind = views_behind(data_dir)
    return first, time.perf_counter() - started


# The run --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.logging_http", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients, each with its own session (default 8)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per phase (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds before each measured phase (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each measuring A and B in alternating order (default 3)")
    parser.add_argument("--ceiling-seconds", type=float, default=5.0, help="seconds of GET /ping to check the load generator (default 5)")
    parser.add_argument("--app-factory", default=APP_TARGET,
                        help=f"uvicorn factory for A (default {APP_TARGET}); to try a change without editing the app")
    parser.add_argument("--access-log", action="store_true", help="let both servers write uvicorn's access log (off by default)")
    parser.add_argument("--profile", action="store_true", help="after the rounds, sample each server with py-spy during one more phase")
    parser.add_argument("--profile-rate", type=int, default=200, help="py-spy samples per second (default 200)")
    parser.add_argument("--projections", choices=["child", "inline", "worker"], default="child",
                        help="child (default, as shipped): A runs the projections in a child process it starts; "
                             "inline: in A's own process; "
                             "worker: a separate `incidents project` process runs them, as PostgreSQL deployments do")
    parser.add_argument("--keep", action="store_true", help="keep the data folder and server logs")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed (non-303 answers always exit 1)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console

    args = parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 140)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    work = Path(tempfile.mkdtemp(prefix="incidents-bench-"))
    data_dir = work / "data"
    data_dir.mkdir()
    baseline_db = data_dir / "baseline.sqlite"  # a fresh file next to ours
    if args.profile and not py_spy():
        console.print("[yellow]--profile needs py-spy: .venv/bin/pip install py-spy (it is not a project dependency)[/]")
    servers: list[Server] = []
    loadavg_at_start = os.getloadavg()
    try:
        env_a = clean_env(INCIDENTS_DATA_DIR=str(data_dir), INCIDENTS_PRACTICE=PRACTICE, INCIDENTS_PROJECTIONS=args.projections)
        console.print(f"Data folder {data_dir}; adding the reception account ...")
        add_reception_account(env_a)
        if args.projections == "worker":
            worker_log = open(work / "worker.log", "w")
            worker = subprocess.Popen([str(BIN / "incidents"), "project"], env=env_a, cwd=REPO, stdout=worker_log, stderr=subprocess.STDOUT)
            servers.append(Server("worker", worker, 0, work / "worker.log"))
            console.print(f"Projections run in a separate `incidents project` worker, pid {worker.pid}")
        app = start_server("A", args.app_factory, env_a, work, args.access_log)
        servers.append(app)
        baseline = start_server("B", BASELINE_TARGET, clean_env(**{BASELINE_DB_ENV: str(baseline_db)}), work, args.access_log)
        servers.append(baseline)
        console.print(f"A ({args.app_factory}) on {app.url}, pid {app.process.pid}; B (baseline) on {baseline.url}, pid {baseline.process.pid}")
        if args.app_factory != APP_TARGET:
            console.print(f"[yellow]A is not the app as shipped but {args.app_factory}[/]")
        sessions: list[Session | None] = [sign_in(app.url) for _ in range(args.clients)]
        console.print(f"{args.clients} clients signed in; each phase: {args.warmup:g} s warm-up + {args.seconds:g} s measured")

        a = Target("A", app.port, "POST", "/incidents/new/filming", expect_location="/incidents/")
        b = Target("B", baseline.port, "POST", "/insert", expect_location="/inserted")
        ping = Target("ping", baseline.port, "GET", "/ping")
        ceiling = asyncio.run(load(ping, [None] * args.clients, baseline, 1.0, args.ceiling_seconds))
        console.print(f"ceiling GET /ping: {ceiling.throughput:,.0f} req/s (client CPU {ceiling.client_cpu_pct:.0f} %)")

        rounds: list[dict[str, Phase]] = []
        catch_ups: list[dict[str, float]] = []
        a_ok = 0
        for i in range(args.rounds):
            order = (a, b) if i % 2 == 0 else (b, a)
            results: dict[str, Phase] = {}
            for target in order:
                server = app if target is a else baseline
                phase = asyncio.run(load(target, sessions, server, args.warmup, args.seconds))
                results[target.name] = phase
                caught_up = ""
                if target is a:
                    a_ok += phase.ok_all
                    lag, seconds = wait_for_views(data_dir)
                    catch_ups.append({"behind_at_end": lag, "seconds_to_catch_up": round(seconds, 2)})
                    caught_up = f"; views {lag} events behind at the end, caught up {seconds:.1f} s later"
                console.print(
                    f"round {i + 1} {target.name}: {phase.throughput:,.1f} req/s, median {phase.median_ms:.2f} ms, "
                    f"p95 {phase.p95_ms:.2f} ms, non-303 {phase.error_count}, server CPU {phase.server_cpu_pct:.0f} %{caught_up}"
                )
            rounds.append(results)

        profiles: dict[str, Any] = {}
        if args.profile and py_spy():
            for target, server in ((a, app), (b, baseline)):
                prefix = RESULTS_DIR / f"profile-{target.name}-{stamp}"
                console.print(f"profiling {target.name} with py-spy for {args.seconds:g} s (after {args.warmup:g} s warm-up) ...")
                phase, summary = asyncio.run(profiled_load(target, sessions, server, args.warmup, args.seconds, prefix, args.profile_rate))
                if target is a:
                    a_ok += phase.ok_all
                profiles[target.name] = {"phase_under_profiler": asdict(phase), **summary}

        time.sleep(0.5)
        stored, state_bytes = count_stored(data_dir)
        result: dict[str, Any] = {
            "benchmark": "logging_http",
            "started": stamp,
            "args": vars(args),
            "machine": {
                "cpus": os.cpu_count(), "loadavg_at_start": loadavg_at_start, "loadavg_at_end": os.getloadavg(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "targets": {"throughput_ratio_min": THROUGHPUT_TARGET, "median_latency_ratio_max": LATENCY_TARGET},
            "ceiling_get_ping": asdict(ceiling),
            "rounds": [{name: asdict(p) for name, p in r.items()} for r in rounds],
            "a_views_after_each_phase": catch_ups,
            "summary": summarise(rounds),
            "checks": {
                "incidents_stored": stored,
                "a_303_received": a_ok,
                "stored_matches_acknowledged": stored == a_ok,
                "a_avg_state_bytes": state_bytes,
            },
            "profile": profiles,
        }
        print_report(console, result, rounds, ceiling)
        out = RESULTS_DIR / f"logging_http-{stamp}.json"
        out.write_text(json.dumps(result, indent=2, default=str))
        console.print(f"\nResults written to {out}")
        s = result["summary"]
        if s["A"]["non_303"] or s["B"]["non_303"] or not result["checks"]["stored_matches_acknowledged"]:
            return 1
        if args.strict and not (s["throughput_target_met"] and s["latency_target_met"]):
            return 1
        return 0
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            console.print(f"Kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
