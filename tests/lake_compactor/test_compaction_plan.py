"""The plan's pure parts: locations and run ids round-trip, the statement quotes whatever a partition value or
key holds and parses as Athena SQL, manifests round-trip, and the late window closes hours when it should;
then the Athena engine against botocore's Stubber (AWS's request and response shapes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlglot
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from glue.compactor_contract import SOURCE_TABLE
from lake_compactor import compaction_plan as plan
from lake_compactor.athena_unload import AthenaUnload, request_token
from lake_compactor.compaction_handler import hour_bound
from lake_compactor.compactor import CompactionFailed

VALUES = {"event_type": "payment", "event_date": "2026-11-25", "event_hour": "07"}
texts = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=40)


@given(st.datetimes(timezones=st.just(UTC)), st.text("0123456789abcdef", min_size=8, max_size=8))
def test_a_copys_location_names_its_run_and_an_original_folder_none(when: datetime, token: str) -> None:
    run = plan.new_run_id(when, token)
    location = plan.s3_uri("lake", plan.compacted_folder(VALUES, run))
    assert plan.run_of_location(location) == run
    assert plan.run_of_location(plan.s3_uri("lake", plan.original_folder(VALUES))) is None
    assert plan.manifest_key(VALUES, run).removesuffix(".json") + "/" == plan.compacted_folder(VALUES, run)


@given(texts, texts)
def test_the_statement_quotes_any_value_and_key_and_parses_as_athena_sql(value: str, key: str) -> None:
    values = {**VALUES, "event_type": value}
    statement = plan.CompactionStatement(
        "db", "events", SOURCE_TABLE, values, True, (plan.s3_uri("lake", key),), "s3://lake/compacted/x/"
    )
    parsed = sqlglot.parse_one(statement.select_sql(), read="athena")
    literals = {lit.this for lit in parsed.find_all(sqlglot.exp.Literal) if lit.is_string}
    assert value in literals and plan.s3_uri("lake", key) in literals
    assert statement.athena_sql().startswith("UNLOAD (\nSELECT ")
    assert statement.athena_sql().endswith(
        f"WITH (format = 'PARQUET', compression = 'ZSTD', compression_level = '{plan.ZSTD_LEVEL}')"
    )


def test_a_first_compaction_reads_only_the_listed_objects_a_later_one_its_copy_too() -> None:
    first = plan.CompactionStatement(
        "db", "events", "events_landing", VALUES, False, ("s3://b/k1",), "s3://b/t/"
    )
    assert '"db"."events"' not in first.select_sql() and "\"$path\" IN ('s3://b/k1')" in first.select_sql()
    later = plan.CompactionStatement(
        "db", "events", "events_landing", VALUES, True, ("s3://b/k2",), "s3://b/t/"
    )
    assert "UNION ALL" in later.select_sql() and '"db"."events"' in later.select_sql()
    with pytest.raises(ValueError):
        plan.CompactionStatement(
            "db", "events", "events_landing", VALUES, False, (), "s3://b/t/"
        ).select_sql()
    many = tuple(f"s3://b/{'k' * 200}{n}" for n in range(2000))
    assert not plan.statement_fits(plan.CompactionStatement("d", "e", "l", VALUES, False, many, "s3://b/t/"))


@given(st.lists(texts, max_size=5))
def test_a_manifest_round_trips(keys: list[str]) -> None:
    manifest = plan.RunManifest(
        "20261125T070000Z-0a0b0c0d", VALUES, "s3://b/c/", "s3://b/e/", tuple(keys), "x"
    )
    back = plan.RunManifest.from_json(manifest.to_json())
    assert back.sources == tuple(sorted(keys)) and back.values == VALUES and back.location == "s3://b/c/"


@given(st.integers(min_value=1, max_value=48), st.integers(min_value=-180, max_value=180))
def test_an_hour_closes_when_the_late_window_after_its_end_has_passed(window: int, minutes: int) -> None:
    closes = plan.hour_start(VALUES) + timedelta(hours=1 + window)
    assert plan.is_closed(VALUES, closes + timedelta(minutes=minutes), window) == (minutes >= 0)


def test_an_operator_range_is_read_as_event_hours() -> None:
    assert hour_bound("2026-11-25T07") == datetime(2026, 11, 25, 7, tzinfo=UTC)
    assert hour_bound(None) is None and hour_bound("") is None
    with pytest.raises(ValueError):
        hour_bound("2026-11-25 07:00")


# --- the Athena engine ------------------------------------------------------------------------------------


def athena_client():  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client("athena", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


STATEMENT = plan.CompactionStatement(
    "db", "events", "events_landing", VALUES, False, ("s3://b/k",), "s3://b/t/"
)


def test_athena_runs_the_unload_in_the_workgroup_and_waits_for_it() -> None:
    client = athena_client()
    sleeps: list[float] = []
    engine = AthenaUnload(client, "eventlake-dev-analysts", "eventlake_dev", sleep=sleeps.append)
    with Stubber(client) as stub:
        stub.add_response(
            "start_query_execution",
            {"QueryExecutionId": "q-1"},
            {
                "QueryString": STATEMENT.athena_sql(),
                "QueryExecutionContext": {"Database": "eventlake_dev"},
                "WorkGroup": "eventlake-dev-analysts",
                "ClientRequestToken": request_token("run-1"),
            },
        )
        for state in ("QUEUED", "RUNNING", "RUNNING", "SUCCEEDED"):
            stub.add_response(
                "get_query_execution",
                {"QueryExecution": {"Status": {"State": state}}},
                {"QueryExecutionId": "q-1"},
            )
        engine.wait(engine.start(STATEMENT, "run-1"))
        stub.assert_no_pending_responses()
    assert sleeps == [1.0, 2.0, 4.0]
    assert 32 <= len(request_token("run-1")) <= 128 and request_token("run-1") == request_token("run-1")


def test_a_failed_unload_raises_with_athenas_reason() -> None:
    client = athena_client()
    engine = AthenaUnload(client, "wg", "db", sleep=lambda _: None)
    with Stubber(client) as stub:
        status = {"State": "FAILED", "StateChangeReason": "HIVE_PATH_ALREADY_EXISTS: target is not empty"}
        stub.add_response(
            "get_query_execution", {"QueryExecution": {"Status": status}}, {"QueryExecutionId": "q"}
        )
        with pytest.raises(CompactionFailed, match="HIVE_PATH_ALREADY_EXISTS"):
            engine.wait("q")


@given(st.lists(texts, min_size=1, max_size=4, unique=True))
def test_a_batch_unloads_each_partition_as_its_own_statement_would_partitioned_by_the_keys(
    types: list[str],
) -> None:
    """Small partitions share one UNLOAD: each member's own SELECT (its marks computed within it), its values
    as the last columns, ``partitioned_by`` the partition keys into the staging folder; parses as Athena."""
    members = tuple(
        plan.CompactionStatement(
            "db",
            "events",
            SOURCE_TABLE,
            {**VALUES, "event_type": t},
            i % 2 == 0,
            (plan.s3_uri("lake", f"events/{i}.parquet"),),
            f"s3://lake/compacted/{i}/",
        )
        for i, t in enumerate(types)
    )
    batch = plan.BatchStatement(members, "s3://lake/" + plan.staging_folder("20261125T130501Z-1a2b3c4d"))
    parsed = sqlglot.parse_one(batch.select_sql(), read="athena")
    assert [c.alias_or_name for c in parsed.expressions][-3:] == list(plan.schema.PARTITION_KEY_NAMES)
    literals = {lit.this for lit in parsed.find_all(sqlglot.exp.Literal) if lit.is_string}
    assert set(types) <= literals
    assert all(member.select_sql() in batch.select_sql() for member in members)
    keys = ", ".join(f"'{k}'" for k in plan.schema.PARTITION_KEY_NAMES)
    assert batch.athena_sql().endswith(
        f"compression_level = '{plan.ZSTD_LEVEL}', partitioned_by = ARRAY[{keys}])"
    )
    assert " TO 's3://lake/compaction-staging/20261125T130501Z-1a2b3c4d/' " in batch.athena_sql()


def test_a_batch_refuses_a_partition_twice_or_another_database() -> None:
    one = plan.CompactionStatement("db", "events", SOURCE_TABLE, VALUES, True, (), "s3://l/c/1/")
    with pytest.raises(ValueError, match="once"):
        plan.BatchStatement((one, one), "s3://l/s/")
    other = plan.CompactionStatement(
        "db2", "events", SOURCE_TABLE, {**VALUES, "event_type": "b"}, True, (), "s3://l/c/2/"
    )
    with pytest.raises(ValueError, match="share"):
        plan.BatchStatement((one, other), "s3://l/s/")
    with pytest.raises(ValueError, match="at least one"):
        plan.BatchStatement((), "s3://l/s/")
