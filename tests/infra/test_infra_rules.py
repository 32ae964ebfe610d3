"""Each rule in ``infra.rules`` catches its violation: mutate the program's real config, expect
the specific message."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from conftest import Deployment

from infra.rules import check_catalog_table, check_firehose, check_lambda

Inputs = dict[str, Any]
Mutation = Callable[[Inputs], None]


@pytest.fixture
def firehose(dev: Deployment) -> Inputs:
    inputs = dev.one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream").inputs
    return copy.deepcopy(inputs)


@pytest.fixture
def table(dev: Deployment) -> Inputs:
    return copy.deepcopy(dev.one("aws:glue/catalogTable:CatalogTable", "catalog-table").inputs)


@pytest.fixture
def function(dev: Deployment) -> Inputs:
    inputs = dev.one("aws:lambda/function:Function", "processor").inputs
    return copy.deepcopy({k: v for k, v in inputs.items() if k != "code"})


def s3(inputs: Inputs) -> Inputs:
    return inputs["extendedS3Configuration"]


def set_param(name: str, value: str) -> Mutation:
    def mutate(inputs: Inputs) -> None:
        (processor,) = s3(inputs)["processingConfiguration"]["processors"]
        params = [p for p in processor["parameters"] if p["parameterName"] != name]
        processor["parameters"] = [*params, {"parameterName": name, "parameterValue": value}]

    return mutate


def assign(path: str, value: Any) -> Mutation:
    """Set (or with ``value is None`` delete) a dotted path under extendedS3Configuration."""

    def mutate(inputs: Inputs) -> None:
        *parents, last = path.split(".")
        node = s3(inputs)
        for key in parents:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value

    return mutate


FIREHOSE_CASES: list[tuple[str, Mutation, str]] = [
    ("small buffer", assign("bufferingSize", 32.0), "dynamic partitioning needs buffering_size >= 64"),
    (
        "unset buffer is 5 MiB",
        assign("bufferingSize", None),
        "dynamic partitioning needs buffering_size >= 64",
    ),
    ("short interval", assign("bufferingInterval", 30.0), "dynamic partitioning needs buffering_interval"),
    ("conversion buffer", assign("bufferingSize", 63.0), "format conversion needs buffering_size >= 64"),
    ("S3 compression", assign("compressionFormat", "GZIP"), "S3 compression_format UNCOMPRESSED"),
    (
        "ZSTD serializer",
        assign(
            "dataFormatConversionConfiguration.outputFormatConfiguration.serializer.parquetSerDe.compression",
            "ZSTD",
        ),
        "serializer compression ZSTD",
    ),
    ("no error prefix", assign("errorOutputPrefix", None), "error_output_prefix is required"),
    (
        "error prefix without type",
        assign("errorOutputPrefix", "errors/!{timestamp:yyyy/MM/dd}/"),
        "must contain !{firehose:error-output-type}",
    ),
    (
        "error prefix with partition key",
        assign(
            "errorOutputPrefix", "errors/!{firehose:error-output-type}/!{partitionKeyFromLambda:event_type}/"
        ),
        "error_output_prefix must not contain partitionKeyFrom",
    ),
    (
        "prefix with error type",
        assign("prefix", "events/!{partitionKeyFromLambda:event_type}/!{firehose:error-output-type}/"),
        "prefix must not contain error-output-type",
    ),
    (
        "Lambda keys without processor",
        assign("processingConfiguration.enabled", False),
        "partitionKeyFromLambda needs a Lambda processor",
    ),
    (
        "prefix keys differ from the Lambda's",
        assign("prefix", "events/event_type=!{partitionKeyFromLambda:event_type}/"),
        "prefix partition keys",
    ),
    (
        "partition keys without partitioning",
        assign("dynamicPartitioningConfiguration.enabled", False),
        "partitionKeyFrom* in prefix needs dynamic partitioning",
    ),
    (
        "partitioning without partition keys",
        assign("prefix", "events/!{timestamp:yyyy/MM/dd}/"),
        "needs a partitionKeyFrom* expression in prefix",
    ),
    ("retry too long", assign("dynamicPartitioningConfiguration.retryDuration", 7201.0), "retry_duration"),
    ("processor buffer too big", set_param("BufferSizeInMBs", "3.5"), "BufferSizeInMBs must be within 0.2-3"),
    (
        "processor buffer too small",
        set_param("BufferSizeInMBs", "0.1"),
        "BufferSizeInMBs must be within 0.2-3",
    ),
    (
        "processor interval",
        set_param("BufferIntervalInSeconds", "901"),
        "BufferIntervalInSeconds must be within",
    ),
    ("default buffer", set_param("BufferSizeInMBs", "1"), "BufferSizeInMBs equals its default"),
    (
        "default interval",
        set_param("BufferIntervalInSeconds", "60"),
        "BufferIntervalInSeconds equals its default",
    ),
    ("default retries", set_param("NumberOfRetries", "3"), "NumberOfRetries equals its default"),
    (
        "error prefix without timestamp",
        assign("errorOutputPrefix", "errors/!{firehose:error-output-type}/"),
        "needs an explicit !{timestamp:...}",
    ),
    (
        "prefix too long",
        assign("prefix", "x" * 400 + "/!{partitionKeyFromLambda:event_type}/" * 3),
        "prefix can evaluate to more than 512 characters",
    ),
    (
        "no source stream",
        lambda inputs: inputs["kinesisSourceConfiguration"].pop("kinesisStreamArn"),
        "kinesis_source_configuration lacks kinesisStreamArn",
    ),
    (
        "no schema table",
        assign("dataFormatConversionConfiguration.schemaConfiguration.tableName", None),
        "schema_configuration lacks ['tableName']",
    ),
    ("backup without configuration", assign("s3BackupConfiguration", None), "needs s3_backup_configuration"),
    (
        "backup prefix with partition key",
        assign("s3BackupConfiguration.prefix", "raw/!{partitionKeyFromLambda:event_type}/"),
        "backup prefixes must not contain partitionKeyFrom",
    ),
    (
        "backup error prefix without type",
        assign("s3BackupConfiguration.errorOutputPrefix", "errors/backup/!{timestamp:yyyy}/"),
        "backup error_output_prefix with expressions must contain",
    ),
    (
        "backup under the data prefix",
        assign("s3BackupConfiguration.prefix", "events/raw/!{timestamp:yyyy/MM/dd/HH}/"),
        "backup prefix must not sit under the data prefix",
    ),
]


def test_the_program_config_is_clean(firehose: Inputs, table: Inputs, function: Inputs) -> None:
    assert (check_firehose(firehose), check_catalog_table(table), check_lambda(function)) == ([], [], [])


@pytest.mark.parametrize(("case", "mutate", "message"), FIREHOSE_CASES, ids=[c[0] for c in FIREHOSE_CASES])
def test_firehose_rule_catches(case: str, mutate: Mutation, message: str, firehose: Inputs) -> None:
    mutate(firehose)
    problems = check_firehose(firehose)
    assert any(message in p for p in problems), problems


def test_unset_interval_is_the_provider_default_300s(firehose: Inputs) -> None:
    del s3(firehose)["bufferingInterval"]
    assert check_firehose(firehose) == []


def test_missing_destination_config(firehose: Inputs) -> None:
    del firehose["extendedS3Configuration"]
    assert check_firehose(firehose) == ["extendedS3Configuration is missing"]


def _columns(table: Inputs) -> list[Inputs]:
    return table["storageDescriptor"]["columns"]


TABLE_CASES: list[tuple[str, Mutation, str]] = [
    ("column dropped", lambda t: _columns(t).pop(), "table columns differ from schema.COLUMNS"),
    (
        "column retyped",
        lambda t: _columns(t)[0].update(type="int"),
        "table columns differ from schema.COLUMNS",
    ),
    (
        "partition dropped",
        lambda t: t["partitionKeys"].pop(),
        "partition keys differ from schema.PARTITION_KEYS",
    ),
    (
        "column repeated as partition",
        lambda t: _columns(t).append({"name": "event_type", "type": "string"}),
        "columns repeated as partition keys: ['event_type']",
    ),
    ("upper-case table", lambda t: t.update(name="Events"), "names must be lower case"),
]


@pytest.mark.parametrize(("case", "mutate", "message"), TABLE_CASES, ids=[c[0] for c in TABLE_CASES])
def test_catalog_rule_catches(case: str, mutate: Mutation, message: str, table: Inputs) -> None:
    mutate(table)
    problems = check_catalog_table(table)
    assert any(message in p for p in problems), problems


LAMBDA_CASES: list[tuple[str, Mutation, str]] = [
    ("timeout over 5 min", lambda f: f.update(timeout=301.0), "exceeds Firehose's 300 s"),
    ("deprecated runtime", lambda f: f.update(runtime="python3.11"), "runtime python3.11 not in"),
    ("x86", lambda f: f.update(architectures=["x86_64"]), "architectures must be ['arm64']"),
]


@pytest.mark.parametrize(("case", "mutate", "message"), LAMBDA_CASES, ids=[c[0] for c in LAMBDA_CASES])
def test_lambda_rule_catches(case: str, mutate: Mutation, message: str, function: Inputs) -> None:
    mutate(function)
    problems = check_lambda(function)
    assert any(message in p for p in problems), problems


def test_unset_lambda_timeout_is_the_3s_default(function: Inputs) -> None:
    del function["timeout"]
    assert check_lambda(function) == []
