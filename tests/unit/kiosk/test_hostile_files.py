"""Hostile files refused in words (issue #26): packs, bundles, registers and batch files.

Each kind is parsed 10,000 times, mutated from a valid file with a fixed seed (byte flips,
truncation, nesting bombs, ``1e400``, wrong types, keys twice, Unicode junk, huge values; see
tests/hostile_support.py). A file is either read or refused with the kind's own error in one
sentence: never ``RecursionError``, ``OverflowError``, ``TypeError`` or any other raw error.
Importing such files into a real database, and that nothing changes when one is refused, is
tests/integration/test_hostile_imports.py.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk import boundedjson
from kiosk.merchant_pack import MAX_BYTES as PACK_BYTES
from kiosk.merchant_pack import PackError, read_pack
from kiosk.redemption_bundle import MAX_BYTES as BUNDLE_BYTES
from kiosk.redemption_bundle import BundleError, check_mac, peek_bundle
from kiosk.register_file import MAX_BYTES as REGISTER_BYTES
from kiosk.register_file import RegisterError, read_register
from sync.batch import MAX_BYTES as BATCH_BYTES
from sync.batch import BatchError, read_batch
from tests.hostile_support import (
    BUNDLE_SECRET,
    SeedFile,
    batch_seed,
    bundle_seed,
    check_refusal,
    mutants,
    oversized,
    pack_seed,
    register_seed,
)

MUTANTS = 10_000
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def _read_pack(data: bytes) -> Any:
    pack, _signer = read_pack(data, None)  # a first install: the pack's own keys trusted
    return pack


def _read_bundle(data: bytes) -> Any:
    bundle, body, mac = peek_bundle(data)
    check_mac(body, mac, BUNDLE_SECRET)
    return bundle


KINDS: dict[str, tuple[Callable[[], SeedFile], Callable[[bytes], Any], type[Exception], int]] = {
    "pack": (lambda: pack_seed(KEY), _read_pack, PackError, PACK_BYTES),
    "bundle": (lambda: bundle_seed([1, 2, 3]), _read_bundle, BundleError, BUNDLE_BYTES),
    "register": (lambda: register_seed(KEY), read_register, RegisterError, REGISTER_BYTES),
    "batch": (lambda: batch_seed(KEY), lambda d: read_batch(d, "e.batch"), BatchError, BATCH_BYTES),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_ten_thousand_mutated_files_are_read_or_refused_in_one_sentence(kind: str) -> None:
    make, parse, error, _size = KINDS[kind]
    seed = make()
    parse(seed.data)  # the seed itself is a valid file
    rng = random.Random(f"issue-26-{kind}")
    outcomes: Counter[str] = Counter()
    for data in mutants(seed, rng, MUTANTS):
        try:
            parse(data)
        except Exception as refused:
            check_refusal(refused, error, data)
            outcomes["refused"] += 1
        else:
            outcomes["read"] += 1
    assert sum(outcomes.values()) == MUTANTS
    # The mutations reach past the seal: some sealed files are read, most are refused.
    assert outcomes["refused"] > MUTANTS // 2, outcomes
    assert outcomes["read"] > 0, outcomes


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_file_larger_than_its_kind_can_be_is_refused_by_size(kind: str) -> None:
    make, parse, error, size = KINDS[kind]
    with pytest.raises(error, match="larger than") as refused:
        parse(oversized(make(), size))
    check_refusal(refused.value, error, b"")


BOMB = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    ("kind", "data", "says"),
    [
        # The five raw errors the issue found, each now a sentence.
        ("pack", b'{"format":"kiosk-merchant-pack","version":1,"body":' + BOMB + b"}", "nested"),
        (
            "bundle",
            b'{"format":"kiosk-redemption-bundle","version":1,"body":' + BOMB + b"}",
            "nested",
        ),
        ("bundle", b'{"format":"kiosk-redemption-bundle","version":1,"x":1e400}', "too large"),
        ("pack", b'{"format":"kiosk-merchant-pack","version":1,"x":1e400}', "too large"),
        ("register", b'{"format":"kiosk-merchant-register","body":' + BOMB + b"}", "nested"),
    ],
)
def test_the_issues_raw_errors_are_sentences(kind: str, data: bytes, says: str) -> None:
    _make, parse, error, _size = KINDS[kind]
    with pytest.raises(error, match=says) as refused:
        parse(data)
    check_refusal(refused.value, error, data)


def test_a_pack_inside_a_pack_with_a_bomb_inside_is_refused() -> None:
    seed = pack_seed(KEY)
    document = seed.document
    inner = seed.data.decode().replace("{", '{"deep":' + "[" * 50_000 + "]" * 50_000 + ",", 1)
    document["body"]["merchants"][0]["name"] = "@@"
    data = seed.seal(document) if seed.seal else seed.data  # sealed, then the pack put inside
    data = data.replace(b'"@@"', inner.encode())
    with pytest.raises(PackError, match="nested deeper") as refused:
        _read_pack(data)
    check_refusal(refused.value, PackError, data)


@pytest.mark.parametrize("field", ["merchant id", "seq", "serial", "points", "quantity"])
def test_a_sealed_bundle_with_a_number_out_of_range_is_refused_by_name(field: str) -> None:
    seed = bundle_seed([1])
    document = seed.document
    if field == "merchant id":
        document["body"]["merchant"]["id"] = 10**400
    else:
        document["body"]["redemptions"][0][field] = -1 if field == "points" else 2**40
    assert seed.seal is not None
    with pytest.raises(BundleError, match=f"its {field} .* is out of range") as refused:
        _read_bundle(seed.seal(document))
    check_refusal(refused.value, BundleError, b"")


def test_a_key_twice_is_refused_so_what_is_signed_is_what_is_read() -> None:
    seed = pack_seed(KEY)
    data = seed.data.replace(b'"merchant": {', b'"merchant": {"id": 2, ', 1)
    with pytest.raises(PackError, match="“id” is there twice"):
        _read_pack(data)


def test_depth_ignores_brackets_inside_strings() -> None:
    assert not boundedjson.deeper_than('{"a": "[[[[{{{{", "b": [1, [2]]}', 3)
    assert boundedjson.deeper_than('{"a": "[[[[{{{{", "b": [1, [[2]]]}', 3)
    assert not boundedjson.deeper_than(r'["\"[[[", ["\\", [[]]]]', 4)
    assert boundedjson.deeper_than(r'["\"[[[", ["\\", [[[]]]]]', 4)
    assert boundedjson.loads(b'{"a": "' + b"[" * 1000 + b'"}', max_bytes=10_000) == {
        "a": "[" * 1000
    }


def test_naming_puts_the_file_first_in_its_own_refusals_only() -> None:
    with pytest.raises(BundleError) as named, boundedjson.naming("day1.json", BundleError):
        peek_bundle(b"{")
    assert str(named.value).startswith("day1.json: This file is not a redemption bundle")
    with pytest.raises(KeyError) as other, boundedjson.naming("day1.json", BundleError):
        raise KeyError("x")
    assert "day1.json" not in str(other.value)
