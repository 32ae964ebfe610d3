"""One definition: the Lambda's output keys, the partition keys, the prefixes and the Glue
columns all come from glue/schema.py."""

from __future__ import annotations

import base64
import json
import re

from firehose_records import firehose_event, raw_event

from glue import schema
from infra.delivery_spec import DeliverySpec
from infra.settings import Settings
from transform_lambda.claims import NoClaims
from transform_lambda.handler import process


def test_lambda_output_keys_are_the_glue_data_columns_and_partition_keys() -> None:
    (record,) = process(firehose_event([raw_event(extra=1)]), claims=NoClaims(), log=lambda _: None)[
        "records"
    ]
    row = json.loads(base64.b64decode(record["data"]))
    assert list(row) == list(schema.COLUMN_NAMES)
    assert tuple(record["metadata"]["partitionKeys"]) == schema.PARTITION_KEY_NAMES


def test_data_prefix_uses_exactly_the_partition_keys_the_lambda_emits() -> None:
    spec = DeliverySpec.from_settings(Settings(stack="dev"))
    keys = tuple(re.findall(r"!\{partitionKeyFromLambda:([^}]+)\}", spec.prefix))
    (record,) = process(firehose_event([raw_event()]), claims=NoClaims(), log=lambda _: None)["records"]
    assert keys == tuple(record["metadata"]["partitionKeys"])  # what the deployed prefix reads is emitted
    assert spec.prefix.startswith(schema.DATA_ROOT)
    assert spec.error_output_prefix.startswith(schema.ERROR_ROOT)
    assert "!{firehose:error-output-type}" in spec.error_output_prefix
    assert spec.backup_prefix.startswith(schema.BACKUP_ROOT)


def test_partition_columns_are_not_data_columns_and_names_are_lower_case() -> None:
    assert not set(schema.COLUMN_NAMES) & set(schema.PARTITION_KEY_NAMES)
    for name in (*schema.COLUMN_NAMES, *schema.PARTITION_KEY_NAMES, schema.TABLE_NAME):
        assert name == name.lower()


def test_timestamp_columns_are_written_in_the_form_openx_reads() -> None:
    (record,) = process(firehose_event([raw_event()]), claims=NoClaims(), log=lambda _: None)["records"]
    row = json.loads(base64.b64decode(record["data"]))
    for name in schema.TIMESTAMP_COLUMNS:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z", row[name]), name
