"""Each event's fields committed as salted hashes: the export's hand-built encodings agree byte for
byte with RFC 8785 (the rfc8785 package, as `incidents verify` recomputes them), a redacted field
counts by its digest alone, and the salts are HMAC-SHA256 of the event's identity and field name."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from incidents.evidence import selective
from incidents.evidence.canonical import canonical

SECRET = hashlib.sha256(b"a deployment's secret").digest()
scalars = st.one_of(st.text(), st.none(), st.booleans(), st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1))
events = st.fixed_dictionaries(
    {"incident_id": st.text(min_size=1), "sequence": st.integers(min_value=1, max_value=10**6)},
    optional={
        "note": st.text(),
        "who": st.fixed_dictionaries({"username": st.text(), "display_name": st.text()}),
        "details": st.lists(st.fixed_dictionaries({"label": st.text(), "value": scalars}), max_size=4),
        "correction": st.one_of(st.none(), st.fixed_dictionaries({"previous": st.text(), "corrects_sequence": st.one_of(st.none(), st.integers(1, 99))})),
    },
)


@given(events)
def test_the_leaf_of_an_export_is_the_leaf_a_verifier_recomputes_with_rfc_8785(event):
    element, leaf = selective.disclose(event, event, selective.Salter(SECRET))
    assert selective.leaf_from(element, canonical) == leaf
    assert element["disclosure"]["redacted"] == {}
    for name, salt in element["disclosure"]["salts"].items():
        expected = hmac.digest(SECRET, canonical([event["incident_id"], event["sequence"], name]), "sha256")[:16].hex()
        assert salt == expected == selective.salt(SECRET, event["incident_id"], event["sequence"], name)


@given(scalars)
def test_a_scalar_is_encoded_as_rfc_8785_encodes_it(value):
    assert selective.scalar_json(value).encode() == canonical(value)


def test_a_redacted_field_keeps_the_leaf_and_gives_its_digest_without_its_salt():
    event = {"incident_id": "INC-1", "sequence": 2, "note": "Mrs Jones was there", "details": [{"label": "Who", "value": "Bob"}]}
    shown = {**event, "note": "[redacted: Another patient] was there"}
    salter = selective.Salter(SECRET)
    whole, leaf = selective.disclose(event, event, salter)
    redacted, same_leaf = selective.disclose(event, shown, salter)
    assert same_leaf == leaf == selective.leaf_from(redacted, canonical)
    assert "note" not in redacted["disclosure"]["salts"]
    assert redacted["disclosure"]["redacted"]["note"] == selective.field_digest(whole["disclosure"]["salts"]["note"], "note", event["note"])
