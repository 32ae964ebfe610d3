"""Issue 31 item 5: a partition the compactor could not compact is logged with its cause (AWS's error code and
message, or the exception's type and text) and reported; the run goes on with the other partitions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from glue import schema
from lake_compactor.compactor import Compactor, CompactorConfig

NOW = datetime(2026, 11, 25, 20, tzinfo=UTC)


def partition(event_type: str) -> dict[str, Any]:
    values = [event_type, "2026-11-25", "07"]
    folder = schema.partition_folder(dict(zip(schema.PARTITION_KEY_NAMES, values, strict=True)))
    return {"Values": values, "StorageDescriptor": {"Location": f"s3://lake/{folder}"}}


class Pages:
    def __init__(self, pages: list[dict[str, Any]] | Exception) -> None:
        self.pages = pages

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        if isinstance(self.pages, Exception):
            raise self.pages
        return self.pages


class Glue:
    def get_paginator(self, _: str) -> Pages:
        return Pages([{"Partitions": [partition("alpha"), partition("beta")]}])


class S3:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def get_paginator(self, _: str) -> Pages:
        return Pages(self.error)


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (
            ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "ListObjectsV2"),
            "AccessDenied",
            "Access Denied",
        ),
        (
            ClientError({"Error": {"Code": "SlowDown", "Message": "Reduce your rate"}}, "ListObjectsV2"),
            "SlowDown",
            "Reduce your rate",
        ),
        (TimeoutError("read timed out"), "TimeoutError", "read timed out"),
    ],
)
def test_each_failed_partition_logs_its_cause_and_the_run_goes_on(
    capsys: pytest.CaptureFixture[str], error: Exception, code: str, message: str
) -> None:
    compactor = Compactor(
        glue=Glue(), s3=S3(error), engine=None, config=CompactorConfig("db", "events", "lake")
    )
    report = compactor.run(NOW)
    assert len(report.failed) == 2 and all(f": {code}: {message}" in f for f in report.failed)
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(x["partition"].split("/")[0], x["error_code"], x["error_message"]) for x in lines] == [
        ("event_type=alpha", code, message),
        ("event_type=beta", code, message),
    ]
    assert all(x["level"] == "ERROR" and x["retries"] == 0 and x["error_type"] for x in lines)
