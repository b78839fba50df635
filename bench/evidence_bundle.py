"""An evidence bundle, against the bare PDF compile of the same timeline.

DESIGN.md section 8 ("Speed"): a bundle for an incident with 1,000 events (PDF, JSON, CSV,
manifest, signature) costs at most 2x the PDF compile alone for the same timeline, and grows
linearly: 10,000 events at most 12x the time of 1,000.

    .venv/bin/python -m bench.evidence_bundle [--rounds 5] [--sizes 1000,10000]

What runs:

- the material: one incident of N events from incidents.evidence.sample (reported, responses,
  notes, a correction; staff names in Latin, Polish, Chinese and Arabic script);
- A, the bundle: `build_bundle(material, key)`, everything from the material to the signed zip
  (canonical events.json, leaf hashes and Merkle root, the PDF, the CSV, manifest, SHA256SUMS
  and its Ed25519 signature, the zip);
- B, the baseline: `compile_pdf(inputs, ...)`, Typst alone compiling the same template over the
  same JSON data, already prepared (no formatting of dates, no hashing, no zip).

Each measurement runs in a fresh process (the material built and the fonts scanned before the
clock starts), because Typst memoises layout within a process: compiling the same timeline
twice in one process measures its cache, not the export a practice makes once. A and B
alternate (ABBA) over the rounds, and the medians of their wall times are compared; the load
average is printed, as other work on the machine slows both alike but adds noise. The bundle's
PDF compiles in a worker process that the app keeps ready (incidents/evidence/pdf_worker.py),
so it is measured with that worker ready, as the baseline is with the fonts already scanned.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def one(what: str, events: int) -> None:
    """In a fresh process: prepare, then time one bundle or one bare compile, and print JSON."""
    from incidents.evidence.bundle import build_bundle
    from incidents.evidence.pdf import Seal, _fonts, compile_pdf, typeset_data, warm_up
    from incidents.evidence.sample import sample_material
    from incidents.evidence.signing import generate

    key = generate()
    material = sample_material(events=events)
    inputs = json.dumps(typeset_data(material, Seal("0" * 64, key.fingerprint(), "0" * 64)), ensure_ascii=False)
    if what == "bundle":
        warm_up(wait=True)  # the app keeps a worker ready, fonts scanned
    else:
        _fonts()
    wall = time.perf_counter()
    if what == "bundle":
        size = len(build_bundle(material, key).data)
    else:
        size = len(compile_pdf(inputs, material.exported_at))
    print(json.dumps({"wall": time.perf_counter() - wall, "bytes": size}))


def measure(what: str, events: int) -> dict[str, float]:
    command = [sys.executable, "-m", "bench.evidence_bundle", "--one", what, "--events", str(events)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(events: int, rounds: int) -> dict[str, dict[str, float]]:
    runs: dict[str, list[dict[str, float]]] = {"bundle": [], "pdf": []}
    for round_ in range(rounds):
        for what in ("bundle", "pdf") if round_ % 2 == 0 else ("pdf", "bundle"):
            runs[what].append(measure(what, events))
    return {
        what: {key: statistics.median(r[key] for r in results) for key in ("wall", "bytes")}
        for what, results in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--one", choices=("bundle", "pdf"), help=argparse.SUPPRESS)
    parser.add_argument("--events", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one, args.events)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)", flush=True)
    results = {}
    for events in sizes:
        r = results[events] = run(events, args.rounds)
        b, p = r["bundle"], r["pdf"]
        print(
            f"{events:>6} events: bundle {b['wall']:6.2f} s, bare PDF compile {p['wall']:6.2f} s, "
            f"ratio {b['wall'] / p['wall']:.2f}x (target <= 2x); zip {b['bytes'] / 1e6:.1f} MB, "
            f"PDF {p['bytes'] / 1e6:.1f} MB  [medians of {args.rounds}, wall time]",
            flush=True,
        )
    if len(sizes) >= 2:
        small, large = results[sizes[0]], results[sizes[-1]]
        factor = sizes[-1] / sizes[0]
        print(
            f"growth {sizes[0]} -> {sizes[-1]} events ({factor:g}x the events): bundle "
            f"{large['bundle']['wall'] / small['bundle']['wall']:.2f}x, bare PDF {large['pdf']['wall'] / small['pdf']['wall']:.2f}x "
            f"(target <= {1.2 * factor:g}x for the bundle)"
        )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
