"""An evidence bundle, against the bare PDF compile of the same timeline.

DESIGN.md section 8 ("Speed"): a bundle for an incident with 1,000 events (PDF, JSON, CSV,
manifest, signature) costs at most 2x the PDF compile alone for the same timeline, and grows
linearly: 10,000 events at most 12x the time of 1,000.

    .venv/bin/python -m bench.evidence_bundle [--rounds 5] [--sizes 1000,10000]

What runs, in one process on one machine:

- the material: one incident of N events from incidents.evidence.sample (reported, responses,
  notes, a correction; staff names in Latin, Polish, Chinese and Arabic script);
- A, the bundle: `build_bundle(material, key)`, everything from the material to the signed zip
  (canonical events.json, leaf hashes and Merkle root, the PDF, the CSV, manifest, SHA256SUMS
  and its Ed25519 signature, the zip);
- B, the baseline: `compile_pdf(inputs, ...)`, Typst alone compiling the same template over the
  same JSON data, already prepared (so no formatting of dates, no hashing, no zip).

Both warm up once (the fonts are scanned once per process), then alternate (ABBA) for the
rounds; the medians are compared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from incidents.evidence.bundle import build_bundle
from incidents.evidence.pdf import Seal, compile_pdf, typeset_data
from incidents.evidence.sample import sample_material
from incidents.evidence.signing import generate


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(events: int, rounds: int) -> dict[str, float]:
    key = generate()
    material = sample_material(events=events)
    inputs = json.dumps(typeset_data(material, Seal("0" * 64, key.fingerprint(), "0" * 64)), ensure_ascii=False)

    def bundle() -> None:
        build_bundle(material, key)

    def pdf() -> None:
        compile_pdf(inputs, material.exported_at)

    bundle(), pdf()  # warm-up
    a, b = [], []
    for round_ in range(rounds):
        order = (bundle, pdf) if round_ % 2 == 0 else (pdf, bundle)
        for action in order:
            (a if action is bundle else b).append(timed(action))
    size = len(build_bundle(material, key).data)
    return {"bundle": statistics.median(a), "pdf": statistics.median(b), "bytes": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    for events in sizes:
        r = results[events] = measure(events, args.rounds)
        print(
            f"{events:>6} events: bundle {r['bundle'] * 1000:8.1f} ms, bare PDF compile {r['pdf'] * 1000:8.1f} ms, "
            f"ratio {r['bundle'] / r['pdf']:.2f}x (target <= 2x); zip {r['bytes'] / 1e6:.2f} MB  "
            f"[medians of {args.rounds}]",
            flush=True,
        )
    if len(sizes) >= 2:
        small, large = results[sizes[0]], results[sizes[-1]]
        print(
            f"growth {sizes[0]} -> {sizes[-1]} events: bundle {large['bundle'] / small['bundle']:.2f}x, "
            f"PDF {large['pdf'] / small['pdf']:.2f}x (target <= {12 * sizes[-1] // sizes[0] // 10}x for the bundle)"
        )


if __name__ == "__main__":
    main()
