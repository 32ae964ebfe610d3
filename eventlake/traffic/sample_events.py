"""Realistic events for the demo: many types, type-specific payloads, and every kind of bad record.

Each generated record says what the pipeline must do with it (deliver, mark duplicate, or reject for
a given reason), so the runner can check the lake against the producer's own ledger. All randomness
comes from one ``random.Random(seed)``: the same seed gives the same bytes.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from glue.errors import Reject

Payload = dict[str, Any]

# Event times spread over the ``hours`` whole hours before the current one (24: two calendar days,
# about 17 types x 24 hours = 400 partitions, under Firehose's 500 active partitions).
DEFAULT_HOURS = 24
# The demo's default mix: exact re-sends (duplicates) and malformed records, as shares of all records.
DEFAULT_DUPLICATE_SHARE = 0.05
DEFAULT_MALFORMED_SHARE = 0.03

_CITIES = ("Zürich", "München", "São Paulo", "Kraków", "東京", "Reykjavík", "Lisboa", "Montréal", "İstanbul")
_NAMES = ("Ana", "Björn", "Chloé", "Dmitrij", "Eun-ji", "François", "Grzegorz", "Hana", "Íñigo", "Jürgen")
_CURRENCIES = ("EUR", "USD", "GBP", "CHF", "JPY", "PLN")
_SKUS = ("SKU-1001", "SKU-2042", "SKU-3300", "SKU-4711", "SKU-5150", "SKU-8080")
_DEVICES = ("ios", "android", "web", "desktop")


class Expect(StrEnum):
    """What the lake must show for a record."""

    VALID = "valid"  # the first copy of an event: one row, is_duplicate=false
    DUPLICATE = "duplicate"  # an exact re-send of a valid event: a row marked is_duplicate=true
    MALFORMED = "malformed"  # rejected by the transform: processing-failed, original bytes


@dataclass(frozen=True, slots=True)  # a production hour makes a million
class Outgoing:
    """One record to put on the stream."""

    data: bytes
    partition_key: str
    expect: Expect
    reason: Reject | None = None
    event_uuid: str | None = None


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _money(rng: random.Random) -> Payload:
    return {"amount": round(rng.uniform(1, 900), 2), "currency": rng.choice(_CURRENCIES)}


def _items(rng: random.Random) -> list[Payload]:
    return [
        {"sku": rng.choice(_SKUS), "qty": rng.randint(1, 4), "price": _money(rng)}
        for _ in range(rng.randint(1, 4))
    ]


def _user(rng: random.Random) -> Payload:
    return {"user_id": _id(rng), "name": rng.choice(_NAMES), "city": rng.choice(_CITIES)}


def _client(rng: random.Random) -> Payload:
    return {"device": rng.choice(_DEVICES), "app_version": f"{rng.randint(1, 9)}.{rng.randint(0, 30)}"}


# Event name -> payload builder. The first part of a name is its type (and partition).
CATALOGUE: dict[str, Callable[[random.Random], Payload]] = {
    "account:created": lambda r: {
        "user": _user(r),
        "plan": r.choice(["free", "pro", "team"]),
        "referrer": None,
    },
    "account:email:verified": lambda r: {"user_id": _id(r), "domain": r.choice(["example.com", "müller.de"])},
    "account:closed": lambda r: {
        "user_id": _id(r),
        "reason": r.choice(["moved", "price", "—"]),
        "tenure_days": r.randint(1, 900),
    },
    "session:started": lambda r: {
        "session_id": _id(r),
        "client": _client(r),
        "locale": r.choice(["de-CH", "ja-JP", "pt-BR"]),
    },
    "session:ended": lambda r: {
        "session_id": _id(r),
        "duration_s": round(r.uniform(1, 7200), 3),
        "pages": r.randint(1, 40),
    },
    "page:viewed": lambda r: {
        "path": r.choice(["/", "/pricing", "/café", "/docs/überblick"]),
        "referrer": r.choice([None, "https://example.com/?q=a&b=c"]),
    },
    "search:performed": lambda r: {
        "query": r.choice(["rote schuhe", "日本茶", 'O\'Brien "quoted"', "tab\there"]),
        "results": r.randint(0, 500),
        "filters": {"in_stock": r.random() < 0.5},
    },
    "cart:item:added": lambda r: {"cart_id": _id(r), "item": _items(r)[0]},
    "cart:item:removed": lambda r: {"cart_id": _id(r), "sku": r.choice(_SKUS)},
    "checkout:started": lambda r: {
        "cart_id": _id(r),
        "items": _items(r),
        "coupon": r.choice([None, "SPRING-10"]),
    },
    "payment:order:completed": lambda r: {
        "order_id": _id(r),
        "total": _money(r),
        "items": _items(r),
        "billing": {"city": r.choice(_CITIES), "vat_id": None},
    },
    "payment:order:failed": lambda r: {
        "order_id": _id(r),
        "error": {"code": r.choice(["card_declined", "3ds_timeout"]), "retryable": r.random() < 0.3},
    },
    "payment:refund:issued": lambda r: {"order_id": _id(r), "refund": _money(r), "partial": r.random() < 0.5},
    "subscription:renewed": lambda r: {
        "subscription_id": _id(r),
        "period": {"months": r.choice([1, 12])},
        "price": _money(r),
    },
    "subscription:cancelled": lambda r: {
        "subscription_id": _id(r),
        "at_period_end": r.random() < 0.7,
        "feedback": r.choice(["", "zu teuer", "高すぎる"]),
    },
    "shipment:dispatched": lambda r: {
        "shipment_id": _id(r),
        "carrier": r.choice(["DHL", "PostNL", "ヤマト運輸"]),
        "parcels": [{"weight_kg": round(r.uniform(0.1, 20), 2)} for _ in range(r.randint(1, 3))],
    },
    "shipment:delivered": lambda r: {
        "shipment_id": _id(r),
        "signed_by": r.choice(_NAMES),
        "location": {"lat": round(r.uniform(-60, 60), 5), "lon": round(r.uniform(-150, 150), 5)},
    },
    "review:submitted": lambda r: {
        "product": r.choice(_SKUS),
        "stars": r.randint(1, 5),
        "text": r.choice(["Très bien 👍", "naja…", "Great!\nWould buy again", "最高"]),
    },
    "support:ticket:opened": lambda r: {
        "ticket_id": r.randint(10_000, 99_999),
        "priority": r.choice(["low", "high"]),
        "tags": r.sample(["billing", "login", "bug", "refund"], k=2),
    },
    "support:ticket:resolved": lambda r: {
        "ticket_id": r.randint(10_000, 99_999),
        "minutes_to_resolve": r.randint(3, 5000),
    },
    "notification:sent": lambda r: {
        "channel": r.choice(["email", "push", "sms"]),
        "template": "welcome_v2",
        "recipient": _user(r),
    },
    "inventory:stock:adjusted": lambda r: {
        "sku": r.choice(_SKUS),
        "delta": r.randint(-50, 50),
        "warehouse": r.choice(["AMS-1", "FRA-2"]),
    },
    "promo:coupon:redeemed": lambda r: {"coupon": r.choice(["SPRING-10", "WELCOME"]), "discount": _money(r)},
    "login": lambda r: {
        "user_id": _id(r),
        "method": r.choice(["password", "sso", "passkey"]),
        "mfa": r.random() < 0.6,
    },
    "ab-test:exposure": lambda r: {
        "experiment": "checkout-button",
        "variant": r.choice(["A", "B"]),
        "sticky": True,
    },
    "feature_flag.evaluated": lambda r: {
        "flag": "new-search",
        "value": r.random() < 0.5,
        "rules_matched": [],
    },
}


def event_types() -> set[str]:
    return {name.split(":")[0] for name in CATALOGUE}


def catalogue(types: int | None = None) -> dict[str, Callable[[random.Random], Payload]]:
    """The event names to draw from: ``CATALOGUE``, or one with exactly ``types`` event types (a production
    mix has ~100). Beyond the catalogue's own types, each extra type reuses a catalogue entry's payload under
    a numbered type (``payment_2:order:completed``), so payloads stay as realistic; fewer types keep the
    catalogue's first ones."""
    if types is None:
        return CATALOGUE
    if types < 1:
        raise ValueError(f"types must be at least 1, got {types}")
    by_type: dict[str, list[str]] = {}
    for name in CATALOGUE:
        by_type.setdefault(name.split(":")[0], []).append(name)
    base = list(by_type)
    out: dict[str, Callable[[random.Random], Payload]] = {}
    for index in range(types):
        own = base[index % len(base)]
        kind = own if index < len(base) else f"{own}_{index // len(base) + 1}"
        for name in by_type[own]:
            out[kind + name[len(own) :]] = CATALOGUE[name]
    return out


