"""Benchmarks, outside the test suite: see bench/README.md (run with `make bench`)."""
from __future__ import annotations

import argparse
import tempfile
import uuid
from pathlib import Path
from typing import Callable


def scratch_postgres(url: str, prefix: str) -> tuple[dict[str, str], Callable[[], None]]:
    """A fresh database on the server at url: its eventsourcing environment and a function dropping it."""
    import psycopg

    from incidents.settings import Settings
    from incidents.storage import store_for

    server = store_for(Settings(data_dir=Path(tempfile.gettempdir()), database_url=url)).env
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(host=server["POSTGRES_HOST"], port=server["POSTGRES_PORT"], user=server["POSTGRES_USER"],
                            password=server["POSTGRES_PASSWORD"], dbname=server["POSTGRES_DBNAME"], autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return {**server, "POSTGRES_DBNAME": name}, drop


def query_bench_arguments(doc: str, large: int, runs: int) -> tuple[argparse.Namespace, list[str]]:
    """The query benches' command line (two sizes, runs a query, one engine or both, the server) and its engines."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs=2, default=[1000, large], metavar=("SMALL", "LARGE"))
    parser.add_argument("--runs", type=int, default=runs)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    return args, [args.only] if args.only else ["sqlite", "postgres"]
