"""Analyst questions through the typed views on a demo lake of each processor mode, answered by
``eventlake query`` and held to answers computed here by hand, in Python, from the events the demo's producer
sent (its ledger), with Athena's (Trino's) semantics: integer division truncates toward zero, ``count(x)``
skips NULLs, ``||`` with a NULL is NULL, ``count(DISTINCT x)`` ignores NULL, ``avg`` of a bigint is a double.

No Spark here (not installed); the hand answers are what Athena would return for the same SQL over the same
events (one row per event: the first copies the producer sent).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_event_views import expected, leaves

from eventlake.athena import catalog_reader
from eventlake.athena import engine as athena
from eventlake.cli.main import main
from eventlake.simulator.demo import DemoOptions, open_demo
from eventlake.traffic.sample_events import Expect
from glue import event_catalog, schema
from glue.event_catalog import walk
from infra import processors

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
Event = dict[str, Any]


@dataclass(frozen=True)
class Lake:
    root: Path
    events: list[Event]  # every distinct event the table holds, as sent
    as_sent: bool  # processor jq

    def of(self, name: str) -> list[Event]:
        return [e for e in self.events if e["event_name"] == name]


@pytest.fixture(scope="module", params=["lambda", "jq"])
def lake(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    root = tmp_path_factory.mktemp(f"analyst-{request.param}") / "lake"
    options = DemoOptions(
        events=20_000,
        seed=12,
        out=root,
        processor=request.param,
        # Every record the Lambda would reject is stored as sent in jq mode, under the names it carried:
        # none here, so that both modes hold exactly the valid events the ledger lists.
        malformed_share=0.0 if request.param == "jq" else 0.03,
        max_active_partitions=10_000,  # none diverted to errors/activePartitionExceeded
    )
    with open_demo(options) as opened:
        assert opened.report.ok
        sent = [json.loads(r.data) for r in opened.report.ledger.records if r.expect == Expect.VALID]
    assert len({e["event_uuid"].lower() for e in sent}) == len(sent)  # the first copies: one per event
    yield Lake(root, sent, request.param == "jq")


def query(lake: Lake, capsys: pytest.CaptureFixture[str], sql: str) -> list[dict[str, Any]]:
    code = main(["query", "--lake", str(lake.root), sql, "--output", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rows: list[dict[str, Any]] = json.loads(captured.out)["rows"]
    return rows


def trunc_div(a: int, b: int) -> int:
    """Trino's bigint division: the quotient truncated toward zero (Python's ``//`` floors)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def grouped(events: list[Event], key: Callable[[Event], Any]) -> dict[Any, list[Event]]:
    out: dict[Any, list[Event]] = {}
    for event in events:
        out.setdefault(key(event), []).append(event)
    return dict(sorted(out.items(), key=lambda kv: (kv[0] is None, kv[0])))


def hour(event: Event) -> tuple[str, str]:
    moment = datetime.fromtimestamp(event["created_at"], UTC)
    return moment.strftime("%Y-%m-%d"), moment.strftime("%H")


