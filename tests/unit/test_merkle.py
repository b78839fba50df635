"""The Merkle tree hash and inclusion proofs of RFC 9162 section 2.1."""

from __future__ import annotations

import hashlib

import pytest

from incidents.evidence import merkle

# The test data and tree heads published with RFC 6962's reference implementation, which
# RFC 9162 section 2.1 keeps unchanged: MTH(D[n]) for n = 0..8.
CT_ENTRIES = [
    b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
    bytes.fromhex("5051525354555657"), bytes.fromhex("606162636465666768696a6b6c6d6e6f"),
]  # fmt: skip
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_PATHS = {  # PATH(m, D[8]) from the same published vectors
    0: ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    5: ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
}  # fmt: skip


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(entries: list[bytes]) -> bytes:
    """The RFC's recursive definition, written out independently of the module under test."""
    n = len(entries)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + entries[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return sha256(b"\x01" + mth(entries[:k]) + mth(entries[k:]))


def test_a_three_leaf_tree_worked_by_hand():
    a, b, c = sha256(b"\x00a"), sha256(b"\x00b"), sha256(b"\x00c")
    # n = 3 splits at k = 2: ((a b) c)
    expected = sha256(b"\x01" + sha256(b"\x01" + a + b) + c)
    assert merkle.root([b"a", b"b", b"c"]) == expected


def test_the_published_tree_heads_for_every_size_up_to_eight():
    for n, expected in enumerate(CT_ROOTS):
        assert merkle.root(CT_ENTRIES[:n]).hex() == expected, f"tree size {n}"


def test_the_published_inclusion_paths():
    hashes = [merkle.leaf_hash(e) for e in CT_ENTRIES]
    for index, path in CT_PATHS.items():
        assert [p.hex() for p in merkle.inclusion_proof(index, hashes)] == path
        assert merkle.verify_inclusion(hashes[index], index, 8, [bytes.fromhex(p) for p in path], bytes.fromhex(CT_ROOTS[8]))


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 9, 13, 16, 17, 33])
def test_roots_agree_with_the_recursive_definition_and_every_proof_verifies(size):
    entries = [f"event {i}".encode() for i in range(size)]
    hashes = [merkle.leaf_hash(e) for e in entries]
    root = merkle.root(entries)
    assert root == mth(entries)
    for index in range(size):
        proof = merkle.inclusion_proof(index, hashes)
        assert merkle.verify_inclusion(hashes[index], index, size, proof, root)
        assert not merkle.verify_inclusion(merkle.leaf_hash(b"forged"), index, size, proof, root)
        if size > 1:
            assert not merkle.verify_inclusion(hashes[index], (index + 1) % size, size, proof, root)


def test_a_leaf_and_a_node_never_hash_alike():
    # The 0x00 / 0x01 prefixes stop a pair of hashes passing for one entry (second preimage).
    left, right = merkle.leaf_hash(b"x"), merkle.leaf_hash(b"y")
    assert merkle.leaf_hash(left + right) != merkle.node_hash(left, right)


def test_a_proof_for_a_leaf_outside_the_tree_is_refused():
    with pytest.raises(IndexError):
        merkle.inclusion_proof(3, [merkle.leaf_hash(b"a")])
    assert not merkle.verify_inclusion(merkle.leaf_hash(b"a"), 1, 1, [], merkle.root([b"a"]))