def encode(event: Payload, rng: random.Random) -> bytes:
    """JSON in the shapes real producers send (compact or spaced, raw UTF-8 or \\u escapes), one line,
    newline-terminated so the raw backup can be split back into records."""
    ensure_ascii = rng.random() < 0.3
    separators = (",", ":") if rng.random() < 0.5 else (", ", ": ")
    return json.dumps(event, ensure_ascii=ensure_ascii, separators=separators).encode("utf-8") + b"\n"


def window_start(now: datetime, hours: int) -> int:
    """Epoch seconds ``hours`` whole hours before the start of ``now``'s hour."""
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return int(hour.timestamp()) - hours * 3600


def valid_event(
    rng: random.Random,
    start: int,
    hours: int,
    names: dict[str, Callable[[random.Random], Payload]] | None = None,
) -> Payload:
    names = CATALOGUE if names is None else names
    name = rng.choice(list(names))
    created: float = start + rng.randrange(hours * 3600)
    if rng.random() < 0.4:
        created += rng.randrange(1000) / 1000  # some producers send milliseconds as a fraction
    return {"event_uuid": _id(rng), "event_name": name, "created_at": created, **names[name](rng)}


def _malformed(rng: random.Random, start: int, hours: int) -> tuple[bytes, Reject]:
    """One bad record, rotating through every reason the transform rejects (except bad base64,
    which cannot reach a Lambda fed by Kinesis: Kinesis carries bytes and Firehose encodes them)."""
    base = valid_event(rng, start, hours)
    kind = rng.choice(_MALFORMED_KINDS)
    return kind(base, rng)


