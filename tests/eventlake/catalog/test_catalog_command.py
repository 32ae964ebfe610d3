"""Drift and inference against the catalog (``eventlake.catalog.catalog_drift``,
``eventlake.catalog.catalog_inference``), and ``eventlake catalog check|infer`` and typed-view queries on demo
lakes of both processor modes."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
import typed_lake
from hypothesis import given
from hypothesis import strategies as st

from eventlake.athena import engine as athena
from eventlake.catalog import catalog_drift
from eventlake.catalog.catalog_command import in_dates
from eventlake.catalog.catalog_inference import observe, propose
from eventlake.cli.main import main
from glue import event_catalog
from glue.event_catalog import CATALOG_DIR, walk

CATALOG = event_catalog.load_catalog()


def _sent(count_per_name: int, seed: int = 3) -> list[tuple[str, dict[str, Any]]]:
    return [
        (e["event_name"], typed_lake.payload_of(e)) for e in typed_lake.sample_events(count_per_name, seed)
    ]


def test_the_samples_show_no_drift() -> None:
    drift = catalog_drift.check(CATALOG, _sent(40))
    assert drift.sorted() == [] and sum(drift.events.values()) == 40 * len(CATALOG)


def test_one_fields_type_changed_in_one_percent_of_one_names_events_is_found_with_its_count() -> None:
    events = _sent(200)
    rng = random.Random(9)
    tickets = [p for n, p in events if n == "support:ticket:opened"]
    changed = rng.sample(tickets, k=len(tickets) // 100)
    for payload in changed:
        payload["ticket_id"] = str(payload["ticket_id"])
    drift = catalog_drift.check(CATALOG, events)
    assert [f.row()[:4] for f in drift.sorted()] == [
        ("support:ticket:opened", catalog_drift.WRONG_TYPE, "ticket_id", 2)
    ]
    assert drift.sorted()[0].example == json.dumps(changed[0]["ticket_id"])


def test_undeclared_missing_and_unknown_names_are_each_reported() -> None:
    events = _sent(5)
    name, payload = next((n, p) for n, p in events if n == "payment:order:completed")
    payload["total"]["tax"] = 1.5
    del payload["order_id"]
    payload["items"][0]["qty"] = "2"
    events.append(("payment:order:disputed", {"order_id": "x"}))
    rows = {(f.event_name, f.kind, f.path, f.count) for f in catalog_drift.check(CATALOG, events).sorted()}
    assert rows == {
        (name, catalog_drift.UNDECLARED_FIELD, "total.tax", 1),
        (name, catalog_drift.MISSING, "order_id", 1),
        (name, catalog_drift.WRONG_TYPE, "items[].qty", 1),
        ("payment:order:disputed", catalog_drift.UNDECLARED_NAME, "", 1),
    }


def test_inference_gives_the_declared_type_of_every_field_the_samples_always_send() -> None:
    by_name: dict[str, list[dict[str, Any]]] = {}
    for name, payload in _sent(300, seed=11):
        by_name.setdefault(name, []).append(payload)
    for entry in CATALOG:
        proposed = {f.path: f for f in walk(propose(entry.name, observe(by_name[entry.name])).fields)}
        for declared in walk(entry.fields):
            if declared.required and not declared.nullable:
                assert proposed[declared.path].type == declared.type, (entry.name, declared.path)
                assert proposed[declared.path].required, (entry.name, declared.path)


@given(st.dates(), st.none() | st.dates(), st.none() | st.dates(), st.sampled_from(["00", "23"]))
def test_a_partition_is_read_exactly_when_its_event_date_is_in_the_range(
    day: Any, start: Any, end: Any, hour: str
) -> None:
    """``--bucket`` fetches a partition by its catalog values: the day's string compared as dates are."""
    partition = athena.CatalogPartition(("payment", day.isoformat(), hour), "s3://lake/events/x/")
    expected = (start is None or start <= day) and (end is None or day <= end)
    assert in_dates(partition, start and start.isoformat(), end and end.isoformat()) == expected


# --- the command, on demo lakes -----------------------------------------------------------------------


@pytest.fixture(scope="module", params=["lambda", "jq"])
def demo_lake(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp(f"demo-{request.param}") / "lake"
    assert (
        main(["demo", "--events", "1500", "--seed", "4", "--processor", request.param, "--out", str(out)])
        == 0
    )
    return out


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main([*argv, "--output", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


@pytest.mark.slow
def test_catalog_check_passes_on_a_demo_lake_and_fails_on_drift(
    demo_lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = _json(capsys, "catalog", "check", "--lake", str(demo_lake))
    if demo_lake.parent.name.startswith("demo-jq"):
        # jq mode stores what the Lambda would reject (payment::completed, an empty part): names no catalog
        # file can declare, reported as drift, and nothing else.
        assert code == 1 and report["rows"]
        for row in report["rows"]:
            assert row["drift"] == catalog_drift.UNDECLARED_NAME
            assert not event_catalog.EVENT_NAME.fullmatch(row["event name"]), row
        report["rows"] = []
    else:
        assert code == 0
    assert report["rows"] == [] and set(report["events"]) >= {e.name for e in CATALOG}
    # The catalog changes instead of the lake: ticket_id declared a string, so every integer sent drifts.
    drifted = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, drifted)
    path = drifted / "support.ticket.opened.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["properties"]["ticket_id"]["type"] = "string"
    path.write_text(json.dumps(document), encoding="utf-8")
    code, report = _json(capsys, "catalog", "check", "--lake", str(demo_lake), "--catalog", str(drifted))
    assert code == 1
    (row,) = [r for r in report["rows"] if r["drift"] != catalog_drift.UNDECLARED_NAME]
    assert row["event name"] == "support:ticket:opened" and row["path"] == "ticket_id"
    assert row["events"] == report["events"]["support:ticket:opened"]


@pytest.mark.slow
def test_catalog_infer_writes_files_the_loader_reads(
    demo_lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = _json(capsys, "catalog", "infer", "--lake", str(demo_lake), "--write", str(tmp_path))
    assert code == 0 and report["rows"]
    assert [e.name for e in event_catalog.load_catalog(tmp_path)] == [e.name for e in CATALOG]


@pytest.mark.slow
def test_a_typed_view_answers_eventlake_query_on_a_demo_lake(
    demo_lake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = (
        "SELECT count(*) AS orders, count(total_amount) AS typed FROM payment_order_completed "
        "WHERE total_currency IS NOT NULL"
    )
    code, report = _json(capsys, "query", "--lake", str(demo_lake), sql)
    assert code == 0
    (row,) = report["rows"]
    assert row["orders"] == row["typed"] > 0
    code, direct = _json(
        capsys,
        "query",
        "--lake",
        str(demo_lake),
        "SELECT count(*) AS n FROM unique_events WHERE event_name = 'payment:order:completed'",
    )
    assert direct["rows"][0]["n"] == row["orders"]
