"""A keyed blind index of NHS numbers: the read models keep, for each patient, an HMAC-SHA256 of
the normalised number under a key of the deployment's own, so the exact number finds that
patient's records while nothing stored can be read back as a number (ten digits have too few
values for an unkeyed hash to hide them)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

from ..domain.values import nhs_number
from ..settings import ConfigurationError

ENV_KEY = "PATIENT_INDEX_KEY"  # in the application's environment, put there by the composition root
KEY_BYTES = 32


class PatientIndexKeyError(ConfigurationError):
    """The patient index key is missing or malformed; the message says how to put it right."""


def valid_key(text: str, where: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise PatientIndexKeyError(f"The patient index key in {where} is not base64") from None
    if len(raw) < KEY_BYTES:
        raise PatientIndexKeyError(f"The patient index key in {where} must be at least {KEY_BYTES} bytes, not {len(raw)}")
    return raw


class PatientIndex:
    def __init__(self, key: bytes) -> None:
        if len(key) < KEY_BYTES:
            raise PatientIndexKeyError(f"A patient index key has at least {KEY_BYTES} bytes")
        self._key = key

    def __repr__(self) -> str:
        return "PatientIndex(<key hidden>)"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PatientIndex:
        text = env.get(ENV_KEY, "")
        if not text:
            raise PatientIndexKeyError(f"The views were opened without {ENV_KEY}: open them through bootstrap.open_log's environment")
        return cls(valid_key(text, ENV_KEY))

    def token(self, number: str) -> str:
        """The index entry of an NHS number however it was typed (InvalidNHSNumber if it is none)."""
        digits = nhs_number(number)
        return hmac.new(self._key, b"nhs-number:" + digits.encode(), hashlib.sha256).hexdigest()

    def key_check(self) -> str:
        """Names the key without revealing it (an HMAC of a constant), so that processes can tell
        whether they share it."""
        return hmac.new(self._key, b"patient-index-key-check", hashlib.sha256).hexdigest()
