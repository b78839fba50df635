"""One PDF compile in a process of its own: `python -m incidents.evidence.pdf_worker`.

Typst memoises layout for the life of its process, and nothing can evict it from Python: a
1,000-event timeline leaves some 60 MB behind. A worker compiles once and exits, so a
long-running app never grows. The worker scans the fonts as soon as it starts, then waits on
standard input; the app keeps one such spare ready.

Request (standard input): one JSON object {"inputs", "made_at", "pdf_a"}.
Answer (standard output): "ready" once the fonts are scanned; then one JSON line {"ok": true} then the PDF's bytes, or {"ok": false, "error"}.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime


def main() -> None:
    from .pdf import _fonts, compile_pdf

    import typst

    _fonts()
    sys.stdout.buffer.write(b"ready\n")
    sys.stdout.buffer.flush()
    request = sys.stdin.buffer.read()
    if not request:  # the app went away without needing this spare
        return
    job = json.loads(request)
    out = sys.stdout.buffer
    try:
        pdf = compile_pdf(job["inputs"], datetime.fromisoformat(job["made_at"]), job["pdf_a"])
    except typst.TypstError as error:
        out.write(json.dumps({"ok": False, "error": error.message}).encode() + b"\n")
    else:
        out.write(b'{"ok": true}\n' + pdf)
    out.flush()


if __name__ == "__main__":
    main()