def _bytes(event: Payload) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8") + b"\n"


def _replace(event: Payload, **fields: Any) -> bytes:
    return _bytes({**event, **fields})


def _without(event: Payload, field: str) -> bytes:
    return _bytes({k: v for k, v in event.items() if k != field})


_MALFORMED_KINDS: tuple[Callable[[Payload, random.Random], tuple[bytes, Reject]], ...] = (
    lambda e, r: (_bytes(e).replace(b'"event_name"', b'"event_name\xff\xfe"'), Reject.INVALID_UTF8),
    lambda e, r: (b"\xc3\x28" + _bytes(e), Reject.INVALID_UTF8),
    lambda e, r: (_bytes(e)[: len(_bytes(e)) // 2] + b"\n", Reject.NOT_JSON),
    lambda e, r: (f"event_uuid={e['event_uuid']} name={e['event_name']}\n".encode(), Reject.NOT_JSON),
    lambda e, r: (_bytes(e).replace(b'"created_at": ', b'"created_at": NaN, "x": '), Reject.NOT_JSON),
    lambda e, r: (b"[" + _bytes(e).rstrip(b"\n") + b"]\n", Reject.NOT_OBJECT),
    lambda e, r: (json.dumps(e["event_name"]).encode() + b"\n", Reject.NOT_OBJECT),
    lambda e, r: (_without(e, r.choice(["event_uuid", "event_name", "created_at"])), Reject.MISSING_FIELD),
    lambda e, r: (_replace(e, event_name=None), Reject.MISSING_FIELD),
    lambda e, r: (_replace(e, event_uuid=r.randint(1, 10**9)), Reject.WRONG_TYPE),
    lambda e, r: (_replace(e, event_name=e["event_name"].split(":")), Reject.WRONG_TYPE),
    lambda e, r: (_replace(e, created_at="2026-03-01T18:00:00Z"), Reject.WRONG_TYPE),
    lambda e, r: (_replace(e, created_at=True), Reject.WRONG_TYPE),
    lambda e, r: (_replace(e, event_uuid="not-a-uuid"), Reject.BAD_EVENT_UUID),
    lambda e, r: (_replace(e, event_uuid=e["event_uuid"].replace("-", "")), Reject.BAD_EVENT_UUID),
    lambda e, r: (_replace(e, event_uuid="00000000-0000-0000-0000-000000000000"), Reject.NIL_EVENT_UUID),
    lambda e, r: (_replace(e, event_name="payment::completed"), Reject.BAD_EVENT_NAME),
    lambda e, r: (_replace(e, event_name=":created"), Reject.BAD_EVENT_NAME),
    lambda e, r: (_replace(e, event_name="a:" + "x" * 300), Reject.BAD_EVENT_NAME),
    lambda e, r: (_replace(e, event_name="../../etc:passwd"), Reject.UNSAFE_EVENT_TYPE),
    lambda e, r: (_replace(e, event_name="pay ment:order"), Reject.UNSAFE_EVENT_TYPE),
    lambda e, r: (_replace(e, event_name="..:x"), Reject.UNSAFE_EVENT_TYPE),
    lambda e, r: (_replace(e, created_at=int(e["created_at"]) * 1000), Reject.TIMESTAMP_OUT_OF_RANGE),
    lambda e, r: (_replace(e, created_at=0), Reject.TIMESTAMP_OUT_OF_RANGE),
    lambda e, r: (_replace(e, created_at=-1.5), Reject.TIMESTAMP_OUT_OF_RANGE),
)


def generate(
    count: int,
    *,
    rng: random.Random,
    duplicate_share: float,
    malformed_share: float,
    start: int,
    hours: int = DEFAULT_HOURS,
    types: int | None = None,
) -> list[Outgoing]:
    """``count`` records: valid events, exact re-sends of earlier ones, and malformed records.

    Event times fall in ``hours`` hours from ``start`` (epoch seconds). A re-send repeats an already
    generated event's exact bytes later in the stream, with the same partition key (its uuid), so it
    lands on the same shard after the original.
    """
    if not (0 <= duplicate_share < 1 and 0 <= malformed_share < 1 and duplicate_share + malformed_share < 1):
        raise ValueError("duplicate and malformed shares must be in [0, 1) and sum below 1")
    names = catalogue(types)
    out: list[Outgoing] = []
    sent_valid: list[Outgoing] = []
    for _ in range(count):
        roll = rng.random()
        if roll < malformed_share:
            data, reason = _malformed(rng, start, hours)
            out.append(Outgoing(data, _id(rng), Expect.MALFORMED, reason=reason))
        elif roll < malformed_share + duplicate_share and sent_valid:
            original = rng.choice(sent_valid[-2000:])
            out.append(
                Outgoing(
                    original.data, original.partition_key, Expect.DUPLICATE, event_uuid=original.event_uuid
                )
            )
        else:
            event = valid_event(rng, start, hours, names)
            record = Outgoing(
                encode(event, rng), event["event_uuid"], Expect.VALID, event_uuid=event["event_uuid"]
            )
            sent_valid.append(record)
            out.append(record)
    return out
