"""The partition registrar against the embedded AWS, fed the event payloads AWS sends: a brand-new event type,
a late hour, a replayed event, an S3 notification with a URL-encoded key; and the local Athena reading only
the partitions the catalog knows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from eventlake.athena import engine as athena
from eventlake.firehose_formats.conversion import convert, to_parquet
from eventlake.simulator.embedded import eventbridge
from eventlake.simulator.embedded.aws import EmbeddedAws, embedded_aws
from glue import schema
from glue.registrar_contract import ENV_DATABASE, ENV_TABLE
from infra.delivery_spec import DeliverySpec
from infra.settings import Settings
from partition_registrar import registrar_handler as registrar_module
from partition_registrar.registrar_handler import Registrar, created_objects
from transform_lambda.events import Event, Lineage, dumps, enrich

NOW_MS = 1_764_072_000_000


@pytest.fixture(scope="module")
def aws() -> Iterator[EmbeddedAws]:
    settings = Settings.from_stack_file("dev")
    with embedded_aws(settings, DeliverySpec.from_settings(settings), region="eu-west-1") as embedded:
        yield embedded


def key(event_type: str, date: str, hour: str, name: str = "eventlake-dev-delivery-1-x.parquet") -> str:
    return schema.partition_folder({"event_type": event_type, "event_date": date, "event_hour": hour}) + name


def created(aws: EmbeddedAws, object_key: str) -> dict[str, Any]:
    return eventbridge.object_created(
        bucket=aws.bucket,
        key=object_key,
        size=100,
        when_ms=NOW_MS,
        account=aws.account.account_id,
        region=aws.region,
    )


def partitions(aws: EmbeddedAws) -> dict[tuple[str, ...], dict[str, Any]]:
    found = aws.glue.get_partitions(DatabaseName=aws.spec.database_name, TableName=aws.spec.table_name)
    return {tuple(p["Values"]): p for p in found["Partitions"]}


def registrar(aws: EmbeddedAws) -> Registrar:
    return Registrar(aws.glue, aws.spec.database_name, aws.spec.table_name)


def test_a_new_type_and_a_late_hour_are_registered_from_eventbridge_events(aws: EmbeddedAws) -> None:
    registered = registrar(aws).register(
        created_objects(created(aws, key(t, d, h)))[0]
        for t, d, h in [("brandnew", "2026-11-25", "12"), ("payment", "2019-01-01", "03")]
    )
    assert registered == [("brandnew", "2026-11-25", "12"), ("payment", "2019-01-01", "03")]
    stored = partitions(aws)[("brandnew", "2026-11-25", "12")]
    assert stored["StorageDescriptor"]["Location"] == (
        f"s3://{aws.bucket}/events/event_type=brandnew/event_date=2026-11-25/event_hour=12/"
    )
    table = aws.glue.get_table(DatabaseName=aws.spec.database_name, Name=aws.spec.table_name)["Table"]
    assert stored["StorageDescriptor"]["SerdeInfo"] == table["StorageDescriptor"]["SerdeInfo"]
    assert [c["Name"] for c in stored["StorageDescriptor"]["Columns"]] == list(schema.COLUMN_NAMES)


def test_replays_and_concurrent_registrations_of_one_partition_are_harmless(aws: EmbeddedAws) -> None:
    event = created(aws, key("replayed", "2026-11-25", "07"))
    assert registrar(aws).register(created_objects(event)) == [("replayed", "2026-11-25", "07")]
    # Another container (no memory of it) gets the same event again: AlreadyExists is success.
    assert registrar(aws).register(created_objects(event)) == [("replayed", "2026-11-25", "07")]
    same = registrar(aws)
    same.register(created_objects(event))
    assert same.register(created_objects(event)) == []  # remembered: no Glue call at all
    assert ("replayed", "2026-11-25", "07") in partitions(aws)


def test_s3_notification_records_with_url_encoded_keys_are_accepted(aws: EmbeddedAws) -> None:
    encoded = key("notified", "2026-11-25", "08").replace("=", "%3D")
    event = {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": aws.region,
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": aws.bucket}, "object": {"key": encoded, "size": 1}},
            },
            {
                "eventName": "ObjectRemoved:Delete",
                "s3": {"bucket": {"name": aws.bucket}, "object": {"key": "x"}},
            },
        ]
    }
    assert registrar(aws).register(created_objects(event)) == [("notified", "2026-11-25", "08")]


def test_keys_outside_the_data_layout_are_ignored() -> None:
    class NoGlue:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"Glue must not be called ({name})")

    objects = created_objects(
        eventbridge.object_created(
            bucket="b",
            key="errors/processing-failed/2026/11/25/07/x",
            size=1,
            when_ms=NOW_MS,
            account="1",
            region="r",
        )
    )
    assert Registrar(NoGlue(), "db", "t").register(objects) == []


def test_a_missing_table_is_an_error_so_eventbridge_retries(aws: EmbeddedAws) -> None:
    lost = Registrar(aws.glue, aws.spec.database_name, "no_such_table")
    with pytest.raises(ClientError):
        lost.register(created_objects(created(aws, key("x", "2026-11-25", "07"))))


def test_the_lambda_entry_point_reads_its_table_from_the_environment(
    aws: EmbeddedAws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_DATABASE, aws.spec.database_name)
    monkeypatch.setenv(ENV_TABLE, aws.spec.table_name)
    monkeypatch.setattr(registrar_module, "_REGISTRAR", None)
    assert registrar_module.handler(created(aws, key("viahandler", "2026-11-25", "09")), None) == {
        "registered": 1
    }
    assert "viahandler/2026-11-25/09" in capsys.readouterr().out
    monkeypatch.setattr(registrar_module, "_REGISTRAR", None)


class _Refusing:
    """A Glue client answering BatchCreatePartition as ``answer`` says (a raised error or refused entries)."""

    def __init__(self, answer: Exception | dict[str, Any]) -> None:
        self.answer = answer

    def get_table(self, **_: Any) -> dict[str, Any]:
        return {"Table": {"StorageDescriptor": {"Columns": []}}}

    def batch_create_partition(self, **_: Any) -> dict[str, Any]:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (
            ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "BatchCreatePartition"
            ),
            "AccessDeniedException",
        ),
        (
            ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "BatchCreatePartition"
            ),
            "ThrottlingException",
        ),
        (
            {
                "Errors": [
                    {
                        "PartitionValues": ["a"],
                        "ErrorDetail": {"ErrorCode": "EntityNotFoundException", "ErrorMessage": "no table"},
                    }
                ]
            },
            "EntityNotFoundException",
        ),
        (ConnectionError("reset by peer"), "ConnectionError"),
    ],
)
def test_a_failed_registration_logs_its_cause_and_counts_then_raises(
    aws: EmbeddedAws,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: Exception | dict[str, Any],
    code: str,
) -> None:
    """Issue 31 item 5: the line says why (AWS's code and message, or the exception), for how many objects;
    the raise is what makes EventBridge retry and, past its retries, the dead-letter queue keep the event."""
    monkeypatch.setattr(registrar_module, "_REGISTRAR", Registrar(_Refusing(answer), "db", "t"))
    expected = type(answer) if isinstance(answer, Exception) else registrar_module.RegistrationError
    with pytest.raises(expected):
        registrar_module.handler(created(aws, key("failing", "2026-11-25", "10")), None)
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"ERROR"' in x]
    assert line["message"] == "partition registration failed" and line["error_code"] == code
    assert line["error_message"] and line["objects"] == 1 and line["retries"] == 0
    monkeypatch.setattr(registrar_module, "_REGISTRAR", None)


def write_partition(lake: Path, event_type: str, rows: int) -> str:
    values = {"event_type": event_type, "event_date": "2026-11-25", "event_hour": "07"}
    datas = []
    for i in range(rows):
        event = Event(
            f"3f2b8c1e-9a4d-4e6f-8b7a-{i:012d}", f"{event_type}:x", event_type, "x", 1_764_054_600, {}
        )
        row = enrich(event, Lineage("shardId-0", str(i), 1_764_054_601_000))
        datas.append((dumps(row) + "\n").encode())
    table, _, failures = convert(datas)
    assert not failures
    folder = lake / schema.partition_folder(values)
    folder.mkdir(parents=True)
    (folder / "obj.parquet").write_bytes(to_parquet(table, compression="SNAPPY"))
    return folder.relative_to(lake).as_posix()


def test_the_local_athena_reads_only_the_partitions_the_catalog_knows(tmp_path: Path) -> None:
    known = write_partition(tmp_path, "registered", 3)
    write_partition(tmp_path, "unregistered", 5)  # an object whose event was lost
    catalog = [athena.CatalogPartition(("registered", "2026-11-25", "07"), f"s3://bucket/{known}")]
    conn = athena.connect(tmp_path, partitions=catalog)
    assert athena.run(conn, "SELECT event_type, count(*) FROM events GROUP BY 1")[1] == [("registered", 3)]
    everything = athena.connect(tmp_path)  # what MSCK REPAIR TABLE would see
    assert sorted(athena.run(everything, "SELECT event_type, count(*) FROM events GROUP BY 1")[1]) == [
        ("registered", 3),
        ("unregistered", 5),
    ]
    assert athena.run(athena.connect(tmp_path, partitions=[]), "SELECT count(*) FROM events")[1] == [(0,)]
