"""Hostile files for the fuzz tests (issue #26): deterministic mutations of a valid file.

``mutants(seed_file, rng, n)`` yields ``n`` mutated copies of a file the kiosk wrote: byte
flips, truncation, junk bytes and Unicode junk, a value replaced by a nesting bomb, ``1e400``,
``NaN``, a number of thousands of digits, a wrong type, a huge string or list, the whole file
nested inside itself (a pack inside a pack), a key written twice, a key removed. Half of the
mutations made on the parsed document are sealed again (``SeedFile.seal``: the signature or
MAC recomputed with the key the test holds), because a booth holding its merchant's secret, or
anyone making a first pack with a key of their own, can make a well-sealed hostile file: those
get past the seal and meet the range checks and the import itself.

``check_refusal`` is what every refusal must be: the parser's own error class, one line, one
sentence ending in a full stop.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kiosk import slipcode
from kiosk.audit import canonical_json
from kiosk.merchant_pack import Pack, PackMerchant, PackOffer, sign_pack
from kiosk.redemption_bundle import (
    Bundle,
    BundleComplaint,
    BundleDelivery,
    BundleRedemption,
    write_bundle,
)
from kiosk.register_file import (
    Register,
    RegisterItem,
    RegisterService,
    public_hex,
    sign_register,
)
from sync import batch
from sync.batch import write_batch

PLACEHOLDER = "\u0000hostile\u0000"
_KEY = re.compile(rb'"([A-Za-z_]+)":')

# Raw JSON text put in place of a value; many of them the standard parser cannot even read.
RAW_TOKENS: list[Callable[[random.Random], str]] = [
    lambda r: "[" * r.choice([33, 100, 1000, 5000, 200_000]) + "]" * 200_000,
    lambda r: '{"a":' * r.choice([33, 1000, 50_000]) + "1" + "}" * 50_000,
    lambda r: "[" * 200_000,  # a bomb never closed
    lambda r: r.choice(["1e400", "-1e400", "1e309", "2e308", "-0.0", "1E+999999"]),
    lambda r: r.choice(["NaN", "Infinity", "-Infinity"]),
    lambda r: "9" * r.choice([19, 20, 400, 4299, 4301, 10_000]),
    lambda r: "-" + "9" * r.choice([10, 19, 4301]),
    lambda r: r.choice(["18446744073709551616", "9223372036854775808", "2147483648", "65536"]),
    lambda r: r.choice(['"\\ud800"', '"\\udfff\\ud800"', '"a\\u0000b"', '"\\uffff"']),
    lambda r: '"' + "\\" * r.choice([1, 3]) + '"',  # a string that never ends
]


# Values put in place of a value in the parsed document (then possibly sealed again).
def _values(rng: random.Random) -> Any:
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            -1,
            1.5,
            -(2**31),
            2**31,
            2**32,
            2**53 + 1,
            2**63,
            2**64,
            10**30,
            "",
            "12",
            "1e400",
            "x" * rng.choice([65, 300, 100_000]),
            "\u202e\u0000\ufeff\U0001f600䶮" * rng.choice([1, 50]),
            [],
            {},
            [1, 2, 3],
            {"id": 1},
            list(range(rng.choice([10, 5000]))),
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "2026-02-30",
            "2026-11-28T09:00:00",  # no time zone
            "Europe/../../etc/passwd",
        ]
    )


JUNK = [
    b"\x00",
    b"\xff\xfe",
    b"\xc0\xaf",  # an overlong '/'
    b"\xed\xa0\x80",  # a surrogate in UTF-8
    b"\xef\xbb\xbf",  # a BOM in the middle
    "\u202e".encode(),
    "\U0001f600".encode(),
    "䶮𫖯".encode(),
    b"\\",
    b'"',
    b"{",
    b"]",
    b",",
    b"\n",
]


@dataclass
class SeedFile:
    """A valid file and how to seal a document of its kind again (None: it cannot be)."""

    data: bytes
    document: Any  # the parsed file (a list of line objects for a JSON-lines file)
    seal: Callable[[Any], bytes] | None
    dump: Callable[[Any], bytes]  # unsealed: the document as bytes, as it stands


def json_seed(data: bytes, seal: Callable[[Any], bytes] | None) -> SeedFile:
    return SeedFile(
        data,
        json.loads(data),
        seal,
        lambda document: json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass"),
    )


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in the document a value sits (the document itself excluded)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:20]):
            yield (*path, index)
            yield from _paths(value, (*path, index))


def _copy(node: Any) -> Any:
    return json.loads(json.dumps(node))


def _set(document: Any, path: tuple[Any, ...], value: Any) -> None:
    node = document
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def _delete(document: Any, path: tuple[Any, ...]) -> None:
    node = document
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]


def _structured(seed: SeedFile, rng: random.Random) -> bytes:
    """A value changed, removed or added in the parsed document; sealed again half the time."""
    document = _copy(seed.document)
    paths = list(_paths(document))
    path = rng.choice(paths)
    action = rng.random()
    if action < 0.7:
        _set(document, path, _values(rng))
    elif action < 0.85:
        _delete(document, path)
    elif isinstance(document, dict):
        document[rng.choice(["extra", "body", "signatures", "mac", "version"])] = _values(rng)
    else:
        _set(document, path, _values(rng))
    if seed.seal is not None and rng.random() < 0.5:
        try:
            return seed.seal(document)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError):
            pass  # this document cannot be sealed: it goes as it is
    return seed.dump(document)


def _raw_token(seed: SeedFile, rng: random.Random) -> bytes:
    """A value replaced by raw JSON text (a bomb, 1e400, NaN …) or by the file itself."""
    document = _copy(seed.document)
    path = rng.choice(list(_paths(document)))
    _set(document, path, PLACEHOLDER)
    text = seed.dump(document).decode("utf-8", "surrogatepass")
    if rng.random() < 0.15:
        # the file inside itself (a pack inside a pack; a batch's manifest line for a batch)
        inner = seed.data.decode("utf-8").strip()
        inner = inner if isinstance(seed.document, dict) else inner.split("\n")[0]
        if rng.random() < 0.5:  # with a bomb inside that
            inner = inner.replace("{", "{" + '"bomb":' + "[" * 100_000 + "]" * 100_000 + ",", 1)
        token = inner
    else:
        token = rng.choice(RAW_TOKENS)(rng)
    return text.replace(json.dumps(PLACEHOLDER), token, 1).encode("utf-8", "surrogatepass")


def lines_seed(data: bytes, seal: Callable[[Any], bytes] | None) -> SeedFile:
    """A JSON-lines file (a batch or answer file): the document is the list of its lines."""
    return SeedFile(
        data,
        [json.loads(line) for line in data.splitlines()],
        seal,
        lambda lines: b"".join(
            json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode(
                "utf-8", "surrogatepass"
            )
            + b"\n"
            for line in lines
        ),
    )


def _duplicate_key(seed: SeedFile, rng: random.Random) -> bytes:
    """A key written twice in one object: the second with another value."""
    data = seed.data
    keys = list(_KEY.finditer(data))
    if not keys:
        return data
    found = rng.choice(keys)
    extra = found.group(0) + rng.choice([b"0", b"null", b'"x"', b"[]", b"1e400"]) + b","
    return data[: found.start()] + extra + data[found.start() :]


def _flip(seed: SeedFile, rng: random.Random) -> bytes:
    data = bytearray(seed.data)
    for _ in range(rng.choice([1, 1, 2, 5, 20])):
        at = rng.randrange(len(data))
        data[at] ^= rng.randrange(1, 256)
    return bytes(data)


def _truncate(seed: SeedFile, rng: random.Random) -> bytes:
    return seed.data[: rng.randrange(len(seed.data))]


def _junk(seed: SeedFile, rng: random.Random) -> bytes:
    data = seed.data
    for _ in range(rng.choice([1, 3, 10])):
        at = rng.randrange(len(data) + 1)
        data = data[:at] + rng.choice(JUNK) * rng.choice([1, 1, 3, 1000]) + data[at:]
    return data


MUTATIONS: list[Callable[[SeedFile, random.Random], bytes]] = [
    _flip,
    _truncate,
    _junk,
    _duplicate_key,
    _raw_token,
    _raw_token,
    _structured,
    _structured,
    _structured,
]


def mutants(seed: SeedFile, rng: random.Random, n: int) -> Iterator[bytes]:
    for _ in range(n):
        yield rng.choice(MUTATIONS)(seed, rng)


def oversized(seed: SeedFile, size: int) -> bytes:
    """The file padded with spaces (valid JSON still) past ``size`` bytes."""
    return seed.data.rstrip() + b" " * (size + 1 - len(seed.data)) + b"\n"


_TWO_SENTENCES = re.compile(r"[.;:!?] *\n|\.\s+[A-Z]")


def check_refusal(error: BaseException, kind: type[BaseException], data: bytes) -> None:
    """A refusal as the issue asks: ``kind``, with one sentence of one line."""
    assert isinstance(error, kind), (type(error).__name__, str(error)[:300], data[:200])
    sentence = str(error)
    assert sentence and "\n" not in sentence and "Traceback" not in sentence, sentence[:300]
    assert sentence.endswith((".", "。")), sentence[:300]
    assert len(sentence) < 600, sentence[:300]
    # one sentence: no full stop followed by another sentence (quoted file content aside)
    assert not _TWO_SENTENCES.search(re.sub(r"“[^”]*”|\([^)]*\)", "", sentence)), sentence


# -- seed files of each kind, made without a database ----------------------------------------

WHEN = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)


def pack_seed(key: Ed25519PrivateKey) -> SeedFile:
    """A merchant pack signed by ``key``, as a first install trusts it."""
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    kid = slipcode.key_id(key.public_key()).hex()
    pack = Pack(
        event_code="DEMO",
        event_name="尊享积分兑换日",
        event_date=date(2026, 11, 28),
        timezone="Asia/Shanghai",
        merchant_id=1,
        merchant_code="M01",
        merchant_name="星巴克",
        offers=(
            PackOffer(101, "O101", "咖啡券", 3000, date(2026, 12, 31)),
            PackOffer(102, "O102", "蛋糕券", 8000, date(2026, 12, 31)),
        ),
        public_keys={kid: public},
        revoked=frozenset({7, 9}),
        bundle_secret="ab" * 32,
        issued_at=WHEN,
        merchants=(PackMerchant(1, "M01", "星巴克", "A1"), PackMerchant(2, "M02", "书店", "")),
    )

    def seal(document: Any) -> bytes:
        message = canonical_json(document["body"]).encode()
        document["signatures"] = {kid: key.sign(message).hex()}
        return json.dumps(document, ensure_ascii=False).encode()

    return json_seed(sign_pack(pack, [key]), seal)


BUNDLE_SECRET = "cd" * 32


def bundle_seed(serials: list[int], offer_id: int = 101, offer_code: str = "O101") -> SeedFile:
    """A redemption bundle of merchant 1 (M01) sealed with ``BUNDLE_SECRET``."""
    bundle = Bundle(
        event_code="DEMO",
        merchant_id=1,
        merchant_code="M01",
        booth_id="booth-1",
        exported_at=WHEN,
        pack_issued_at=WHEN,
        pack_installed_at=WHEN,
        redemptions=tuple(
            BundleRedemption(
                f"00000000-0000-4000-8000-{n:012d}",
                n,
                serial,
                offer_id,
                offer_code,
                1,
                3000,
                WHEN,
                "王小明",
            )
            for n, serial in enumerate(serials, start=1)
        ),
        deliveries=tuple(BundleDelivery(s, WHEN, "王小明") for s in serials[:1]),
        complaints=tuple(
            BundleComplaint(f"10000000-0000-4000-8000-{n:012d}", s, "quality", "太慢", WHEN, "王")
            for n, s in enumerate(serials[:1])
        ),
    )
    return with_bundle_secret(write_bundle(bundle, BUNDLE_SECRET), BUNDLE_SECRET)


def with_bundle_secret(data: bytes, secret: str) -> SeedFile:
    def seal(document: Any) -> bytes:
        document["mac"] = hmac.new(
            bytes.fromhex(secret), canonical_json(document["body"]).encode(), hashlib.sha256
        ).hexdigest()
        return json.dumps(document, ensure_ascii=False).encode()

    return json_seed(data, seal)


def register_seed(key: Ed25519PrivateKey) -> SeedFile:
    register = Register(
        event_code="OLD26",
        event_name="上一届兑换日",
        key_id=slipcode.key_id(key.public_key()).hex(),
        public_key=public_hex(key),
        exported_at=WHEN,
        entries=(
            RegisterItem(
                "M01",
                "星巴克",
                "keep",
                "",
                (RegisterService("O101", "咖啡券"),),
                ({"event": "OLD26", "scorecard": {"redeemed": 3}, "decisions": []},),
            ),
            RegisterItem("M03", "保险", "exit", "多次拒收", (), ()),
        ),
    )
    return register_from(sign_register(register, key), key)


def register_from(data: bytes, key: Ed25519PrivateKey) -> SeedFile:
    def seal(document: Any) -> bytes:
        document["signature"] = key.sign(canonical_json(document["body"]).encode()).hex()
        return json.dumps(document, ensure_ascii=False).encode()

    return json_seed(data, seal)


def batch_seed(key: Ed25519PrivateKey, event_code: str = "DEMO") -> SeedFile:
    entries: list[tuple[str, str, dict[str, Any]]] = [
        (
            "slip_issued:DEMO:1",
            "slip_issued",
            {
                "event": event_code,
                "customer_no": "6200000030",
                "serial": 1,
                "merchant": "M01",
                "offer": "O101",
                "quantity": 1,
                "points": 3000,
                "lots": [{"lot": "L1", "points": 3000}],
            },
        ),
        ("slip_voided:DEMO:1", "slip_voided", {"event": event_code, "serial": 1, "points": 3000}),
        ("governance:DEMO:7", "governance", {"customer_no": "6200000030", "changes": {"a": "b"}}),
    ]
    return batch_from(
        write_batch(event_code, entries, key, batch_id="ab" * 16, created_at=WHEN.isoformat()), key
    )


def batch_from(data: bytes, key: Ed25519PrivateKey) -> SeedFile:
    def seal(lines: Any) -> bytes:
        manifest, items = lines[0], lines[1:-1]
        body = [batch._line(item) for item in items]
        manifest["entries"] = len(items)
        manifest["entries_sha256"] = hashlib.sha256(b"".join(body)).hexdigest()
        manifest["kinds"] = batch._kinds(
            [(i["idempotency_key"], i["kind"], i["payload"]) for i in items]
        )
        head = batch._line(manifest)
        return head + b"".join(body) + batch._line({"signature": key.sign(head[:-1]).hex()})

    return lines_seed(data, seal)
