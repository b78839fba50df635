"""Connections an app (INCIDENTS_PROJECTIONS=worker) and an `incidents project` worker hold on
PostgreSQL (127.0.0.1:5432, trust auth), from pg_stat_activity: at rest, at the peak of a burst of
40 clients (15 incidents and 30 pages each), and after it. Extra settings as NAME=value arguments;
MEASURE_SETTLE / MEASURE_IDLE_WAIT seconds to wait before and after the burst.

    .venv/bin/python -m bench.connections INCIDENTS_DB_MAX_OVERFLOW=5
"""
import os, sys, time, uuid, subprocess, threading, base64
from pathlib import Path
import httpx, psycopg
from tests.conftest import BIN, free_port, csrf_from, field_from, sign_in, Account
from tests.e2e.test_server_restart_and_kill import post_filming

name = f"incidents_measure_{uuid.uuid4().hex[:8]}"
admin = psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True)
admin.execute(f'CREATE DATABASE "{name}"')
import tempfile
data = Path(tempfile.mkdtemp(prefix=name))
env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_")}
env.update(INCIDENTS_DATA_DIR=str(data), INCIDENTS_DATABASE_URL=f"postgresql://postgres@127.0.0.1/{name}",
           INCIDENTS_CIPHER_KEY=base64.b64encode(os.urandom(32)).decode(), INCIDENTS_PROJECTIONS="worker", INCIDENTS_PRACTICE="A81001")
env.update(dict(a.split("=", 1) for a in sys.argv[1:]))
def count():
    return admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()[0]
procs = []
try:
    subprocess.run([str(BIN/"incidents"), "users", "add", "sue", "--name", "Sue", "--role", "reception", "--practice", "A81001", "--password-stdin"], input="a long enough password\n", env=env, check=True, capture_output=True, text=True)
    port = free_port()
    procs.append(subprocess.Popen([str(BIN/"incidents"), "serve", "--port", str(port)], env=env, stdout=open(data/"app.log", "w"), stderr=subprocess.STDOUT))
    procs.append(subprocess.Popen([str(BIN/"incidents"), "project"], env=env, stdout=open(data/"worker.log", "w"), stderr=subprocess.STDOUT))
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200: break
        except httpx.HTTPError: pass
        time.sleep(0.1)
    time.sleep(float(os.environ.get('MEASURE_SETTLE', '5')))
    def by_app():
        return admin.execute("SELECT regexp_replace(application_name, ' \\(process.*', ''), count(*) FROM pg_stat_activity WHERE datname = %s GROUP BY 1 ORDER BY 1", (name,)).fetchall()
    rest = count(); print("at rest:", rest, by_app())
    account = Account("sue", "a long enough password", "reception", "A81001")
    errors = []; statuses = {}
    def burst():
        with httpx.Client(base_url=url, timeout=30) as client:
            sign_in(client, account)
            for i in range(15):
                r = post_filming(client, f"burst {i}")
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                for path in ("/", r.headers.get("location", "/").split("?")[0]):
                    r = client.get(path); statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    peak = [0]
    stop = threading.Event()
    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], count()); time.sleep(0.05)
    w = threading.Thread(target=watch); w.start()
    threads = [threading.Thread(target=burst) for _ in range(40)]
    [t.start() for t in threads]; [t.join() for t in threads]
    stop.set(); w.join()
    print("peak during burst:", peak[0], "statuses:", statuses, by_app())
    time.sleep(2); print("2 s after burst:", count())
    wait = float(os.environ.get("MEASURE_IDLE_WAIT", "0"))
    if wait:
        time.sleep(wait); print(f"{wait:.0f} s after burst:", count(), by_app())
finally:
    for p in procs: p.terminate()
    for p in procs: p.wait(30)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
