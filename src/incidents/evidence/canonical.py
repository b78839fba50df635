"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme): one byte string per value.

The same value always gives the same bytes, whoever serialises it, so a hash over an event
can be checked by any implementation of the RFC.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785


def canonical(value: Any) -> bytes:
    return rfc8785.dumps(value)


def parse(data: bytes) -> Any:
    """Strict JSON: a duplicate key or a NaN is refused, as the RFC has no canonical form for them."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError(f"duplicate key in {keys}")
        return dict(pairs)

    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(data.decode("utf-8"), object_pairs_hook=no_duplicates, parse_constant=no_constant)


def is_canonical(data: bytes) -> bool:
    try:
        return canonical(parse(data)) == data
    except (ValueError, UnicodeDecodeError):
        return False