def test_revenue_per_currency(lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    rows = query(
        lake,
        capsys,
        "SELECT total_currency, count(*) AS orders, sum(total_amount) AS revenue, max(total_amount) AS top "
        "FROM payment_order_completed GROUP BY total_currency ORDER BY total_currency",
    )
    expected = [
        (currency, len(group), math.fsum(e["total"]["amount"] for e in group))
        for currency, group in grouped(
            lake.of("payment:order:completed"), lambda e: e["total"]["currency"]
        ).items()
    ]
    assert [(r["total_currency"], r["orders"]) for r in rows] == [(c, n) for c, n, _ in expected]
    for row, (currency, _, revenue) in zip(rows, expected, strict=True):
        assert row["revenue"] == pytest.approx(revenue, rel=1e-12), currency
        group = [e for e in lake.of("payment:order:completed") if e["total"]["currency"] == currency]
        assert row["top"] == max(e["total"]["amount"] for e in group)


def test_net_stock_change_per_adjustment_truncates_toward_zero(
    lake: Lake, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = query(
        lake,
        capsys,
        "SELECT warehouse, sku, count(*) AS adjustments, sum(delta) AS net, "
        "sum(delta) / count(*) AS per_adjustment, "
        "count_if(delta < 0) AS removals FROM inventory_stock_adjusted "
        "GROUP BY warehouse, sku ORDER BY warehouse, sku",
    )
    expected = []
    for (warehouse, sku), group in grouped(
        lake.of("inventory:stock:adjusted"), lambda e: (e["warehouse"], e["sku"])
    ).items():
        net = sum(e["delta"] for e in group)
        removals = sum(e["delta"] < 0 for e in group)
        expected.append(
            {
                "warehouse": warehouse,
                "sku": sku,
                "adjustments": len(group),
                "net": net,
                "per_adjustment": trunc_div(net, len(group)),
                "removals": removals,
            }
        )
    assert rows == expected
    # The case that tells truncation from flooring is there: a negative net not divisible by its count.
    assert any(r["net"] < 0 and r["net"] % r["adjustments"] for r in rows)


def test_coupons_at_checkout_with_nulls(lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    rows = query(
        lake,
        capsys,
        "SELECT coalesce(coupon, '(none)') AS coupon, count(*) AS checkouts, count(coupon) AS with_coupon, "
        "count(coupon || ':' || cart_id) AS keyed, count(DISTINCT coupon) AS coupons "
        "FROM checkout_started GROUP BY coalesce(coupon, '(none)') ORDER BY 1",
    )
    expected = []
    for coupon, group in grouped(lake.of("checkout:started"), lambda e: e["coupon"] or "(none)").items():
        present = [e for e in group if e["coupon"] is not None]
        expected.append(
            {
                "coupon": coupon,
                "checkouts": len(group),
                "with_coupon": len(present),
                "keyed": len(present),  # NULL || text is NULL, which count() skips
                "coupons": len({e["coupon"] for e in present}),
            }
        )
    assert rows == expected and {r["coupon"] for r in rows} == {"(none)", "SPRING-10"}
    referred = query(
        lake,
        capsys,
        "SELECT count(*) AS accounts, count(referrer) AS referred, max(referrer) AS any_referrer, "
        "count(user_city) AS with_city FROM account_created",
    )
    accounts = lake.of("account:created")
    assert referred == [
        {
            "accounts": len(accounts),
            "referred": sum(e["referrer"] is not None for e in accounts),
            "any_referrer": max((e["referrer"] for e in accounts if e["referrer"] is not None), default=None),
            "with_city": sum(isinstance(e["user"].get("city"), str) for e in accounts),
        }
    ]


def test_logins_per_method_and_their_mfa_share(lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    rows = query(
        lake,
        capsys,
        "SELECT method, count(*) AS logins, count(DISTINCT user_id) AS users, "
        "CAST(count_if(mfa) AS DOUBLE) * 100 / count(*) AS mfa_percent "
        "FROM login GROUP BY method ORDER BY method",
    )
    expected = [
        (
            method,
            len(group),
            len({e["user_id"] for e in group}),
            100 * sum(e["mfa"] for e in group) / len(group),
        )
        for method, group in grouped(lake.of("login"), lambda e: e["method"]).items()
    ]
    assert [(r["method"], r["logins"], r["users"]) for r in rows] == [x[:3] for x in expected]
    for row, (*_, share) in zip(rows, expected, strict=True):
        assert row["mfa_percent"] == pytest.approx(share, rel=1e-12)


def test_resolution_time_per_hour_of_one_day(lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    resolved = lake.of("support:ticket:resolved")
    day = max(hour(e)[0] for e in resolved)
    rows = query(
        lake,
        capsys,
        "SELECT event_hour, count(*) AS resolved, sum(minutes_to_resolve) / count(*) AS mean_minutes, "
        "avg(minutes_to_resolve) AS avg_minutes, min(created_datetime) AS first_at "
        f"FROM support_ticket_resolved WHERE event_date = '{day}' GROUP BY event_hour ORDER BY event_hour",
    )
    expected = []
    for (_, hh), group in grouped([e for e in resolved if hour(e)[0] == day], hour).items():
        minutes = [e["minutes_to_resolve"] for e in group]
        first = min(e["created_at"] for e in group)
        expected.append(
            (hh, len(group), trunc_div(sum(minutes), len(minutes)), sum(minutes) / len(minutes), first)
        )
    assert [(r["event_hour"], r["resolved"], r["mean_minutes"]) for r in rows] == [x[:3] for x in expected]
    for row, (*_, avg, first) in zip(rows, expected, strict=True):
        assert row["avg_minutes"] == pytest.approx(avg, rel=1e-12)
        # timestamp(3): the event time to the millisecond, in UTC
        at = datetime.fromisoformat(str(row["first_at"])).replace(tzinfo=UTC)
        assert abs(at.timestamp() - first) < 0.0015


def test_cart_value_per_currency_from_nested_columns(lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    rows = query(
        lake,
        capsys,
        "SELECT item_price_currency AS currency, sum(item_qty) AS units, "
        "sum(item_qty * item_price_amount) AS value FROM cart_item_added "
        "GROUP BY item_price_currency ORDER BY currency",
    )
    expected = [
        (
            currency,
            sum(e["item"]["qty"] for e in group),
            math.fsum(e["item"]["qty"] * e["item"]["price"]["amount"] for e in group),
        )
        for currency, group in grouped(
            lake.of("cart:item:added"), lambda e: e["item"]["price"]["currency"]
        ).items()
    ]
    assert [(r["currency"], r["units"]) for r in rows] == [x[:2] for x in expected]
    for row, (*_, value) in zip(rows, expected, strict=True):
        assert row["value"] == pytest.approx(value, rel=1e-12)


CATALOG = event_catalog.load_catalog()


def test_every_view_reads_what_was_sent_and_what_json_extract_scalar_reads(lake: Lake) -> None:
    conn = athena.connect(
        lake.root,
        partitions=catalog_reader.recorded_catalog(lake.root),
        processor=processors.JQ if lake.as_sent else processors.LAMBDA,
    )
    source = "record" if lake.as_sent else "payload"
    for entry in CATALOG:
        fields = leaves(entry)
        columns = [event_catalog.column_name(f.path) for f in fields]
        _, rows = athena.run(conn, f"SELECT event_uuid, {', '.join(columns)} FROM {entry.view_name}")
        got = {row[0]: row[1:] for row in rows}
        sent = lake.of(entry.name)
        assert len(got) == len(rows) == len(sent) > 0, entry.name  # one row per event
        for event in sent:
            payload = {k: v for k, v in event.items() if k not in schema.INPUT_FIELDS}
            for field, value in zip(fields, got[event["event_uuid"]], strict=True):
                if field.type in ("object", "array"):
                    value = json.loads(value) if value is not None else None
                assert value == expected(field, payload), (entry.name, field.path)
        scalars = [f for f in fields if f.type not in ("object", "array")]
        extracted = ", ".join(f"json_extract_scalar({source}, '$.{'.'.join(f.path)}')" for f in scalars)
        if not scalars:
            continue
        _, texts = athena.run(
            conn, f"SELECT event_uuid, {extracted} FROM unique_events WHERE event_name = '{entry.name}'"
        )
        for row in texts:
            typed = dict(zip(columns, got[row[0]], strict=True))
            for field, text in zip(scalars, row[1:], strict=True):
                value = typed[event_catalog.column_name(field.path)]
                assert value == _read(field, text), (entry.name, field.path, value, text)


def _read(field: Any, text: str | None) -> Any:
    """What ``json_extract_scalar``'s text says, as the declared type (a number compared as a number)."""
    if text is None:
        return None
    if field.type == "integer":
        return int(text)
    if field.type == "number":
        return float(text)
    if field.type == "boolean":
        return {"true": True, "false": False}[text]
    return text


def test_catalog_infer_gives_the_declared_type_of_every_field_always_sent(
    lake: Lake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["catalog", "infer", "--lake", str(lake.root), "--write", str(tmp_path), "--output", "json"])
    capsys.readouterr()
    assert code == 0
    proposed = {e.name: {f.path: f for f in walk(e.fields)} for e in event_catalog.load_catalog(tmp_path)}
    for entry in CATALOG:
        for declared in walk(entry.fields):
            if declared.required and not declared.nullable:
                field = proposed[entry.name][declared.path]
                assert (field.type, field.required) == (declared.type, True), (entry.name, declared.path)
