"""``processor: jq``'s saved queries (``glue/sql_jq``): each runs locally on a small lake of GZIP JSON Lines
written the way Firehose writes that mode (keys from the real jq query), with exact answers; none uses a
spelling where Athena and DuckDB disagree; and every Lambda-mode query is ported except the one that needs the
Lambda's arrival time."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from eventlake.athena import engine as athena
from eventlake.firehose_formats.prefixes import evaluate, object_key, object_name
from eventlake.simulator.firehose.metadata_extraction import QueryPartitioner
from glue import partition_query
from infra import processors
from infra.athena_spec import JQ_SQL_DIR, SQL_DIR

UUID_A = "3f2b8c1e-9a4d-4e6f-8b7a-00000000000a"
UUID_B = "3f2b8c1e-9a4d-4e6f-8b7a-00000000000b"
UUID_C = "3f2b8c1e-9a4d-4e6f-8b7a-00000000000c"
T7 = datetime(2026, 11, 25, 7, 10, tzinfo=UTC).timestamp()
PAY = "payment:order:completed"
EUR = {"total": {"amount": 12.5, "currency": "EUR"}}


def record(uuid: str | None, name: str, created_at: float, **fields: Any) -> bytes:
    event = {"event_uuid": uuid, "event_name": name, "created_at": created_at, **fields}
    if uuid is None:
        del event["event_uuid"]
    return json.dumps(event).encode() + b"\n"


# A three times (once with its id upper-cased); B is a different event reusing A's id (another time); C once;
# a record without an id (stored in this mode: nothing validates it), sent twice.
RECORDS = [
    record(UUID_A, PAY, T7, **EUR),
    record(UUID_A, PAY, T7, **EUR),
    record(UUID_A.upper(), PAY, T7, **EUR),
    record(UUID_A, PAY, T7 + 3600.5, total={"amount": 99, "currency": "USD"}),
    record(UUID_C, "account:created", T7 + 60),
    record(None, "account:created", T7 + 61),
    record(None, "account:created", T7 + 61),
]


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One GZIP JSON Lines object per partition, keys from the deployed jq query (evaluated by jq)."""
    root = tmp_path_factory.mktemp("jq-lake")
    partitioner = QueryPartitioner(partition_query.QUERY)
    groups: dict[str, list[bytes]] = {}
    for data in RECORDS:
        prefix = evaluate(
            partition_query.DATA_PREFIX, arrival=datetime.now(UTC), partition_keys=partitioner.keys(data)
        )
        groups.setdefault(prefix, []).append(data)
    when = datetime(2026, 11, 25, 8, 15, tzinfo=UTC)
    for prefix, datas in groups.items():
        name = object_name(
            delivery_stream_name="eventlake-test",
            version=1,
            delivery_time=when,
            extension=partition_query.OUTPUT_EXTENSION,
        )
        path = root / object_key(prefix, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(b"".join(datas)))
    return root


def run(lake: Path, name: str) -> list[dict[str, Any]]:
    conn = athena.connect(lake, processor=processors.JQ)
    columns, rows = athena.run(conn, athena.load_queries(JQ_SQL_DIR)[name])
    return [dict(zip(columns, row, strict=True)) for row in rows]


def test_every_lambda_query_is_ported_but_late_arrivals() -> None:
    # late_arrivals compares the Lambda's source_arrival_datetime with the event time: without the Lambda no
    # record carries its arrival time (README, "Without the Lambda").
    assert set(athena.load_queries(SQL_DIR)) - set(athena.load_queries(JQ_SQL_DIR)) == {"late_arrivals"}
    assert set(athena.load_queries(JQ_SQL_DIR)) <= set(athena.load_queries(SQL_DIR))


def test_every_jq_query_is_free_of_divergent_patterns_and_runs(lake: Path) -> None:
    queries = athena.load_queries(JQ_SQL_DIR)
    assert {name: athena.athena_divergences(sql) for name, sql in queries.items()} == {n: [] for n in queries}
    for name in queries:
        assert run(lake, name), name


def test_events_per_type_and_hour(lake: Path) -> None:
    rows = run(lake, "events_per_type_and_hour")
    assert [(r["event_type"], r["event_date"], r["event_hour"], r["events"]) for r in rows] == [
        ("account", "2026-11-25", "07", 3),
        ("payment", "2026-11-25", "07", 3),
        ("payment", "2026-11-25", "08", 1),
    ]


def test_duplicates_counts_exact_resends_case_insensitively(lake: Path) -> None:
    rows = {r["event_type"]: r for r in run(lake, "duplicates")}
    # payment: A three times (two repeats), B once; account: C once, the id-less record twice (one repeat:
    # the same fingerprint, as the unique_events view counts it).
    assert {t: (r["events"], r["duplicates"], r["duplicate_percent"]) for t, r in rows.items()} == {
        "payment": (4, 2, 50.0),
        "account": (3, 1, 33.33),
    }
    assert [r["event_type"] for r in run(lake, "duplicates")] == ["payment", "account"]


def test_unique_events_has_one_row_per_fingerprint(lake: Path) -> None:
    rows = run(lake, "unique_events")
    fingerprints = Counter((str(r["event_uuid"]).lower(), r["event_name"], r["created_at"]) for r in rows)
    assert fingerprints == Counter(
        {
            (UUID_A, PAY, T7): 1,
            (UUID_A, PAY, T7 + 3600.5): 1,
            (UUID_C, "account:created", T7 + 60): 1,
            ("none", "account:created", T7 + 61): 1,  # no id: its copies still share name and time
        }
    )


def test_latest_events_newest_first_with_the_total_from_the_record(lake: Path) -> None:
    rows = run(lake, "latest_events")
    assert [(r["event_uuid"], r["created"], r["total_amount"], r["currency"]) for r in rows[:3]] == [
        (UUID_A, "2026-11-25T08:10:00.500", "99", "USD"),
        (None, "2026-11-25T07:11:01.000", None, None),
        (UUID_C, "2026-11-25T07:11:00.000", None, None),
    ]
    assert (rows[-1]["event_uuid"].lower(), rows[-1]["total_amount"]) == (UUID_A, "12.5")
    assert len(rows) == 4
