"""Producers' events, generated from their public specs, each wrapped in this project's envelope
(``event_uuid``, ``event_name``, ``created_at``: ``eventlake.traffic.sample_events``).

Six shapes the transform meets in practice, each serialised as its producer's library writes JSON:

- ``segment``: Segment's track spec (``properties``, ``context``, ``integrations``), JavaScript's
  ``JSON.stringify`` (compact; ``1.5e-7``, ``1e+21``; 17-digit sums such as ``0.30000000000000004``).
- ``snowplow``: Snowplow's canonical event model, all 131 fields with nulls kept (objects of >64 keys),
  timestamps as text, contexts as a JSON string, written compact by the JVM.
- ``github``: GitHub's Events API shapes (push, pull request, issues, watch, create), 40-hex shas,
  10-11 digit ids, compact.
- ``iot``: telemetry with int64 nanosecond timestamps (19-digit runs), 17-significant-digit floats, Python's
  ``json.dumps`` spacing and notation (``1e-05``, ``1.5e-07``, ``1e+16``).
- ``iot_no_ns``: the same without the nanosecond timestamp.
- ``mobile``: a mobile SDK's events with emoji and non-Latin text, ``\\/`` (iOS) and ``\\uXXXX`` escapes
  (Android's ASCII-only writers, surrogate pairs included).

Deterministic: one ``random.Random(seed)`` per corpus. Imported by the tests (each corpus through both paths,
byte for byte) and by ``benchmarks/transform.py`` (each corpus against the orjson floor).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from typing import Any

Event = dict[str, Any]

START = 1_764_072_000  # 2025-11-25T12:00:00Z: a fixed window keeps corpora reproducible
HOURS = 6


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _envelope(rng: random.Random, name: str, fraction: bool = True) -> Event:
    created: float = START + rng.randrange(HOURS * 3600)
    if fraction and rng.random() < 0.5:
        created += rng.randrange(1000) / 1000
    return {"event_uuid": _uuid(rng), "event_name": name, "created_at": created}


def _iso(rng: random.Random) -> str:
    seconds = START + rng.randrange(HOURS * 3600)
    h, m, s = seconds // 3600 % 24, seconds // 60 % 60, seconds % 60
    return f"2025-11-25T{h:02d}:{m:02d}:{s:02d}.{rng.randrange(1000):03d}Z"


# ---- JSON as each producer's library writes it ----------------------------------------------------------


def js_number(value: float) -> str:
    """ECMAScript's Number::toString: shortest digits, exponent below 1e-6 and from 1e21."""
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = int(exponent)
    if -7 < power < 21:  # repr's exponent but JavaScript's plain decimal
        return format(value, "f").rstrip("0").rstrip(".") if power < 0 else str(int(value))
    return f"{mantissa.removesuffix('.0')}e{'+' if power > 0 else '-'}{abs(power)}"


