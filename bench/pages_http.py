"""The dashboard and list pages over HTTP at 1,000 events and at ~1,000,000 events' worth of views.

DESIGN.md section 8 ("Speed") and issue 4: a dashboard or list page at 1,000,000 events is no more
than 1.5x slower than at 1,000; this reports the median and p95 of each page.

    .venv/bin/python -m bench.pages_http [--requests 40] [--rounds 3] [--copies 999]

One run builds two data folders on the embedded default (SQLite): *small*, 1,000 events of a
realistic history (bench/history.py) saved through the app with its views rebuilt, and *large*,
a copy of it whose view tables are then grown in bulk to what 1,000,000 events would give
(bench/page_queries.py `grow_sqlite`: every row copied 999 times as other practices of the same
deployment, so the practice whose pages are asked for has the same rows in tables 1,000 times
larger). A real `incidents serve` (uvicorn, one worker, projections inline) runs on each; a
manager of the measured practice signs in to both through the real form. Then, in rounds that
alternate the two servers (ABBA) because the machine is shared and noisy, each page is asked
for `--requests` times in a row and each answer timed from request to last byte.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from incidents.application import commands as c
from incidents.bootstrap import open_log
from incidents.projections.running.rebuild import rebuild
from incidents.settings import Settings

from .history import PRACTICES, fill
from .page_queries import grow_sqlite
from .projections_rebuild import save_results

TARGET = 1.5
PASSWORD = "a long enough bench password"
MANAGER = "bench.manager"
PAGES = {
    "dashboard": "/dashboard",
    "dashboard poll (nothing new)": "/dashboard/live?since=999999999",
    "incident list": "/incidents",
    "list: open filming": "/incidents?kind=filming&status=open",
    "list: text search": "/incidents?q=phone",
    "home (today's list)": "/",
}
BIN = Path(sys.executable).parent


def build_small(folder: Path, events: int) -> int:
    opened = open_log(Settings(data_dir=folder, practice=PRACTICES[0]))
    try:
        opened.log.register_account(
            c.RegisterAccount(username=MANAGER, display_name="Bench Manager", practice=PRACTICES[0], roles=("manager",), password=PASSWORD),  # type: ignore[arg-type]
            actor="bench",
        )
        stored = fill(opened.log, events)
        rebuild(opened.store, opened.env, [], lambda position, last: None)
    finally:
        opened.log.close()
    return stored


def grow(folder: Path, copies: int) -> dict[str, int]:
    opened = open_log(Settings(data_dir=folder))
    try:
        return grow_sqlite(opened.store, copies)
    finally:
        opened.log.close()


class Server:
    def __init__(self, folder: Path, port: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_")}
        env.update(INCIDENTS_DATA_DIR=str(folder), INCIDENTS_PRACTICE=PRACTICES[0])
        self.log = open(folder / "serve.log", "w")
        self.process = subprocess.Popen([str(BIN / "incidents"), "serve", "--port", str(port)], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"the server did not start: {(folder / 'serve.log').read_text()}")
            time.sleep(0.2)
        self.client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)
        page = self.client.get("/sign-in").text
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        signed = self.client.post("/sign-in", data={"username": MANAGER, "password": PASSWORD, "csrf_token": token})
        if signed.status_code != 303:
            raise RuntimeError(f"could not sign in: {signed.status_code}")

    def time_page(self, path: str, requests: int) -> list[float]:
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            response = self.client.get(path)
            response.read()
            samples.append(time.perf_counter() - started)
            if response.status_code not in (200, 204):
                raise RuntimeError(f"{path}: {response.status_code}")
        return samples

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--copies", type=int, default=999)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        small, large = Path(tmp) / "small", Path(tmp) / "large"
        stored = build_small(small, args.events)
        shutil.copytree(small, large)
        started = time.perf_counter()
        rows = grow(large, args.copies)
        print(f"small: {stored:,} events; large: its views grown to ~{stored * (args.copies + 1):,} events' worth in {time.perf_counter() - started:.0f} s: {rows}")
        servers = {"small": Server(small, 8761), "large": Server(large, 8762)}
        samples: dict[str, dict[str, list[float]]] = {size: {name: [] for name in PAGES} for size in servers}
        try:
            for name, path in PAGES.items():  # warm-up
                for server in servers.values():
                    server.time_page(path, 3)
            for round_number in range(args.rounds):
                order = ["small", "large"] if round_number % 2 == 0 else ["large", "small"]
                for name, path in PAGES.items():
                    for size in order + order[::-1]:
                        samples[size][name].extend(servers[size].time_page(path, max(args.requests // 2, 1)))
        finally:
            for server in servers.values():
                server.stop()
    print(f"\n{args.rounds} rounds x {args.requests} requests per page and size; load {os.getloadavg()[0]:.1f}")
    print(f"  {'page':<30} {'small ms (p95)':>16} {'large ms (p95)':>16} {'ratio':>6}")
    report = {}
    for name in PAGES:
        s, big = samples["small"][name], samples["large"][name]
        ratio = statistics.median(big) / statistics.median(s)
        report[name] = {"small_median": statistics.median(s), "small_p95": p95(s), "large_median": statistics.median(big), "large_p95": p95(big), "ratio": ratio}
        print(
            f"  {name:<30} {statistics.median(s) * 1000:>7.1f} ({p95(s) * 1000:>6.1f}) {statistics.median(big) * 1000:>7.1f} ({p95(big) * 1000:>6.1f})"
            f" {ratio:>6.2f}  {'ok' if ratio <= TARGET else 'MISSED'}"
        )
    print(f"(raw figures in {save_results('pages_http', {'events': stored, 'copies': args.copies, 'pages': report})})")


if __name__ == "__main__":
    main()