def write_js(value: Any) -> str:
    """``JSON.stringify``: compact, non-ASCII kept, JavaScript's numbers."""
    if isinstance(value, float):
        return js_number(value)
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{write_js(v)}" for k, v in value.items())
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(write_js(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def write_python(value: Any) -> str:
    """``json.dumps`` with its defaults: ``", "`` and ``": "``, ASCII-only, ``repr`` floats."""
    return json.dumps(value)


def write_ios(value: Any) -> str:
    """``JSONSerialization``: compact, ``/`` escaped as ``\\/``, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/")


# ---- the shapes ----------------------------------------------------------------------------------------

_PRODUCTS = [
    ("Monopoly: 3rd Edition", "Games", 19.0),
    ("Uno Card Game", "Games", 3.99),
    ("Kaffee 250g", "Food", 7.45),
]


def segment(rng: random.Random) -> str:
    """A Segment ``track`` call (analytics.js), as its spec's example: Order Completed or Product Viewed."""
    products = [
        {
            "product_id": _hex(rng, 24),
            "sku": f"{rng.randrange(10**5):05d}-{rng.randrange(100):02d}",
            "name": name,
            "price": price,
            "quantity": rng.randint(1, 3),
            "category": category,
            "url": f"https://www.example.com/product/{rng.randrange(10**6)}",
            "image_url": f"https://www.example.com/product/{rng.randrange(10**6)}.jpg",
        }
        for name, category, price in rng.sample(_PRODUCTS, rng.randint(1, 3))
    ]
    subtotal = sum(p["price"] * p["quantity"] for p in products)  # 17-digit sums, as JavaScript adds
    event = {
        **_envelope(rng, rng.choice(["segment:track:order_completed", "segment:track:product_viewed"])),
        "type": "track",
        "event": rng.choice(["Order Completed", "Product Viewed"]),
        "userId": f"user_{rng.randrange(10**6)}",
        "anonymousId": _uuid(rng),
        "messageId": f"ajs-next-{_hex(rng, 32)}",
        "timestamp": _iso(rng),
        "sentAt": _iso(rng),
        "receivedAt": _iso(rng),
        "originalTimestamp": _iso(rng),
        "properties": {
            "checkout_id": _hex(rng, 24),
            "order_id": _hex(rng, 24),
            "affiliation": "Google Store",
            "total": subtotal * 1.1,
            "subtotal": subtotal,
            "revenue": round(subtotal, 2),
            "shipping": 3,
            "tax": subtotal * 0.1,
            "discount": 2.5,
            "coupon": rng.choice(["hasbros", None]),
            "currency": "USD",
            "products": products,
        },
        "context": {
            "active": True,
            "app": {
                "name": "InitechGlobal",
                "version": "545",
                "build": "3.0.1.545",
                "namespace": "com.production.segment",
            },
            "campaign": {
                "name": "TPS Innovation Newsletter",
                "source": "Newsletter",
                "medium": "email",
                "term": "tps reports",
                "content": "image link",
            },
            "device": {
                "id": _uuid(rng),
                "advertisingId": _uuid(rng),
                "adTrackingEnabled": True,
                "manufacturer": "Apple",
                "model": "iPhone7,2",
                "name": "maguro",
                "type": "ios",
            },
            "ip": f"8.8.{rng.randrange(256)}.{rng.randrange(256)}",
            "library": {"name": "analytics.js", "version": "2.11.1"},
            "locale": rng.choice(["en-US", "de-DE", "ja-JP"]),
            "location": {
                "city": "San Francisco",
                "country": "United States",
                "latitude": 40.2964197,
                "longitude": -76.9411617,
                "speed": rng.random() * 1e-7,
            },
            "network": {"bluetooth": False, "carrier": "T-Mobile US", "cellular": True, "wifi": False},
            "os": {"name": "iPhone OS", "version": "8.1.3"},
            "page": {
                "path": "/academy/",
                "referrer": "",
                "search": "",
                "title": "Analytics Academy",
                "url": "https://segment.com/academy/",
            },
            "screen": {"width": 320, "height": 568, "density": 2},
            "timezone": "Europe/Amsterdam",
            "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 9_1 like Mac OS X) AppleWebKit/601.1.46 "
            "(KHTML, like Gecko) Version/9.0 Mobile/13B143 Safari/601.1",
        },
        "integrations": {"All": True, "Mixpanel": False, "Salesforce": False},
        "version": 2,
    }
    return write_js(event)


# Snowplow's canonical event model (the enriched event's TSV order); event_name is the envelope's.
SNOWPLOW_FIELDS = [
    "app_id",
    "platform",
    "etl_tstamp",
    "collector_tstamp",
    "dvce_created_tstamp",
    "event",
    "event_id",
    "txn_id",
    "name_tracker",
    "v_tracker",
    "v_collector",
    "v_etl",
    "user_id",
    "user_ipaddress",
    "user_fingerprint",
    "domain_userid",
    "domain_sessionidx",
    "network_userid",
    "geo_country",
    "geo_region",
    "geo_city",
    "geo_zipcode",
    "geo_latitude",
    "geo_longitude",
    "geo_region_name",
    "ip_isp",
    "ip_organization",
    "ip_domain",
    "ip_netspeed",
    "page_url",
    "page_title",
    "page_referrer",
    "page_urlscheme",
    "page_urlhost",
    "page_urlport",
    "page_urlpath",
    "page_urlquery",
    "page_urlfragment",
    "refr_urlscheme",
    "refr_urlhost",
    "refr_urlport",
    "refr_urlpath",
    "refr_urlquery",
    "refr_urlfragment",
    "refr_medium",
    "refr_source",
    "refr_term",
    "mkt_medium",
    "mkt_source",
    "mkt_term",
    "mkt_content",
    "mkt_campaign",
    "contexts",
    "se_category",
    "se_action",
    "se_label",
    "se_property",
    "se_value",
    "unstruct_event",
    "tr_orderid",
    "tr_affiliation",
    "tr_total",
    "tr_tax",
    "tr_shipping",
    "tr_city",
    "tr_state",
    "tr_country",
    "ti_orderid",
    "ti_sku",
    "ti_name",
    "ti_category",
    "ti_price",
    "ti_quantity",
    "pp_xoffset_min",
    "pp_xoffset_max",
    "pp_yoffset_min",
    "pp_yoffset_max",
    "useragent",
    "br_name",
    "br_family",
    "br_version",
    "br_type",
    "br_renderengine",
    "br_lang",
    "br_features_pdf",
    "br_features_flash",
    "br_features_java",
    "br_features_director",
    "br_features_quicktime",
    "br_features_realplayer",
    "br_features_windowsmedia",
    "br_features_gears",
    "br_features_silverlight",
    "br_cookies",
    "br_colordepth",
    "br_viewwidth",
    "br_viewheight",
    "os_name",
    "os_family",
    "os_manufacturer",
    "os_timezone",
    "dvce_type",
    "dvce_ismobile",
    "dvce_screenwidth",
    "dvce_screenheight",
    "doc_charset",
    "doc_width",
    "doc_height",
    "tr_currency",
    "tr_total_base",
    "tr_tax_base",
    "tr_shipping_base",
    "ti_currency",
    "ti_price_base",
    "base_currency",
    "geo_timezone",
    "mkt_clickid",
    "mkt_network",
    "etl_tags",
    "dvce_sent_tstamp",
    "refr_domain_userid",
    "refr_dvce_tstamp",
    "derived_contexts",
    "domain_sessionid",
    "derived_tstamp",
    "event_vendor",
    "event_name",
    "event_format",
    "event_version",
    "event_fingerprint",
    "true_tstamp",
]
assert len(SNOWPLOW_FIELDS) == 131 and len(set(SNOWPLOW_FIELDS)) == 131


def _tstamp(rng: random.Random) -> str:
    return _iso(rng).replace("T", " ").removesuffix("Z")


def snowplow(rng: random.Random) -> str:
    """An enriched page view or structured event; every canonical field present, most of them null."""
    kind = rng.choice(["page_view", "struct", "transaction"])
    known: Event = {
        "app_id": "shop-web",
        "platform": "web",
        "etl_tstamp": _tstamp(rng),
        "collector_tstamp": _tstamp(rng),
        "dvce_created_tstamp": _tstamp(rng),
        "event": kind,
        "event_id": _uuid(rng),
        "name_tracker": "sp1",
        "v_tracker": "js-3.17.0",
        "v_collector": "ssc-2.9.0-kinesis",
        "v_etl": "snowplow-enrich-kinesis-3.8.0",
        "user_ipaddress": f"92.231.{rng.randrange(256)}.{rng.randrange(256)}",
        "domain_userid": _uuid(rng),
        "domain_sessionidx": rng.randint(1, 40),
        "network_userid": _uuid(rng),
        "geo_country": "DE",
        "geo_region": "BE",
        "geo_city": "Berlin",
        "geo_zipcode": "10115",
        "geo_latitude": round(52.5 + rng.random() / 10, 4),
        "geo_longitude": round(13.4 + rng.random() / 10, 4),
        "geo_region_name": "Land Berlin",
        "page_url": f"https://shop.example.com/p/{rng.randrange(10**5)}?utm_source=news",
        "page_title": rng.choice(["Startseite", "Warenkorb \u2013 Kasse", "Produkt „Kaffee“"]),
        "page_urlscheme": "https",
        "page_urlhost": "shop.example.com",
        "page_urlport": 443,
        "page_urlpath": f"/p/{rng.randrange(10**5)}",
        "page_urlquery": "utm_source=news",
        "useragent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)",
        "br_lang": "de-DE",
        "br_cookies": True,
        "br_colordepth": "24",
        "br_viewwidth": rng.choice([1280, 1440, 390]),
        "br_viewheight": rng.choice([720, 900, 844]),
        "os_timezone": "Europe/Berlin",
        "dvce_screenwidth": 1920,
        "dvce_screenheight": 1080,
        "doc_charset": "UTF-8",
        "doc_width": 1280,
        "doc_height": rng.randint(900, 9000),
        "contexts": json.dumps(
            {
                "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
                "data": [
                    {
                        "schema": "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0",
                        "data": {"id": _uuid(rng)},
                    }
                ],
            },
            separators=(",", ":"),
        ),
        "dvce_sent_tstamp": _tstamp(rng),
        "domain_sessionid": _uuid(rng),
        "derived_tstamp": _tstamp(rng),
        "event_vendor": "com.snowplowanalytics.snowplow",
        "event_format": "jsonschema",
        "event_version": "1-0-0",
        "event_fingerprint": _hex(rng, 32),
    }
    if kind == "struct":
        known.update(
            se_category="checkout",
            se_action="add",
            se_label=f"sku-{rng.randrange(999)}",
            se_value=rng.random() * 100,
        )
    if kind == "transaction":
        total = round(rng.uniform(5, 500), 2)
        known.update(
            tr_orderid=_hex(rng, 12),
            tr_total=total,
            tr_tax=round(total * 0.19, 2),
            tr_shipping=4.9,
            tr_currency="EUR",
            tr_total_base=total * 1.0831,
            base_currency="USD",
        )
    envelope = _envelope(rng, f"snowplow:{kind}")
    event = {f: known.get(f) for f in SNOWPLOW_FIELDS}
    event.update(envelope)  # event_name is one of the canonical fields: the envelope's value
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def _github_actor(rng: random.Random) -> Event:
    login = rng.choice(["octocat", "hubot", "monalisa", "dependabot[bot]", "torvalds"])
    ident = rng.randrange(10**7, 2 * 10**8)
    return {
        "id": ident,
        "login": login,
        "display_login": login,
        "gravatar_id": "",
        "url": f"https://api.github.com/users/{login}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{ident}?",
    }


def github(rng: random.Random) -> str:
    """One of the Events API's events (``GET /events``): its ``created_at`` is the envelope's."""
    kind = rng.choice(
        ["PushEvent", "PushEvent", "PullRequestEvent", "IssuesEvent", "WatchEvent", "CreateEvent"]
    )
    repo_id = rng.randrange(10**8, 9 * 10**8)
    name = f"{rng.choice(['octo-org', 'acme'])}/{rng.choice(['hello-world', 'linguist', 'docs'])}"
    repo = {"id": repo_id, "name": name, "url": f"https://api.github.com/repos/{name}"}
    payload: Event
    if kind == "PushEvent":
        commits = [
            {
                "sha": _hex(rng, 40),
                "author": {
                    "email": f"{_hex(rng, 8)}+octocat@users.noreply.github.com",
                    "name": "The Octocat",
                },
                "message": rng.choice(
                    [
                        "Fix the build",
                        "Bump deps from 1.2.3 to 1.2.4\n\nSigned-off-by: bot",
                        "Übersetzung ergänzt",
                    ]
                ),
                "distinct": True,
                "url": f"https://api.github.com/repos/{name}/commits/{_hex(rng, 40)}",
            }
            for _ in range(rng.randint(1, 4))
        ]
        payload = {
            "repository_id": repo_id,
            "push_id": rng.randrange(10**10, 3 * 10**10),
            "size": len(commits),
            "distinct_size": len(commits),
            "ref": "refs/heads/main",
            "head": _hex(rng, 40),
            "before": _hex(rng, 40),
            "commits": commits,
        }
    elif kind in ("PullRequestEvent", "IssuesEvent"):
        number = rng.randrange(1, 5000)
        item = {
            "url": f"https://api.github.com/repos/{name}/issues/{number}",
            "id": rng.randrange(10**9, 3 * 10**9),
            "node_id": f"PR_kwDO{_hex(rng, 16)}",
            "number": number,
            "state": "open",
            "locked": False,
            "title": rng.choice(["Add dark mode", "Crash on start", "Docs: typo in README"]),
            "user": _github_actor(rng),
            "body": "Steps:\r\n1. open\r\n2. click\r\n\r\n> expected: no crash",
            "labels": [{"id": rng.randrange(10**9), "name": "bug", "color": "d73a4a", "default": True}],
            "comments": rng.randint(0, 30),
            "created_at": "2025-11-25T12:00:00Z",
            "updated_at": "2025-11-25T12:30:00Z",
            "closed_at": None,
            "author_association": "CONTRIBUTOR",
            "draft": False,
        }
        payload = {
            "action": rng.choice(["opened", "closed", "reopened"]),
            "number": number,
            ("pull_request" if kind == "PullRequestEvent" else "issue"): item,
        }
    elif kind == "WatchEvent":
        payload = {"action": "started"}
    else:
        payload = {
            "ref": "feature/x",
            "ref_type": "branch",
            "master_branch": "main",
            "description": None,
            "pusher_type": "user",
        }
    event = {
        **_envelope(rng, f"github:{kind}", fraction=False),
        "id": str(rng.randrange(10**10, 5 * 10**10)),
        "type": kind,
        "actor": _github_actor(rng),
        "repo": repo,
        "payload": payload,
        "public": True,
        "org": {
            "id": 9919,
            "login": "github",
            "gravatar_id": "",
            "url": "https://api.github.com/orgs/github",
            "avatar_url": "https://avatars.githubusercontent.com/u/9919?",
        },
    }
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def _iot(rng: random.Random, nanoseconds: bool) -> str:
    """A sensor's reading as a Python gateway sends it (``json.dumps`` defaults)."""
    envelope = _envelope(rng, rng.choice(["iot:telemetry", "iot:telemetry:env"]))
    event: Event = dict(envelope)
    if nanoseconds:
        event["ts_ns"] = int(envelope["created_at"] * 1000) * 1_000_000 + rng.randrange(10**6)  # 19 digits
    event.update(
        {
            "device_id": f"sensor-{rng.randrange(10**4):04d}",
            "seq": rng.randrange(10**9),
            "temperature_c": 15 + rng.random() * 10,  # 17 significant digits, as repr writes them
            "humidity": round(rng.random(), 4),
            "pressure_hpa": round(990 + rng.random() * 40, 2),
            "accel": {"x": rng.gauss(0, 0.01), "y": rng.choice([1.5e-07, 1e-05, -2.5e-08]), "z": 9.80665},
            "current_a": rng.choice([1e-05, 3.2e-06, 0.00012, 1e-7 * rng.randint(1, 9)]),
            "energy_j": rng.choice([1e16, 2.5e17, 123456.789]),
            "battery_v": round(3.3 + rng.random(), 3),
            "rssi": -rng.randint(40, 90),
            "readings": [round(rng.gauss(20, 2), rng.randint(1, 6)) for _ in range(4)],
            "firmware": "2.4.1",
            "ok": True,
        }
    )
    return write_python(event)


def iot(rng: random.Random) -> str:
    return _iot(rng, nanoseconds=True)


def iot_no_ns(rng: random.Random) -> str:
    return _iot(rng, nanoseconds=False)


_TEXTS = (
    "Привет, мир",
    "こんにちは世界 🌸",
    "مرحبا بالعالم",
    "你好\uff0c世界",
    "Ünïcödé ✓",
    "👍🏽 great app! 🎉🎉",
    "नमस्ते",
    "שלום",
    "🇨🇭 Zürich",
)


def mobile(rng: random.Random) -> str:
    """A mobile SDK's screen or tap event with users' text: iOS writes it raw with ``\\/``, Android as ASCII
    with ``\\uXXXX`` escapes (emoji as surrogate pairs)."""
    event = {
        **_envelope(rng, rng.choice(["mobile:screen_view", "mobile:tap", "mobile:message_sent"])),
        "session_id": _uuid(rng),
        "user": {
            "id": _uuid(rng),
            "display_name": rng.choice(_TEXTS),
            "locale": rng.choice(["ru-RU", "ja-JP", "ar-EG", "zh-CN", "hi-IN"]),
        },
        "screen": {"name": rng.choice(["Home", "Профиль", "設定", "الإعدادات"]), "path": "/app/home/feed"},
        "message": {
            "text": " ".join(rng.choice(_TEXTS) for _ in range(rng.randint(1, 4))),
            "emoji_count": rng.randint(0, 5),
        },
        "device": {
            "os": rng.choice(["iOS 18.1", "Android 15"]),
            "model": rng.choice(["iPhone16,2", "Pixel 9"]),
            "battery": round(rng.random(), 2),
        },
        "tags": rng.sample(["😀", "новый", "人気", "جديد", "hot"], 3),
    }
    if rng.random() < 0.5:
        return write_ios(event)
    return json.dumps(event, separators=(",", ":"))  # ASCII-only: \u escapes, emoji as surrogate pairs


CORPORA: dict[str, Callable[[random.Random], str]] = {
    "segment": segment,
    "snowplow": snowplow,
    "github": github,
    "iot": iot,
    "iot_no_ns": iot_no_ns,
    "mobile": mobile,
}
TITLES = {
    "segment": "Segment-spec track events",
    "snowplow": "Snowplow canonical, 131 fields, nulls kept",
    "github": "GitHub Events API shapes",
    "iot": "IoT telemetry with a nanosecond timestamp",
    "iot_no_ns": "IoT telemetry without it",
    "mobile": "mobile analytics, emoji and non-Latin text",
}


def generate(name: str, count: int, seed: int = 1) -> list[bytes]:
    """``count`` events of corpus ``name``, each one record's bytes (newline-terminated, as producers put)."""
    rng = random.Random(f"{name}:{seed}")
    make = CORPORA[name]
    return [(make(rng) + "\n").encode("utf-8") for _ in range(count)]
